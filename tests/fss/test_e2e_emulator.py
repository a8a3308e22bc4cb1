"""End to end: the client against the Fund emulator (``fss_emulator``, started as a black box),
encrypted, for every operation, with the МО key in software (256 and 512 bit) and on a SoftHSM
token (256 bit; SoftHSM has neither 512-bit keys nor VKO, see tests/fss/softhsm.py)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from eln_tui.core.domain.model import HospitalBreach, LnResult, TreatPeriod
from eln_tui.core.fss import FssConfigError, Outcome
from tests.fss import elns
from tests.fss.e2e import BACKENDS, SNILS, Parties, fresh_numbers, make_client, send

emulator = pytest.importorskip("fss_emulator", reason="the FSS emulator package is not present")
Emulator = emulator.Emulator


@pytest.fixture(scope="module", params=list(BACKENDS))
def parties(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    gen = BACKENDS[request.param](tmp_path_factory.mktemp(request.param))
    yield next(gen)
    gen.close()


@pytest.fixture(scope="module")
def emu(parties: Parties, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Emulator(tmp_path_factory.mktemp("fss"), trust=[parties.ca]) as e:
        yield e


# ----------------------------------------------------------------------------------------------
# Every operation
# ----------------------------------------------------------------------------------------------


def test_every_operation_encrypted(emu: Any, parties: Parties) -> None:
    client, records = make_client(emu, parties)
    ogrn = parties.ogrn
    # the number pool
    n1, n2, n3 = fresh_numbers(client, 3)
    single = client.get_new_ln_num().number
    assert single is not None
    existing = set(client.get_existing_ln_num_range().numbers)
    assert {n1, n2, n3, single} <= existing

    # ELN 1: open (000 → 010), extend (→ 020), close (→ 030)
    start = date.today() - timedelta(days=9)
    eln = elns.new_eln(n1, ogrn, start=start, ln_date=start)
    eln.lpu.ogrn = ogrn
    fragments: dict[str, Any] = {}
    eln, _ = send(client, eln, parties, fragments)
    assert eln.ln_state == "010" and eln.ln_hash
    assert emu.eln(n1).state == "010" and emu.eln(n1).ln_hash == eln.ln_hash

    data = client.get_ln_data(n1, SNILS).data
    assert data is not None and (data.ln_state, data.ln_hash) == ("010", eln.ln_hash)
    assert data.eln.treat_periods[0].dt1 == start and data.eln.treat_periods[0].sent

    first = eln.treat_periods[0]
    assert first.dt2 is not None
    eln.treat_periods.append(
        TreatPeriod(
            dt1=first.dt2 + timedelta(days=1),
            dt2=first.dt2 + timedelta(days=3),
            doctor=first.doctor,
            doctor_role=first.doctor_role,
        )
    )
    eln, _ = send(client, eln, parties, fragments)
    assert eln.ln_state == "020"
    eln.ln_result = LnResult(return_date_lpu=first.dt2 + timedelta(days=4))
    eln, _ = send(client, eln, parties, fragments)
    assert eln.ln_state == "030" and emu.eln(n1).state == "030"

    # ELN 2: issued a day after the period began (VK chairman), with a regime breach
    eln2 = elns.new_eln(n2, ogrn, start=start, ln_date=start + timedelta(days=1))
    eln2.treat_periods[0].chairman = "Петров Сергей Николаевич"
    eln2.treat_periods[0].chairman_role = "ПРЕД ВК"
    eln2.hospital_breach = HospitalBreach(code="24", dt=start + timedelta(days=2))
    eln2, _ = send(client, eln2, parties, {})
    assert eln2.ln_state == "010"

    # the lists
    by_date = client.get_ln_list_by_date(start)
    assert n1 in {e.ln_code for e in by_date.entries}
    by_snils = client.get_ln_list_by_snils(SNILS)
    assert n2 in {e.ln_code for e in by_snils.entries}

    # terminate ELN 2 (→ 090), return an unused number
    done = client.disable_ln(n2, SNILS, "010", "Отмена оформления")
    assert done.ok and emu.eln(n2).state == "090"
    returned = client.pr_parse_file_numberslpu([n3])
    assert returned.ok
    assert n3 not in client.get_existing_ln_num_range().numbers

    assert all(r.outcome is Outcome.OK for r in records)
    assert {r.operation.value for r in records} >= {
        "getNewLNNum",
        "getNewLNNumRange",
        "getExistingLNNumRange",
        "prParseFilelnlpu",
        "prParseFileNumberslpu",
        "getLNData",
        "getLNListBySnils",
        "getLNListByDate",
        "disableLn",
    }


@pytest.mark.parametrize("parties", ["pkcs11-256"], indirect=True)
def test_token_without_vko_refuses_encrypted_and_works_plain(emu: Any, parties: Parties) -> None:
    """A key that lives only on SoftHSM signs but cannot do VKO: an encrypted request is not
    sent at all (its reply could not be read); the plain endpoint works, signed on the token."""
    assert parties.token is not None
    with parties.token.open(parties.token.on_token) as session:
        pure = dataclasses.replace(parties, mo=session)
        client, records = make_client(emu, pure)
        with pytest.raises(FssConfigError, match="VKO"):
            client.get_new_ln_num_range(2)
        assert records == []  # nothing was sent, so nothing was allotted
        # signed on the token, not encrypted: the plain endpoint
        plain, precords = make_client(
            emu, pure, encryption=False, url=emu.endpoint_url("2.0", encrypted=False)
        )
        numbers = plain.get_new_ln_num_range(2).numbers
        assert len(numbers) == 2
        assert set(numbers) <= set(plain.get_existing_ln_num_range().numbers)
        assert all(r.ok and b"EncryptedData" not in (r.request or b"") for r in precords)
