"""Schema versions and :func:`upgrade`, safe when several servers start at once.

All migrations run in one transaction that first takes a lock every other starter waits for:
``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` (the write lock) on SQLite. A server
that waited then reads the version the winner committed and has nothing left to do. DDL is
transactional on both backends, so a failed migration leaves the previous schema intact.

A released migration is frozen: later schema changes are new entries in :data:`MIGRATIONS`
(``playhouse.migrate`` operations), never edits of an old one.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from peewee import CharField, Database
from playhouse.migrate import SchemaMigrator, migrate

from eln_tui.core.errors import MigrationError
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import is_postgres, to_db_time, utcnow

# Arbitrary but fixed 63-bit key of our advisory lock.
ADVISORY_LOCK_KEY = zlib.crc32(b"eln_tui.core.storage.schema") | (0x454C4E << 32)


def _exec(db: Database, sql: str, params: tuple[object, ...] = ()) -> None:
    db.execute_sql(sql, params)  # type: ignore[no-untyped-call]


def _append_only_triggers(db: Database) -> None:
    for table in m.APPEND_ONLY_TABLES:
        if is_postgres(db):
            _exec(
                db,
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION eln_refuse_change();"
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION eln_refuse_change();",
            )
        else:
            for op in ("UPDATE", "DELETE"):
                _exec(
                    db,
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'Записи таблицы «{table}» неизменяемы'); END;",
                )


def _v1_initial(db: Database) -> None:
    with db.bind_ctx(m.ALL_MODELS):
        db.create_tables(m.ALL_MODELS, safe=True)
    if is_postgres(db):
        _exec(
            db,
            "CREATE OR REPLACE FUNCTION eln_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            # %% because the driver formats parameters even when there are none
            "RAISE EXCEPTION 'Записи таблицы «%%» неизменяемы: %% запрещено', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'insufficient_privilege'; END $$;",
        )
        # LIKE 'prefix%' can use these whatever the database collation is.
        _exec(
            db,
            "CREATE INDEX IF NOT EXISTS eln_surname_key_pattern ON eln (surname_key "
            "text_pattern_ops);"
            "CREATE INDEX IF NOT EXISTS eln_ln_code_pattern ON eln (ln_code text_pattern_ops);"
            "CREATE INDEX IF NOT EXISTS eln_snils_pattern ON eln (snils text_pattern_ops);",
        )
    _append_only_triggers(db)


def _v2_reserved_server(db: Database) -> None:
    # v1 creates tables from the current models, so a database made by this version already
    # has the column; only one upgraded from v1 needs it added.
    table = m.ElnNumber._meta.table_name
    if "reserved_server" not in {c.name for c in db.get_columns(table)}:
        migrate(
            SchemaMigrator.from_database(db).add_column(
                table, "reserved_server", CharField(max_length=100, null=True)
            )
        )


def _v3_audit_indexes(db: Database) -> None:
    # «Журнал системы» filters by login and by action and pages newest first; v1 databases
    # made by this version already have the indexes (from the model's Meta).
    table = m.AuditEntry._meta.table_name
    for column in ("login", "action"):
        _exec(
            db,
            f'CREATE INDEX IF NOT EXISTS "{table}_{column}_id" ON "{table}" ("{column}", "id")',
        )


MIGRATIONS: list[tuple[int, str, Callable[[Database], None]]] = [
    (1, "initial schema", _v1_initial),
    (2, "elnnumber.reserved_server: numbers handed to another server", _v2_reserved_server),
    (3, "audit entry indexes by login and by action", _v3_audit_indexes),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def schema_version(db: Database) -> int:
    """Version recorded in the database; 0 for an empty database."""
    if not db.table_exists(m.SchemaVersion._meta.table_name):
        return 0
    with db.bind_ctx([m.SchemaVersion]):
        row = m.SchemaVersion.select().order_by(m.SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade(db: Database) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; returns the version now in the database."""
    with db.atomic():  # BEGIN IMMEDIATE on SQLite (see db.connect)
        if is_postgres(db):
            _exec(db, "SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
        with db.bind_ctx([m.SchemaVersion]):
            db.create_tables([m.SchemaVersion], safe=True)
        current = schema_version(db)
        if current > SCHEMA_VERSION:
            raise MigrationError(
                f"Схема базы данных версии {current} новее, чем поддерживает эта программа "
                f"(версия {SCHEMA_VERSION}): обновите программу."
            )
        for version, name, apply in MIGRATIONS:
            if version <= current:
                continue
            apply(db)
            with db.bind_ctx([m.SchemaVersion]):
                m.SchemaVersion.create(version=version, name=name, applied_at=to_db_time(utcnow()))
            current = version
    return current
