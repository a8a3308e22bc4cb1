"""What the screens say about an ELN, as plain functions of core data (no Textual here)."""

from __future__ import annotations

from datetime import date

from eln_tui.core.domain import signatures
from eln_tui.core.domain.codes import LN_STATES, STATE_CLOSED, JournalState, SignerSlot
from eln_tui.core.domain.lifecycle import TERMINATED_BANNER, journal_state
from eln_tui.core.domain.model import Block, Eln
from eln_tui.core.storage import JournalRow
from eln_tui.ui.formmodel import format_date, format_datetime

# Next actions of «Мои ЭЛН» (issue 7: needs signature, period ends today, sent, error).
NEEDS_SIGNATURE = "Требуется подпись"
ENDS_TODAY = "Период заканчивается сегодня: продлите или закройте"
EXPIRED = "Период истёк: продлите или закройте"
WAITING = "Ожидает передачи в ЕИИС «Соцстрах»"
SENT = "Передан в ЕИИС «Соцстрах»"
ERROR = "Ошибка передачи: исправьте и подпишите заново"
RECEIVED = "Получен из ЕИИС Соцстрах: закройте или продлите"
CLOSED = "Закрыт"
TERMINATED = TERMINATED_BANNER
FILLING = "Заполняется"

_CLOSED_STATES = frozenset({STATE_CLOSED, "060", "070", "080", "090"})


def next_action(row: JournalRow, today: date) -> str:
    """The one thing the doctor should do next with the ELN of a list row."""
    state = row.journal_state
    if row.terminated or state is JournalState.TERMINATED:
        return TERMINATED
    if state is JournalState.ERROR:
        return ERROR
    if state is JournalState.DRAFT:
        return NEEDS_SIGNATURE if row.first_dt1 is not None else FILLING
    closed = row.ln_state in _CLOSED_STATES
    if not closed and row.last_dt2 is not None:
        if row.last_dt2 == today:
            return ENDS_TODAY
        if row.last_dt2 < today and state is not JournalState.PENDING:
            return EXPIRED
    if state is JournalState.PENDING:
        return WAITING
    if state is JournalState.RECEIVED:
        return RECEIVED
    return CLOSED if closed else SENT


def state_text(eln: Eln) -> str:
    """«Заполняется» / «Не передан в ЕИИС «Соцстрах»» … plus the FSS state when known."""
    label = journal_state(eln).label
    if eln.ln_state and eln.ln_state != "000" and eln.ln_state in LN_STATES:
        return f"{label}; {LN_STATES.title(eln.ln_state)} ({eln.ln_state})"
    return label


def row_period(row: JournalRow) -> str:
    if row.first_dt1 is None:
        return ""
    return f"{format_date(row.first_dt1)}–{format_date(row.last_dt2)}"


def signature_text(eln: Eln, block: Block) -> str | None:
    """«Подписано: ФИО, дата» for a signed block, None otherwise."""
    sig = signatures.block_signature(eln, block)
    if sig is None:
        return None
    return f"Подписано ({block.slot.label}): {sig.signer_name}, {format_datetime(sig.signed_at)}"


def vk_needed(eln: Eln, index: int) -> tuple[str, ...]:
    """Why period ``index`` needs the VK chairman (empty if it does not, as far as known now)."""
    if index >= len(eln.treat_periods):
        return ()
    return signatures.vk_reasons(eln, index)


def sign_blocks(eln: Eln) -> list[Block]:
    """Every block of the ELN that has data and could carry a signature, in form order."""
    blocks: list[Block] = []
    b = eln.hospital_breach
    if b is not None and (b.code or b.dt or b.signature):
        blocks.append(Block("breach"))
    for i, p in enumerate(eln.treat_periods):
        blocks.append(Block("period", SignerSlot.DOC, i))
        if p.chairman or p.chairman_signature or vk_needed(eln, i):
            blocks.append(Block("period", SignerSlot.VK, i))
    r = eln.ln_result
    if r is not None and (not r.is_empty() or r.signature):
        blocks.append(Block("result"))
    return blocks
