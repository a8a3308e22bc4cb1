"""Stale number reservations («Занят» with no saved ELN): listing, release, refusals, a save
racing the release, the central server's numbers and the v2 migration — SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from peewee import Database

from eln_tui.core.domain.codes import NumberMode, NumberState
from eln_tui.core.domain.model import Eln
from eln_tui.core.errors import ElnError, NumberStateError
from eln_tui.core.storage import ElnStore, NumberPool, connect, schema_version, upgrade
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import to_db_time, utcnow
from tests.core import factories
from tests.core.conftest import CTX, Backend, People

HOUR = timedelta(hours=1)


def pool_numbers(start: int, count: int) -> list[str]:
    return [f"{900_000_000_000 + i:012d}" for i in range(start, start + count)]


def draft(people: People) -> Eln:
    eln = factories.valid_eln(ln_code=None, number_from_pool=False)
    eln.doctor_id = people.doctor.id
    for p in eln.treat_periods:
        p.doctor_id = people.doctor.id
    return eln


def backdate(db: Database, number: str, age: timedelta) -> None:
    """The reservation was made ``age`` ago (the program died right after taking it)."""
    m.ElnNumber.update(reserved_at=to_db_time(utcnow() - age)).where(
        m.ElnNumber.number == number
    ).bind(db).execute()


def stale_audit(db: Database) -> list[str]:
    query = (
        m.AuditEntry.select(m.AuditEntry.ln_code)
        .where(m.AuditEntry.action == "number_released_stale")
        .order_by(m.AuditEntry.id)
        .bind(db)
    )
    return [r.ln_code for r in query]


def test_list_and_release_stale(store: ElnStore, people: People) -> None:
    store.pool().add(pool_numbers(0, 6), ogrn=factories.OGRN)
    saved = store.save(
        store.take_number(draft(people), people.nurse.signer), people.nurse.signer, context=CTX
    )
    old1 = store.take_number(draft(people), people.nurse.signer).ln_code
    old2 = store.take_number(draft(people), people.doctor.signer).ln_code
    fresh = store.take_number(draft(people), people.nurse.signer).ln_code
    assert old1 and old2 and fresh and saved.ln_code
    for number in (old1, old2, saved.ln_code):
        backdate(store.db, number, 3 * HOUR)

    stale = store.stale_numbers(2 * HOUR)
    assert [s.number for s in stale] == [old1, old2]  # not the saved one, not the fresh one
    assert stale[0].reserved_by_login == "kuznetsova"
    assert stale[1].reserved_by_name == people.doctor.full_name
    assert stale[0].reserved_at is not None
    assert utcnow() - stale[0].reserved_at > 2 * HOUR
    assert [s.number for s in store.stale_numbers(2 * HOUR, after=old1)] == [old2]
    assert [s.number for s in store.stale_numbers(2 * HOUR, limit=1)] == [old1]
    assert [s.number for s in store.stale_numbers(4 * HOUR)] == []

    assert store.release_stale_numbers([old1, old2], people.operator.signer, 2 * HOUR) == [
        old1,
        old2,
    ]
    pool = store.pool()
    for number in (old1, old2):
        row = pool.get(number)
        assert row.state is NumberState.FREE and row.reserved_at is None
    assert pool.get(fresh).state is NumberState.RESERVED
    assert pool.get(saved.ln_code).state is NumberState.USED
    assert stale_audit(store.db) == [old1, old2]
    trail = store.audit_trail(ln_code=old1, action="number_released_stale")
    assert trail[0].login == "operator"
    assert store.stale_numbers(2 * HOUR) == []
    # a released number is handed out again, in ascending order
    assert store.take_number(draft(people), people.nurse.signer).ln_code == old1


def test_release_refusals_free_nothing(store: ElnStore, people: People) -> None:
    store.pool().add(pool_numbers(0, 5), ogrn=factories.OGRN)
    saved = store.save(
        store.take_number(draft(people), people.nurse.signer), people.nurse.signer, context=CTX
    )
    old = store.take_number(draft(people), people.nurse.signer).ln_code
    fresh = store.take_number(draft(people), people.nurse.signer).ln_code
    assert old and fresh and saved.ln_code
    backdate(store.db, old, 3 * HOUR)
    backdate(store.db, saved.ln_code, 3 * HOUR)
    free = pool_numbers(4, 1)[0]
    actor = people.operator.signer

    cases = {
        saved.ln_code: f"Номер ЭЛН {saved.ln_code} использован в сохранённом ЭЛН и не может "
        "быть освобождён.",
        free: f"Номер ЭЛН {free} не занят (состояние «Свободен»): освобождать нечего.",
        fresh: f"Номер ЭЛН {fresh} занят недавно: зависшим считается номер, занятый более "
        "120 мин. назад и не сохранённый в ЭЛН.",
        "900000000999": "Номер ЭЛН 900000000999 отсутствует в журнале «Номера ЭЛН».",
    }
    for number, message in cases.items():
        # the good one first: the whole batch is refused, nothing is freed or audited
        with pytest.raises(ElnError) as err:
            store.release_stale_numbers([old, number], actor)
        assert err.value.message == message
        assert store.pool().get(old).state is NumberState.RESERVED
    assert stale_audit(store.db) == []


def test_saved_eln_number_unknown_to_the_pool_row_is_not_stale(
    store: ElnStore, people: People
) -> None:
    """An ELN row carrying the number protects it even if the pool row missed «used»."""
    store.pool().add(pool_numbers(0, 2), ogrn=factories.OGRN)
    saved = store.save(
        store.take_number(draft(people), people.nurse.signer), people.nurse.signer, context=CTX
    )
    assert saved.ln_code
    m.ElnNumber.update(state=NumberState.RESERVED.value, eln=None).where(
        m.ElnNumber.number == saved.ln_code
    ).bind(store.db).execute()
    backdate(store.db, saved.ln_code, 3 * HOUR)
    assert store.stale_numbers() == []
    with pytest.raises(NumberStateError, match=f"Номер ЭЛН {saved.ln_code} использован"):
        store.release_stale_numbers([saved.ln_code], people.operator.signer)


def test_release_then_save_refuses_the_save(store: ElnStore, people: People) -> None:
    store.pool().add(pool_numbers(0, 1), ogrn=factories.OGRN)
    with_number = store.take_number(draft(people), people.nurse.signer)
    assert with_number.ln_code
    backdate(store.db, with_number.ln_code, 3 * HOUR)
    store.release_stale_numbers([with_number.ln_code], people.operator.signer)
    with pytest.raises(NumberStateError, match="в состоянии «Свободен»"):
        store.save(with_number, people.nurse.signer, context=CTX)
    assert not m.Eln.select().bind(store.db).exists()  # the save rolled back entirely
    assert store.pool().get(with_number.ln_code).state is NumberState.FREE


def test_release_waits_for_a_concurrent_save_and_is_refused(
    backend: Backend, store: ElnStore, people: People
) -> None:
    """A save holding the number's row (PostgreSQL) / the write lock (SQLite) wins: the
    release waits for its commit and then refuses the number, which stays used."""
    store.pool().add(pool_numbers(0, 1), ogrn=factories.OGRN)
    with_number = store.take_number(draft(people), people.nurse.signer)
    number = with_number.ln_code
    assert number
    backdate(store.db, number, 3 * HOUR)
    other = connect(backend.url)  # the doctor's workstation
    outcome: list[object] = []

    def release() -> None:
        try:
            outcome.append(store.release_stale_numbers([number], people.operator.signer))
        except ElnError as exc:
            outcome.append(exc)
        finally:
            store.db.close()  # this thread's connection

    try:
        with other.atomic():
            ElnStore(other).save(with_number, people.nurse.signer, context=CTX)
            worker = threading.Thread(target=release)
            worker.start()
            time.sleep(0.5)
            assert worker.is_alive(), "the release did not wait for the save"
        worker.join(30)
        assert not worker.is_alive()
    finally:
        other.close()
    assert len(outcome) == 1 and isinstance(outcome[0], NumberStateError)
    assert outcome[0].message == (
        f"Номер ЭЛН {number} использован в сохранённом ЭЛН и не может быть освобождён."
    )
    assert store.pool().get(number).state is NumberState.USED
    assert stale_audit(store.db) == []


def test_save_waits_for_a_concurrent_release_and_is_refused(
    backend: Backend, store: ElnStore, people: People
) -> None:
    """The other order: the release holds the row / write lock, the save waits and fails."""
    store.pool().add(pool_numbers(0, 1), ogrn=factories.OGRN)
    with_number = store.take_number(draft(people), people.nurse.signer)
    number = with_number.ln_code
    assert number
    backdate(store.db, number, 3 * HOUR)
    other = connect(backend.url)
    outcome: list[object] = []

    def save() -> None:
        try:
            outcome.append(ElnStore(other).save(with_number, people.nurse.signer, context=CTX))
        except ElnError as exc:
            outcome.append(exc)
        finally:
            other.close()

    with store.db.atomic():
        store.release_stale_numbers([number], people.operator.signer)
        worker = threading.Thread(target=save)
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive(), "the save did not wait for the release"
    worker.join(30)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], NumberStateError)
    assert store.pool().get(number).state is NumberState.FREE
    assert not m.Eln.select().bind(store.db).exists()
    assert stale_audit(store.db) == [number]


def test_central_numbers_handed_to_a_server_are_never_stale_there(
    backend: Backend, tmp_path: object
) -> None:
    central_db = connect(f"sqlite:///{tmp_path}/central.sqlite3")
    try:
        upgrade(central_db)
        central = NumberPool(central_db)
        central.add(pool_numbers(100, 2))
        satellite = NumberPool(backend.db, central=central)
        taken = satellite.take("srv-a", NumberMode.ANY_CENTRAL)
        later = utcnow() + 3 * HOUR
        # on the central server the number is «Занят» for srv-a, whose database holds the ELN
        assert central.stale(now=later) == []
        with pytest.raises(NumberStateError) as err:
            central.release_stale([taken], now=later)
        assert err.value.message == (
            f"Номер ЭЛН {taken} выдан другому серверу («srv-a»): его ЭЛН хранится там, "
            "освободить номер здесь нельзя."
        )
        # on the satellite the local record is an ordinary reservation: stale when never saved
        assert [s.number for s in satellite.stale(now=later)] == [taken]
        assert satellite.release_stale([taken], now=later)[0].number == taken
        assert satellite.get(taken).state is NumberState.FREE
        assert central.get(taken).state is NumberState.RESERVED  # never handed out again there
    finally:
        central_db.close()


def test_v1_database_gets_reserved_server(backend: Backend) -> None:
    """A database made before v2 (no column, version 1) is upgraded in place."""
    db, table = backend.db, m.ElnNumber._meta.table_name
    db.execute_sql(f"ALTER TABLE {table} DROP COLUMN reserved_server")  # type: ignore[no-untyped-call]
    m.SchemaVersion.delete().where(m.SchemaVersion.version > 1).bind(db).execute()
    assert schema_version(db) == 1
    assert "reserved_server" not in {c.name for c in db.get_columns(table)}
    assert upgrade(db) >= 2
    assert "reserved_server" in {c.name for c in db.get_columns(table)}
    pool = NumberPool(db)
    pool.add(pool_numbers(0, 1))
    pool.take(None, NumberMode.ANY_CURRENT)
    backdate(db, pool_numbers(0, 1)[0], 3 * HOUR)
    assert [s.number for s in pool.stale(now=datetime.now().astimezone())] == pool_numbers(0, 1)


def test_central_orphan_is_released_by_the_server_it_was_handed_to(
    backend: Backend, people: People, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ANY_CENTRAL takes in two transactions: when the second (the local record) fails, only
    the server the number was handed to can tell, and frees it on the central server."""
    central_db = connect(f"sqlite:///{tmp_path}/central.sqlite3")
    try:
        upgrade(central_db)
        central = NumberPool(central_db)
        central.add(pool_numbers(100, 5))
        later = utcnow() + 3 * HOUR
        store = ElnStore(backend.db, central=central_db, clock=lambda: later)
        nurse = people.nurse.signer

        def take() -> Eln:
            return store.take_number(
                draft(people), nurse, mode=NumberMode.ANY_CENTRAL, server_tag="srv-a"
            )

        recorded = take().ln_code  # recorded here, never saved
        saved = store.save(take(), nurse, context=CTX).ln_code
        with monkeypatch.context() as patch:

            def lost(*_: object) -> None:
                raise ConnectionError("связь с базой данных прервана")

            patch.setattr(NumberPool, "_record_from_central", lost)
            with pytest.raises(ConnectionError):
                take()
        orphan = pool_numbers(102, 1)[0]
        assert central.get(orphan).state is NumberState.RESERVED
        other = central._take(None, exclusive=False, reserved_by=1, reserved_server="srv-b")

        stale = store.stale_numbers(server_tag="srv-a")
        assert [(s.number, s.central) for s in stale] == [(recorded, False), (orphan, True)]
        assert stale[1].reserved_by_login == "kuznetsova"  # resolved in this database
        assert [s.number for s in store.stale_numbers()] == [recorded]  # no name: local only
        assert [s.number for s in store.stale_numbers(server_tag="srv-a", limit=1)] == [recorded]
        assert [s.number for s in store.stale_numbers(server_tag="srv-a", after=recorded)] == [
            orphan
        ]

        with pytest.raises(NumberStateError) as err:  # srv-b's number: refused, nothing freed
            store.release_stale_numbers([orphan, other], people.operator.signer, server_tag="srv-a")
        assert err.value.message == (
            f"Номер ЭЛН {other} выдан другому серверу («srv-b»): его ЭЛН хранится там, "
            "освободить номер здесь нельзя."
        )
        assert central.get(orphan).state is NumberState.RESERVED

        released = store.release_stale_numbers(
            [recorded, orphan], people.operator.signer, server_tag="srv-a"
        )
        assert released == [recorded, orphan]
        assert central.get(orphan).state is NumberState.FREE  # handed out again by the centre
        assert store.pool().get(recorded).state is NumberState.FREE  # now this server's own
        assert central.get(recorded).state is NumberState.RESERVED
        assert saved and store.pool().get(saved).state is NumberState.USED
        trail = store.audit_trail(ln_code=orphan, action="number_released_stale")
        assert trail[0].details["central_server"] is True
        assert store.stale_numbers(server_tag="srv-a") == []
    finally:
        central_db.close()
