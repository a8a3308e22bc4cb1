"""The base of the app's screens: access to the desk and command-palette entries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from eln_tui.ui.commands import ScreenCommand, binding_commands
from eln_tui.ui.desk import Desk

if TYPE_CHECKING:
    from eln_tui.ui.app import ElnApp


class DeskScreen(Screen[Any]):
    """A screen of the workstation. ``commands()`` feeds the command palette."""

    # Textual repaints the whole screen when focus moves (``Screen.focused`` repaints). Lists
    # set REPAINT_ON_FOCUS = False: the two widgets concerned repaint themselves, so over a slow
    # link a Tab costs a few lines, not 24 (bench/bench_tui.py). Forms keep the full repaint:
    # their layout moves with focus (folds open, sections scroll) and without it a stale line
    # was left on the ELN form.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    REPAINT_ON_FOCUS: ClassVar[bool] = True

    def _watch_focused(self) -> None:
        super()._watch_focused()  # type: ignore[no-untyped-call]
        if self.REPAINT_ON_FOCUS:
            self.refresh()

    @property
    def eln_app(self) -> ElnApp:
        return cast("ElnApp", self.app)

    @property
    def desk(self) -> Desk:
        desk = self.eln_app.desk
        assert desk is not None, "screens exist only for users with a profile"
        return desk

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.eln_app.report_worker_error(event.worker)

    def extra_commands(self) -> Iterable[ScreenCommand]:
        """Commands without a key of their own (override)."""
        return ()

    def commands(self) -> Iterable[ScreenCommand]:
        yield from binding_commands(self, self.BINDINGS)  # type: ignore[arg-type]
        yield from self.extra_commands()
