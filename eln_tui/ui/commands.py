"""The command palette (Ctrl+P): the current screen's actions and the desks the user may open.

A screen contributes commands by defining ``commands() -> Iterable[ScreenCommand]``; screens
derived from :class:`~eln_tui.ui.screens.base.DeskScreen` list their key bindings that way
automatically (title = the binding's tooltip, or its description) plus any extra commands that
have no key. The app adds «Перейти: …» for each registered desk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, runtime_checkable

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen


@dataclass(frozen=True)
class ScreenCommand:
    title: str
    callback: Callable[[], Any]
    help: str = ""
    key: str = ""  # shown after the title, e.g. "F5"

    @property
    def display(self) -> str:
        return f"{self.title} ({self.key})" if self.key else self.title


@runtime_checkable
class CommandSource(Protocol):
    def commands(self) -> Iterable[ScreenCommand]: ...


def binding_commands(screen: Screen[Any], bindings: Iterable[Binding]) -> list[ScreenCommand]:
    """Palette entries for a screen's bindings, with the keys currently bound (keymap applied)."""
    keys: dict[str, str] = {}
    for key, active in screen.active_bindings.items():
        keys.setdefault(active.binding.action, screen.app.get_key_display(active.binding) or key)
    out = []
    for binding in bindings:
        title = binding.tooltip or binding.description
        if not title or binding.system:
            continue
        out.append(
            ScreenCommand(
                title,
                partial(screen.run_action, binding.action),
                key=keys.get(binding.action, ""),
            )
        )
    return out


class ElnCommands(Provider):
    """Commands of the active screen and of the app (desks to switch to)."""

    def _commands(self) -> list[ScreenCommand]:
        commands: list[ScreenCommand] = []
        if isinstance(self.screen, CommandSource):
            commands.extend(self.screen.commands())
        app = self.app
        if isinstance(app, CommandSource):
            commands.extend(app.commands())
        return commands

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.display, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.display)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.display),
                    command.callback,
                    text=command.display,
                    help=command.help,
                )
