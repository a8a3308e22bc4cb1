"""The sender SIGKILLed during a registry send at random points, many times over, on SQLite
and PostgreSQL (tests/exchange/test_exchange.py kills it once, after the reply).

After every kill, checked against the Fund's own state: no ELN is marked sent for a period the
Fund does not hold, the journal's state and hash are the Fund's wherever it says "sent", the
Fund applied every period exactly once (its history), no number serves two ELNs and no used
number is free again; a run later completes the registry with nothing refused. Half of the
kills are completed by the next child (which may itself be killed while reconciling), the
rest by the test process.

``ELN_FAULT_KILLS`` sets the number of kills per backend (20); ``ELN_FAULT_SEED`` repeats a run.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import secrets
import signal
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from eln_tui.core.domain.codes import JournalState, NumberState, SignerSlot
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Block, Eln, TreatPeriod
from eln_tui.core.exchange import ExchangeService
from eln_tui.core.fss import RowInput
from eln_tui.core.storage import ElnStore
from eln_tui.core.storage import models as m
from tests.core.conftest import Backend, People
from tests.exchange.test_exchange import doctor_period, new_eln, sign
from tests.faults import kill_sender
from tests.fss.e2e import Parties, make_client

KILLS = int(os.environ.get("ELN_FAULT_KILLS", "20"))
SEED = int(os.environ.get("ELN_FAULT_SEED") or secrets.randbits(32))
START = date.today() - timedelta(days=20)  # period 1: START..START+4, period 2: +5..+7
DAY = START + timedelta(days=7)  # the registry date: both periods sent late, so VK signs


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.faults.kill_sender"])
    return ctx


def _signed(svc: ExchangeService, people: People, parties: Parties, eln: Eln, i: int) -> None:
    assert eln.id is not None
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, i))
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.VK, i))


def _chaired(p: TreatPeriod, people: People) -> TreatPeriod:
    p.chairman, p.chairman_role = people.chairman.full_name, "ПРЕД ВК"
    return p


def add_work(svc: ExchangeService, people: People, parties: Parties) -> None:
    """Two new ELNs, and a second period for the oldest ELN whose first one the Fund has."""
    store = svc.store
    for _ in range(2):
        eln = new_eln(svc, people, parties, START)
        _chaired(eln.treat_periods[0], people)
        eln = store.save(eln, people.doctor.signer)
        _signed(svc, people, parties, eln, 0)
    for row in m.Eln.select(m.Eln.id).order_by(m.Eln.id).bind(store.db):
        eln = store.load(row.id)
        if len(eln.treat_periods) == 1 and eln.treat_periods[0].sent:
            second = doctor_period(people, START + timedelta(days=5), DAY)
            eln.treat_periods.append(_chaired(second, people))
            eln = store.save(eln, people.doctor.signer)
            _signed(svc, people, parties, eln, 1)
            return


def check_invariants(store: ElnStore, emu: Any, *, complete: bool, where: str) -> int:
    """The journal against the Fund; returns how many periods the Fund holds."""
    held = 0
    ours = set()
    for row in m.Eln.select(m.Eln.id).bind(store.db):
        eln = store.load(row.id)
        assert eln.ln_code is not None
        ours.add(eln.ln_code)
        fund = emu.eln(eln.ln_code)
        fund_periods = len(fund.eln.periods) if fund is not None else 0
        sent = sum(1 for p in eln.treat_periods if p.sent)
        held += fund_periods
        what = f"{where}: ELN {eln.ln_code}"
        assert sent <= fund_periods, f"{what} marked sent without the Fund holding it"
        if sent and sent == fund_periods:
            assert (eln.ln_state, eln.ln_hash) == (fund.state, fund.ln_hash), what
        history = emu.store.history(eln.ln_code)
        assert len(history) == fund_periods, f"{what} applied twice at the Fund: {history}"
        assert journal_state(eln) is not JournalState.ERROR, f"{what}: {eln.transfer_error}"
        if complete:
            assert sent == fund_periods == len(eln.treat_periods), f"{what} not completed"
    pool = {r.number: r.state for r in m.ElnNumber.select().bind(store.db)}
    for code in ours:  # every ELN's number is used, none is free or returned again
        assert pool[code] == NumberState.USED.value, f"{where}: number {code} is {pool[code]}"
    return held


@pytest.mark.slow
def test_sender_killed_at_random_points(
    backend: Backend,
    store: ElnStore,
    people: People,
    emu: Any,
    parties: Parties,
    key_root: Path,
    tmp_path: Path,
) -> None:
    rng = random.Random(f"{SEED}-{backend.name}")
    client, _ = make_client(emu, parties)
    svc = ExchangeService(store, client, people.operator.signer)
    svc.request_numbers(2 * KILLS + 2)
    fund_pem = tmp_path / "fund.pem"
    fund_pem.write_bytes(emu.fund_cert.pem)
    ctx = _context()
    points = [kill_sender.POINTS[i % len(kill_sender.POINTS)] for i in range(KILLS)]
    rng.shuffle(points)
    killed = completed_by_child = 0
    for i, point in enumerate(points):
        where = f"kill {i + 1}/{KILLS} at {point} (ELN_FAULT_SEED={SEED}, {backend.name})"
        add_work(svc, people, parties)
        child = ctx.Process(
            target=kill_sender.run,
            args=(
                backend.url,
                str(key_root / "keys"),
                str(fund_pem),
                emu.url,
                DAY.isoformat(),
                point,
                rng.randrange(2**32),
            ),
        )
        child.start()
        child.join(60)
        assert child.exitcode in (0, -signal.SIGKILL), f"{where}: exit code {child.exitcode}"
        if child.exitcode == -signal.SIGKILL:
            killed += 1
        else:
            completed_by_child += 1
        check_invariants(store, emu, complete=child.exitcode == 0, where=where)
        if i % 2:  # the next run is ours: it completes what the child left
            report = svc.send(DAY)
            assert report.rejected == {} and not report.blocked, f"{where}: {report}"
            check_invariants(store, emu, complete=True, where=where + ", completed")
    report = svc.send(DAY)
    assert report.rejected == {} and report.unknown == [], report
    held = check_invariants(store, emu, complete=True, where="at the end")
    periods = m.TreatPeriod.select().bind(store.db).count()
    assert held == periods >= 2 * KILLS
    # most children die (some points are not reached when a send has nothing left to do)
    assert killed >= KILLS // 2, (killed, completed_by_child)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_attempt_that_lands_after_reconciliation(
    store: ElnStore, people: People, faults: Any, parties: Parties
) -> None:
    """The race the kill loop found: the sender dies (or times out) while the Fund is still
    applying its message; the next run asks getLNData before the Fund has finished, abandons
    the row and sends the ELN again, which the Fund refuses («уже существует»). The refusal of
    a re-send is checked with getLNData once more, and the ELN is accepted, not an error."""
    client, _ = make_client(faults, parties, retries=0)
    svc = ExchangeService(store, client, people.operator.signer)
    svc.request_numbers(1)
    eln = new_eln(svc, people, parties, START)
    assert eln.id is not None and eln.ln_code is not None
    sign(svc, people, parties, eln.id, Block("period", SignerSlot.DOC, 0))
    day = START + timedelta(days=4)
    faults.inject("http500", operation="prParseFilelnlpu")  # the Fund has nothing yet
    assert svc.send(day).unknown == [eln.ln_code]
    side, _ = make_client(faults, parties)

    def late_arrival(step: str) -> None:
        if step == "before_request":  # after reconciliation abandoned the row
            stored = store.load(eln.id)
            row = RowInput(stored, svc._fragments(stored), ["treat_periods[0]"])
            assert side.pr_parse_filelnlpu([row]).rows[0].ok  # the first attempt lands now

    later = ExchangeService(store, client, people.operator.signer, fault=late_arrival)
    report = later.send(day)
    assert report.reconciled_abandoned == [eln.ln_code]
    assert report.rejected == {} and report.reconciled_accepted == [eln.ln_code], report
    done = store.load(eln.id)
    assert done.treat_periods[0].sent and journal_state(done) is JournalState.SENT
    assert (done.ln_state, done.ln_hash) == (
        faults.eln(eln.ln_code).state,
        faults.eln(eln.ln_code).ln_hash,
    )
    assert len(faults.store.history(eln.ln_code)) == 1
