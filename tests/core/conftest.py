"""Database fixtures: every storage test runs on SQLite and on the local PostgreSQL server.

PostgreSQL: one throw-away database ``eln_test_<random>`` per session (dropped at the end), and a
fresh schema per test selected through ``search_path`` in the URL. The server is
``postgresql://postgres@127.0.0.1:5432/test`` unless ``ELN_TEST_PG_URL`` says otherwise. When it
cannot be reached the tests fail under CI (``CI=true``) and are skipped loudly otherwise.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlparse, urlunparse

import psycopg2
import pytest
from peewee import Database

from eln_tui.core.domain.codes import NumberState, Role
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.model import Eln
from eln_tui.core.storage import ElnStore, UserInfo, open_database, upgrade
from eln_tui.core.storage.db import database_proxy
from tests.core import factories

CTX = CheckContext(today=factories.TODAY)

PG_ADMIN_URL = os.environ.get("ELN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_missing(reason: str) -> None:
    message = (
        f"POSTGRESQL UNAVAILABLE at {PG_ADMIN_URL}: {reason}; the PostgreSQL half of the storage "
        "tests did NOT run (set ELN_TEST_PG_URL or start the server)"
    )
    if _under_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _with_database(url: str, name: str, query: str = "") -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}", query=query))


def _admin_connection() -> psycopg2.extensions.connection:
    parts = urlparse(PG_ADMIN_URL)
    conn = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=parts.path.lstrip("/"),
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """URL of a throw-away PostgreSQL database for this test session."""
    try:
        admin = _admin_connection()
    except psycopg2.OperationalError as exc:
        _pg_missing(str(exc).strip())
    name = f"eln_test_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(PG_ADMIN_URL, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class Backend:
    name: str
    url: str  # usable from other processes
    db: Database


def _pg_schema_url(base: str) -> tuple[str, str]:
    schema = f"t_{secrets.token_hex(5)}"
    options = quote(f"-csearch_path={schema}")
    return _with_database(base, urlparse(base).path.lstrip("/"), f"options={options}"), schema


def _urls(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """Yield the URL of an empty database for ``request.param``; clean up when resumed."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/eln.sqlite3"
        return
    with pg_schema(request.getfixturevalue("pg_database_url")) as url:
        yield url


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    """URL of a new empty schema in the PostgreSQL database ``base``, dropped afterwards."""
    url, schema = _pg_schema_url(base)
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """URL of an empty (not upgraded) database on SQLite or PostgreSQL."""
    yield from _urls(request, tmp_path)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Backend]:
    """An upgraded database on SQLite or PostgreSQL, bound to the proxy."""
    for url in _urls(request, tmp_path):
        db = open_database(url)
        try:
            upgrade(db)
            yield Backend(request.param, url, db)
        finally:
            db.close()
            database_proxy.initialize(None)


@pytest.fixture
def store(backend: Backend) -> ElnStore:
    return ElnStore(backend.db)


@dataclass
class People:
    doctor: UserInfo
    chairman: UserInfo
    nurse: UserInfo
    operator: UserInfo


@pytest.fixture
def people(store: ElnStore) -> People:
    return People(
        doctor=store.add_user(
            "ivanov", "Иванов Иван Иванович", [Role.DOCTOR], position="Врач-терапевт"
        ),
        chairman=store.add_user(
            "sidorova", "Сидорова Анна Петровна", [Role.DOCTOR, Role.VK_CHAIRMAN]
        ),
        nurse=store.add_user("kuznetsova", "Кузнецова Мария Ивановна", [Role.NURSE]),
        operator=store.add_user("operator", "Оператор Олег Олегович", [Role.ELN_OPERATOR]),
    )


def make_saved_eln(store: ElnStore, people: People, **kw: object) -> Eln:
    """Take a pool number for a valid ELN and save it (as the nurse would)."""
    pool = store.pool()
    if not pool.counts()[NumberState.FREE]:
        pool.add([f"{900_000_000_000 + i:012d}" for i in range(1, 51)], ogrn=factories.OGRN)
    draft = factories.valid_eln(ln_code=None, number_from_pool=False, **kw)
    draft.doctor_id = people.doctor.id
    for p in draft.treat_periods:
        p.doctor_id = people.doctor.id
    with_number = store.take_number(draft, people.nurse.signer)
    return store.save(with_number, people.nurse.signer, context=CTX)


@pytest.fixture
def store_with_eln(store: ElnStore, people: People) -> tuple[ElnStore, Eln]:
    return store, make_saved_eln(store, people)
