"""The nine operations over the Fund's state (domain.md §2–§3, §10; protocol.md §2, §7).

Each returns a :class:`Result` that :mod:`fss_emulator.replies` renders in either dialect. Row
processing (prParseFilelnlpu) judges each ELN on its own: signatures required for what is new in
this send, the version token ``lnHash``, the state, the periods, the ФЛК; a rejected row changes
nothing, accepted rows are stored with a new state and a new hash.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from fss_emulator import flk, texts
from fss_emulator.dialects import Version
from fss_emulator.model import Eln, ParsedRow, child, children, elements, local, parse_row, text
from fss_emulator.security import (
    Representatives,
    covering,
    doc_actor,
    doc_id,
    judge,
    ogrn_failure,
    row_actor,
    row_id,
    vk_actor,
    vk_id,
)
from fss_emulator.store import Store, StoredEln
from gostsign.xml.wssec import SignatureResult, VerificationReport

MAX_NUMBERS = 1000  # no published limit; SAMSON caps a batch at 1000 (domain.md §3)
MAX_PERIODS = 3  # v2.0 XSD (treatFullPeriod maxOccurs=3)
CLOSED_STATES = frozenset({"030", "060", "070", "080"})
DISABLED = "090"
DISABLE_REASONS = frozenset({"010", "030"})  # S11 §14.8, S20 §14.7

Problem = tuple[str, str]


@dataclass
class InfoRow:
    row_no: int | None
    ln_code: str
    status: int
    ln_hash: str | None = None
    ln_state: str | None = None
    errors: list[Problem] = field(default_factory=list)


@dataclass
class Result:
    operation: str
    status: int = 1
    mess: str | None = texts.OK
    info: list[InfoRow] = field(default_factory=list)
    number: str | None = None
    numbers: list[str] | None = None
    eln: Eln | None = None
    by_snils: list[dict[str, str]] = field(default_factory=list)
    by_date: list[dict[str, str]] = field(default_factory=list)
    ogrn: str | None = None


def new_hash() -> str:
    """A fresh 32-hex version token, as the Fund's lnHash looks (ex §8.1.4)."""
    return secrets.token_hex(16).upper()


@dataclass
class Context:
    """What an operation needs besides its request element."""

    store: Store
    version: Version
    ogrn: str
    report: VerificationReport | None
    representatives: Representatives
    lenient: bool
    require_issued_numbers: bool
    request_id: Callable[[], str]


def _value(op: etree._Element, name: str) -> str | None:
    return text(child(op, name))


# ----------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------


def get_new_ln_num(op: etree._Element, ctx: Context) -> Result:
    (number,) = ctx.store.issue_numbers(ctx.ogrn, 1)
    return Result("getNewLNNum", number=number)


def get_new_ln_num_range(op: etree._Element, ctx: Context) -> Result:
    raw = _value(op, "cntLnNumbers") or ""
    count = int(raw) if raw.lstrip("-").isdigit() else 0
    if not 1 <= count <= MAX_NUMBERS:
        return Result("getNewLNNumRange", 0, texts.BAD_COUNT.format(limit=MAX_NUMBERS))
    return Result("getNewLNNumRange", numbers=ctx.store.issue_numbers(ctx.ogrn, count))


def get_existing_ln_num_range(op: etree._Element, ctx: Context) -> Result:
    # an empty pool is a success with nil data (ex §11.1.3)
    return Result("getExistingLNNumRange", numbers=ctx.store.unused_numbers(ctx.ogrn) or None)


def pr_parse_file_numbers_lpu(op: etree._Element, ctx: Context) -> Result:
    holder = op if ctx.version == "2.0" else child(op, "request")
    codes: list[str] = []
    if holder is not None:
        num_file = child(holder, "pXmlNumFile")
        data = child(num_file, "data", "DATA") if num_file is not None else None
        if data is not None:
            codes = [text(c) or "" for c in children(data, "lnCode", "LNNum")]
    result = Result("prParseFileNumberslpu")
    seen: set[str] = set()
    for i, code in enumerate(codes, start=1):
        errors: list[Problem] = []
        number = ctx.store.number(code)
        if code in seen:
            errors.append(texts.row_error("E_3017", ln=code))
        elif number is None or number["ogrn"] != ctx.ogrn:
            errors.append(texts.row_error("E_3001", ln=code, ogrn=ctx.ogrn))
        elif number["state"] == "used":
            errors.append(texts.row_error("E_3016", ln=code))
        elif number["state"] == "returned":
            errors.append(texts.row_error("E_3017", ln=code))
        else:
            ctx.store.set_number_state(code, "returned")
        seen.add(code)
        result.info.append(InfoRow(i, code, 0 if errors else 1, errors=errors))
    failed = sum(1 for r in result.info if r.status == 0)
    if failed:
        result.status = 0
        result.mess = texts.NUMBERS_ERRORS.format(failed=failed, total=len(codes))
    return result


# ----------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------


def _found(ctx: Context, ln: str, snils: str) -> StoredEln | None:
    stored = ctx.store.eln(ln)
    if stored is None or stored.snils != snils:
        return None
    return stored


def _with_token(stored: StoredEln) -> Eln:
    eln = Eln.from_json(stored.eln.to_json())
    eln.ln_state, eln.ln_hash = stored.state, stored.ln_hash
    return eln


def get_ln_data(op: etree._Element, ctx: Context) -> Result:
    ln, snils = _value(op, "lnCode") or "", _value(op, "snils") or ""
    stored = _found(ctx, ln, snils)
    if stored is None:
        return Result("getLNData", 0, texts.LN_NOT_FOUND.format(ln=ln, snils=snils))
    return Result("getLNData", eln=_with_token(stored))


def _last_of_case(eln: StoredEln) -> bool:
    """Whether this ELN ends its insurance case (closed without «продолжает болеть»)."""
    if eln.state not in CLOSED_STATES:
        return False
    result = eln.eln.ln_result or {}
    return not (result.get("mseResult") == "31" or result.get("nextLnCode"))


def get_ln_list_by_snils(op: etree._Element, ctx: Context) -> Result:
    """The ELNs of the last unclosed insurance case of a person (S20 §12.1.1).

    Cases are chains linked by prevLnCode; a terminated ELN (090) belongs to none.
    """
    snils = _value(op, "snils") or ""
    elns = [e for e in ctx.store.elns_by_snils(snils) if e.state != DISABLED]
    codes = {e.ln_code for e in elns}
    by_prev = {e.prev_ln_code: e for e in elns if e.prev_ln_code in codes}
    roots = [e for e in elns if e.prev_ln_code not in codes]
    cases: list[list[StoredEln]] = []
    for root in roots:
        case = [root]
        while case[-1].ln_code in by_prev and len(case) <= len(elns):
            case.append(by_prev[case[-1].ln_code])
        cases.append(case)
    open_cases = [c for c in cases if not _last_of_case(c[-1])]
    result = Result("getLNListBySnils")
    if open_cases:
        last = max(open_cases, key=lambda c: (c[-1].ln_date or "", c[-1].created_at))
        result.by_snils = [
            {
                "lnCode": e.ln_code,
                "lnDate": e.ln_date or "",
                "lnState": e.state,
                "lpuOgrn": e.lpu_ogrn or e.owner_ogrn,
            }
            for e in last
        ]
    return result


def get_ln_list_by_date(op: etree._Element, ctx: Context) -> Result:
    """The ELNs issued by the calling МО on a date (S20 §13.1.1)."""
    day = (_value(op, "date") or "")[:10]
    result = Result("getLNListByDate")
    result.by_date = [
        {"lnCode": e.ln_code, "lnState": e.state, "snils": e.snils}
        for e in ctx.store.elns_by_date(ctx.ogrn, day)
    ]
    return result


def disable_ln(op: etree._Element, ctx: Context) -> Result:
    ln, snils = _value(op, "lnCode") or "", _value(op, "snils") or ""
    code = _value(op, "reasonCode") or ""
    if code not in DISABLE_REASONS:
        return Result("disableLn", 0, texts.DISABLE_BAD_REASON.format(code=code))
    stored = _found(ctx, ln, snils)
    if stored is None:
        return Result("disableLn", 0, texts.LN_NOT_FOUND.format(ln=ln, snils=snils))
    if ctx.ogrn not in (stored.owner_ogrn, stored.lpu_ogrn):
        owner = stored.lpu_ogrn or stored.owner_ogrn
        return Result("disableLn", 0, texts.DISABLE_FOREIGN.format(ln=ln, owner=owner))
    if stored.state == DISABLED:
        return Result("disableLn", 0, texts.DISABLE_ALREADY.format(ln=ln))
    if stored.state in {"060", "070", "080"}:
        return Result("disableLn", 0, texts.DISABLE_STATE.format(ln=ln, state=stored.state))
    eln = _with_token(stored)
    eln.ln_state, eln.ln_hash = DISABLED, new_hash()
    eln.extras["disableReasonCode"] = code
    eln.extras["disableReason"] = _value(op, "reason")
    ctx.store.save_eln(eln, ogrn=ctx.ogrn, action=f"disable:{code}", request_id=ctx.request_id())
    return Result("disableLn")


# ----------------------------------------------------------------------------------------------
# prParseFilelnlpu
# ----------------------------------------------------------------------------------------------


def rowset_of(op: etree._Element, version: Version) -> list[etree._Element]:
    holder = op if version == "2.0" else child(op, "request")
    if holder is None:
        return []
    p_file = child(holder, "pXmlFile")
    rowset = child(p_file, "rowset", "ROWSET") if p_file is not None else None
    if rowset is None:
        return []
    return [r for r in elements(rowset) if local(r) in ("row", "ROW")]


def _next_state(eln: Eln, current: str | None) -> str:
    if eln.ln_result is not None:
        return "030"
    if current in ("040", "050"):
        return current
    if eln.fields.get("mseDt1") is not None:
        return "040"
    return "020" if len(eln.periods) > 1 else "010"


def _period_error(code: str, period: int) -> Callable[[str], Problem]:
    return lambda why: texts.row_error(code, period=period, reason=why)


class RowJudge:
    """Signature requirements of one row against what the Fund already holds (S20 §4.2, §4.6)."""

    def __init__(self, ctx: Context, row: ParsedRow) -> None:
        self.ctx = ctx
        self.row = row
        self.ln = row.eln.ln_code
        self.errors: list[Problem] = []

    def _signatures(self, element: etree._Element | None) -> list[SignatureResult]:
        if element is None or self.ctx.report is None:
            return []
        return covering(self.ctx.report, element)

    def block(
        self,
        element: etree._Element | None,
        element_id: str,
        actor: str,
        required: bool,
        missing: Problem,
        invalid: Callable[[str], Problem],
    ) -> None:
        sigs = self._signatures(element)
        if not sigs:
            if required:
                self.errors.append(missing)
            return
        # a block that is not new may come back with the signature it had: only the signature
        # itself must still hold, not the certificate's validity today (docs/emulator.md)
        _, why = judge(sigs, element_id, actor, lenient=self.ctx.lenient, certificates=required)
        if why is not None:
            self.errors.append(invalid(why))

    def mo(self) -> None:
        ctx, ln = self.ctx, self.ln
        sigs = self._signatures(self.row.element)
        if not sigs:
            self.errors.append(texts.row_error("E_2001", ln=ln, ogrn=ctx.ogrn))
            return
        _, why = judge(
            sigs,
            row_id(ln),
            row_actor(ctx.ogrn, ln),
            lenient=ctx.lenient,
            extra=lambda r: ogrn_failure(r, ctx.ogrn, ctx.representatives),
        )
        if why is not None:
            self.errors.append(texts.row_error("E_2002", reason=why))

    def blocks(self, stored: Eln | None) -> None:
        eln, row, ln = self.row.eln, self.row, self.ln
        old_breach = stored.hospital_breach if stored else None
        if eln.hospital_breach is not None and old_breach is not None:
            if eln.hospital_breach != old_breach:
                self.errors.append(texts.row_error("E_3013"))
        self.block(
            row.hospital_breach,
            doc_id(ln, 1),
            doc_actor(ln, 1),
            eln.hospital_breach is not None and old_breach is None,
            texts.row_error("E_2007"),
            lambda why: texts.row_error("E_2008", reason=why),
        )
        old_result = stored.ln_result if stored else None
        if eln.ln_result is not None and old_result is not None:
            if eln.ln_result != old_result:
                self.errors.append(texts.row_error("E_3014"))
        self.block(
            row.ln_result,
            doc_id(ln, 2),
            doc_actor(ln, 2),
            eln.ln_result is not None and old_result is None,
            texts.row_error("E_2009"),
            lambda why: texts.row_error("E_2010", reason=why),
        )
        known = list(stored.periods) if stored else []
        for k, old in enumerate(known, start=1):
            if k > len(eln.periods):
                self.errors.append(texts.row_error("E_3010", period=k))
            elif eln.periods[k - 1] != old:
                self.errors.append(texts.row_error("E_3009", period=k))
        new = len(eln.periods) - len(known)
        if new > 1:
            self.errors.append(texts.row_error("E_3011"))
        if len(eln.periods) > MAX_PERIODS:
            self.errors.append(texts.row_error("E_3012"))
        for k, (full, inner) in enumerate(row.periods[:MAX_PERIODS], start=1):
            is_new = k > len(known)
            block_no = k + 2
            self.block(
                inner,
                doc_id(ln, block_no),
                doc_actor(ln, block_no),
                is_new,
                texts.row_error("E_2003", period=k),
                _period_error("E_2004", k),
            )
            chaired = eln.periods[k - 1].get("treatChairman") is not None
            self.block(
                full,
                vk_id(ln, block_no),
                vk_actor(ln, block_no),
                is_new and chaired,
                texts.row_error("E_2005", period=k),
                _period_error("E_2006", k),
            )


def _state_problems(ctx: Context, eln: Eln, stored: StoredEln | None) -> list[Problem]:
    ln = eln.ln_code
    sent = eln.ln_state or ""
    if stored is None:
        out: list[Problem] = []
        if sent != "000" or eln.ln_hash:
            out.append(texts.row_error("E_3003", ln=ln))
        if ctx.require_issued_numbers:
            number = ctx.store.number(ln)
            if number is None or number["ogrn"] != ctx.ogrn:
                out.append(texts.row_error("E_3001", ln=ln, ogrn=ctx.ogrn))
            elif number["state"] == "returned":
                out.append(texts.row_error("E_3002", ln=ln))
        return out
    if sent == "000":
        return [texts.row_error("E_3004", ln=ln, state=stored.state)]
    if stored.state == DISABLED:
        return [texts.row_error("E_3008", ln=ln)]
    if stored.state in CLOSED_STATES:
        return [texts.row_error("E_3007", ln=ln)]
    out = []
    if eln.ln_hash != stored.ln_hash:
        out.append(texts.row_error("E_3005", ln=ln))
    if sent != stored.state:
        out.append(texts.row_error("E_3006", ln=ln, sent=sent, state=stored.state))
    return out


def process_row(ctx: Context, row: ParsedRow, duplicate: bool) -> InfoRow:
    eln = row.eln
    ln = eln.ln_code
    if duplicate:
        return InfoRow(row.index, ln, 0, errors=[texts.row_error("E_3015", ln=ln)])
    stored = ctx.store.eln(ln)
    judge_ = RowJudge(ctx, row)
    judge_.mo()
    state = _state_problems(ctx, eln, stored)
    judge_.blocks(stored.eln if stored else None)
    errors = judge_.errors + state + flk.check(eln, ctx.version)
    if errors:
        return InfoRow(row.index, ln, 0, ln_state=stored.state if stored else None, errors=errors)
    accepted = Eln.from_json(eln.to_json())
    accepted.ln_state = _next_state(eln, stored.state if stored else None)
    accepted.ln_hash = new_hash()
    ctx.store.save_eln(
        accepted,
        ogrn=ctx.ogrn,
        action="create" if stored is None else "update",
        request_id=ctx.request_id(),
    )
    if stored is None and ctx.store.number(ln) is not None:
        ctx.store.set_number_state(ln, "used")
    return InfoRow(row.index, ln, 1, ln_hash=accepted.ln_hash, ln_state=accepted.ln_state)


def pr_parse_filelnlpu(op: etree._Element, ctx: Context) -> Result:
    result = Result("prParseFilelnlpu")
    seen: set[str] = set()
    for i, row_el in enumerate(rowset_of(op, ctx.version), start=1):
        parsed = parse_row(row_el, i, ctx.version)
        ln = parsed.eln.ln_code
        result.info.append(process_row(ctx, parsed, ln in seen))
        seen.add(ln)
    failed = sum(1 for r in result.info if r.status == 0)
    if failed:
        result.status = 0
        result.mess = texts.REGISTRY_ERRORS.format(failed=failed, total=len(result.info))
    return result


HANDLERS: dict[str, Callable[[etree._Element, Context], Result]] = {
    "getNewLNNum": get_new_ln_num,
    "getNewLNNumRange": get_new_ln_num_range,
    "getExistingLNNumRange": get_existing_ln_num_range,
    "prParseFilelnlpu": pr_parse_filelnlpu,
    "prParseFileNumberslpu": pr_parse_file_numbers_lpu,
    "getLNData": get_ln_data,
    "getLNListBySnils": get_ln_list_by_snils,
    "getLNListByDate": get_ln_list_by_date,
    "disableLn": disable_ln,
}
