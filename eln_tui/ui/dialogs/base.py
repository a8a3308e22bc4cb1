"""Common frame of the dialogs: centred box, title, Esc cancels."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from textual import on
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    DEFAULT_CSS = """
    Dialog {
        align: center middle;
    }
    Dialog > #dialog {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    Dialog.-error > #dialog {
        border: round $error;
    }
    Dialog .dialog-title {
        text-style: bold;
        width: 100%;
        margin-bottom: 1;
    }
    Dialog .dialog-text {
        width: 100%;
        margin-bottom: 1;
    }
    Dialog .dialog-error {
        color: $text-error;
        text-style: bold;
        width: 100%;
    }
    Dialog .dialog-buttons {
        height: auto;
        width: 100%;
        align-horizontal: right;
    }
    Dialog .dialog-buttons Button {
        margin-left: 1;
    }
    Dialog Input, Dialog Select {
        width: 1fr;
        border-left: outer $panel;
    }
    Dialog Input:focus {
        border-left: outer $accent;
    }
    Dialog .row {
        height: auto;
        width: 100%;
    }
    Dialog .row > Label {
        width: 30;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Отмена", id="dialog.cancel")
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            report: Any = getattr(self.app, "report_worker_error", None)
            if callable(report):
                report(event.worker)
