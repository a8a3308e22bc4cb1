"""Lifecycle transitions, their refusals with exact messages, and signed-block immutability."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from eln_tui.core.domain import lifecycle as lc
from eln_tui.core.domain.codes import JournalState, SignerSlot
from eln_tui.core.domain.model import Block, Eln, Employer, HospitalBreach, Source
from eln_tui.core.domain.signatures import (
    REASON_LATE,
    REASON_OVER_15,
    REASON_RETROACTIVE,
    missing_signatures,
    required_signatures,
)
from eln_tui.core.errors import (
    ConsentMissing,
    DeleteForbidden,
    IncompleteBlock,
    NotElectronic,
    NumberAlreadyAssigned,
    SignedBlockImmutable,
    SignerNotAllowed,
    SnilsMissing,
    TooManyPeriods,
    TransitionError,
)
from tests.core.factories import (
    CHAIRMAN,
    DOCTOR,
    LN_CODE,
    NOW,
    NURSE,
    OPERATOR,
    lpu,
    open_eln,
    patient,
    signature,
    valid_eln,
)

START = date(2024, 3, 11)
DOC0 = Block("period", SignerSlot.DOC, 0)
VK0 = Block("period", SignerSlot.VK, 0)
RESULT = Block("result")


def new_eln(**kw: object) -> Eln:
    return lc.create(
        patient=kw.pop("patient", patient()),  # type: ignore[arg-type]
        lpu=lpu(),
        ln_date=START,
        employer=Employer(name="ООО «Ромашка»"),
        **kw,  # type: ignore[arg-type]
    )


def signed_first_period() -> Eln:
    eln = lc.add_period(
        open_eln(treat_periods=[]),
        START,
        START + timedelta(4),
        doctor=DOCTOR.full_name,
        doctor_role="Врач-терапевт",
    )
    return lc.sign(eln, DOC0, DOCTOR, signature())


# --- create, consent, number -------------------------------------------------------------------


def test_create_is_electronic_without_consent_or_number() -> None:
    eln = new_eln()
    assert eln.electronic and not eln.written_agreement_flag
    assert eln.ln_code is None and eln.ln_state == "000"


def test_consent_required_with_exact_message() -> None:
    eln = new_eln()
    with pytest.raises(ConsentMissing) as err:
        lc.ensure_consent(eln)
    assert err.value.message == "Не получено письменное согласие пациента на создание ЭЛН"
    assert err.value.field == "written_agreement_flag"
    lc.ensure_consent(lc.record_consent(eln))


def test_paper_ln_needs_no_consent_but_cannot_take_a_number() -> None:
    eln = new_eln(electronic=False)
    lc.ensure_consent(eln)
    with pytest.raises(NotElectronic):
        lc.ensure_can_take_number(eln)


def test_no_snils_blocks_the_number_with_exact_message() -> None:
    eln = new_eln(patient=patient(snils=None))
    with pytest.raises(SnilsMissing) as err:
        lc.assign_number(eln, LN_CODE)
    assert err.value.message == "У пациента отсутствует СНИЛС, выписка электронного ЛН невозможна!"
    assert err.value.field == "patient.snils"


def test_number_is_assigned_once_and_locked() -> None:
    eln = lc.assign_number(new_eln(), LN_CODE)
    assert eln.ln_code == LN_CODE and eln.number_from_pool
    with pytest.raises(NumberAlreadyAssigned) as err:
        lc.assign_number(eln, "900000000002")
    assert "Номер ЭЛН получен из сервиса ЕИИС «Соцстрах»" in err.value.message
    changed = replace(eln, ln_code="900000000002")
    with pytest.raises(SignedBlockImmutable) as err2:
        lc.ensure_signed_unchanged(eln, changed)
    assert err2.value.field == "ln_code"


def test_transitions_do_not_change_their_argument() -> None:
    eln = new_eln()
    lc.record_consent(eln)
    lc.assign_number(eln, LN_CODE)
    assert not eln.written_agreement_flag and eln.ln_code is None


# --- periods and signatures ----------------------------------------------------------------


def test_sign_requires_consent() -> None:
    eln = replace(open_eln(), written_agreement_flag=False)
    with pytest.raises(ConsentMissing) as err:
        lc.sign(eln, DOC0, DOCTOR, signature())
    assert err.value.message == "Не получено письменное согласие пациента на создание ЭЛН"


def test_sign_requires_a_number() -> None:
    eln = replace(open_eln(), ln_code=None, number_from_pool=False)
    with pytest.raises(TransitionError, match="Получить номер"):
        lc.sign(eln, DOC0, DOCTOR, signature())


def test_nurse_may_sign_doctor_slot_but_not_vk() -> None:
    eln = lc.sign(open_eln(), DOC0, NURSE, signature(NURSE))
    assert eln.treat_periods[0].doctor_signature is not None
    eln.treat_periods[0].chairman = CHAIRMAN.full_name
    eln.treat_periods[0].chairman_role = "ПРЕД ВК"
    with pytest.raises(SignerNotAllowed) as err:
        lc.sign(eln, VK0, NURSE, signature(NURSE))
    assert "ЭП председателя ВК" in err.value.message
    with pytest.raises(SignerNotAllowed):
        lc.sign(open_eln(), DOC0, OPERATOR, signature(OPERATOR))


def test_vk_signs_after_the_doctor_and_needs_chairman_fields() -> None:
    eln = open_eln()
    with pytest.raises(TransitionError, match="сначала подписывает врач"):
        lc.sign(eln, VK0, CHAIRMAN, signature(CHAIRMAN))
    eln = lc.sign(eln, DOC0, DOCTOR, signature())
    with pytest.raises(IncompleteBlock) as err:
        lc.sign(eln, VK0, CHAIRMAN, signature(CHAIRMAN))
    assert err.value.field == "treat_periods[0].chairman"
    assert "«ФИО председателя ВК», «Должность председателя ВК»" in err.value.message
    eln = lc.update_period(eln, 0, chairman=CHAIRMAN.full_name)
    assert eln.treat_periods[0].chairman_role == "ПРЕД ВК"
    eln = lc.sign(eln, VK0, CHAIRMAN, signature(CHAIRMAN))
    assert eln.treat_periods[0].chairman_signature is not None


def test_incomplete_period_cannot_be_signed() -> None:
    eln = open_eln()
    eln.treat_periods[0].doctor_role = None
    with pytest.raises(IncompleteBlock) as err:
        lc.sign(eln, DOC0, DOCTOR, signature())
    assert err.value.message == (
        "Запись «Освобождение от работы» № 1 нельзя подписать: не заполнены поля «Должность врача»."
    )


def test_signed_period_is_immutable() -> None:
    eln = signed_first_period()
    with pytest.raises(SignedBlockImmutable) as err:
        lc.update_period(eln, 0, dt2=START + timedelta(6))
    assert err.value.message == (
        "Запись «Освобождение от работы» № 1 подписана (ЭП врача): поле «Дата по» изменить нельзя."
    )
    assert err.value.field == "treat_periods[0].dt2"
    assert err.value.block == "3_doc"
    # chairman fields are not covered by the doctor's signature
    lc.update_period(eln, 0, chairman=CHAIRMAN.full_name)


def test_signature_cannot_be_removed_or_signed_twice() -> None:
    eln = signed_first_period()
    stripped = eln.copy()
    stripped.treat_periods[0].doctor_signature = None
    with pytest.raises(SignedBlockImmutable, match="снять подпись нельзя"):
        lc.ensure_signed_unchanged(eln, stripped)
    with pytest.raises(SignedBlockImmutable, match="уже подписана"):
        lc.sign(eln, DOC0, DOCTOR, signature())
    dropped = eln.copy()
    dropped.treat_periods.clear()
    with pytest.raises(SignedBlockImmutable, match="удалить её нельзя"):
        lc.ensure_signed_unchanged(eln, dropped)


def test_vk_signature_covers_chairman_fields() -> None:
    eln = signed_first_period()
    eln = lc.update_period(eln, 0, chairman=CHAIRMAN.full_name)
    eln = lc.sign(eln, VK0, CHAIRMAN, signature(CHAIRMAN))
    with pytest.raises(SignedBlockImmutable) as err:
        lc.update_period(eln, 0, chairman="Другой Председатель")
    assert err.value.block == "3_vk"
    assert "(ЭП председателя ВК)" in err.value.message


def test_extend_up_to_three_periods() -> None:
    eln = signed_first_period()
    with pytest.raises(TransitionError, match="Сначала подпишите"):
        lc.extend(
            lc.extend(
                eln, START + timedelta(5), START + timedelta(9), doctor="Д", doctor_role="Врач"
            ),
            START + timedelta(10),
            START + timedelta(12),
            doctor="Д",
            doctor_role="Врач",
        )
    for k in (1, 2):
        last = eln.treat_periods[-1].dt2
        assert last is not None
        eln = lc.extend(
            eln,
            last + timedelta(1),
            last + timedelta(3),
            doctor=DOCTOR.full_name,
            doctor_role="Врач-терапевт",
        )
        eln = lc.sign(eln, Block("period", SignerSlot.DOC, k), DOCTOR, signature())
    assert len(eln.treat_periods) == 3
    with pytest.raises(TooManyPeriods) as err:
        lc.extend(eln, START + timedelta(20), START + timedelta(22), doctor="Д", doctor_role="В")
    assert err.value.message.startswith("В ЭЛН не может быть более трёх периодов")


def test_required_signatures_vk_reasons() -> None:
    eln = signed_first_period()
    assert [(r.block.suffix, r.satisfied) for r in required_signatures(eln)] == [("3_doc", True)]
    # over 15 days counted from the first period
    eln = lc.extend(
        eln,
        START + timedelta(5),
        START + timedelta(16),
        doctor=DOCTOR.full_name,
        doctor_role="Врач-терапевт",
    )
    reqs = required_signatures(eln)
    assert [(r.block.suffix, r.reasons) for r in reqs] == [
        ("3_doc", ()),
        ("4_doc", ()),
        ("4_vk", (REASON_OVER_15,)),
    ]
    # retroactive issue
    retro = replace(open_eln(), ln_date=START + timedelta(1))
    assert [r.reasons for r in required_signatures(retro) if r.block.slot is SignerSlot.VK] == [
        (REASON_RETROACTIVE,)
    ]
    # late sending: only known at send time
    eln = open_eln()
    assert not [r for r in required_signatures(eln, START + timedelta(4)) if r.reasons]
    late = required_signatures(eln, START + timedelta(5))
    assert [r.reasons for r in late if r.block.slot is SignerSlot.VK] == [(REASON_LATE,)]
    assert [r.block.suffix for r in missing_signatures(eln, START + timedelta(5))] == [
        "3_doc",
        "3_vk",
    ]


# --- breach, МСЭ, close ----------------------------------------------------------------------


def test_breach_block() -> None:
    eln = lc.set_breach(signed_first_period(), "24", START + timedelta(2))
    eln = lc.sign(eln, Block("breach"), DOCTOR, signature())
    with pytest.raises(SignedBlockImmutable, match="нарушении режима"):
        lc.set_breach(eln, "25", START + timedelta(2))


def test_refer_to_mse() -> None:
    eln = lc.refer_to_mse(signed_first_period(), START + timedelta(3))
    assert eln.mse_dt1 == START + timedelta(3)
    assert lc.next_send_blocks(eln) == ["treat_periods[0]"]


def test_close_with_return_to_work() -> None:
    eln = signed_first_period()
    with pytest.raises(TransitionError) as err:
        lc.close(eln, START + timedelta(4))
    assert err.value.message == (
        "Дата выхода на работу не может быть равна или ранее даты окончания периода "
        "нетрудоспособности."
    )
    closed = lc.close(eln, START + timedelta(5))
    assert closed.ln_result is not None and closed.ln_result.return_date_lpu == START + timedelta(5)
    with pytest.raises(TransitionError, match="ЭЛН закрыт"):
        lc.extend(closed, START + timedelta(5), START + timedelta(7), doctor="Д", doctor_role="В")
    signed = lc.sign(closed, RESULT, DOCTOR, signature())
    with pytest.raises(SignedBlockImmutable, match="уже закрыт"):
        lc.close(signed, START + timedelta(6))


def test_close_needs_signed_periods() -> None:
    with pytest.raises(TransitionError, match="подпишите ЭП врача период № 1"):
        lc.close(open_eln(), START + timedelta(5))


def test_close_other_and_continue_as_new() -> None:
    eln = signed_first_period()
    old, new = lc.continue_as_new(eln, "900000000002", ln_date=START + timedelta(5))
    assert old.ln_result is not None
    assert (old.ln_result.mse_result, old.ln_result.next_ln_code) == ("31", "900000000002")
    assert old.ln_result.other_state_dt == START + timedelta(5)
    assert new.ln_code == "900000000002" and new.number_from_pool
    assert not new.primary_flag and new.prev_ln_code == LN_CODE
    assert new.prev_ln_issuer == lpu().name
    assert new.treat_periods == [] and new.patient == eln.patient and new.reason1 == "01"
    with pytest.raises(TransitionError, match="справочнике «Иное»"):
        lc.close_other(eln, "99", START)


def test_duplicate_terminates_the_original() -> None:
    eln = lc.sign(
        lc.close(signed_first_period(), START + timedelta(5)), RESULT, DOCTOR, signature()
    )
    with pytest.raises(SignerNotAllowed, match="врачебной комиссии"):
        lc.duplicate(
            eln, "900000000003", ln_date=START + timedelta(6), terminated_by=DOCTOR, at=NOW
        )
    old, dup = lc.duplicate(
        eln, "900000000003", ln_date=START + timedelta(6), terminated_by=CHAIRMAN, at=NOW
    )
    assert old.termination is not None and old.termination.reason_code == "030"
    assert old.termination.reason == "Выдан ЛН-дубликат"
    assert dup.duplicate_flag and dup.previously_issued_code == LN_CODE
    assert dup.treat_periods[0].doctor_signature is None and dup.ln_result is not None
    assert dup.ln_result.signature is None and dup.ln_state == "000"


def test_cancel_and_delete() -> None:
    eln = signed_first_period()
    with pytest.raises(DeleteForbidden) as err:
        lc.ensure_deletable(eln)
    assert "Прекращение ЛН" in err.value.message
    with pytest.raises(DeleteForbidden, match="подписанные записи"):
        lc.ensure_deletable(replace(eln, number_from_pool=False))
    with pytest.raises(TransitionError, match="справочнике"):
        lc.cancel(eln, "020", "Обнаружены расхождения", OPERATOR, NOW)
    cancelled = lc.cancel(eln, "010", "", OPERATOR, NOW)
    assert cancelled.termination is not None
    assert cancelled.termination.reason == "Отмена оформления"
    assert lc.journal_state(cancelled) is JournalState.TERMINATED
    with pytest.raises(TransitionError, match="ЛН прекращен"):
        lc.sign(cancelled, RESULT, DOCTOR, signature())
    with pytest.raises(TransitionError, match="ЛН прекращен"):
        lc.cancel(cancelled, "010", "", OPERATOR, NOW)
    lc.ensure_deletable(replace(new_eln(), ln_code=None))
    with pytest.raises(TransitionError, match="ЛН прекращен"):
        lc.ensure_signed_unchanged(cancelled, replace(cancelled, diagnos="J20.9"))
    with pytest.raises(TransitionError, match="ЛН прекращен"):
        lc.ensure_signed_unchanged(cancelled, replace(cancelled, termination=None))
    sent = lc.mark_sent(cancelled, ln_state="090", ln_hash=None, blocks=["termination"], at=NOW)
    lc.ensure_signed_unchanged(cancelled, sent)
    assert sent.termination is not None and sent.termination.sent


# --- journal state ---------------------------------------------------------------------------


def test_journal_state_follows_signatures_and_sends() -> None:
    eln = open_eln()
    assert lc.journal_state(eln) is JournalState.DRAFT  # period not signed yet
    eln = lc.sign(eln, DOC0, DOCTOR, signature())
    assert lc.journal_state(eln) is JournalState.PENDING
    failed = lc.mark_transfer_error(eln, "ЭЦП неверна")
    assert lc.journal_state(failed) is JournalState.ERROR
    sent = lc.mark_sent(
        failed, ln_state="010", ln_hash="A" * 32, blocks=["treat_periods[0]"], at=NOW
    )
    assert lc.journal_state(sent) is JournalState.SENT and sent.transfer_error is None
    closed = lc.sign(lc.close(sent, START + timedelta(5)), RESULT, DOCTOR, signature())
    assert lc.journal_state(closed) is JournalState.PENDING
    received = replace(valid_eln(), source=Source.FSS)
    for p in received.treat_periods:
        p.sent = True
    received.ln_result.sent = True  # type: ignore[union-attr]
    assert lc.journal_state(received) is JournalState.RECEIVED


def test_next_send_is_one_period_at_a_time() -> None:
    eln = signed_first_period()
    eln = lc.extend(
        eln,
        START + timedelta(5),
        START + timedelta(7),
        doctor=DOCTOR.full_name,
        doctor_role="Врач-терапевт",
    )
    eln = lc.set_breach(eln, "24", START + timedelta(1))
    assert lc.next_send_blocks(eln) == ["treat_periods[0]", "hospital_breach"]
    eln = lc.mark_sent(
        eln, ln_state="010", ln_hash=None, blocks=["treat_periods[0]", "hospital_breach"], at=NOW
    )
    assert lc.next_send_blocks(eln) == ["treat_periods[1]"]


def test_update_refuses_protected_fields() -> None:
    with pytest.raises(TypeError):
        lc.update(open_eln(), ln_code="1")
    eln = lc.update(open_eln(), diagnos="J20.9", hospital_breach=HospitalBreach())
    assert eln.diagnos == "J20.9"
