"""The database lost in the middle of an operation.

PostgreSQL: the store's server process is ended with ``pg_terminate_backend`` — before an
operation, or inside its transaction before its first, second or third statement. SQLite: the
file is held by another process's write lock (``BEGIN EXCLUSIVE``) for longer than the busy
timeout. Operations: ``save``, ``take_number``, ``sign`` (the append-only signed block). Each
time: :class:`DatabaseUnavailable` with a Russian message, nothing of the operation in the
database (a snapshot of the journal's tables), and the same operation works on the same store
once the database is back (the lost connection is replaced by a new one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from eln_tui.core.domain.codes import NumberState, SignerSlot
from eln_tui.core.domain.model import Block, Eln
from eln_tui.core.errors import DatabaseUnavailable
from eln_tui.core.exchange import ExchangeService
from eln_tui.core.fss import sign_block as fss_sign_block
from eln_tui.core.storage import ElnStore, open_database, upgrade
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import database_proxy
from tests.core import factories
from tests.core.conftest import CTX, Backend, People, make_saved_eln
from tests.exchange.test_exchange import end_of, new_eln, sign
from tests.faults.helpers import assert_russian, diff, snapshot
from tests.fss.e2e import Parties, make_client

TODAY = date.today()


def terminate(store: ElnStore, admin_url: str) -> None:
    """End the server process behind the store's connection (as an admin or a crash would)."""
    (pid,) = store.db.execute_sql("select pg_backend_pid()").fetchone()
    admin = psycopg2.connect(admin_url)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("select pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()


@contextmanager
def killed_at_statement(store: ElnStore, admin_url: str, n: int) -> Iterator[list[int]]:
    """Terminate the connection just before the ``n``-th statement run inside a transaction."""
    db: Any = store.db
    real = db._execute_cursor
    seen = [0]

    def execute(sql: str, params: Any, **kw: Any) -> Any:
        if db.in_transaction() and sql.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen[0] += 1
            if seen[0] == n:
                terminate(store, admin_url)
        return real(sql, params, **kw)

    db._execute_cursor = execute
    try:
        yield seen
    finally:
        del db._execute_cursor


def save_changed(store: ElnStore, people: People, eln: Eln, parties: Parties) -> Eln:
    eln.diagnos = "J06.0"
    return store.save(eln, people.doctor.signer, context=CTX)


def take(store: ElnStore, people: People, eln: Eln, parties: Parties) -> Eln:
    draft = factories.valid_eln(ln_code=None, number_from_pool=False)
    draft.doctor_id = people.doctor.id
    return store.take_number(draft, people.nurse.signer)


FIRST_PERIOD = Block("period", SignerSlot.DOC, 0)


def sign_period(store: ElnStore, people: People, eln: Eln, parties: Parties) -> Eln:
    """The doctor's signature: the signed bytes go into the append-only ``signed_fragment``."""
    fragment = fss_sign_block(eln, FIRST_PERIOD, parties.doctor, "2.0")
    assert eln.id is not None
    return store.sign(
        eln.id, FIRST_PERIOD, people.doctor.signer, fragment.element, security=fragment.security
    )


OPERATIONS: dict[str, Callable[[ElnStore, People, Eln, Parties], Eln]] = {
    "save": save_changed,
    "take_number": take,
    "sign": sign_period,
}


def _check_retry(store: ElnStore, people: People, op: str, eln: Eln, parties: Parties) -> None:
    assert eln.id is not None
    if op == "save":
        again = save_changed(store, people, store.load(eln.id), parties)
        assert again.diagnos == "J06.0" and again.version == eln.version + 1
    elif op == "sign":
        signed = sign_period(store, people, store.load(eln.id), parties)
        assert signed.treat_periods[0].doctor_signature is not None
        fragments = m.SignedFragment.select().where(m.SignedFragment.eln == eln.id)
        assert fragments.bind(store.db).count() == 1
    else:
        free = store.pool().counts()[NumberState.FREE]
        taken = take(store, people, eln, parties)
        assert taken.ln_code and store.pool().counts()[NumberState.FREE] == free - 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("statement", [0, 1, 2, 3])
@pytest.mark.parametrize("op", list(OPERATIONS))
def test_postgresql_connection_killed(
    store: ElnStore,
    people: People,
    parties: Parties,
    pg_database_url: str,
    op: str,
    statement: int,
) -> None:
    """``statement`` 0: the connection is gone before the operation starts."""
    eln = make_saved_eln(store, people)
    before = snapshot(store.db)
    if statement == 0:
        terminate(store, pg_database_url)
        with pytest.raises(DatabaseUnavailable) as info:
            OPERATIONS[op](store, people, store.load_by_number(eln.ln_code or ""), parties)
    else:
        fresh = store.load_by_number(eln.ln_code or "")
        with (
            killed_at_statement(store, pg_database_url, statement) as seen,
            pytest.raises(DatabaseUnavailable) as info,
        ):
            OPERATIONS[op](store, people, fresh, parties)
        assert seen[0] >= statement
    assert_russian(info.value.message, contains="Нет связи с сервером базы данных")
    assert diff(before, snapshot(store.db)) == {}  # the store has connected again
    _check_retry(store, people, op, eln, parties)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("op", list(OPERATIONS))
def test_sqlite_file_locked_by_another_process(
    backend: Backend, store: ElnStore, people: People, parties: Parties, op: str
) -> None:
    eln = make_saved_eln(store, people)
    before = snapshot(store.db)
    store.db.execute_sql("PRAGMA busy_timeout = 200")  # the product waits 30 s
    with _locked(backend):
        with pytest.raises(DatabaseUnavailable) as info:
            OPERATIONS[op](store, people, store.load_by_number(eln.ln_code or ""), parties)
        assert_russian(info.value.message, contains="занята другим процессом")
    assert diff(before, snapshot(store.db)) == {}
    _check_retry(store, people, op, eln, parties)


@contextmanager
def _locked(backend: Backend) -> Iterator[None]:
    path = backend.url[len("sqlite:///") :]
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _sendable(store: ElnStore, people: People, emu: Any, parties: Parties) -> tuple[Any, Eln]:
    client, _ = make_client(emu, parties)
    svc = ExchangeService(store, client, people.operator.signer)
    svc.request_numbers(1)
    eln = new_eln(svc, people, parties, TODAY - timedelta(days=4))
    assert eln.id is not None
    eln = sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 0))
    return svc, eln


def test_database_lost_after_the_funds_reply(
    backend: Backend, store: ElnStore, people: People, emu: Any, parties: Parties, request: Any
) -> None:
    """The Fund accepted the registry, the database fails before the reply is applied: the
    user is told, nothing is marked sent, and the next send learns the outcome (getLNData)."""
    svc, eln = _sendable(store, people, emu, parties)
    assert eln.id is not None and eln.ln_code is not None
    day = end_of(eln.treat_periods[0])
    lock: list[Any] = []

    def lose_database(step: str) -> None:
        if step != "after_reply":
            return
        if backend.name == "postgresql":
            terminate(store, request.getfixturevalue("pg_database_url"))
        else:
            store.db.execute_sql("PRAGMA busy_timeout = 200")
            lock.append(_locked(backend))
            lock[0].__enter__()

    svc._fault = lose_database
    before = snapshot(store.db)
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            svc.send(day)
    finally:
        if lock:
            lock[0].__exit__(None, None, None)
    assert_russian(info.value.message)
    assert emu.eln(eln.ln_code).state == "010"  # the Fund has it…
    assert diff(before, snapshot(store.db)) == {}  # …the journal does not say so
    svc._fault = None
    report = svc.send(day)
    assert report.reconciled_accepted == [eln.ln_code] and report.accepted == []
    done = store.load(eln.id)
    assert done.treat_periods[0].sent and done.ln_hash == emu.eln(eln.ln_code).ln_hash


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    """A damaged file (or another program's) is named in the message, not a traceback."""
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"\x00garbage, not an SQLite file\x00" * 200)
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            upgrade(open_database(f"sqlite:///{broken}"))
    finally:
        database_proxy.obj.close()
        database_proxy.initialize(None)
    assert_russian(info.value.message, contains="broken.sqlite3")
