"""End to end against the emulator with one key backend (software, 256 bit): the v1.1
dialect, the Fund's row errors, the printed reply names, and every fault the emulator injects:
each ends in one clear error for the caller, no result, and no partial state."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from eln_tui.core.domain.model import TreatPeriod
from eln_tui.core.fss import (
    FssConfigError,
    FssError,
    FssFault,
    FssTimeout,
    FssTransportError,
    MoKey,
    Outcome,
    ReplayError,
    ReplyDecryptError,
    ReplySignatureError,
    RowInput,
)
from tests.fss import elns
from tests.fss.e2e import (
    SNILS,
    Parties,
    fresh_numbers,
    make_client,
    send,
    sign_due,
    software_parties,
)

emulator = pytest.importorskip("fss_emulator", reason="the FSS emulator package is not present")
Emulator = emulator.Emulator


@pytest.fixture(scope="module")
def parties(tmp_path_factory: pytest.TempPathFactory) -> Generator[Parties, None, None]:
    gen = software_parties(tmp_path_factory.mktemp("keys"), "cryptopro-a")
    yield next(gen)
    gen.close()


@pytest.fixture(scope="module")
def emu(parties: Parties, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with Emulator(tmp_path_factory.mktemp("fss"), trust=[parties.ca]) as e:
        yield e


def test_v11_dialect(emu: Any, parties: Parties) -> None:
    client, records = make_client(emu, parties, version="1.1")
    (n1,) = fresh_numbers(client, 1)
    start = date.today() - timedelta(days=5)
    eln = elns.new_eln(n1, parties.ogrn, start=start, ln_date=start)
    eln.lpu.ogrn = parties.ogrn
    eln.employer.name = "ООО «Ромашка»"
    eln, _ = send(client, eln, parties, {})
    assert eln.ln_state == "010"
    data = client.get_ln_data(n1, SNILS).data
    assert data is not None and data.ln_hash == eln.ln_hash
    assert n1 in {e.ln_code for e in client.get_ln_list_by_date(start).entries}
    assert n1 in {e.ln_code for e in client.get_ln_list_by_snils(SNILS).entries}
    assert client.disable_ln(n1, SNILS, "030", "Выдан ЛН-дубликат").ok
    assert all(r.ok for r in records)


def test_a_stale_hash_is_the_funds_row_error(emu: Any, parties: Parties) -> None:
    client, _ = make_client(emu, parties)
    (n1,) = fresh_numbers(client, 1)
    start = date.today() - timedelta(days=5)
    eln = elns.new_eln(n1, parties.ogrn, start=start, ln_date=start)
    eln.lpu.ogrn = parties.ogrn
    fragments: dict[str, Any] = {}
    eln, _ = send(client, eln, parties, fragments)
    stale = dataclasses.replace(eln, ln_hash="0" * 32)
    first = stale.treat_periods[0]
    assert first.dt2 is not None
    stale.treat_periods = [
        first,
        TreatPeriod(
            dt1=first.dt2 + timedelta(days=1),
            dt2=first.dt2 + timedelta(days=2),
            doctor=first.doctor,
            doctor_role=first.doctor_role,
        ),
    ]
    sign_due(stale, parties, "2.0", fragments)
    result = client.pr_parse_filelnlpu([RowInput(stale, fragments)])
    (row,) = result.rows
    assert not row.ok and row.errors and "хэш" in row.error_text.lower()
    assert emu.eln(n1).ln_hash == eln.ln_hash  # nothing changed at the Fund


# ----------------------------------------------------------------------------------------------
# Faults: one clear error, no result, no partial state (at the Fund and in the caller)
# ----------------------------------------------------------------------------------------------

FAULTS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("http500", {}, FssTransportError, "HTTP 500"),
    ("soap_fault", {"message": "Внутренняя ошибка сервиса"}, FssFault, "Внутренняя ошибка"),
    ("unsigned", {}, ReplySignatureError, "не подписан"),
    ("stranger", {}, ReplySignatureError, "не сертификатом уполномоченного лица"),
    ("corrupt", {}, ReplyDecryptError, "расшифровать"),
    ("replay", {}, ReplayError, "повторяет ранее полученный"),
]


@pytest.fixture
def faults(emu: Any) -> Iterator[Any]:
    emu.clear_faults()
    yield emu
    emu.clear_faults()


@pytest.mark.parametrize(("kind", "options", "error", "text"), FAULTS)
def test_faults_on_a_state_changing_operation(
    faults: Any, parties: Parties, kind: str, options: dict[str, Any], error: type, text: str
) -> None:
    client, records = make_client(faults, parties)
    fresh_numbers(client, 1)  # an earlier reply exists (what "replay" repeats)
    before = set(client.get_existing_ln_num_range().numbers)
    faults.inject(kind, operation="getNewLNNumRange", **options)
    with pytest.raises(error, match=text) as info:
        client.get_new_ln_num_range(2)
    assert isinstance(info.value, FssError) and info.value.message  # Russian, for the user
    assert records[-1].outcome in (Outcome.ERROR, Outcome.FAULT)
    # no partial state: the Fund kept nothing, and the next call works as usual
    assert set(client.get_existing_ln_num_range().numbers) == before
    assert len(client.get_new_ln_num_range(2).numbers) == 2


@pytest.mark.parametrize(("kind", "options", "error", "text"), FAULTS)
def test_faults_on_the_registry(
    faults: Any, parties: Parties, kind: str, options: dict[str, Any], error: type, text: str
) -> None:
    client, _ = make_client(faults, parties)
    n1, n2 = fresh_numbers(client, 2)
    start = date.today() - timedelta(days=5)
    earlier = elns.new_eln(n1, parties.ogrn, start=start, ln_date=start)
    earlier.lpu.ogrn = parties.ogrn
    send(client, earlier, parties, {})  # an earlier registry reply exists
    eln = elns.new_eln(n2, parties.ogrn, start=start, ln_date=start)
    eln.lpu.ogrn = parties.ogrn
    fragments: dict[str, Any] = {}
    sign_due(eln, parties, "2.0", fragments)
    faults.inject(kind, operation="prParseFilelnlpu", **options)
    with pytest.raises(error, match=text):
        client.pr_parse_filelnlpu([RowInput(eln, fragments)])
    assert faults.eln(n2) is None  # the Fund did not take the ELN
    # the caller still has the ELN as it was (000, no hash) and simply sends it again
    assert eln.ln_state == "000" and eln.ln_hash is None
    eln, _ = send(client, eln, parties, fragments)
    assert eln.ln_state == "010"


def test_read_only_operations_are_retried_through_a_transient_500(
    faults: Any, parties: Parties
) -> None:
    client, records = make_client(faults, parties, retry_backoff=0.0)
    faults.inject("http500", operation="getExistingLNNumRange", times=1)
    client.get_existing_ln_num_range()
    assert [(r.attempt, r.outcome) for r in records] == [(1, Outcome.ERROR), (2, Outcome.OK)]
    faults.inject("http500", operation="getNewLNNum", times=1)
    with pytest.raises(FssTransportError):
        client.get_new_ln_num()  # never repeated automatically
    assert records[-1].attempt == 1


def test_persistent_500_exhausts_the_retries(faults: Any, parties: Parties) -> None:
    client, records = make_client(faults, parties, retries=2, retry_backoff=0.0)
    faults.inject("http500", operation="getLNListBySnils", times=None)
    with pytest.raises(FssTransportError, match="HTTP 500"):
        client.get_ln_list_by_snils(SNILS)
    assert [r.attempt for r in records] == [1, 2, 3]


def test_a_delay_beyond_the_timeout(faults: Any, parties: Parties) -> None:
    client, records = make_client(faults, parties, read_timeout=1.0, retries=0)
    before = set(client.get_existing_ln_num_range().numbers)
    faults.inject("delay", operation="getNewLNNumRange", seconds=2.5)
    with pytest.raises(FssTimeout):
        client.get_new_ln_num_range(2)
    assert records[-1].response is None
    # the Fund was only slow and did allot the numbers: they are recovered, not re-requested
    faults.clear_faults()
    recovered: set[str] = set()
    for _ in range(20):  # the slow answer may still be on its way at the emulator
        recovered = set(client.get_existing_ln_num_range().numbers) - before
        if recovered:
            break
        time.sleep(0.25)
    assert len(recovered) == 2


def test_printed_reply_names_are_read(parties: Parties, tmp_path: Path) -> None:
    """The spec's examples print info/rowset/row and data/outRowset/row (not the XSD's)."""
    with Emulator(tmp_path / "printed", trust=[parties.ca], reply_names="printed") as printed:
        client, _ = make_client(printed, parties)
        (n1,) = fresh_numbers(client, 1)
        start = date.today() - timedelta(days=3)
        eln = elns.new_eln(n1, parties.ogrn, start=start, ln_date=start)
        eln.lpu.ogrn = parties.ogrn
        eln, result = send(client, eln, parties, {})
        assert eln.ln_state == "010" and result.rows[0].ln_hash == eln.ln_hash
        data = client.get_ln_data(n1, SNILS).data
        assert data is not None and data.ln_hash == eln.ln_hash


def test_an_employee_certificate_signs_for_the_mo_with_an_mchd(emu: Any, parties: Parties) -> None:
    """A personal certificate (no ОГРН) may sign the МО's requests with a power of attorney."""
    assert isinstance(parties.doctor, MoKey)  # a software KeySession: it can also do VKO
    employee = dataclasses.replace(parties, mo=parties.doctor)
    client, records = make_client(emu, employee)
    with pytest.raises(FssConfigError, match="МЧД"):
        client.get_new_ln_num_range(1)
    assert records == []
    client, records = make_client(emu, employee, mchd_uuid="6f1b1c3e-7d1c-4a3e-9d0e-2b7c5a1e4f10")
    assert len(client.get_new_ln_num_range(1).numbers) == 1
    assert records[-1].request is not None and b"powerOfAttorneyLink" in records[-1].request
