"""Connection URLs, pragmas, and schema upgrades (also several servers starting at once)."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import peewee
import pytest

from eln_tui.core.errors import DatabaseUrlError, MigrationError
from eln_tui.core.storage import SCHEMA_VERSION, connect, default_url, schema_version, upgrade
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import to_db_time, utcnow
from tests.core import workers
from tests.core.conftest import Backend


def test_upgrade_is_idempotent(backend: Backend) -> None:
    assert schema_version(backend.db) == SCHEMA_VERSION
    assert upgrade(backend.db) == SCHEMA_VERSION
    with backend.db.bind_ctx([m.SchemaVersion]):
        assert m.SchemaVersion.select().count() == SCHEMA_VERSION
    assert set(backend.db.get_tables()) >= {model._meta.table_name for model in m.ALL_MODELS}


def test_newer_schema_is_refused(backend: Backend) -> None:
    with backend.db.bind_ctx([m.SchemaVersion]):
        m.SchemaVersion.create(
            version=SCHEMA_VERSION + 1, name="future", applied_at=to_db_time(utcnow())
        )
    with pytest.raises(MigrationError, match="обновите программу"):
        upgrade(backend.db)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_several_servers_upgrade_at_once(fresh_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.5
    with ctx.Pool(4) as pool:
        versions = pool.starmap(workers.run_upgrade, [(fresh_url, start_at)] * 4)
    assert versions == [SCHEMA_VERSION] * 4
    db = connect(fresh_url)
    try:
        assert schema_version(db) == SCHEMA_VERSION
        with db.bind_ctx([m.SchemaVersion]):
            assert [r.version for r in m.SchemaVersion.select()] == list(
                range(1, SCHEMA_VERSION + 1)
            )
    finally:
        db.close()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path}/sub/dir/eln.sqlite3")
    db.connect()
    assert (tmp_path / "sub" / "dir").is_dir()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 30_000
    upgrade(db)
    with pytest.raises(peewee.IntegrityError):  # foreign keys are enforced
        with db.atomic():
            db.execute_sql("INSERT INTO treat_period (eln_id, idx, sent) VALUES (12345, 0, 0)")
    db.close()


@pytest.mark.parametrize(
    "url",
    ["mysql://root@localhost/eln", "sqlite://", "sqlite:///", "eln.sqlite3", "postgresql://x"],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(DatabaseUrlError) as err:
        connect(url)
    assert "Адрес базы данных" in err.value.message


def test_default_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path}/eln-tui/eln.sqlite3"
    assert isinstance(connect(), peewee.SqliteDatabase)


def test_v2_database_gets_the_audit_indexes(backend: Backend) -> None:
    """A database made before v3 (no audit indexes, version 2) gets them in place."""
    db, table = backend.db, m.AuditEntry._meta.table_name
    for column in ("login", "action"):
        db.execute_sql(f'DROP INDEX "{table}_{column}_id"')  # type: ignore[no-untyped-call]
    with db.bind_ctx([m.SchemaVersion]):
        m.SchemaVersion.delete().where(m.SchemaVersion.version > 2).execute()
    assert schema_version(db) == 2
    assert upgrade(db) == SCHEMA_VERSION
    names = {index.name for index in db.get_indexes(table)}
    assert {f"{table}_login_id", f"{table}_action_id"} <= names
