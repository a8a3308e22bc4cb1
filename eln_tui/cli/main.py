"""``eln``: the product's headless command.

Subcommand modules live in this package and register themselves: each defines
``register(subparsers)``, adds its parser with ``subparsers.add_parser(...)`` and sets
``func`` (a callable taking the parsed namespace and returning the exit code) with
``set_defaults(func=...)``. Errors a person can meet end as one Russian sentence on stderr
and a non-zero exit: 2 for configuration and usage, 1 for a failed check, 130 on Ctrl-C.
Set ``ELN_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Callable, Sequence

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INTERNAL = 0, 1, 2, 70
_NOT_COMMANDS = {"main"}


class CliError(Exception):
    """A problem reported as one sentence (the message is Russian)."""

    def __init__(self, message: str, exit_code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def command_modules() -> list[str]:
    """The modules of this package that may register subcommands."""
    package = importlib.import_module("eln_tui.cli")
    names = [m.name for m in pkgutil.iter_modules(package.__path__)]
    return [
        f"eln_tui.cli.{n}"
        for n in sorted(names)
        if n not in _NOT_COMMANDS and not n.startswith("_")
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eln",
        description="Рабочее место ЭЛН: команды без графического интерфейса.",
    )
    sub = parser.add_subparsers(dest="command", metavar="КОМАНДА")
    sub.required = True
    for name in command_modules():
        module = importlib.import_module(name)
        register = getattr(module, "register", None)
        if callable(register):
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CliError as exc:
        print(f"eln: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("eln: прервано.", file=sys.stderr)
        return 130
    except Exception as exc:
        # Known failures (ProviderError, GostError, ...) are turned into CliError by the
        # subcommands; anything reaching here is a bug, still reported without a traceback.
        message = getattr(exc, "message", None)
        if isinstance(message, str) and message:
            print(f"eln: {message}", file=sys.stderr)
            return EXIT_CONFIG
        if os.environ.get("ELN_DEBUG"):
            traceback.print_exc()
        print(
            f"eln: внутренняя ошибка ({type(exc).__name__}: {exc}); "
            "подробности покажет запуск с ELN_DEBUG=1.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
