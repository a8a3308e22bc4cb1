"""Number pool on SQLite and PostgreSQL: modes, states, and 8 processes taking 4000 numbers."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from eln_tui.core.domain.codes import NumberMode, NumberState
from eln_tui.core.errors import (
    CentralServerNotConfigured,
    NoFreeNumbers,
    NumberStateError,
    ServerNameNotConfigured,
    ValidationError,
)
from eln_tui.core.storage import NO_FREE_NUMBERS, NumberPool, take_number
from eln_tui.core.storage.db import connect
from eln_tui.core.storage.migrations import upgrade
from tests.core import workers
from tests.core.conftest import Backend

OGRN = "1027739443236"


def numbers(start: int, count: int) -> list[str]:
    return [f"{900_000_000_000 + i:012d}" for i in range(start, start + count)]


def test_add_is_idempotent_and_validated(backend: Backend) -> None:
    pool = NumberPool(backend.db)
    assert pool.add(numbers(0, 5), ogrn=OGRN, request_id="LNNUMMO_1") == 5
    assert pool.add(numbers(3, 5), ogrn=OGRN) == 3
    assert pool.counts()[NumberState.FREE] == 8
    with pytest.raises(ValidationError, match="12 цифр"):
        pool.add(["12345"])
    assert pool.get(numbers(0, 1)[0]).ogrn == OGRN


def test_take_in_ascending_order_and_exhaustion(backend: Backend) -> None:
    pool = NumberPool(backend.db)
    pool.add(list(reversed(numbers(0, 3))))
    assert [pool.take(None, NumberMode.ANY_CURRENT) for _ in range(3)] == numbers(0, 3)
    with pytest.raises(NoFreeNumbers) as err:
        pool.take(None, NumberMode.ANY_CURRENT)
    assert err.value.message == (
        "Отсутствуют свободные номера для ЭЛН! обратитесь к системному администратору!"
    )
    assert err.value.message == NO_FREE_NUMBERS
    assert pool.get(numbers(0, 1)[0]).state is NumberState.RESERVED


def test_modes_and_server_tags(backend: Backend) -> None:
    pool = NumberPool(backend.db)
    pool.add(numbers(0, 2))  # untagged: shared
    pool.add(numbers(10, 2), server_tag="srv-a")
    pool.add(numbers(20, 2), server_tag="srv-b")
    # «Свободный только для текущего сервера»: only numbers tagged for this server
    assert pool.take("srv-b", NumberMode.ONLY_CURRENT) == numbers(20, 1)[0]
    # «Любой свободный с текущего сервера»: shared or ours, never another server's
    assert pool.take("srv-a", NumberMode.ANY_CURRENT) == numbers(0, 1)[0]
    assert pool.take("srv-a", NumberMode.ANY_CURRENT) == numbers(1, 1)[0]
    assert pool.take("srv-a", NumberMode.ANY_CURRENT) == numbers(10, 1)[0]
    assert pool.take("srv-a", NumberMode.ANY_CURRENT) == numbers(11, 1)[0]
    with pytest.raises(NoFreeNumbers):
        pool.take("srv-a", NumberMode.ANY_CURRENT)
    with pytest.raises(NoFreeNumbers):
        pool.take("srv-a", NumberMode.ONLY_CURRENT)
    with pytest.raises(ServerNameNotConfigured, match="имя текущего сервера"):
        pool.take(None, NumberMode.ONLY_CURRENT)
    with pytest.raises(CentralServerNotConfigured, match="центрального сервера"):
        pool.take("srv-a", NumberMode.ANY_CENTRAL)
    assert pool.take("srv-b", NumberMode.ONLY_CURRENT) == numbers(21, 1)[0]


def test_central_server_mode(backend: Backend, tmp_path: object) -> None:
    central_db = connect(f"sqlite:///{tmp_path}/central.sqlite3")
    upgrade(central_db)
    central = NumberPool(central_db)
    central.add(numbers(100, 2))
    local = NumberPool(backend.db, central=central)
    local.add(numbers(0, 1))
    taken = local.take("srv-a", NumberMode.ANY_CENTRAL)
    assert taken == numbers(100, 1)[0]
    assert central.get(taken).state is NumberState.RESERVED
    assert local.get(taken).state is NumberState.RESERVED  # recorded locally for the journal
    assert local.get(numbers(0, 1)[0]).state is NumberState.FREE
    assert (
        take_number("srv-a", NumberMode.ANY_CENTRAL, db=backend.db, central=central_db)
        == (numbers(101, 1)[0])
    )
    central_db.close()


def test_release_used_returned(backend: Backend) -> None:
    pool = NumberPool(backend.db)
    pool.add(numbers(0, 3))
    first = pool.take(None, NumberMode.ANY_CURRENT)
    pool.release(first)  # closed without saving
    assert pool.get(first).state is NumberState.FREE
    assert pool.take(None, NumberMode.ANY_CURRENT) == first
    with pytest.raises(NumberStateError):
        pool.mark_returned([first])  # reserved numbers are not given back
    second = pool.take(None, NumberMode.ANY_CURRENT)
    assert pool.mark_returned([numbers(2, 1)[0]]) == 1
    assert pool.get(numbers(2, 1)[0]).state is NumberState.RETURNED
    with pytest.raises(NoFreeNumbers):
        pool.take(None, NumberMode.ANY_CURRENT)
    assert {first, second} == set(numbers(0, 2))
    page = pool.page(limit=2)
    assert [p.number for p in page] == numbers(0, 2)
    assert [p.number for p in pool.page(after=page[-1].number)] == numbers(2, 1)


def test_used_number_never_returns(store_with_eln: tuple) -> None:  # type: ignore[type-arg]
    store, eln = store_with_eln
    pool = store.pool()
    assert pool.get(eln.ln_code).state is NumberState.USED
    assert pool.get(eln.ln_code).eln_id == eln.id
    with pytest.raises(NumberStateError, match="использован в сохранённом ЭЛН"):
        pool.release(eln.ln_code)


PROCESSES = 8
PER_PROCESS = 500


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_eight_processes_take_4000_numbers(backend: Backend) -> None:
    pool = NumberPool(backend.db)
    total = PROCESSES * PER_PROCESS
    pool.add(numbers(0, total), ogrn=OGRN)
    backend.db.close()  # no connection of ours stays open while the children work
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.5  # all children begin together, after their imports
    with ctx.Pool(PROCESSES) as workers_pool:
        results = workers_pool.starmap(
            workers.take_many,
            [(backend.url, PER_PROCESS, NumberMode.ANY_CURRENT.value, None, start_at)] * PROCESSES,
        )
    taken = [n for chunk in results for n in chunk]
    assert all(len(chunk) == PER_PROCESS for chunk in results)
    assert len(taken) == len(set(taken)) == total  # no number twice
    assert set(taken) == set(numbers(0, total))  # none lost
    counts = NumberPool(backend.db).counts()
    assert counts[NumberState.RESERVED] == total and counts[NumberState.FREE] == 0
    with pytest.raises(NoFreeNumbers):
        NumberPool(backend.db).take(None, NumberMode.ANY_CURRENT)


def test_central_server_from_the_settings(backend: Backend, tmp_path: object) -> None:
    """Mode «Любой свободный с центрального сервера» as the admin sets it: the store connects
    to the database named in the settings and takes the number there."""
    from eln_tui.core.domain.model import Eln, Patient
    from eln_tui.core.errors import CentralServerNotConfigured
    from eln_tui.core.storage import ElnStore, OrganisationData, SettingsData
    from eln_tui.core.storage.repository import SYSTEM

    url = f"sqlite:///{tmp_path}/central-settings.sqlite3"
    central_db = connect(url)
    upgrade(central_db)
    NumberPool(central_db).add(numbers(300, 2))
    store = ElnStore(backend.db)
    settings = SettingsData(
        enabled=True,
        server_url="http://127.0.0.1:9/ws",
        registry_phone="+7 495 000-00-00",
        registry_email="eln@example.test",
        number_mode=NumberMode.ANY_CENTRAL,
        central_server="cs1",
    )
    orgs = [OrganisationData("ГБУЗ", "г. Москва", "1027700132195", uses_integration=True)]
    store.save_settings(settings, orgs, SYSTEM)
    draft = Eln(patient=Patient(snils="11223344595"))
    with pytest.raises(CentralServerNotConfigured, match="адресом его базы данных"):
        store.take_number(draft, SYSTEM, mode=NumberMode.ANY_CENTRAL, server_tag="srv-a")
    settings.central_server = url
    store.save_settings(settings, orgs, SYSTEM)
    taken = store.take_number(draft, SYSTEM, mode=NumberMode.ANY_CENTRAL, server_tag="srv-a")
    assert taken.ln_code == numbers(300, 1)[0]
    assert NumberPool(central_db).get(numbers(300, 1)[0]).state is NumberState.RESERVED
    assert store.pool().get(numbers(300, 1)[0]).state is NumberState.RESERVED
    central_db.close()
