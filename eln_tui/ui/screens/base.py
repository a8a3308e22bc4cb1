"""The base of the app's screens: access to the desk and command-palette entries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

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

    # Textual repaints the whole screen when focus moves (a reactive with repaint); the two
    # widgets concerned repaint themselves anyway, so over a slow link a Tab costs a few lines,
    # not 24 (bench/bench_tui.py).
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

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
