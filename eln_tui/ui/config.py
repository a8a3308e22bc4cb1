"""Settings of the terminal UI: the ``[ui]`` section of the workstation file.

The UI reads the same TOML files as the providers (``/etc/eln/workstation.toml`` and the user's
``~/.config/eln/workstation.toml``, see :mod:`providers.config`)::

    [ui]
    printer = "kab12"              # CUPS queue for «Печать» (lp -d); none: save to a file
    print_dir = "~/eln-print"      # where documents are saved when not printed
    theme = "ansi-dark"            # any Textual theme; default: by the terminal's colours
    mouse = false                  # default: off in an SSH session, on otherwise
    electronic = true              # «Электронный» ticked on a new LN (the seed leaves it off)

    [ui.keys]                      # remap any binding by its id
    "editor.save" = "f2,ctrl+s"
    "editor.sign" = "f4"

Binding ids are listed by ``eln-tui --keys``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.errors import BadConfiguration


def default_print_dir() -> Path:
    return Path.home() / "eln-print"


@dataclass
class UiConfig:
    keymap: dict[str, str] = field(default_factory=dict)
    printer: str | None = None
    print_dir: Path = field(default_factory=default_print_dir)
    theme: str | None = None
    mouse: bool | None = None  # None: decided at start (off over SSH)
    electronic_by_default: bool = True

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, source: str = "") -> UiConfig:
        """Build from the merged workstation TOML (its ``[ui]`` section)."""
        where = f" в {source}" if source else ""
        ui = raw.get("ui", {})
        if not isinstance(ui, Mapping):
            raise BadConfiguration(f"Раздел [ui]{where} должен быть таблицей.")
        keys = ui.get("keys", {})
        if not isinstance(keys, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
        ):
            raise BadConfiguration(
                f"Раздел [ui.keys]{where} должен сопоставлять идентификаторам действий строки "
                'клавиш, например "editor.save" = "f2".'
            )
        config = cls(keymap=dict(keys))
        printer = ui.get("printer")
        if printer is not None:
            if not isinstance(printer, str):
                raise BadConfiguration(f"ui.printer{where} должен быть именем принтера CUPS.")
            config.printer = printer.strip() or None
        print_dir = ui.get("print_dir")
        if print_dir is not None:
            if not isinstance(print_dir, str) or not print_dir.strip():
                raise BadConfiguration(f"ui.print_dir{where} должен быть путём к каталогу.")
            config.print_dir = Path(os.path.expanduser(print_dir))
        theme = ui.get("theme")
        if theme is not None:
            if not isinstance(theme, str):
                raise BadConfiguration(f"ui.theme{where} должен быть именем темы.")
            config.theme = theme
        for name, attr in (("mouse", "mouse"), ("electronic", "electronic_by_default")):
            value = ui.get(name)
            if value is None:
                continue
            if not isinstance(value, bool):
                raise BadConfiguration(f"ui.{name}{where} должен быть true или false.")
            setattr(config, attr, value)
        return config


_SIXTEEN_COLOUR_TERMS = ("linux", "vt100", "vt102", "vt220", "ansi", "cons25", "xterm", "screen")


def default_theme(environ: Mapping[str, str] | None = None) -> str | None:
    """The ansi theme for terminals that promise only 16 colours (Linux console, PuTTY's
    plain ``xterm``, thin clients); None leaves Textual's default. ``NO_COLOR`` is handled by
    Textual itself."""
    env = os.environ if environ is None else environ
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return None
    term = env.get("TERM", "")
    if "256color" in term or "direct" in term:
        return None
    return "ansi-dark" if term in _SIXTEEN_COLOUR_TERMS else None


def in_ssh_session(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"))


#: Textual's settings for a session over SSH: no animations, a modest refresh rate. Textual
#: reads them when it is imported, so :func:`eln_tui.ui.launch.main` sets them first.
SSH_ENVIRONMENT = {"TEXTUAL_ANIMATIONS": "none", "TEXTUAL_FPS": "15"}


def apply_ssh_defaults(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Set :data:`SSH_ENVIRONMENT` in an SSH session unless the user set them; returns what
    was set."""
    env: Any = os.environ if environ is None else environ
    if not in_ssh_session(env):
        return {}
    done = {}
    for key, value in SSH_ENVIRONMENT.items():
        if key not in env:
            env[key] = value
            done[key] = value
    return done
