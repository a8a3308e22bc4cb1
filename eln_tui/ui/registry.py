"""The registry of top-level screens (one Textual *mode* each).

A desk is a top-level screen: «Мои ЭЛН» for doctors, and — added by the operator/admin issue — the
journal «Работа с ЕИИС Соцстрах», «Номера ЭЛН», settings. Each is registered once with who may open
it; the app turns every spec into a mode (``App.add_mode``), starts in the user's home desk,
offers the others in the command palette («Перейти: …») and binds their keys::

    registry.register(ScreenSpec(
        name="journal", title="Работа с ЕИИС Соцстрах", factory=JournalScreen,
        roles=frozenset({Role.ELN_OPERATOR}), key="f11", home_rank=10,
    ))

Screens pushed from a desk (the ELN editor, dialogs) live on top of it in its mode's stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eln_tui.core.domain.codes import DOC_SIGNER_ROLES, Role
from eln_tui.core.storage import UserInfo

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class ScreenSpec:
    """A top-level screen: ``factory()`` builds it (it reaches the app's services itself)."""

    name: str
    title: str
    factory: Callable[[], Screen[object]]
    #: Roles that may open it; empty = every user with a profile.
    roles: frozenset[Role] = frozenset()
    #: Optional global key that opens it (binding id ``desk.<name>``).
    key: str | None = None
    #: The user's home desk is the available spec with the lowest rank.
    home_rank: int = 100
    help: str = ""

    def allows(self, user: UserInfo) -> bool:
        return not self.roles or bool(self.roles & user.roles)


class ScreenRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, ScreenSpec] = {}

    def register(self, spec: ScreenSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"screen {spec.name!r} is already registered")
        self._specs[spec.name] = spec

    def __iter__(self) -> Iterator[ScreenSpec]:
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def get(self, name: str) -> ScreenSpec:
        return self._specs[name]

    def available(self, user: UserInfo) -> list[ScreenSpec]:
        return [s for s in self if s.allows(user)]

    def home_for(self, user: UserInfo) -> ScreenSpec | None:
        specs = sorted(self.available(user), key=lambda s: s.home_rank)
        return specs[0] if specs else None


#: Modules whose ``register(registry)`` adds their desks (operator's and admin's screens).
DESK_MODULES: tuple[str, ...] = (
    "eln_tui.ui.screens.operator_desks",
    "eln_tui.ui.screens.journal_desks",
    "eln_tui.ui.screens.admin_desks",
)


def default_registry() -> ScreenRegistry:
    """Every desk of the product: «Мои ЭЛН» for those who issue ELNs, then each module of
    :data:`DESK_MODULES` (the operator's and the admin's desks)."""
    import importlib

    from eln_tui.ui.screens.my_elns import MyElnsScreen

    registry = ScreenRegistry()
    registry.register(
        ScreenSpec(
            name="my_elns",
            title="Мои ЭЛН",
            factory=MyElnsScreen,
            roles=frozenset(DOC_SIGNER_ROLES),
            home_rank=10,
            help="Листки нетрудоспособности, которые вы выдали: состояние и следующее действие",
        )
    )
    for module in DESK_MODULES:
        importlib.import_module(module).register(registry)
    return registry
