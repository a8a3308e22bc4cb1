"""Typed messages the workers and widgets post (workers run in threads; posting is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from eln_tui.core.domain.model import Block, Eln


class ElnLoaded(Message):
    """An ELN arrived from storage (opened, saved, signed, terminated …)."""

    def __init__(
        self, eln: Eln, note: str | None = None, *, saved: bool = True, focus: str | None = None
    ) -> None:
        super().__init__()
        self.eln = eln
        self.note = note  # a short Russian confirmation for the status line
        self.saved = saved  # False: a draft changed by a worker (number taken), not stored yet
        self.focus = focus  # field path to put the cursor on afterwards


class FocusField(Message):
    """Move focus to the widget editing ``path`` (a ФЛК violation or an error was chosen)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class SignRequested(Message):
    """A key button was pressed."""

    def __init__(self, block: Block) -> None:
        super().__init__()
        self.block = block


class OperationFailed(Message):
    """A worker of this screen failed; the app has already shown the message."""

    def __init__(self, error: BaseException, worker: str) -> None:
        super().__init__()
        self.error = error
        self.worker = worker
