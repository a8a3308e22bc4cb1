"""The signature line of a block: a key button the user may press, or the lock of a signed
block (seed 000: «Кнопка в виде ключа … Кнопка в виде замка»). Text, not icons: thin-client
fonts often lack emoji."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from eln_tui.core.domain.model import Block
from eln_tui.ui.messages import SignRequested


def sign_button_id(block: Block) -> str:
    return f"sign-{block.suffix}"


class SignSlot(Horizontal):
    def __init__(
        self,
        block: Block,
        *,
        signed_text: str | None,
        can_sign: bool,
        note: str = "",
    ) -> None:
        super().__init__(classes="sign-slot", id=f"slot-{block.suffix}")
        self.block = block
        self.signed_text = signed_text
        self.can_sign = can_sign
        self.note = note

    def compose(self) -> ComposeResult:
        label = self.block.slot.label
        if self.signed_text:
            yield Static(f"[замок] {self.signed_text}", classes="signed")
            return
        if self.can_sign:
            yield Button(
                f"[ключ] Подписать {label}",
                id=sign_button_id(self.block),
                compact=True,
                classes="sign-button",
            )
        else:
            yield Static(f"Не подписано ({label})", classes="unsigned")
        if self.note:
            yield Static(self.note, classes="sign-note")

    @on(Button.Pressed, ".sign-button")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(SignRequested(self.block))
