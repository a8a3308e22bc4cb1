"""Which blocks of an ELN need which signatures (seed 000; domain.md §1, §2 item 7, §5, §9).

- Every filled block needs its doctor signature (`_doc`): each period, the breach block, the
  result block.
- A period also needs the VK chairman (`_vk`) when
  * the incapacity on this ELN up to the end of the period exceeds 15 days (ФЛК 21; not for
    reason 05, see :func:`period_over_15_days`),
  * the ELN was issued after the period started (ФЛК 25, retroactive issue),
  * the period is sent after its end date (late sending, domain.md §5) — only known at send time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from eln_tui.core.domain.codes import MATERNITY_REASON, SignerSlot
from eln_tui.core.domain.model import Block, Eln, Signature

VK_LIMIT_DAYS = 15

REASON_OVER_15 = "период нетрудоспособности по ЛН превышает 15 дней"
REASON_RETROACTIVE = "дата выдачи ЭЛН позже даты начала периода освобождения от работы"
REASON_LATE = "период передаётся в ЕИИС «Соцстрах» позже даты его окончания"


@dataclass(frozen=True)
class Requirement:
    """One signature a block needs; ``reasons`` say why a VK signature is needed (Russian)."""

    block: Block
    satisfied: bool
    reasons: tuple[str, ...] = ()


def effective_reason(eln: Eln) -> str | None:
    """Row reason, or for a v2.0 care ELN (row reason empty) the first family member's reason."""
    if eln.reason1:
        return eln.reason1
    for care in eln.serv_data:
        if care.reason1:
            return care.reason1
    return None


def period_over_15_days(eln: Eln, index: int) -> bool:
    """ФЛК 21: incapacity from the first period's start to this period's end is over 15 days.

    Reason 05 (maternity leave, issued at once for 140/156/194 days by the treating doctor under
    1089н) is exempt: our reading, otherwise no valid maternity ELN could pass rule 21.
    """
    periods = eln.treat_periods
    first, this = periods[0].dt1, periods[index].dt2
    if first is None or this is None or effective_reason(eln) == MATERNITY_REASON:
        return False
    return (this - first).days + 1 > VK_LIMIT_DAYS


def period_retroactive(eln: Eln, index: int) -> bool:
    """ФЛК 25: «Дата выдачи» is later than «Дата с» of this period."""
    dt1 = eln.treat_periods[index].dt1
    return eln.ln_date is not None and dt1 is not None and eln.ln_date > dt1


def period_late(eln: Eln, index: int, send_date: date | None) -> bool:
    """Sending a not yet accepted period after its end date needs the VK chairman (seed 000)."""
    period = eln.treat_periods[index]
    return (
        send_date is not None
        and not period.sent
        and period.dt2 is not None
        and send_date > period.dt2
    )


def vk_reasons(eln: Eln, index: int, send_date: date | None = None) -> tuple[str, ...]:
    reasons = []
    if period_over_15_days(eln, index):
        reasons.append(REASON_OVER_15)
    if period_retroactive(eln, index):
        reasons.append(REASON_RETROACTIVE)
    if period_late(eln, index, send_date):
        reasons.append(REASON_LATE)
    return tuple(reasons)


def block_signature(eln: Eln, block: Block) -> Signature | None:
    if block.kind == "breach":
        return eln.hospital_breach.signature if eln.hospital_breach else None
    if block.kind == "result":
        return eln.ln_result.signature if eln.ln_result else None
    assert block.index is not None
    period = eln.treat_periods[block.index]
    return period.doctor_signature if block.slot is SignerSlot.DOC else period.chairman_signature


def required_signatures(eln: Eln, send_date: date | None = None) -> list[Requirement]:
    """All signatures the ELN's filled blocks need, in block order, with their state."""
    result: list[Requirement] = []
    if eln.hospital_breach is not None and (eln.hospital_breach.code or eln.hospital_breach.dt):
        block = Block("breach")
        result.append(Requirement(block, block_signature(eln, block) is not None))
    if eln.ln_result is not None and not eln.ln_result.is_empty():
        block = Block("result")
        result.append(Requirement(block, block_signature(eln, block) is not None))
    for i, period in enumerate(eln.treat_periods):
        # A period the Fund already accepted was signed where it was sent (possibly another МО);
        # its signatures live with the Fund, not in our journal.
        accepted = period.sent
        doc = Block("period", SignerSlot.DOC, i)
        result.append(Requirement(doc, accepted or block_signature(eln, doc) is not None))
        reasons = vk_reasons(eln, i, send_date)
        if reasons:
            vk = Block("period", SignerSlot.VK, i)
            satisfied = accepted or block_signature(eln, vk) is not None
            result.append(Requirement(vk, satisfied, reasons))
    return result


def missing_signatures(eln: Eln, send_date: date | None = None) -> list[Requirement]:
    return [r for r in required_signatures(eln, send_date) if not r.satisfied]
