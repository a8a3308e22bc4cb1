"""Journal views of «Работа с ЕИИС Соцстрах» (seed 000; domain.md §4) as paged queries.

Rows are newest first (by id). Paging is keyset-based: pass the ``next_after`` of a page as
``after`` to get the next one; this stays fast at any depth. ``offset`` is available for jumping
but grows linearly. Searching takes a ELN number or SNILS (digits; a prefix is enough) or a
surname prefix (case-insensitive). ``ends_from``/``ends_to`` keep the ELNs whose release period
ends within those days (inclusive; the daily registry goes by that date). Every filter is backed
by an index (see ``models.Eln``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from peewee import Database, Expression, Field

from eln_tui.core.domain.codes import LN_STATES, JournalState, JournalView
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import current_database, is_postgres

MAX_LIMIT = 500

_VIEW_STATES = {
    JournalView.NOT_SENT: JournalState.PENDING,
    JournalView.SENT: JournalState.SENT,
    JournalView.RECEIVED: JournalState.RECEIVED,
    JournalView.ERRORS: JournalState.ERROR,
    JournalView.DELETED: JournalState.TERMINATED,
}
_SEPARATORS = re.compile(r"[\s\-]")


@dataclass(frozen=True)
class JournalRow:
    """One line of a journal view: the seed's columns plus what the UI needs to act."""

    id: int
    ln_code: str | None
    patient_fio: str
    snils: str | None
    first_dt1: date | None  # дата начала периода освобождения от работы
    last_dt2: date | None  # дата окончания периода освобождения от работы
    ln_state: str
    state_title: str  # состояние ЛН in FSS (lnState title); journal_state.label is ours
    journal_state: JournalState
    transfer_error: str | None  # column of «Ошибки передачи»
    terminated: bool


@dataclass(frozen=True)
class Page:
    rows: list[JournalRow]
    next_after: int | None  # pass as ``after`` for the next page; None at the end
    total: int | None = None  # only with ``count=True``


def _prefix(field: Field, text: str, db: Database) -> Expression:
    """Case-sensitive prefix match that can use a btree index on both backends.

    peewee renders ``%`` (LIKE) as GLOB on SQLite, so the wildcard differs per backend.
    """
    if is_postgres(db):
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return field % f"{escaped}%"
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in text)
    return field % f"{escaped}*"


def search_condition(text: str, db: Database) -> Expression | None:
    """ELN number or SNILS (digits, separators ignored; prefix allowed) or a surname prefix."""
    text = text.strip()
    if not text:
        return None
    digits = _SEPARATORS.sub("", text)
    if digits.isascii() and digits.isdigit():
        if len(digits) == 12:
            return m.Eln.ln_code == digits
        if len(digits) == 11:  # a SNILS, or an ELN number typed up to its last digit
            return (m.Eln.snils == digits) | _prefix(m.Eln.ln_code, digits, db)
        return _prefix(m.Eln.ln_code, digits, db) | _prefix(m.Eln.snils, digits, db)
    return _prefix(m.Eln.surname_key, text.upper(), db)


def journal_page(
    view: JournalView = JournalView.ALL,
    *,
    search: str | None = None,
    after: int | None = None,
    offset: int = 0,
    limit: int = 50,
    doctor_id: int | None = None,
    count: bool = False,
    ends_from: date | None = None,
    ends_to: date | None = None,
    db: Database | None = None,
) -> Page:
    """One page of ``view``; ``doctor_id`` restricts it to that treating doctor's ELNs;
    ``ends_from``/``ends_to`` (either may be None) bound the release period's end date
    (``last_dt2``), both inclusive; an ELN without that date is left out by either bound."""
    db = db if db is not None else current_database()
    limit = max(1, min(limit, MAX_LIMIT))
    view = JournalView(view)
    condition: Expression = m.Eln.electronic == True  # noqa: E712 (peewee expression)
    if view in _VIEW_STATES:
        condition &= m.Eln.journal_state == _VIEW_STATES[view].value
    if doctor_id is not None:
        condition &= m.Eln.doctor == doctor_id
    if search:
        found = search_condition(search, db)
        if found is not None:
            condition &= found
    if ends_from is not None:
        condition &= m.Eln.last_dt2 >= ends_from
    if ends_to is not None:
        condition &= m.Eln.last_dt2 <= ends_to
    total = None
    if count:
        total = m.Eln.select().where(condition).bind(db).count()
    if after is not None:
        condition &= m.Eln.id < after
    query = (
        m.Eln.select(
            m.Eln.id,
            m.Eln.ln_code,
            m.Eln.surname,
            m.Eln.name,
            m.Eln.patronymic,
            m.Eln.snils,
            m.Eln.first_dt1,
            m.Eln.last_dt2,
            m.Eln.ln_state,
            m.Eln.journal_state,
            m.Eln.transfer_error,
            m.Eln.term_reason_code,
        )
        .where(condition)
        .order_by(m.Eln.id.desc())
        .offset(offset or None)
        .limit(limit + 1)  # one extra row tells whether a next page exists
        .bind(db)
    )
    rows = [_row(r) for r in query]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None, total)


def _row(r: m.Eln) -> JournalRow:
    state = JournalState(r.journal_state)
    fio = " ".join(x for x in (r.surname, r.name, r.patronymic) if x)
    title = LN_STATES.title(r.ln_state) if r.ln_state in LN_STATES else (r.ln_state or "")
    return JournalRow(
        id=r.id,
        ln_code=r.ln_code,
        patient_fio=fio,
        snils=r.snils,
        first_dt1=r.first_dt1,
        last_dt2=r.last_dt2,
        ln_state=r.ln_state,
        state_title=title,
        journal_state=state,
        transfer_error=r.transfer_error,
        terminated=r.term_reason_code is not None,
    )
