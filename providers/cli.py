"""Command-line options shared by ``eln crypto`` and ``eln-sign-agent``.

Every provider declares its settings as :class:`providers.base.Option`; each becomes a flag
(``module`` -> ``--module``) so ``--provider pkcs11 --module LIB --token-label L`` works the
same in both commands, with or without a workstation configuration file.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from providers.base import NO_PIN, PIN_PAD, Option, Pin, PinSource, Provider
from providers.errors import BadConfiguration, ProviderError
from providers.registry import provider_entries

_DEST = "provider_opt_"


def provider_classes(exclude: Iterable[str] = ()) -> dict[str, type[Provider]]:
    """Provider classes that load (a broken plugin is left out here, reported elsewhere)."""
    skip = set(exclude)
    out: dict[str, type[Provider]] = {}
    for name, entry in sorted(provider_entries().items()):
        if name in skip:
            continue
        try:
            out[name] = entry.load()
        except ProviderError:
            continue
    return out


def add_provider_arguments(
    parser: argparse.ArgumentParser, *, exclude: Iterable[str] = (), with_pin: bool = True
) -> None:
    """``--provider`` plus the flags of every provider's settings (and the PIN options)."""
    classes = provider_classes(exclude)
    group = parser.add_argument_group("средство подписи")
    group.add_argument(
        "--provider",
        metavar="NAME",
        help=f"средство подписи: {', '.join(classes)} (по умолчанию — из настройки рабочего места)",
    )
    seen: dict[str, Option] = {}
    for cls in classes.values():
        for opt in cls.options:
            if opt.name in seen:
                continue
            seen[opt.name] = opt
            owners = [n for n, c in classes.items() if any(o.name == opt.name for o in c.options)]
            help_text = f"{opt.help} [{', '.join(owners)}]"
            if opt.kind is bool:
                group.add_argument(
                    opt.flag,
                    dest=_DEST + opt.name,
                    action="store_true",
                    default=None,
                    help=help_text,
                )
            else:
                group.add_argument(
                    opt.flag,
                    dest=_DEST + opt.name,
                    metavar=opt.metavar or opt.name.upper(),
                    default=None,
                    help=help_text,
                )
    if with_pin:
        pin = parser.add_argument_group("PIN-код")
        mode = pin.add_mutually_exclusive_group()
        mode.add_argument(
            "--pin-file",
            metavar="FILE",
            help="прочитать PIN-код из первой строки файла (вместо вопроса на терминале)",
        )
        mode.add_argument("--pin-pad", action="store_true", help="ввести PIN на считывателе")
        mode.add_argument("--no-pin", action="store_true", help="открыть ключ без PIN-кода")


def cli_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Provider settings given on the command line (option name -> value)."""
    return {
        key[len(_DEST) :]: value
        for key, value in vars(args).items()
        if key.startswith(_DEST) and value is not None
    }


def settings_for(cls: type[Provider], given: dict[str, Any]) -> dict[str, Any]:
    """Keep the settings that belong to ``cls``; complain about flags meant for another one."""
    own = {o.name for o in cls.options}
    foreign = sorted(set(given) - own)
    if foreign:
        flags = ", ".join("--" + f.replace("_", "-") for f in foreign)
        raise BadConfiguration(f"Параметры {flags} не относятся к средству подписи «{cls.name}».")
    return dict(given)


def pin_from_args(args: argparse.Namespace, default: PinSource = NO_PIN) -> PinSource:
    """The PIN source chosen with --pin-file / --pin-pad / --no-pin (``default`` otherwise)."""
    if getattr(args, "pin_file", None):
        return Pin.from_file(Path(args.pin_file))
    if getattr(args, "pin_pad", False):
        return PIN_PAD
    if getattr(args, "no_pin", False):
        return NO_PIN
    return default
