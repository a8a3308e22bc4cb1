"""«Прекращение ЛН»: a reason from the code table and an optional comment (seed 000)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from eln_tui.core.domain.codes import TERMINATION_REASONS
from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.widgets.fields import CodeField, PickField

TerminationChoice = tuple[str, str]


class TerminateDialog(Dialog[TerminationChoice | None]):
    def __init__(self, ln_code: str | None) -> None:
        super().__init__(classes="-error")
        self.ln_code = ln_code

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Прекращение ЛН № {self.ln_code or ''}", classes="dialog-title")
            yield Static(
                "Прекращённый ЛН изменить нельзя; он передаётся в ЕИИС «Соцстрах» отдельным "
                "пакетом с указанной причиной.",
                classes="dialog-text",
            )
            with Horizontal(classes="row"):
                yield Label("Причина прекращения")
                yield CodeField("termination", TERMINATION_REASONS, None, id="reason")
            with Horizontal(classes="row"):
                yield Label("Комментарий")
                yield Input(placeholder="необязательно", compact=True, id="comment")
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Прекратить ЛН", id="ok", variant="error")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", PickField).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        code = self.query_one("#reason", PickField).model_value(None)
        if not code:
            self.query_one("#error", Static).update("Выберите причину прекращения ЛН.")
            return
        comment = self.query_one("#comment", Input).value.strip()
        reason = TERMINATION_REASONS.title(code)
        self.dismiss((code, f"{reason}: {comment}" if comment else reason))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
