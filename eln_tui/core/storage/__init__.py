"""Storage (peewee) of the ELN core: SQLite or PostgreSQL behind one ``DatabaseProxy``.

Typical start-up::

    db = open_database("sqlite:///eln.sqlite3")   # or postgresql://…
    upgrade(db)                                   # safe when several servers start at once
    store = ElnStore(db)
"""

from eln_tui.core.storage.db import connect, database_proxy, default_url, open_database
from eln_tui.core.storage.journal import JournalRow, Page, journal_page
from eln_tui.core.storage.migrations import SCHEMA_VERSION, schema_version, upgrade
from eln_tui.core.storage.numbers import (
    NO_FREE_NUMBERS,
    STALE_AFTER,
    NumberPool,
    PoolNumber,
    StaleReservation,
    take_number,
)
from eln_tui.core.storage.repository import (
    AuditRecord,
    ElnStore,
    FragmentData,
    OrganisationData,
    SettingsData,
    UserInfo,
)

__all__ = [
    "NO_FREE_NUMBERS",
    "SCHEMA_VERSION",
    "STALE_AFTER",
    "AuditRecord",
    "ElnStore",
    "FragmentData",
    "JournalRow",
    "NumberPool",
    "OrganisationData",
    "Page",
    "PoolNumber",
    "SettingsData",
    "StaleReservation",
    "UserInfo",
    "connect",
    "database_proxy",
    "default_url",
    "journal_page",
    "open_database",
    "schema_version",
    "take_number",
    "upgrade",
]
