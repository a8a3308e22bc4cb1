"""The operator's desks of the journal: «Работа с ЕИИС Соцстрах» and «Журнал системы»."""

from __future__ import annotations

from eln_tui.core.domain.codes import Role
from eln_tui.ui.registry import ScreenRegistry, ScreenSpec

OPERATOR_ROLES = frozenset({Role.ELN_OPERATOR, Role.ADMIN})


def register(registry: ScreenRegistry) -> None:
    from eln_tui.ui.screens.audit import AuditScreen
    from eln_tui.ui.screens.journal import JournalScreen

    registry.register(
        ScreenSpec(
            name="journal",
            title="Работа с ЕИИС Соцстрах",
            factory=JournalScreen,
            roles=OPERATOR_ROLES,
            key="f11",
            home_rank=20,
            help="Журнал электронных ЛН: передача, ошибки, получение из СФР, прекращение",
        )
    )
    registry.register(
        ScreenSpec(
            name="audit",
            title="Журнал системы",
            factory=AuditScreen,
            roles=OPERATOR_ROLES,
            home_rank=60,
            help="Кто, что и когда изменил: фильтры по пользователю, действию, ЭЛН, датам",
        )
    )
