"""The FSS client: every operation of FileOperationsLnService, v2.0 or v1.1 by configuration.

::

    with provider.open_session(cert, pin) as key:
        client = FssClient(config, key, audit=journal.record_exchange)
        numbers = client.get_new_ln_num_range(10).numbers
        result = client.pr_parse_filelnlpu([RowInput(eln, fragments)])
        for row in result.rows: ...

Each call builds the request (zeep from the bundled WSDL, or the row builder for
prParseFilelnlpu), validates it against the Fund's XSD, signs and encrypts it
(:class:`~eln_tui.core.fss.security.FssWsse`), posts it with the configured timeouts, opens and
verifies the reply and parses it tolerantly. Every attempt is reported to the audit sink.

Only read-only operations are repeated after a network failure (see
:attr:`Operation.safe_to_retry`). A call either returns a result built from a verified reply
or raises an :class:`~eln_tui.core.fss.errors.FssError`; it keeps no state besides the replay
guard. Calls may come from several threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import requests
from lxml import etree

from eln_tui.core.domain.codes import TERMINATION_REASONS
from eln_tui.core.domain.model import Eln
from eln_tui.core.domain.validators import is_digits
from eln_tui.core.fss import parse
from eln_tui.core.fss.audit import AuditSink, ExchangeRecord, Outcome, deliver
from eln_tui.core.fss.config import FssConfig, ProtocolVersion
from eln_tui.core.fss.envelope import envelope_for
from eln_tui.core.fss.errors import (
    FssError,
    FssFault,
    FssRequestError,
    FssServiceError,
    FssTimeout,
    FssTransportError,
    ReplayError,
    ReplyFormatError,
)
from eln_tui.core.fss.operations import Operation
from eln_tui.core.fss.results import (
    LnDataResult,
    LnListResult,
    NumbersResult,
    RegistryResult,
    SentRow,
    WsResult,
)
from eln_tui.core.fss.rows import RowInput, RowsetAttributes, assemble_registry
from eln_tui.core.fss.security import (
    FssWsse,
    MoKey,
    ReplayGuard,
    ReplayStore,
    SecuredRequest,
    VerifiedReply,
)
from eln_tui.core.fss.service import build_payload, make_transport, operation_info
from gostsign.errors import GostError
from gostsign.xml import schema
from gostsign.xml.parse import MAX_BYTES

#: Our cap on one getNewLNNumRange (the Fund publishes none; SAMSON caps at 1000).
MAX_NUMBERS_PER_REQUEST = 1000
#: Replies are read as a stream up to the XML parser's own limit, never further.
MAX_REPLY_BYTES = MAX_BYTES


def _now() -> datetime:
    return datetime.now(UTC)


class FssClient:
    """The МО side of «ЕИИС Соцстрах».

    ``key``: the МО's key session (:class:`providers.base.KeySession`); it signs requests and
    decrypts replies. It may be None for a client that only reads saved replies
    (:meth:`read_reply`). ``audit`` receives an :class:`ExchangeRecord` per attempt.
    ``replay_store`` keeps seen reply identifiers (default: memory of this process).
    """

    def __init__(
        self,
        config: FssConfig,
        key: MoKey | None = None,
        *,
        audit: AuditSink | None = None,
        replay_store: ReplayStore | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] = _now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.audit = audit
        self.clock = clock
        self._sleep = sleep
        self.wsse = FssWsse(config, key, guard=ReplayGuard(replay_store), clock=clock)
        self.transport = make_transport(
            config.version, timeout=config.timeout, tls_verify=config.tls_verify, session=session
        )

    @property
    def version(self) -> ProtocolVersion:
        return self.config.version

    # ------------------------------------------------------------------------------------------
    # Number pool
    # ------------------------------------------------------------------------------------------

    def get_new_ln_num(self) -> NumbersResult:
        """One new ELN number (getNewLNNum). Not repeated automatically."""
        reply = self._call(Operation.GET_NEW_LN_NUM, ogrn=self.config.ogrn)
        return self._numbers(reply, require=True)

    def get_new_ln_num_range(self, count: int) -> NumbersResult:
        """``count`` new ELN numbers (getNewLNNumRange). Not repeated automatically: after a
        lost reply recover the numbers with :meth:`get_existing_ln_num_range`."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FssRequestError("Количество запрашиваемых номеров ЭЛН должно быть не меньше 1.")
        if count > MAX_NUMBERS_PER_REQUEST:
            raise FssRequestError(
                f"За один запрос можно получить не более {MAX_NUMBERS_PER_REQUEST} номеров ЭЛН."
            )
        reply = self._call(
            Operation.GET_NEW_LN_NUM_RANGE, ogrn=self.config.ogrn, cntLnNumbers=count
        )
        return self._numbers(reply, require=True)

    def get_existing_ln_num_range(self) -> NumbersResult:
        """Numbers issued to this МО earlier and not used yet (getExistingLNNumRange)."""
        reply = self._call(Operation.GET_EXISTING_LN_NUM_RANGE, ogrn=self.config.ogrn)
        return self._numbers(reply, require=False)

    def pr_parse_file_numberslpu(self, numbers: Sequence[str]) -> WsResult:
        """Return unused numbers to the Fund (prParseFileNumberslpu). The result's ``status``
        and ``rows`` say what the Fund did; not repeated automatically."""
        codes = [_ln_code(n) for n in numbers]
        if not codes:
            raise FssRequestError("Не выбраны номера ЭЛН для возврата.")
        if self.version is ProtocolVersion.V20:
            reply = self._call(
                Operation.PR_PARSE_FILE_NUMBERSLPU,
                ogrn=self.config.ogrn,
                pXmlNumFile={"data": {"lnCode": codes}},
            )
        else:
            reply = self._call(
                Operation.PR_PARSE_FILE_NUMBERSLPU,
                request={"ogrn": self.config.ogrn, "pXmlNumFile": {"DATA": {"LNNum": codes}}},
            )
        return parse.ws_result(reply.response)

    # ------------------------------------------------------------------------------------------
    # ELNs
    # ------------------------------------------------------------------------------------------

    def pr_parse_filelnlpu(self, items: Sequence[RowInput | Eln]) -> RegistryResult:
        """Send 1..30 ELNs (prParseFilelnlpu), each with its stored signed blocks.

        Returns the Fund's verdict per ELN (``rows``: status, new lnHash and lnState, errors)
        and what each row carried (``sent``). A reply with ``status`` 0 is returned, not
        raised: its rows say which ELN failed and why. Not repeated automatically.
        """
        self.config.check_registry_contacts()
        attributes = RowsetAttributes(
            software=self.config.software,
            software_version=self.config.software_version,
            author=self.config.author,
            phone=self.config.phone,
            email=self.config.email,
        )
        registry = assemble_registry(
            items,
            self.config.ogrn,
            attributes,
            self.version,
            resend_signed=self.config.resend_signed_blocks,
        )
        self._validate(registry.payload)
        sent = tuple(
            SentRow(r.ln_code, r.blocks, _row_state(item))
            for r, item in zip(registry.rows, items, strict=True)
        )
        reply = self._exchange(
            Operation.PR_PARSE_FILELNLPU,
            registry.document,
            rows=[r.ln_code for r in registry.rows],
        )
        result = parse.ws_result(reply.response)
        codes = {s.ln_code for s in sent}
        strangers = [r.ln_code for r in result.rows if r.ln_code not in codes]
        if strangers:
            raise ReplayError(
                f"Ответ СФР содержит результаты по ЭЛН, которых не было в запросе "
                f"({', '.join(strangers)}); ответ не принят.",
                detail=result.request_id,
            )
        return RegistryResult(
            request_id=result.request_id,
            status=result.status,
            mess=result.mess,
            rows=result.rows,
            sent=sent,
        )

    def get_ln_data(self, ln_code: str, snils: str) -> LnDataResult:
        """An ELN as the Fund has it (getLNData); raises FssServiceError when the Fund says 0."""
        code = _ln_code(ln_code)
        reply = self._call(
            Operation.GET_LN_DATA, ogrn=self.config.ogrn, lnCode=code, snils=_snils(snils)
        )
        head = self._checked(reply)
        rows = parse.ln_data_rows(reply.response)
        data = parse.ln_data(rows[0]) if rows else None
        if data is not None and data.ln_code != code:
            raise ReplayError(
                f"СФР прислал данные ЭЛН {data.ln_code}, а запрошен ЭЛН {code}; ответ не принят.",
                detail=head.request_id,
            )
        return LnDataResult(head.request_id, head.status, head.mess, head.rows, data=data)

    def get_ln_list_by_snils(self, snils: str) -> LnListResult:
        """ELNs of the last unclosed insurance case of a person (getLNListBySnils)."""
        reply = self._call(
            Operation.GET_LN_LIST_BY_SNILS, ogrn=self.config.ogrn, snils=_snils(snils)
        )
        head = self._checked(reply)
        return LnListResult(
            head.request_id, head.status, head.mess, head.rows, parse.list_entries(reply.response)
        )

    def get_ln_list_by_date(self, day: date) -> LnListResult:
        """ELNs this МО issued on ``day`` (getLNListByDate)."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise FssRequestError("Для запроса ЭЛН по дате укажите дату (без времени).")
        if self.version is ProtocolVersion.V20:
            reply = self._call(Operation.GET_LN_LIST_BY_DATE, ogrn=self.config.ogrn, date=day)
        else:  # v1.1 XSD: xs:dateTime, date before ogrn
            moment = datetime(day.year, day.month, day.day)
            reply = self._call(Operation.GET_LN_LIST_BY_DATE, date=moment, ogrn=self.config.ogrn)
        head = self._checked(reply)
        return LnListResult(
            head.request_id, head.status, head.mess, head.rows, parse.list_entries(reply.response)
        )

    def disable_ln(self, ln_code: str, snils: str, reason_code: str, reason: str) -> WsResult:
        """Terminate an ELN (disableLn, state 090): reason 010 «Отмена оформления» or 030
        «Выдан ЛН-дубликат». The result's ``status``/``mess`` say whether the Fund did it."""
        if reason_code not in TERMINATION_REASONS:
            allowed = ", ".join(c.code for c in TERMINATION_REASONS)
            raise FssRequestError(
                f"Код причины прекращения «{reason_code}» неизвестен; допустимы: {allowed}."
            )
        reply = self._call(
            Operation.DISABLE_LN,
            ogrn=self.config.ogrn,
            lnCode=_ln_code(ln_code),
            snils=_snils(snils),
            reasonCode=reason_code,
            reason=reason or TERMINATION_REASONS.title(reason_code),
        )
        return parse.ws_result(reply.response)

    # ------------------------------------------------------------------------------------------
    # Replies read from elsewhere
    # ------------------------------------------------------------------------------------------

    def read_reply(
        self, operation: Operation, data: bytes, *, at: datetime | date | None = None
    ) -> WsResult:
        """Open, verify (at ``at``) and parse a saved reply of ``operation``, e.g. the spec's
        examples; the same checks as for a live reply (replay guard included)."""
        reply = self.wsse.open_reply(data, operation=operation, at=at)
        return self._result(operation, reply)

    def _result(self, operation: Operation, reply: VerifiedReply) -> WsResult:
        head = parse.ws_result(reply.response)
        if operation in (
            Operation.GET_NEW_LN_NUM,
            Operation.GET_NEW_LN_NUM_RANGE,
            Operation.GET_EXISTING_LN_NUM_RANGE,
        ):
            return NumbersResult(
                head.request_id, head.status, head.mess, head.rows, parse.numbers(reply.response)
            )
        if operation is Operation.GET_LN_DATA:
            rows = parse.ln_data_rows(reply.response)
            data = parse.ln_data(rows[0]) if rows else None
            return LnDataResult(head.request_id, head.status, head.mess, head.rows, data=data)
        if operation in (Operation.GET_LN_LIST_BY_SNILS, Operation.GET_LN_LIST_BY_DATE):
            return LnListResult(
                head.request_id,
                head.status,
                head.mess,
                head.rows,
                parse.list_entries(reply.response),
            )
        if operation is Operation.PR_PARSE_FILELNLPU:
            return RegistryResult(head.request_id, head.status, head.mess, head.rows)
        return head

    # ------------------------------------------------------------------------------------------
    # Plumbing
    # ------------------------------------------------------------------------------------------

    def build_request(self, operation: Operation, **params: Any) -> etree._ElementTree:
        """The unsigned envelope of a (non-row) operation from its WSDL parameters, validated
        against the XSD."""
        payload = build_payload(self.version, operation, **params)
        document = envelope_for(payload)
        body = document.getroot().find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        assert body is not None
        self._validate(body[0])
        return document

    def secure(
        self, operation: Operation, document: etree._ElementTree, *, rows: Sequence[str] = ()
    ) -> SecuredRequest:
        """Sign and (by configuration) encrypt a request document in place."""
        return self.wsse.secure(document, operation, rows=rows)

    def _validate(self, payload: etree._Element) -> None:
        if not self.config.validate_requests:
            return
        try:
            schema.validate(payload, "2.0" if self.version is ProtocolVersion.V20 else "1.1")
        except GostError as exc:
            raise FssRequestError(
                "Запрос не соответствует схеме XSD СФР; он не отправлен. Проверьте данные ЭЛН.",
                detail=str(exc),
            ) from None

    def _call(self, operation: Operation, **params: Any) -> VerifiedReply:
        return self._exchange(operation, self.build_request(operation, **params))

    def _checked(self, reply: VerifiedReply) -> WsResult:
        head = parse.ws_result(reply.response)
        if head.status is not None and head.status != 1:
            raise FssServiceError(head.mess, request_id=head.request_id)
        return head

    def _numbers(self, reply: VerifiedReply, *, require: bool) -> NumbersResult:
        head = self._checked(reply)
        numbers = parse.numbers(reply.response)
        bad = [n for n in numbers if not is_digits(n, 12)]
        if bad:
            raise ReplyFormatError(
                "СФР прислал номер ЭЛН не из 12 цифр; ответ не принят.", detail=", ".join(bad)
            )
        if require and not numbers:
            raise FssServiceError(
                head.mess or "СФР не выдал ни одного номера ЭЛН.", request_id=head.request_id
            )
        return NumbersResult(head.request_id, head.status, head.mess, head.rows, numbers)

    def _exchange(
        self, operation: Operation, document: etree._ElementTree, *, rows: Sequence[str] = ()
    ) -> VerifiedReply:
        endpoint = self.config.endpoint
        secured = self.wsse.secure(document, operation, rows=rows)
        info = operation_info(self.version, operation)
        headers = {
            "Content-Type": 'text/xml; charset="utf-8"',
            "SOAPAction": f'"{info.soap_action}"',
        }
        attempts = 1 + (self.config.retries if operation.safe_to_retry else 0)
        for attempt in range(1, attempts + 1):
            started = self.clock()
            t0 = time.monotonic()
            status: int | None = None
            body: bytes | None = None
            try:
                try:
                    status, body = self.transport.post_capped(
                        endpoint, secured.wire, headers, MAX_REPLY_BYTES
                    )
                except requests.Timeout as exc:
                    raise FssTimeout(
                        f"СФР не ответил за {self.config.read_timeout:g} с "
                        f"({operation.label}); повторите позже.",
                        detail=str(exc),
                    ) from None
                except requests.RequestException as exc:
                    raise FssTransportError(
                        f"Нет связи с сервисом СФР ({endpoint}): проверьте подключение к сети и "
                        "адрес сервера.",
                        detail=str(exc),
                    ) from None
                reply = self.wsse.open_reply(body, operation=operation, http_status=status)
            except FssError as exc:
                self._record(
                    operation, endpoint, secured, started, t0, attempt, status, body, None, exc
                )
                retry = (
                    attempt < attempts
                    and isinstance(exc, FssTransportError)
                    and (exc.http_status is None or exc.http_status >= 500)
                )
                if not retry:
                    raise
                self._sleep(self.config.retry_backoff * attempt)
                continue
            self._record(
                operation, endpoint, secured, started, t0, attempt, status, body, reply, None
            )
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(
        self,
        operation: Operation,
        endpoint: str,
        secured: SecuredRequest,
        started: datetime,
        t0: float,
        attempt: int,
        http_status: int | None,
        raw: bytes | None,
        reply: VerifiedReply | None,
        error: FssError | None,
    ) -> None:
        status = None
        request_id = None
        if reply is not None:
            request_id = reply.request_id
            try:
                status = parse.ws_result(reply.response).status
            except FssError:
                status = None
        outcome = (
            Outcome.OK
            if error is None
            else Outcome.FAULT
            if isinstance(error, FssFault)
            else Outcome.ERROR
        )
        response = reply.clear if reply is not None else raw
        deliver(
            self.audit,
            ExchangeRecord(
                operation=operation,
                endpoint=endpoint,
                contour=self.config.contour.value,
                version=self.config.version.value,
                ogrn=self.config.ogrn,
                started_at=started,
                duration_ms=int((time.monotonic() - t0) * 1000),
                attempt=attempt,
                outcome=outcome,
                request=secured.clear,
                request_nonce=secured.nonce,
                response=response,
                response_clear=reply is not None or isinstance(error, FssFault),
                http_status=http_status,
                request_id=request_id,
                status=status,
                error=error.message if error is not None else None,
                error_type=type(error).__name__ if error is not None else None,
                detail=error.detail if error is not None else None,
            ),
        )

    def close(self) -> None:
        self.transport.session.close()

    def __enter__(self) -> FssClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _row_state(item: RowInput | Eln) -> str:
    eln = item.eln if isinstance(item, RowInput) else item
    return eln.ln_state


def _ln_code(value: str) -> str:
    code = str(value or "").strip()
    if not is_digits(code, 12):
        raise FssRequestError(f"Номер ЭЛН «{code}» должен состоять из 12 цифр.")
    return code


def _snils(value: str) -> str:
    digits = "".join(ch for ch in str(value or "") if ch not in " -")
    if not is_digits(digits, 11):
        raise FssRequestError("СНИЛС должен состоять из 11 цифр.")
    return digits
