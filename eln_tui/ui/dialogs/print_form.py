"""«Печать»: which form to print."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from eln_tui.core.printing import PrintForm
from eln_tui.ui.dialogs.base import Dialog


class PrintDialog(Dialog[PrintForm | None]):
    def __init__(self, destination: str) -> None:
        super().__init__()
        self.destination = destination

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Печать", classes="dialog-title")
            yield OptionList(*(Option(form.label, id=form.value) for form in PrintForm), id="forms")
            yield Static(self.destination, classes="dialog-text")

    def on_mount(self) -> None:
        self.query_one("#forms", OptionList).focus()

    @on(OptionList.OptionSelected, "#forms")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(PrintForm(event.option.id or PrintForm.CONSENT.value))
