"""The exchange half of the core against the Fund emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from eln_tui.core.domain.codes import JournalState, JournalView, SignerSlot
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Block, Eln, Employer, LnResult, TreatPeriod
from eln_tui.core.exchange import ExchangeService
from eln_tui.core.fss import sign_block
from eln_tui.core.fss.errors import FssTimeout
from eln_tui.core.storage import ElnStore
from eln_tui.core.storage import models as m
from tests.core.conftest import Backend, People
from tests.fss import elns
from tests.fss.e2e import PASSWORD, SNILS, Parties, make_client
from tests.fss.e2e import send as e2e_send

TODAY = date.today()


def doctor_period(people: People, dt1: date, dt2: date, **kw: Any) -> TreatPeriod:
    """A period of the test doctor (``kw``: the chairman's fields for a VK period)."""
    return TreatPeriod(
        dt1=dt1,
        dt2=dt2,
        doctor=people.doctor.full_name,
        doctor_role="Врач-терапевт участковый",
        doctor_id=people.doctor.id,
        **kw,
    )


def end_of(p: TreatPeriod) -> date:
    assert p.dt2 is not None
    return p.dt2


class Crash(Exception):
    pass


def service(
    store: ElnStore, people: People, emu: Any, parties: Parties, **kw: Any
) -> ExchangeService:
    client, _ = make_client(emu, parties)
    return ExchangeService(store, client, people.operator.signer, **kw)


def new_eln(svc: ExchangeService, people: People, parties: Parties, start: date) -> Eln:
    store = svc.store
    draft = elns.new_eln(
        "000000000000",
        parties.ogrn,
        start=start,
        ln_date=start,
        employer=Employer(name="ООО «Ромашка»"),
    )
    draft.ln_code, draft.number_from_pool = None, False
    draft.doctor_id = people.doctor.id
    for p in draft.treat_periods:
        p.doctor_id = people.doctor.id
        p.doctor = people.doctor.full_name
    taken = store.take_number(draft, people.nurse.signer)
    return store.save(taken, people.nurse.signer)


def sign(svc: ExchangeService, people: People, parties: Parties, eln_id: int, block: Block) -> Eln:
    store = svc.store
    eln = store.load(eln_id)
    if block.slot is SignerSlot.VK:
        doc = next(f for f in _frags(svc, eln) if f[0] == f"{block.number}_doc")[1]
        frag = sign_block(eln, block, parties.chairman, "2.0", doctor_fragment=doc)
        actor = people.chairman.signer
    else:
        frag = sign_block(eln, block, parties.doctor, "2.0")
        actor = people.doctor.signer
    return store.sign(eln_id, block, actor, frag.element, security=frag.security)


def _frags(svc: ExchangeService, eln: Eln) -> list[Any]:
    return list(svc._fragments(eln).items())


def test_numbers_requested_used_returned(
    store: ElnStore, people: People, emu: Any, parties: Parties
) -> None:
    svc = service(store, people, emu, parties)
    got = svc.request_numbers(5)
    assert len(got) == 5 and set(got) <= set(svc.free_numbers())
    imported = svc.import_existing()  # earlier tests' numbers (shared emulator) are unknown
    assert not set(imported) & set(got)
    assert svc.import_existing() == []  # only unknown ones are added
    eln = new_eln(svc, people, parties, TODAY - timedelta(days=4))
    assert eln.ln_code in set(got) | set(imported)
    returned = svc.return_numbers(svc.free_numbers()[:2])
    assert len(returned) == 2
    assert not set(returned) & set(svc.free_numbers())
    log = svc.exchange_log()
    assert [r["operation"] for r in log][::-1][:1] == ["getNewLNNumRange"]
    assert all(r["ok"] for r in log)
    assert not any(
        PASSWORD.encode() in bytes(r.request or b"") for r in m.ExchangeLog.select().bind(store.db)
    )


def test_lifecycle_open_extend_vk_close(
    store: ElnStore, people: People, emu: Any, parties: Parties
) -> None:
    svc = service(store, people, emu, parties)
    svc.request_numbers(3)
    start = TODAY - timedelta(days=20)
    eln = new_eln(svc, people, parties, start)
    assert eln.id is not None
    # not signed yet: blocked with a reason
    day1 = end_of(eln.treat_periods[0])
    pv = svc.preview(day1)
    assert [b.eln_id for b in pv.blocked] == [eln.id] and "не подписан" in pv.blocked[0].reasons[0]
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 0))
    progress: list[Any] = []
    report = svc.send(day1, progress=progress.append)
    assert report.accepted == [eln.ln_code], report
    assert [p.status for p in progress] == ["sending", "sent"]
    eln = store.load(eln.id)
    assert eln.ln_state == "010" and journal_state(eln) is JournalState.SENT
    assert emu.eln(eln.ln_code).ln_hash == eln.ln_hash

    # extend: second period, sent on its end date
    p2 = doctor_period(people, day1 + timedelta(days=1), day1 + timedelta(days=5))
    eln.treat_periods.append(p2)
    eln = store.save(eln, people.doctor.signer)
    assert eln.id is not None
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 1))
    assert svc.send(end_of(p2)).accepted == [eln.ln_code]
    assert store.load(eln.id).ln_state == "020"

    # extend late (sent after its end date): blocked until the VK chairman signs
    p3 = doctor_period(
        people,
        end_of(p2) + timedelta(days=1),
        end_of(p2) + timedelta(days=3),
        chairman=people.chairman.full_name,
        chairman_role="ПРЕД ВК",
    )
    eln = store.load(eln.id)
    eln.treat_periods.append(p3)
    eln = store.save(eln, people.doctor.signer)
    assert eln.id is not None
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 2))
    late = end_of(p3) + timedelta(days=1)
    assert svc.preview(late).blocked and not svc.preview(late).ready
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.VK, 2))
    assert svc.send(late).accepted == [eln.ln_code]

    # close
    eln = store.load(eln.id)
    eln.ln_result = LnResult(return_date_lpu=end_of(p3) + timedelta(days=1))
    eln = store.save(eln, people.doctor.signer)
    assert eln.id is not None
    sign(svc, people, parties, eln.id, Block("result"))
    assert svc.send(late).accepted == [eln.ln_code]
    assert store.load(eln.id).ln_state == "030"
    assert emu.eln(eln.ln_code).state == "030"


@pytest.mark.parametrize("step", ["before_request", "during", "after_reply"])
def test_crash_at_each_step_then_resend(
    store: ElnStore, people: People, emu: Any, parties: Parties, step: str
) -> None:
    def fault(at: str) -> None:
        if at == step:
            raise Crash(at)

    svc = service(store, people, emu, parties, fault=fault)
    svc.request_numbers(1)
    eln = new_eln(svc, people, parties, TODAY - timedelta(days=4))
    assert eln.id is not None
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 0))
    day = end_of(eln.treat_periods[0])
    if step == "during":
        real = svc.client.pr_parse_filelnlpu

        def lost(items: Any) -> Any:
            real(items)  # the Fund applies it, the reply is lost
            raise FssTimeout("Ответ СФР не получен.")

        svc.client.pr_parse_filelnlpu = lost  # type: ignore[method-assign]
        report = svc.send(day)
        assert report.unknown == [eln.ln_code]
        svc.client.pr_parse_filelnlpu = real  # type: ignore[method-assign]
    else:
        with pytest.raises(Crash):
            svc.send(day)
    # consistent: nothing marked sent, the row is unresolved, the ELN is held back
    after = store.load(eln.id)
    assert not after.treat_periods[0].sent and after.ln_state != "010"
    assert svc.preview(day).blocked and not svc.preview(day).ready
    # the next send completes it
    svc2 = service(store, people, emu, parties)
    report = svc2.send(day)
    applied = step in ("during", "after_reply")
    if applied:
        assert report.reconciled_accepted == [eln.ln_code] and report.accepted == []
    else:
        assert report.reconciled_abandoned == [eln.ln_code]
        assert report.accepted == [eln.ln_code]
    done = store.load(eln.id)
    assert done.treat_periods[0].sent and done.ln_state == "010"
    assert done.ln_hash == emu.eln(eln.ln_code).ln_hash
    assert svc2.send(day).accepted == []  # nothing left, nothing twice


def test_foreign_eln_fetched_and_cancelled(
    store: ElnStore, people: People, emu: Any, parties: Parties
) -> None:
    svc = service(store, people, emu, parties)
    svc.request_numbers(1)
    eln = new_eln(svc, people, parties, TODAY - timedelta(days=4))
    assert eln.id is not None and eln.ln_code
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 0))
    svc.send(end_of(eln.treat_periods[0]))
    # getLNData refreshes the journal copy (state and hash from the Fund)
    fetched = svc.fetch(eln.ln_code, SNILS)
    assert fetched.ln_state == "010"
    cancelled = svc.disable(eln.ln_code, "010", "Отмена оформления")
    assert cancelled.termination is not None
    assert journal_state(store.load(eln.id)) is JournalState.TERMINATED
    assert emu.eln(eln.ln_code).state == "090"
    with pytest.raises(Exception, match="прекращ"):
        svc.disable(eln.ln_code, "010")


def test_sender_killed_with_sigkill_after_reply(
    backend: Backend,
    store: ElnStore,
    people: People,
    emu: Any,
    parties: Parties,
    key_root: Path,
    tmp_path: Path,
) -> None:
    svc = service(store, people, emu, parties)
    svc.request_numbers(1)
    eln = new_eln(svc, people, parties, TODAY - timedelta(days=4))
    assert eln.id is not None and eln.ln_code
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 0))
    day = end_of(eln.treat_periods[0])
    fund = tmp_path / "fss.pem"
    fund.write_bytes(emu.fund_cert.pem)
    marker = tmp_path / "marker"
    args = [backend.url, str(key_root / "keys"), str(fund), emu.url, day.isoformat(), str(marker)]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.exchange.killed_sender", *args],
        cwd=Path(__file__).parents[2],
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, "the sender ended before the reply"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    # the Fund applied it, the journal does not know yet: nothing marked sent
    assert emu.eln(eln.ln_code).state == "010"
    after = store.load(eln.id)
    assert not after.treat_periods[0].sent
    report = svc.send(day)
    assert report.reconciled_accepted == [eln.ln_code] and report.accepted == []
    done = store.load(eln.id)
    assert done.treat_periods[0].sent and done.ln_hash == emu.eln(eln.ln_code).ln_hash


def test_rejected_row_lands_in_transfer_errors(
    store: ElnStore, people: People, emu: Any, parties: Parties
) -> None:
    svc = service(store, people, emu, parties)
    svc.request_numbers(1)
    eln = new_eln(svc, people, parties, TODAY - timedelta(days=9))
    assert eln.id is not None and eln.ln_code
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 0))
    day1 = end_of(eln.treat_periods[0])
    assert svc.send(day1).accepted == [eln.ln_code]
    # a stale hash: the Fund refuses the next period
    m.Eln.update(ln_hash="0" * 32).where(m.Eln.id == eln.id).bind(store.db).execute()
    eln = store.load(eln.id)
    eln.treat_periods.append(
        doctor_period(people, day1 + timedelta(days=1), day1 + timedelta(days=3))
    )
    eln = store.save(eln, people.doctor.signer)
    assert eln.id is not None
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 1))
    report = svc.send(day1 + timedelta(days=3))
    assert eln.ln_code is not None
    assert list(report.rejected) == [eln.ln_code] and report.rejected[eln.ln_code]
    errors = store.journal(JournalView.ERRORS).rows
    assert [r.ln_code for r in errors] == [eln.ln_code]
    assert errors[0].transfer_error == report.rejected[eln.ln_code]
    assert not store.load(eln.id).treat_periods[1].sent


def test_foreign_eln_received_and_continued(
    store: ElnStore, people: People, emu: Any, parties: Parties
) -> None:
    # another МО opened and sent an ELN (straight through the client, not in our journal)
    client, _ = make_client(emu, parties)
    (number,) = client.get_new_ln_num_range(1).numbers
    start = TODAY - timedelta(days=8)
    foreign = elns.new_eln(number, parties.ogrn, start=start, ln_date=start)
    foreign, _ = e2e_send(client, foreign, parties, {})
    assert foreign.ln_state == "010"

    svc = service(store, people, emu, parties)
    svc.request_numbers(1)
    received = svc.fetch(number, SNILS)
    assert received.id is not None
    assert [r.ln_code for r in store.journal(JournalView.RECEIVED).rows] == [number]
    # v2.0 getLNData carries no employer; our ФЛК rule 6 wants one: the doctor fills it in
    received.employer = Employer(name="ООО «Ромашка»")
    received = store.save(received, people.doctor.signer)
    assert received.id is not None
    closed, new = store.continue_eln(
        received.id, people.doctor.signer, ln_date=end_of(received.treat_periods[0])
    )
    assert new.prev_ln_code == number
    new.doctor_id = people.doctor.id
    new.employer = Employer(name="ООО «Ромашка»")
    p1 = end_of(received.treat_periods[0]) + timedelta(days=1)
    new.treat_periods = [
        TreatPeriod(
            dt1=p1,
            dt2=p1 + timedelta(days=2),
            doctor=people.doctor.full_name,
            doctor_role="Врач-терапевт участковый",
            doctor_id=people.doctor.id,
        )
    ]
    new = store.save(new, people.doctor.signer)
    assert new.id is not None and closed.id is not None
    sign(svc, people, parties, closed.id, Block("result"))
    sign(svc, people, parties, new.id, Block("period", SignerSlot.DOC, 0))
    day = p1 + timedelta(days=2)
    report = svc.send(day)
    assert new.ln_code is not None
    assert sorted(report.accepted) == sorted([number, new.ln_code]), report
    assert emu.eln(number).state == "030"
    assert emu.eln(new.ln_code).state == "010"


def test_a_lost_numbers_reply_says_how_to_recover(
    store: ElnStore, people: People, emu: Any, parties: Parties
) -> None:
    """The Fund applied getNewLNNumRange but the reply failed: the message names the way back."""
    from eln_tui.core.fss.errors import FssError

    svc = service(store, people, emu, parties)
    emu.inject("http500", operation="getNewLNNumRange", times=1)
    try:
        with pytest.raises(FssError) as info:
            svc.request_numbers(2)
    finally:
        emu.clear_faults()
    assert "«Загрузить выданные ранее»" in info.value.message
    assert str(info.value) == info.value.message
