"""A screen that only says why the app cannot be used (no profile for this account) and exits."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static


class NoticeScreen(Screen[None]):
    """Nothing but a message; Enter, Esc or F10 quits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape,f10,q", "app.quit", "Выход", id="notice.quit"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(self.title_text, id="notice-title")
            yield Static(self.text, id="notice-text")
            yield Static("Нажмите Enter, чтобы выйти.", id="notice-hint")
