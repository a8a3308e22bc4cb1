"""Exchange with the Fund on top of :class:`ElnStore` and :class:`FssClient` (no UI).

Outbox protocol of the daily registry (see docs/eln-core.md «Outbox»):

1. every message is written with its rows (status ``new``) and committed BEFORE the request;
2. the verified reply's per-row results are applied in ONE transaction (ELN marks, state,
   hash, error texts, row and message statuses);
3. a row still ``new`` after that (crash before/while sending, lost reply, crash before
   applying) is *unresolved*: its ELN is not offered again until the row is reconciled. The next
   send reconciles first: getLNData tells whether the Fund holds the blocks the row carried; if
   it does, the row is applied as accepted with the Fund's state and hash, otherwise the row is
   abandoned and the ELN is simply sent again. No ELN is ever marked sent without a verified
   reply (the original one or getLNData).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eln_tui.core.domain import flk, lifecycle
from eln_tui.core.domain.codes import JournalState, SignerSlot
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.lifecycle import Signer
from eln_tui.core.domain.model import Block, Eln
from eln_tui.core.domain.signatures import missing_signatures
from eln_tui.core.errors import ElnError
from eln_tui.core.fss import ExchangeRecord, FssClient, RegistryResult, RowInput
from eln_tui.core.fss.errors import FssError, FssReplyError, FssTransportError
from eln_tui.core.fss.results import LnData
from eln_tui.core.fss.security import ReplayStore
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import execute_insert, to_db_time
from eln_tui.core.storage.repository import ElnStore
from gostsign.xml.fragments import SignedFragment

MAX_ROWS = 30
_WAITING = [JournalState.DRAFT.value, JournalState.PENDING.value, JournalState.ERROR.value]
TERMINATION_REASONS = ("010", "030")

#: Test hook: called with the name of a step ("before_request", "after_reply").
FaultHook = Callable[[str], None]


class ExchangeError(ElnError):
    """An exchange step is refused or failed; ``message`` is the Russian text."""


@dataclass(frozen=True)
class Planned:
    eln_id: int
    ln_code: str
    blocks: tuple[str, ...]


@dataclass(frozen=True)
class Blocked:
    eln_id: int
    ln_code: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    day: date
    ready: tuple[Planned, ...]
    blocked: tuple[Blocked, ...]
    #: End dates of the next periods of ELNs that go in a later registry (none: nothing waits).
    later: tuple[date, ...] = ()

    @property
    def messages(self) -> int:
        return (len(self.ready) + MAX_ROWS - 1) // MAX_ROWS


@dataclass(frozen=True)
class MessageProgress:
    index: int  # 1-based
    total: int
    rows: int
    message_id: int
    status: str  # "sending", "sent", "error", "unknown"


@dataclass
class SendReport:
    day: date
    reconciled_accepted: list[str] = field(default_factory=list)
    reconciled_abandoned: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # sent, reply lost: reconciled next time
    blocked: list[Blocked] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["day"] = self.day.isoformat()
        return d


def _period_index(path: str) -> int | None:
    if path.startswith("treat_periods["):
        return int(path[len("treat_periods[") : -1])
    return None


def _blocks_of(eln: Eln, paths: Sequence[str]) -> list[Block]:
    blocks: list[Block] = []
    for path in paths:
        i = _period_index(path)
        if i is not None:
            blocks.append(Block("period", SignerSlot.DOC, i))
            blocks.append(Block("period", SignerSlot.VK, i))
        elif path == "hospital_breach":
            blocks.append(Block("breach"))
        elif path == "ln_result":
            blocks.append(Block("result"))
    return blocks


def fund_has(fund: Eln, paths: Sequence[str]) -> bool:
    """Whether the Fund's copy of an ELN holds every block ``paths`` names."""
    for path in paths:
        i = _period_index(path)
        if i is not None:
            if len(fund.treat_periods) <= i:
                return False
        elif path == "ln_result":
            if fund.ln_result is None or fund.ln_result.is_empty():
                return False
        elif path == "hospital_breach":
            if fund.hospital_breach is None:
                return False
    return True


class JournalReplayStore:
    """The replay guard's memory across processes: every ``eln`` command and every start of
    the workstation is a new client, so a requestId seen only in memory would be forgotten
    and the Fund's earlier reply (genuine, signed, today's) accepted again — e.g. marking a
    new period sent with the previous reply's state and hash. A verified reply is logged with
    its requestId, so a requestId already in the exchange log is a replay. Only the last
    ``window`` of the log is searched (by its indexed time): older replies are refused by the
    client's date check anyway."""

    def __init__(self, db: Any, memory: ReplayStore, window: timedelta | None) -> None:
        self.db = db
        self.memory = memory
        self.window = window

    def seen(self, key: str) -> bool:
        if self.memory.seen(key):
            return True
        if not key.startswith("requestId:"):
            return False
        request_id = key.split(":", 3)[-1]
        query = m.ExchangeLog.select().where(m.ExchangeLog.request_id == request_id)
        if self.window is not None:
            since = to_db_time(datetime.now(UTC) - self.window - timedelta(days=1))
            query = query.where(m.ExchangeLog.at >= since)
        return bool(query.bind(self.db).exists())

    def add(self, key: str) -> None:
        self.memory.add(key)


class ExchangeService:
    """Number pool ↔ Fund, the daily registry, getLNData, disableLn; all logged."""

    def __init__(
        self,
        store: ElnStore,
        client: FssClient,
        actor: Signer,
        *,
        fault: FaultHook | None = None,
    ) -> None:
        self.store = store
        self.db = store.db
        self.client = client
        self.actor = actor
        self._fault = fault
        self._message_id: int | None = None
        client.audit = self.log_exchange
        guard = client.wsse.guard
        if not isinstance(guard.store, JournalReplayStore):
            guard.store = JournalReplayStore(self.db, guard.store, client.config.reply_max_age)

    # --- audit ---------------------------------------------------------------------------------

    def log_exchange(self, record: ExchangeRecord) -> None:
        """Map the client's :class:`ExchangeRecord` onto ``ExchangeLog`` (no secrets in it)."""
        execute_insert(
            m.ExchangeLog.insert(
                at=to_db_time(record.started_at),
                operation=record.operation.value,
                endpoint=record.endpoint,
                request_id=record.request_id,
                message=self._message_id,
                user_id=self.actor.user_id,
                ok=record.ok,
                duration_ms=record.duration_ms,
                error=record.error,
                request=record.request,
                response=record.response,
            ),
            self.db,
        )

    def exchange_log(self, limit: int = 200) -> list[dict[str, Any]]:
        rows: Any = m.ExchangeLog.select().order_by(m.ExchangeLog.id.desc()).limit(limit)
        return [
            {
                "id": r.id,
                "at": str(r.at),
                "operation": r.operation,
                "request_id": r.request_id,
                "message_id": r.message_id,
                "user_id": r.user_id,
                "ok": r.ok,
                "duration_ms": r.duration_ms,
                "error": r.error,
            }
            for r in rows.bind(self.db)
        ]

    def _hook(self, step: str) -> None:
        if self._fault is not None:
            self._fault(step)

    # --- numbers -------------------------------------------------------------------------------

    def request_numbers(self, count: int, *, server_tag: str | None = None) -> list[str]:
        """getNewLNNumRange: the numbers go into the pool in one transaction with an audit line.

        ``server_tag``: the server the batch is for (mode «Свободный только для текущего
        сервера»); None leaves the numbers to every server. After a lost reply the numbers are
        recovered by :meth:`import_existing`.
        """
        try:
            result = self.client.get_new_ln_num_range(count)
        except (FssTransportError, FssReplyError) as exc:
            # The Fund may have issued the numbers and the reply was lost: say how to get them.
            exc.message = (
                f"{exc.message} Если СФР успел выдать номера, их можно загрузить: «Загрузить "
                "выданные ранее» (getExistingLNNumRange)."
            )
            exc.args = (exc.message,)
            raise
        numbers = list(result.numbers)
        with self.db.atomic():
            self.store.pool().add(numbers, ogrn=self.client.config.ogrn, server_tag=server_tag)
            self.store._audit(
                self.actor,
                "numbers_received",
                "eln_number",
                details={
                    "request_id": result.request_id,
                    "numbers": numbers,
                    "server": server_tag,
                },
            )
        return numbers

    def import_existing(self, *, server_tag: str | None = None) -> list[str]:
        """getExistingLNNumRange: add the numbers the pool does not know yet (tagged for
        ``server_tag`` as in :meth:`request_numbers`)."""
        result = self.client.get_existing_ln_num_range()
        with self.db.atomic():
            known = (
                {
                    r.number
                    for r in m.ElnNumber.select(m.ElnNumber.number)
                    .where(m.ElnNumber.number.in_(list(result.numbers)))
                    .bind(self.db)
                }
                if result.numbers
                else set()
            )
            new = [n for n in result.numbers if n not in known]
            if new:
                self.store.pool().add(new, ogrn=self.client.config.ogrn, server_tag=server_tag)
            self.store._audit(
                self.actor,
                "numbers_imported",
                "eln_number",
                details={"request_id": result.request_id, "numbers": new},
            )
        return new

    def free_numbers(self) -> list[str]:
        rows = (
            m.ElnNumber.select(m.ElnNumber.number)
            .where(m.ElnNumber.state == "free")
            .order_by(m.ElnNumber.number)
            .bind(self.db)
        )
        return [r.number for r in rows]

    def return_numbers(self, numbers: Sequence[str] | None = None) -> list[str]:
        """prParseFileNumberslpu: returned numbers are marked only after a verified success."""
        free = set(self.free_numbers())
        chosen = list(numbers) if numbers is not None else sorted(free)
        not_free = [n for n in chosen if n not in free]
        if not_free:
            raise ExchangeError(
                f"Номера {', '.join(not_free)} не являются свободными и не могут быть возвращены."
            )
        if not chosen:
            raise ExchangeError("Нет свободных номеров ЭЛН для возврата.")
        result = self.client.pr_parse_file_numberslpu(chosen)
        answered = {r.ln_code for r in result.rows}
        failed = {r.ln_code for r in result.rows if not r.ok}
        if not result.ok and not (failed and answered >= set(chosen)):
            raise ExchangeError(
                f"СФР не принял возврат номеров: {result.mess or 'причина не указана'}."
            )
        if failed:
            # A refused row may be a number the Fund already took back (its earlier reply was
            # lost): the Fund no longer lists it as issued to us, so it must not stay free.
            failed -= self._gone_at_fund(failed)
        done = [n for n in chosen if n not in failed]
        with self.db.atomic():
            self.store.pool().mark_returned(done)
            self.store._audit(
                self.actor,
                "numbers_returned",
                "eln_number",
                details={"request_id": result.request_id, "numbers": done},
            )
        if failed:  # the accepted ones are marked above, the Fund applied them
            texts = "; ".join(
                f"{r.ln_code}: {r.error_text or 'причина не указана'}"
                for r in result.rows
                if r.ln_code in failed
            )
            raise ExchangeError(f"СФР не принял возврат номеров: {texts}.")
        return done

    def _gone_at_fund(self, numbers: set[str]) -> set[str]:
        """Those of ``numbers`` the Fund no longer lists as issued to us (read-only check)."""
        try:
            issued = set(self.client.get_existing_ln_num_range().numbers)
        except FssError:
            return set()  # cannot tell: keep them free, as the Fund's refusal says
        return {n for n in numbers if n not in issued}

    # --- the daily registry ----------------------------------------------------------------------

    def _unresolved_eln_ids(self) -> set[int]:
        return unresolved_eln_ids(self.store)

    def preview(self, day: date) -> Preview:
        """What a send for ``day`` carries (earlier periods first) and what is blocked, why."""
        return preview(self.store, day)

    def _fragments(self, eln: Eln) -> dict[str, SignedFragment]:
        return stored_fragments(self.store, eln)

    def send(
        self,
        day: date,
        *,
        progress: Callable[[MessageProgress], None] | None = None,
    ) -> SendReport:
        """Reconcile unresolved rows, then send the registry for ``day`` in messages ≤ 30 rows."""
        report = SendReport(day)
        self.reconcile(report)
        preview = self.preview(day)
        report.blocked = list(preview.blocked)
        chunks = [preview.ready[i : i + MAX_ROWS] for i in range(0, len(preview.ready), MAX_ROWS)]
        for index, chunk in enumerate(chunks, 1):
            self._send_message(day, chunk, index, len(chunks), report, progress)
        return report

    def _send_message(
        self,
        day: date,
        chunk: Sequence[Planned],
        index: int,
        total: int,
        report: SendReport,
        progress: Callable[[MessageProgress], None] | None,
    ) -> None:
        elns = {p.eln_id: self.store.load(p.eln_id) for p in chunk}
        now = to_db_time(self.store.clock())
        with self.db.atomic():
            message_id = execute_insert(
                m.OutgoingMessage.insert(
                    operation="prParseFilelnlpu",
                    status="new",
                    ogrn=self.client.config.ogrn,
                    registry_date=day,
                    created_at=now,
                    created_by=self.actor.user_id,
                ),
                self.db,
            )
            for p in chunk:
                execute_insert(
                    m.OutgoingRow.insert(
                        message=message_id,
                        eln=p.eln_id,
                        ln_code=p.ln_code,
                        blocks=",".join(p.blocks),
                        ln_state_sent=elns[p.eln_id].ln_state,
                        status="new",
                    ),
                    self.db,
                )
        report.messages.append(message_id)
        if progress:
            progress(MessageProgress(index, total, len(chunk), message_id, "sending"))
        items = [
            RowInput(elns[p.eln_id], self._fragments(elns[p.eln_id]), list(p.blocks)) for p in chunk
        ]
        self._hook("before_request")
        self._message_id = message_id
        try:
            result = self.client.pr_parse_filelnlpu(items)
        except (FssTransportError, FssReplyError) as exc:
            # No usable reply (lost, or not decryptable / not the Fund's / a replay): the Fund
            # may have applied the message, so the rows stay unresolved and are reconciled.
            self._set_message(message_id, "unknown", error=exc.message)
            report.unknown += [p.ln_code for p in chunk]
            if progress:
                progress(MessageProgress(index, total, len(chunk), message_id, "unknown"))
            return
        except FssError as exc:
            # A refusal of the whole message (SOAP Fault, bad request): nothing applied.
            self._apply_refusal(message_id, chunk, exc.message, report)
            if progress:
                progress(MessageProgress(index, total, len(chunk), message_id, "error"))
            return
        finally:
            self._message_id = None
        self._hook("after_reply")
        self._apply(message_id, chunk, result, report)
        for p in chunk:
            if p.ln_code in report.rejected and self._abandoned_before(message_id, p):
                self._recheck_refused(message_id, p, report)
        if progress:
            progress(MessageProgress(index, total, len(chunk), message_id, "sent"))

    def _set_message(self, message_id: int, status: str, **cols: Any) -> None:
        m.OutgoingMessage.update(status=status, **cols).where(
            m.OutgoingMessage.id == message_id
        ).bind(self.db).execute()

    def _apply_refusal(
        self, message_id: int, chunk: Sequence[Planned], text: str, report: SendReport
    ) -> None:
        with self.db.atomic():
            self._set_message(message_id, "error", error=text)
            for p in chunk:
                self._row(message_id, p.eln_id, status="error", error=text)
                self.store.record_transfer(p.eln_id, self.actor, ok=False, error=text)
                report.rejected[p.ln_code] = text

    def _row(self, message_id: int, eln_id: int, **cols: Any) -> None:
        m.OutgoingRow.update(**cols).where(
            (m.OutgoingRow.message == message_id) & (m.OutgoingRow.eln == eln_id)
        ).bind(self.db).execute()

    def _apply(
        self,
        message_id: int,
        chunk: Sequence[Planned],
        result: RegistryResult,
        report: SendReport,
    ) -> None:
        """Apply the verified reply's per-row results in one transaction."""
        with self.db.atomic():
            self._set_message(
                message_id,
                "sent",
                request_id=result.request_id,
                sent_at=to_db_time(self.store.clock()),
                response_status=result.status,
                response_mess=result.mess,
            )
            for p in chunk:
                row = result.row(p.ln_code)
                sent = result.sent_row(p.ln_code)
                if row is None:
                    continue  # unanswered: stays unresolved, reconciled by getLNData
                if row.ok and row.ln_state is not None:
                    blocks = list(sent.blocks) if sent else list(p.blocks)
                    self._row(
                        message_id,
                        p.eln_id,
                        status="ok",
                        ln_state_received=row.ln_state,
                        ln_hash_received=row.ln_hash,
                    )
                    self.store.record_transfer(
                        p.eln_id,
                        self.actor,
                        ok=True,
                        blocks=blocks,
                        ln_state=row.ln_state,
                        ln_hash=row.ln_hash,
                    )
                    report.accepted.append(p.ln_code)
                else:
                    text = row.error_text or result.mess or "СФР отклонил ЭЛН без пояснения."
                    self._row(message_id, p.eln_id, status="error", error=text)
                    self.store.record_transfer(p.eln_id, self.actor, ok=False, error=text)
                    report.rejected[p.ln_code] = text

    def _abandoned_before(self, message_id: int, p: Planned) -> bool:
        rows = m.OutgoingRow.select().where(
            (m.OutgoingRow.eln == p.eln_id)
            & (m.OutgoingRow.message != message_id)
            & (m.OutgoingRow.status == "abandoned")
            & (m.OutgoingRow.blocks == ",".join(p.blocks))
        )
        return bool(rows.bind(self.db).exists())

    def _recheck_refused(self, message_id: int, p: Planned, report: SendReport) -> None:
        """A re-send of blocks whose earlier attempt was abandoned, refused: that attempt may
        have reached the Fund after all (it was still applying it when reconciliation asked
        getLNData, e.g. right after a timeout or a killed sender). Ask again; if the Fund holds
        every block the row carried, the row is accepted with the Fund's state and hash."""
        eln = self.store.load(p.eln_id)
        if not eln.patient.snils:
            return
        try:
            fund = self.client.get_ln_data(p.ln_code, eln.patient.snils).data
        except FssError:
            return  # stays in «Ошибки передачи» with the Fund's text
        if fund is None or not fund_has(fund.eln, p.blocks):
            return
        with self.db.atomic():
            self._row(
                message_id,
                p.eln_id,
                status="ok",
                error=None,
                ln_state_received=fund.ln_state,
                ln_hash_received=fund.ln_hash,
            )
            self.store.record_transfer(
                p.eln_id,
                self.actor,
                ok=True,
                blocks=list(p.blocks),
                ln_state=fund.ln_state,
                ln_hash=fund.ln_hash,
            )
        del report.rejected[p.ln_code]
        report.reconciled_accepted.append(p.ln_code)

    def reconcile(self, report: SendReport | None = None) -> SendReport:
        """Resolve rows left ``new`` by a crash or a lost reply, asking getLNData."""
        report = report or SendReport(self.store.today())
        rows: list[Any] = list(
            m.OutgoingRow.select().where(m.OutgoingRow.status == "new").bind(self.db)
        )
        for r in rows:
            if r.eln_id is None:
                m.OutgoingRow.update(status="abandoned").where(
                    (m.OutgoingRow.message == r.message_id) & (m.OutgoingRow.ln_code == r.ln_code)
                ).bind(self.db).execute()
                continue
            eln = self.store.load(r.eln_id)
            paths = [b for b in r.blocks.split(",") if b]
            fund: LnData | None = None
            try:
                if eln.patient.snils:
                    fund = self.client.get_ln_data(r.ln_code, eln.patient.snils).data
            except (FssTransportError, FssReplyError):
                raise  # no answer that can be trusted: the row stays unresolved
            except FssError:
                fund = None  # the Fund does not know the ELN (or refuses): not applied
            with self.db.atomic():
                if fund is not None and fund_has(fund.eln, paths):
                    m.OutgoingRow.update(
                        status="ok",
                        ln_state_received=fund.ln_state,
                        ln_hash_received=fund.ln_hash,
                    ).where(
                        (m.OutgoingRow.message == r.message_id)
                        & (m.OutgoingRow.ln_code == r.ln_code)
                    ).bind(self.db).execute()
                    self.store.record_transfer(
                        r.eln_id,
                        self.actor,
                        ok=True,
                        blocks=paths,
                        ln_state=fund.ln_state,
                        ln_hash=fund.ln_hash,
                    )
                    report.reconciled_accepted.append(r.ln_code)
                else:
                    m.OutgoingRow.update(status="abandoned").where(
                        (m.OutgoingRow.message == r.message_id)
                        & (m.OutgoingRow.ln_code == r.ln_code)
                    ).bind(self.db).execute()
                    report.reconciled_abandoned.append(r.ln_code)
                self._close_message(r.message_id)
        return report

    def _close_message(self, message_id: int) -> None:
        left = (
            m.OutgoingRow.select()
            .where((m.OutgoingRow.message == message_id) & (m.OutgoingRow.status == "new"))
            .bind(self.db)
            .count()
        )
        if not left:
            m.OutgoingMessage.update(status="reconciled").where(
                (m.OutgoingMessage.id == message_id)
                & (m.OutgoingMessage.status.in_(["new", "unknown"]))
            ).bind(self.db).execute()

    # --- foreign ELNs and cancellation -----------------------------------------------------------

    def fetch(self, ln_code: str, snils: str) -> Eln:
        """getLNData into «Получены из ЕИИС Соцстрах»."""
        result = self.client.get_ln_data(ln_code, snils)
        if result.data is None:
            raise ExchangeError(f"СФР не вернул данные ЭЛН № {ln_code}.")
        return self.store.store_received(result.data.eln, self.actor)

    def disable(self, ln_code: str, reason_code: str, reason: str = "") -> Eln:
        """disableLn; on the Fund's success the ELN goes to «Удалённые ЭЛН» for good."""
        if reason_code not in TERMINATION_REASONS:
            raise ExchangeError(
                f"Причина прекращения «{reason_code}» недопустима; укажите 010 или 030."
            )
        eln = self.store.load_by_number(ln_code)
        if eln.termination is not None:
            raise ExchangeError(f"ЭЛН № {ln_code} уже прекращён.")
        if not eln.patient.snils:
            raise ExchangeError(f"У ЭЛН № {ln_code} не указан СНИЛС пациента.")
        result = self.client.disable_ln(ln_code, eln.patient.snils, reason_code, reason)
        if not result.ok and not self._disabled_at_fund(ln_code, eln.patient.snils):
            raise ExchangeError(
                f"СФР не прекратил ЭЛН № {ln_code}: {result.mess or 'причина не указана'}."
            )
        assert eln.id is not None
        return self.store.terminate(eln.id, self.actor, reason_code, reason or None)

    def _disabled_at_fund(self, ln_code: str, snils: str) -> bool:
        """Whether the Fund already holds the ELN as terminated (090): an earlier disableLn
        whose reply was lost did its work, and a repeat is refused."""
        try:
            data = self.client.get_ln_data(ln_code, snils).data
        except FssError:
            return False
        return data is not None and data.ln_state == "090"


def stored_fragments(store: ElnStore, eln: Eln) -> dict[str, SignedFragment]:
    """The ELN's signed blocks as the journal stores them, keyed by block suffix."""
    from eln_tui.core.fss.rows import checked_number, stored_fragment

    ln_code = checked_number(eln)  # Ids and actors embed the number: refuse a malformed one
    rows = (
        m.SignedFragment.select()
        .where(m.SignedFragment.eln == eln.id)
        .order_by(m.SignedFragment.id)
        .bind(store.db)
    )
    return {
        r.block: stored_fragment(ln_code, r.block, bytes(r.data), bytes(r.security or b""))
        for r in rows
    }


def unresolved_eln_ids(store: ElnStore) -> set[int]:
    rows: Any = m.OutgoingRow.select(m.OutgoingRow.eln).where(m.OutgoingRow.status == "new")
    return {r.eln_id for r in rows.bind(store.db) if r.eln_id is not None}


def preview(store: ElnStore, day: date) -> Preview:
    """What a send for ``day`` carries (earlier periods first) and what is blocked, why."""
    ctx = CheckContext(
        today=day,
        version=store._protocol_version(),
        send_date=day,
        check_signatures=False,  # signatures: checked above for the carried blocks only
    )
    unresolved = unresolved_eln_ids(store)
    ready: list[tuple[date, Planned]] = []
    blocked: list[Blocked] = []
    later: list[date] = []
    ids = [
        r.id
        for r in m.Eln.select(m.Eln.id)
        .where(
            m.Eln.term_reason_code.is_null(True)
            # «Переданы», «Получены», «Удалённые» have nothing waiting to be sent
            & m.Eln.journal_state.in_(_WAITING)
        )
        .order_by(m.Eln.id)
        .bind(store.db)
    ]
    for eln_id in ids:
        eln = store.load(eln_id)
        if eln.termination is not None:
            continue
        paths = lifecycle.next_send_blocks(eln)
        if not paths:
            continue
        first = _period_index(paths[0])
        due = eln.treat_periods[first].dt2 if first is not None else None
        if due is not None and due > day:
            later.append(due)  # the period ends later: not in this registry
            continue
        reasons: list[str] = []
        if eln_id in unresolved:
            reasons.append(
                "Предыдущая отправка ЭЛН не подтверждена ответом СФР; "
                "ЭЛН будет сверен с СФР перед повторной отправкой."
            )
        if not eln.ln_code:
            reasons.append("У ЭЛН нет номера.")
        wanted = {b.path for b in _blocks_of(eln, paths)}
        for req in missing_signatures(eln, day):
            if req.block.path in wanted:
                why = f" ({'; '.join(req.reasons)})" if req.reasons else ""
                who = "председателя ВК" if req.block.slot is SignerSlot.VK else "врача"
                reasons.append(f"Блок «{req.block.path}» не подписан ЭП {who}{why}.")
        reasons += [v.message for v in flk.errors(flk.check(eln, ctx))]
        if reasons:
            blocked.append(Blocked(eln_id, eln.ln_code, tuple(dict.fromkeys(reasons))))
        else:
            assert eln.ln_code is not None
            ready.append((due or day, Planned(eln_id, eln.ln_code, tuple(paths))))
    ready.sort(key=lambda x: (x[0], x[1].eln_id))
    return Preview(day, tuple(p for _, p in ready), tuple(blocked), tuple(sorted(later)))
