"""F1: the keys of the current screen and of the whole program, in Russian."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from eln_tui.ui.dialogs.base import Dialog

GENERAL = (
    ("Tab / Shift+Tab", "следующее / предыдущее поле (в порядке бланка)"),
    ("Enter", "открыть, выбрать из списка, подтвердить"),
    ("Пробел", "поставить или снять отметку [X]"),
    ("Esc", "назад, отмена"),
    ("Ctrl+P", "все команды (поиск по названию)"),
    ("Ctrl+L", "в редакторе: к списку ошибок ФЛК; Enter — к полю с ошибкой"),
    ("F10", "выход из программы"),
)


def screen_keys(screen: Screen[Any]) -> list[tuple[str, str]]:
    """(keys, what) for the bindings of ``screen`` as remapped by the keymap."""
    keys: dict[str, list[str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        keys.setdefault(binding.action, []).append(screen.app.get_key_display(binding) or key)
    rows = []
    for binding in getattr(screen, "BINDINGS", []):
        if not isinstance(binding, Binding):
            continue
        what = binding.tooltip or binding.description
        shown = ", ".join(dict.fromkeys(keys.get(binding.action, [])))
        if what and shown:
            rows.append((shown, what))
    return rows


class KeysHelp(Dialog[None]):
    DEFAULT_CSS = """
    KeysHelp #keys {
        height: auto;
        max-height: 16;
    }
    """

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.rows = screen_keys(screen)

    def compose(self) -> ComposeResult:
        def table(rows: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str:
            return "\n".join(f"{keys:>16}  {what}" for keys, what in rows)

        with Vertical(id="dialog"):
            yield Static("Клавиши", classes="dialog-title")
            with VerticalScroll(id="keys"):
                if self.rows:
                    yield Static("На этом экране:", classes="dialog-text")
                    yield Static(table(self.rows), classes="dialog-text")
                yield Static("Везде:", classes="dialog-text")
                yield Static(table(GENERAL), classes="dialog-text")
            yield Button("Закрыть", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)
