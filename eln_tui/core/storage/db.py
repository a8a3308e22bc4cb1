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

from peewee import (
    Database,
    DatabaseError,
    DatabaseProxy,
    Insert,
    InterfaceError,
    OperationalError,
    PostgresqlDatabase,
    SqliteDatabase,
)
from playhouse.db_url import connect as url_connect
from playhouse.db_url import parseresult_to_dict

from eln_tui.core.errors import DatabaseUnavailable, DatabaseUrlError

database_proxy = DatabaseProxy()

BUSY_TIMEOUT_S = 30
SQLITE_PRAGMAS = (
    ("busy_timeout", BUSY_TIMEOUT_S * 1000),  # first, so the WAL switch below can wait too
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers unless this is on,
    # which would let a replace rewrite an append-only row (audit_entry, signed_fragment).
    ("recursive_triggers", 1),
)


# SQLite's texts for a file that is busy or cannot be read or written (other OperationalErrors,
# e.g. "no such table", are faults of the program and stay as they are).
_SQLITE_UNAVAILABLE = (
    "locked",
    "busy",
    "readonly",
    "unable to open",
    "disk i/o",
    "disk is full",
    "not a database",
    "malformed",
)


def _unavailable(db: Database, exc: Exception) -> DatabaseUnavailable | None:
    """The user's error for a failure of the database itself, or None for any other error."""
    text = str(exc).strip()
    if isinstance(db, SqliteDatabase):
        low = text.lower()
        if not any(word in low for word in _SQLITE_UNAVAILABLE):
            return None
        if "locked" in low or "busy" in low:
            message = (
                f"База данных занята другим процессом дольше {BUSY_TIMEOUT_S} с; изменения не "
                "сохранены. Повторите действие."
            )
        else:
            message = (
                f"Файл базы данных «{db.database}» недоступен для чтения или записи; изменения "
                "не сохранены. Проверьте права доступа и место на диске."
            )
        return DatabaseUnavailable(message, detail=text)
    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailable(
            "Нет связи с сервером базы данных; изменения не сохранены. Повторите действие, "
            "когда связь восстановится, или обратитесь к администратору.",
            detail=text,
        )
    return None


_FAILURES = (DatabaseError, InterfaceError)  # peewee's InterfaceError is no DatabaseError


class _Guarded:
    """Database mixin: a failure of the database itself becomes :class:`DatabaseUnavailable`
    (a Russian message, the transaction not committed), and a connection the server dropped
    is forgotten outside a transaction, so that the next operation connects again instead of
    failing until the program is restarted."""

    _state: Any

    def _lost(self) -> bool:
        conn = self._state.conn
        return conn is not None and bool(getattr(conn, "closed", 0))  # psycopg2: 0 = open

    def _reconnect_if_lost(self) -> None:
        if self._lost() and not self.in_transaction():  # type: ignore[attr-defined]
            try:
                self._state.conn.close()
            finally:
                self._state.reset()

    def _mapped(self, exc: Exception) -> Exception:
        return _unavailable(cast(Database, self), exc) or exc

    def connect(self, reuse_if_open: bool = False) -> bool:
        try:
            return cast(bool, super().connect(reuse_if_open))  # type: ignore[misc]
        except _FAILURES as exc:
            raise self._mapped(exc) from exc

    def _execute_cursor(self, sql: str, params: Any, **options: Any) -> Any:
        self._reconnect_if_lost()
        try:
            return super()._execute_cursor(sql, params, **options)  # type: ignore[misc]
        except _FAILURES as exc:
            raise self._mapped(exc) from exc

    def begin(self, *args: Any, **kw: Any) -> None:
        self._reconnect_if_lost()
        try:
            super().begin(*args, **kw)  # type: ignore[misc]
        except _FAILURES as exc:
            raise self._mapped(exc) from exc

    def commit(self) -> None:
        try:
            super().commit()  # type: ignore[misc]
        except _FAILURES as exc:
            raise self._mapped(exc) from exc

    def rollback(self) -> None:
        if self._lost():
            return  # the server rolled the transaction back when the connection went
        try:
            super().rollback()  # type: ignore[misc]
        except _FAILURES as exc:
            raise self._mapped(exc) from exc


class GuardedSqliteDatabase(_Guarded, SqliteDatabase):
    pass


class GuardedPostgresqlDatabase(_Guarded, PostgresqlDatabase):
    pass


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
            _create_private(Path(path).expanduser())
        return GuardedSqliteDatabase(
            path,
            pragmas=list(SQLITE_PRAGMAS),
            timeout=BUSY_TIMEOUT_S,
            lock_type="IMMEDIATE",
        )
    if scheme in ("postgresql", "postgres"):
        try:
            url_connect(url)  # validates the address
        except ValueError as exc:
            raise DatabaseUrlError(f"Адрес базы данных «{url}» не распознан: {exc}") from exc
        return GuardedPostgresqlDatabase(**parseresult_to_dict(urlparse(url)))
    raise DatabaseUrlError(
        f"Адрес базы данных «{url}» не поддерживается: используйте sqlite:///путь "
        "или postgresql://пользователь@сервер/база."
    )


def _create_private(path: Path) -> None:
    """Create a new SQLite file owner-only (0600, in a 0700 directory if that is new) before
    SQLite opens it: the journal holds patients' data. SQLite gives its -wal and -shm files the
    database file's mode. An existing file is left as the administrator set it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


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
