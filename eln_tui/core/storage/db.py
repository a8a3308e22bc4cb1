"""Database connection: one :class:`peewee.DatabaseProxy` for all models, chosen from a URL.

- ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (the default kind): WAL journal,
  ``foreign_keys=1``, a 30 s busy timeout, and every explicit transaction opened with
  ``BEGIN IMMEDIATE`` so that two writers queue up instead of failing on the lock upgrade.
- ``postgresql://user:password@host:port/dbname`` (also ``postgres://``).
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

from peewee import Database, DatabaseProxy, Insert, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect as url_connect

from eln_tui.core.errors import DatabaseUrlError

database_proxy = DatabaseProxy()

BUSY_TIMEOUT_S = 30
SQLITE_PRAGMAS = (
    ("busy_timeout", BUSY_TIMEOUT_S * 1000),  # first, so the WAL switch below can wait too
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
)


def default_url() -> str:
    """``sqlite:///`` file in the user's data directory (``$XDG_DATA_HOME/eln-tui/eln.sqlite3``)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'eln-tui' / 'eln.sqlite3'}"


def connect(url: str | None = None) -> Database:
    """A new, not yet connected database object for ``url`` (not bound to the proxy)."""
    url = url or default_url()
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        prefix = "sqlite:///"
        if not url.startswith(prefix) or len(url) == len(prefix):
            raise DatabaseUrlError(
                f"Адрес базы данных «{url}» не распознан: укажите sqlite:///путь/к/файлу.db."
            )
        path = url[len(prefix) :]
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            path,
            pragmas=list(SQLITE_PRAGMAS),
            timeout=BUSY_TIMEOUT_S,
            lock_type="IMMEDIATE",
        )
    if scheme in ("postgresql", "postgres"):
        try:
            return cast(Database, url_connect(url))
        except ValueError as exc:
            raise DatabaseUrlError(f"Адрес базы данных «{url}» не распознан: {exc}") from exc
    raise DatabaseUrlError(
        f"Адрес базы данных «{url}» не поддерживается: используйте sqlite:///путь "
        "или postgresql://пользователь@сервер/база."
    )


def open_database(url: str | None = None) -> Database:
    """Connect to ``url`` and make it the database behind :data:`database_proxy`."""
    db = connect(url)
    database_proxy.initialize(db)
    db.connect(reuse_if_open=True)
    return db


def current_database() -> Database:
    """The database the proxy points at (raises if :func:`open_database` was not called)."""
    db = database_proxy.obj
    if db is None:
        raise DatabaseUrlError("База данных не открыта: вызовите open_database().")
    return cast(Database, db)


def is_postgres(db: Database) -> bool:
    return isinstance(db, PostgresqlDatabase)


def write_transaction(db: Database) -> AbstractContextManager[object]:
    """A write transaction: ``BEGIN IMMEDIATE`` on SQLite (set on the database), plain on PG."""
    return db.atomic()


def execute_insert(query: Insert, db: Database) -> Any:
    """Run an INSERT on ``db``, which may be another backend than the models' proxy.

    peewee decides on ``RETURNING`` when a model INSERT is built, from the model's database;
    clearing that choice lets the executing database decide (``Insert._execute``), so the
    central server's pool can be SQLite while the proxy is PostgreSQL, or the reverse.
    """
    query._returning = None  # type: ignore[attr-defined]
    return query.bind(db).execute()


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime | None) -> datetime | None:
    """Store times as naive UTC (the same on both backends)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def from_db_time(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite may hand back text for computed columns
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
