"""Every fault the emulator injects, during every operation the exchange service performs.

For each pair: the user gets one clear Russian message (the exception's ``message``, or for the
registry the outbox message's error), the journal, the number pool and the ELN rows are exactly
as before (a snapshot of the tables), nothing is marked sent without a verified reply (checked
against the Fund's own state), and once the fault is cleared the same action succeeds.

SQLite only here (the storage is the same code on both backends); the crash tests run both.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from eln_tui.core.domain.codes import JournalState, SignerSlot
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Block, Eln
from eln_tui.core.errors import ElnError
from eln_tui.core.exchange import ExchangeService
from eln_tui.core.fss.errors import (
    FssFault,
    FssTimeout,
    FssTransportError,
    ReplayError,
    ReplyDecryptError,
    ReplySignatureError,
)
from eln_tui.core.storage import ElnStore
from eln_tui.core.storage import models as m
from tests.core.conftest import People
from tests.exchange.test_exchange import doctor_period, end_of, new_eln, sign
from tests.faults.helpers import assert_russian, diff, snapshot
from tests.fss.e2e import SNILS, Parties, make_client

TODAY = date.today()
DELAY = 2.0  # seconds the Fund sleeps before answering…
TIMEOUT = 1.0  # …and how long the client waits

# kind -> (options, exception the operation raises, words its message must contain)
FAULTS: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "delay": ({"seconds": DELAY}, FssTimeout, "не ответил"),
    "http500": ({}, FssTransportError, "HTTP 500"),
    "soap_fault": ({"message": "Внутренняя ошибка сервиса"}, FssFault, "Внутренняя ошибка"),
    "unsigned": ({}, ReplySignatureError, "не подписан"),
    "stranger": ({}, ReplySignatureError, "не сертификатом уполномоченного лица"),
    "corrupt": ({}, ReplyDecryptError, "расшифровать"),
    "replay": ({}, ReplayError, "повторяет ранее полученный"),
}

OPERATIONS = {
    "request_numbers": "getNewLNNumRange",
    "import_existing": "getExistingLNNumRange",
    "return_numbers": "prParseFileNumberslpu",
    "send": "prParseFilelnlpu",
    "fetch": "getLNData",
    "disable": "disableLn",
}


@dataclass
class World:
    store: ElnStore
    people: People
    emu: Any
    parties: Parties
    svc: ExchangeService
    kind: str
    commit: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def fund_kept_it(self) -> bool:
        """Whether the Fund kept the effect although the reply never arrived usable."""
        return self.commit or self.kind == "delay"

    def eln(self, day: date | None = None) -> Eln:
        e = new_eln(self.svc, self.people, self.parties, day or TODAY - timedelta(days=4))
        assert e.id is not None
        return sign(self.svc, self.people, self.parties, e.id, Block("period", SignerSlot.DOC, 0))


def _foreign_number() -> str:
    return "8" + "".join(secrets.choice("0123456789") for _ in range(11))


# --- per operation: set up (including an earlier reply of the same operation, which is what
# "replay" sends again), act, check the Fund kept nothing wrong, retry ---------------------------


def setup_request_numbers(w: World) -> None:
    w.svc.request_numbers(1)
    w.data["fund_before"] = set(w.svc.client.get_existing_ln_num_range().numbers)


def act_request_numbers(w: World) -> Any:
    return w.svc.request_numbers(2)


def retry_request_numbers(w: World) -> None:
    got = w.svc.request_numbers(2)
    assert len(got) == 2 and set(got) <= set(w.svc.free_numbers())
    if w.fund_kept_it:
        # the numbers the Fund allotted during the timeout are recovered, not asked for again
        lost = w.svc.import_existing()
        assert len(set(lost) - w.data["fund_before"]) == 2


def setup_import_existing(w: World) -> None:
    w.svc.import_existing()
    side, _ = make_client(w.emu, w.parties)  # another workstation of the МО takes a number
    (w.data["side"],) = side.get_new_ln_num_range(1).numbers


def act_import_existing(w: World) -> Any:
    return w.svc.import_existing()


def retry_import_existing(w: World) -> None:
    assert w.data["side"] in w.svc.import_existing()
    assert w.data["side"] in w.svc.free_numbers()


def setup_return_numbers(w: World) -> None:
    first, second = w.svc.request_numbers(2)
    w.svc.return_numbers([first])
    w.data["number"] = second


def act_return_numbers(w: World) -> Any:
    return w.svc.return_numbers([w.data["number"]])


def retry_return_numbers(w: World) -> None:
    assert w.svc.return_numbers([w.data["number"]]) == [w.data["number"]]
    assert w.data["number"] not in w.svc.free_numbers()


def check_return_numbers(w: World) -> None:
    state = w.emu.store.number(w.data["number"])["state"]
    assert state == ("returned" if w.fund_kept_it else "issued")


def setup_send(w: World) -> None:
    w.svc.request_numbers(2)
    earlier = w.eln()
    w.data["day"] = day = end_of(earlier.treat_periods[0])
    assert w.svc.send(day).accepted == [earlier.ln_code]
    w.data["eln"] = w.eln()


def act_send(w: World) -> Any:
    return w.svc.send(w.data["day"])


def check_send(w: World, report: Any) -> None:
    eln: Eln = w.data["eln"]
    assert eln.id is not None and eln.ln_code is not None
    assert report.accepted == [] and report.reconciled_accepted == []
    (message,) = (
        m.OutgoingMessage.select()
        .where(m.OutgoingMessage.id == report.messages[-1])
        .bind(w.store.db)
    )
    assert_russian(message.error, contains=FAULTS[w.kind][2])
    if w.kind == "soap_fault":  # the Fund's verified refusal: «Ошибки передачи»
        assert report.rejected == {eln.ln_code: message.error}
    else:  # no usable reply: the Fund may have it, the ELN waits for reconciliation
        assert report.unknown == [eln.ln_code] and message.status == "unknown"
        assert w.svc.preview(w.data["day"]).blocked
    fund = w.emu.eln(eln.ln_code)
    assert (fund is not None and fund.state == "010") if w.fund_kept_it else fund is None
    assert not w.store.load(eln.id).treat_periods[0].sent


def retry_send(w: World) -> None:
    eln: Eln = w.data["eln"]
    assert eln.id is not None
    report = w.svc.send(w.data["day"])
    assert eln.ln_code in report.accepted + report.reconciled_accepted, report
    done = w.store.load(eln.id)
    assert done.treat_periods[0].sent and done.ln_state == "010"
    assert done.ln_hash == w.emu.eln(eln.ln_code).ln_hash
    assert journal_state(done) is JournalState.SENT


def setup_fetch(w: World) -> None:
    first, w.data["ln"] = _foreign_number(), _foreign_number()
    for ln in (first, w.data["ln"]):
        w.emu.seed_eln(ln, SNILS, "1027700000019")
    w.svc.fetch(first, SNILS)


def act_fetch(w: World) -> Any:
    return w.svc.fetch(w.data["ln"], SNILS)


def retry_fetch(w: World) -> None:
    got = w.svc.fetch(w.data["ln"], SNILS)
    assert got.ln_code == w.data["ln"] and got.ln_hash == w.emu.eln(w.data["ln"]).ln_hash


def setup_disable(w: World) -> None:
    w.svc.request_numbers(2)
    a, b = w.eln(), w.eln()
    assert sorted(w.svc.send(end_of(a.treat_periods[0])).accepted) == sorted([a.ln_code, b.ln_code])
    assert a.ln_code is not None
    w.svc.disable(a.ln_code, "010", "Ошибка оформления")
    w.data["eln"] = b


def act_disable(w: World) -> Any:
    return w.svc.disable(w.data["eln"].ln_code, "010", "Ошибка оформления")


def check_disable(w: World) -> None:
    state = w.emu.eln(w.data["eln"].ln_code).state
    assert state == ("090" if w.fund_kept_it else "010")


def retry_disable(w: World) -> None:
    done = w.svc.disable(w.data["eln"].ln_code, "010", "Ошибка оформления")
    assert done.termination is not None and journal_state(done) is JournalState.TERMINATED
    assert w.emu.eln(w.data["eln"].ln_code).state == "090"


@dataclass(frozen=True)
class Op:
    setup: Callable[[World], None]
    act: Callable[[World], Any]
    retry: Callable[[World], None]
    check: Callable[[World], None] = lambda w: None


OPS: dict[str, Op] = {
    "request_numbers": Op(setup_request_numbers, act_request_numbers, retry_request_numbers),
    "import_existing": Op(setup_import_existing, act_import_existing, retry_import_existing),
    "return_numbers": Op(
        setup_return_numbers, act_return_numbers, retry_return_numbers, check_return_numbers
    ),
    "send": Op(setup_send, act_send, retry_send),
    "fetch": Op(setup_fetch, act_fetch, retry_fetch),
    "disable": Op(setup_disable, act_disable, retry_disable, check_disable),
}

# What a refused registry may change in the journal: the ELN's transfer bookkeeping.
SEND_REFUSAL_COLUMNS = {"journal_state", "transfer_error", "version", "updated_at", "updated_by"}


def run_fault(
    store: ElnStore,
    people: People,
    emu: Any,
    parties: Parties,
    op: str,
    kind: str,
    *,
    commit: bool = False,
) -> None:
    options, error, words = FAULTS[kind]
    # no automatic repeat: a read-only operation would otherwise hide the one-shot fault
    timeout = {"read_timeout": TIMEOUT} if kind == "delay" else {}
    client, _ = make_client(emu, parties, retries=0, **timeout)
    svc = ExchangeService(store, client, people.operator.signer)
    w = World(store, people, emu, parties, svc, kind, commit)
    spec = OPS[op]
    spec.setup(w)
    before = snapshot(store.db)
    log_before = m.ExchangeLog.select().bind(store.db).count()

    emu.inject(kind, operation=OPERATIONS[op], commit=commit or None, **options)
    if op == "send":
        check_send(w, spec.act(w))
    else:
        with pytest.raises(error) as info:
            spec.act(w)
        assert isinstance(info.value, ElnError)
        assert_russian(info.value.message, contains=words)
    assert not emu.faults.active(), "the fault did not fire"

    changed = diff(before, snapshot(store.db))
    if op == "send" and kind == "soap_fault":
        assert set(changed) <= {"eln", "audit_entry"}, changed
        eln_id = w.data["eln"].id
        assert set(changed["eln"]) == {eln_id}
        assert set(changed["eln"][eln_id]) <= SEND_REFUSAL_COLUMNS
    else:
        assert changed == {}, changed
    spec.check(w)
    # the failure is in the exchange log, with the same Russian text
    failed = (
        m.ExchangeLog.select()
        .where((m.ExchangeLog.id > log_before) & (m.ExchangeLog.ok == False))  # noqa: E712
        .bind(store.db)
    )
    assert [r.operation for r in failed] == [OPERATIONS[op]]
    assert_russian(failed[0].error, contains=words)

    emu.clear_faults()
    if kind == "delay":
        time.sleep(DELAY - TIMEOUT + 0.2)  # let the slow answer finish at the emulator
    spec.retry(w)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", list(FAULTS))
@pytest.mark.parametrize("op", list(OPS))
def test_fault_during_operation(
    store: ElnStore, people: People, faults: Any, parties: Parties, op: str, kind: str
) -> None:
    run_fault(store, people, faults, parties, op, kind)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["http500", "unsigned", "stranger", "corrupt", "replay"])
@pytest.mark.parametrize("op", ["request_numbers", "return_numbers", "send", "disable"])
def test_reply_spoiled_after_the_fund_acted(
    store: ElnStore, people: People, faults: Any, parties: Parties, op: str, kind: str
) -> None:
    """The harder case (``commit=True``): the Fund did the work, its reply never arrived
    usable. Still nothing is marked locally, and the retry finds out what the Fund did
    (getExistingLNNumRange, getLNData) instead of doing it twice."""
    run_fault(store, people, faults, parties, op, kind, commit=True)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_reply_replayed_to_the_next_process_is_refused(
    store: ElnStore, people: People, faults: Any, parties: Parties
) -> None:
    """Every ``eln`` command is a new process with a new client: the Fund's earlier reply for
    the same ELN (genuine, signed, today's) must still not mark its next period sent."""
    first = ExchangeService(store, make_client(faults, parties)[0], people.operator.signer)
    first.request_numbers(1)
    w = World(store, people, faults, parties, first, "replay")
    eln = w.eln(TODAY - timedelta(days=9))
    assert eln.id is not None and eln.ln_code is not None
    day1 = end_of(eln.treat_periods[0])
    assert first.send(day1).accepted == [eln.ln_code]
    eln = store.load(eln.id)
    eln.treat_periods.append(
        doctor_period(people, day1 + timedelta(days=1), day1 + timedelta(days=3))
    )
    eln = store.save(eln, people.doctor.signer)
    assert eln.id is not None
    sign(first, people, parties, eln.id, Block("period", SignerSlot.DOC, 1))
    before = snapshot(store.db)

    later = ExchangeService(store, make_client(faults, parties)[0], people.operator.signer)
    faults.inject("replay", operation="prParseFilelnlpu")
    report = later.send(day1 + timedelta(days=3))
    assert report.accepted == [] and report.unknown == [eln.ln_code], report
    assert diff(before, snapshot(store.db)) == {}
    assert not store.load(eln.id).treat_periods[1].sent
    assert faults.eln(eln.ln_code).state == "010"  # the Fund has only the first period
    # the next send finds out from the Fund and sends the period
    report = later.send(day1 + timedelta(days=3))
    assert report.reconciled_abandoned == [eln.ln_code] and report.accepted == [eln.ln_code]
    assert faults.eln(eln.ln_code).state == "020"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", list(FAULTS))
def test_fault_during_reconciliation(
    store: ElnStore, people: People, faults: Any, parties: Parties, kind: str
) -> None:
    """The Fund applied a registry whose reply was lost; the next send's getLNData meets a
    fault. An answer that cannot be trusted decides nothing: the row stays unresolved (no
    re-send, nothing marked); a Fault is the Fund's word and the re-send learns the truth."""
    options, error, words = FAULTS[kind]
    timeout = {"read_timeout": TIMEOUT} if kind == "delay" else {}
    client, _ = make_client(faults, parties, retries=0, **timeout)
    svc = ExchangeService(store, client, people.operator.signer)
    w = World(store, people, faults, parties, svc, kind)
    svc.request_numbers(1)
    w.data["fetch"] = _foreign_number()
    faults.seed_eln(w.data["fetch"], SNILS, "1027700000019")
    svc.fetch(w.data["fetch"], SNILS)  # an earlier getLNData reply (what "replay" repeats)
    eln = w.eln()
    assert eln.id is not None and eln.ln_code is not None
    day = end_of(eln.treat_periods[0])
    faults.inject("http500", operation="prParseFilelnlpu", commit=True)
    assert svc.send(day).unknown == [eln.ln_code]
    before = snapshot(store.db)

    faults.inject(kind, operation="getLNData", **options)
    if kind == "soap_fault":
        report = svc.send(day)  # abandoned, sent again, refused, checked again: accepted
        assert report.reconciled_accepted == [eln.ln_code] and not report.rejected, report
    else:
        with pytest.raises(error) as info:
            svc.send(day)
        assert_russian(info.value.message, contains=words)
        assert diff(before, snapshot(store.db)) == {}
        assert svc.preview(day).blocked  # still unresolved, held back
        assert len(faults.store.history(eln.ln_code)) == 1  # nothing sent twice
        faults.clear_faults()
        if kind == "delay":
            time.sleep(DELAY - TIMEOUT + 0.2)
        report = svc.send(day)
        assert report.reconciled_accepted == [eln.ln_code] and report.accepted == [], report
    done = store.load(eln.id)
    assert done.treat_periods[0].sent and done.ln_hash == faults.eln(eln.ln_code).ln_hash
