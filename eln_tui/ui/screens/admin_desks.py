"""The admin's desks (issue 8): integration settings, signing providers, user profiles.

Each is a top-level screen of its own (a Textual mode) open to :attr:`Role.ADMIN`; they are
reached from the command palette («Перейти: …») and from each other's keys.
"""

from __future__ import annotations

from eln_tui.core.domain.codes import Role
from eln_tui.ui.registry import ScreenRegistry, ScreenSpec

ADMIN = frozenset({Role.ADMIN})


def register(registry: ScreenRegistry) -> None:
    from eln_tui.ui.screens.crypto import CryptoScreen
    from eln_tui.ui.screens.settings import SettingsScreen
    from eln_tui.ui.screens.users import UsersScreen

    registry.register(
        ScreenSpec(
            name="settings",
            title="Настройки интеграции с ЕИИС Соцстрах",
            factory=SettingsScreen,
            roles=ADMIN,
            home_rank=50,
            help="Адрес сервера СФР, контур, реестр, способ получения номеров, МО, сертификат СФР",
        )
    )
    registry.register(
        ScreenSpec(
            name="crypto",
            title="Средства электронной подписи",
            factory=CryptoScreen,
            roles=ADMIN,
            home_rank=65,
            help="Установленные средства подписи, сертификаты, выбор и проверка подписи",
        )
    )
    registry.register(
        ScreenSpec(
            name="users",
            title="Пользователи",
            factory=UsersScreen,
            roles=ADMIN,
            home_rank=55,
            help="Профили пользователей: роли, должность, сертификат подписи",
        )
    )
