"""The operator's exchange desks: «Номера ЭЛН» and «Передать в ЕИИС Соцстрах» (issue 8)."""

from __future__ import annotations

from eln_tui.core.domain.codes import Role
from eln_tui.ui.registry import ScreenRegistry, ScreenSpec

OPERATOR = frozenset({Role.ELN_OPERATOR})


def register(registry: ScreenRegistry) -> None:
    from eln_tui.ui.screens.numbers import NumbersScreen
    from eln_tui.ui.screens.registry_send import RegistrySendScreen

    registry.register(
        ScreenSpec(
            name="numbers",
            title="Номера ЭЛН",
            factory=NumbersScreen,
            roles=OPERATOR,
            key="f12",
            home_rank=30,
            help="Пул номеров ЭЛН: получить из ЕИИС «Соцстрах», загрузить выданные ранее, вернуть",
        )
    )
    registry.register(
        ScreenSpec(
            name="registry_send",
            title="Передать в ЕИИС Соцстрах",
            factory=RegistrySendScreen,
            roles=OPERATOR,
            key="ctrl+t",
            home_rank=40,
            help="Реестр за день: что будет передано, что не может быть передано и почему",
        )
    )
