"""ФЛК: each of the 25 seed rules alone, the schema constraints, and a valid ELN."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest

from eln_tui.core.domain import flk
from eln_tui.core.domain.codes import V11
from eln_tui.core.domain.flk import RULES, CheckContext, Severity, check
from eln_tui.core.domain.model import (
    CareRecord,
    Eln,
    Employer,
    Gender,
    HospitalBreach,
    LnResult,
)
from eln_tui.core.errors import FlkFailed
from tests.core.factories import TODAY, patient, period, signature, valid_eln

CTX = CheckContext(today=TODAY)
D0 = date(2024, 1, 10)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def female(**kw: object) -> Eln:
    return valid_eln(patient=patient(gender=Gender.FEMALE, name="Анна", surname="Петрова"), **kw)


def maternity(total_days: int, **kw: object) -> Eln:
    kw.setdefault("date1", D0 + days(70))
    return female(
        reason1="05",
        ln_date=D0,
        treat_periods=[period(D0, D0 + days(total_days - 1))],
        ln_result=LnResult(return_date_lpu=D0 + days(total_days)),
        **kw,
    )


def voucher(**kw: object) -> dict[str, object]:
    values: dict[str, object] = {
        "voucher_no": "0000012345",
        "voucher_ogrn": "1027500716143",
        "date1": date(2024, 3, 11),
        "date2": date(2024, 3, 15),
    }
    values.update(kw)
    return values


def care(**kw: object) -> CareRecord:
    values: dict[str, object] = {
        "relation_code": "39",
        "dt1": date(2024, 3, 11),
        "dt2": date(2024, 3, 15),
        "treatment_type": "1",
        "surname": "Петров",
        "name": "Илья",
        "birthday": date(2019, 1, 1),
        "reason1": "09",
        "diagnosis": "J06.9",
    }
    values.update(kw)
    return CareRecord(**values)  # type: ignore[arg-type]


def long_period(n: int, **kw: object) -> Eln:
    start = date(2024, 2, 1)
    return valid_eln(
        ln_date=start,
        treat_periods=[period(start, start + days(n - 1), **kw)],
        ln_result=LnResult(return_date_lpu=start + days(n)),
    )


# rule id -> (ELN breaking only that rule, field path the violation must point at)
BREAKERS: dict[str, tuple[Callable[[], Eln], str]] = {
    "FLK-01": (lambda: valid_eln(ln_code="12345"), "ln_code"),
    "FLK-02": (lambda: valid_eln(primary_flag=False), "prev_ln_code"),
    "FLK-03": (lambda: valid_eln(lpu=replace(valid_eln().lpu, ogrn=None)), "lpu.ogrn"),
    "FLK-04": (lambda: valid_eln(lpu=replace(valid_eln().lpu, ogrn="102773944323")), "lpu.ogrn"),
    "FLK-05": (lambda: valid_eln(reason1=None), "reason1"),
    "FLK-06": (lambda: valid_eln(employer=Employer(name=None)), "employer.name"),
    "FLK-07": (lambda: valid_eln(voucher_ogrn="10275007161"), "voucher_ogrn"),
    "FLK-08": (
        lambda: valid_eln(
            ln_result=LnResult(mse_result="31", other_state_dt=date(2024, 3, 16), next_ln_code="9")
        ),
        "ln_result.next_ln_code",
    ),
    "FLK-09": (lambda: valid_eln(reason1="05", date1=date(2024, 6, 1)), "reason1"),
    "FLK-10": (
        lambda: valid_eln(reason1=None, diagnos=None, serv_data=[care(relation_code="38")]),
        "serv_data[0].relation_code",
    ),
    "FLK-11": (lambda: maternity(140, date1=None), "date1"),
    "FLK-12": (lambda: valid_eln(reason1="08"), "voucher_no"),
    "FLK-13": (lambda: valid_eln(reason2="017", **voucher(voucher_no=None)), "voucher_no"),
    "FLK-14": (lambda: valid_eln(reason1="02", reason2="018", **voucher(date2=None)), "date2"),
    "FLK-15": (lambda: valid_eln(reason1="01", reason2="018", **voucher()), "reason2"),
    "FLK-16": (lambda: valid_eln(reason2="019", **voucher(voucher_ogrn=None)), "voucher_ogrn"),
    "FLK-17": (lambda: valid_eln(pregn12w_flag=True), "pregn12w_flag"),
    "FLK-18": (lambda: valid_eln(hospital_breach=HospitalBreach(code="24")), "hospital_breach.dt"),
    "FLK-19": (
        lambda: valid_eln(hospital_dt1=date(2024, 3, 11), hospital_dt2=date(2024, 3, 16)),
        "ln_result.return_date_lpu",
    ),
    "FLK-20": (
        lambda: valid_eln(
            mse_dt1=date(2024, 3, 14),
            ln_result=LnResult(mse_result="32", other_state_dt=date(2024, 3, 16)),
        ),
        "mse_dt2",
    ),
    "FLK-21": (lambda: long_period(16), "treat_periods[0].chairman"),
    "FLK-22": (lambda: maternity(120), "treat_periods[0].dt2"),
    "FLK-23": (lambda: maternity(20, reason2="020"), "treat_periods[0].dt2"),
    "FLK-24": (
        lambda: valid_eln(ln_result=LnResult(return_date_lpu=date(2024, 3, 15))),
        "ln_result.return_date_lpu",
    ),
    "FLK-25": (lambda: valid_eln(ln_date=date(2024, 3, 12)), "treat_periods[0].chairman"),
}


def test_every_seed_rule_has_a_breaker() -> None:
    assert set(BREAKERS) == set(flk.SEED_RULE_IDS)
    assert len(flk.SEED_RULE_IDS) == 25


def test_valid_eln_passes_with_zero_violations() -> None:
    assert check(valid_eln(), CTX) == []


@pytest.mark.parametrize(
    "builder",
    [
        lambda: maternity(140),
        lambda: maternity(194),
        lambda: maternity(54, reason2="020"),
        lambda: maternity(16, reason2="020", date1=None),  # SAMSON waives date1 with 020
        lambda: valid_eln(reason1="08", **voucher()),
        lambda: valid_eln(reason1="02", reason2="018", **voucher()),
        lambda: valid_eln(reason1=None, diagnos=None, serv_data=[care()]),
        lambda: female(
            reason1=None, serv_data=[care(relation_code="38"), care(relation_code="38", name="Оля")]
        ),
        lambda: valid_eln(ln_result=None),
        lambda: long_period(15),
    ],
    ids=["140", "194", "020-54", "020-16-no-date1", "08", "018", "care", "care2", "open", "15d"],
)
def test_other_valid_elns_pass(builder: Callable[[], Eln]) -> None:
    assert check(builder(), CTX) == []


@pytest.mark.parametrize("rule_id", flk.SEED_RULE_IDS)
def test_each_rule_alone(rule_id: str) -> None:
    builder, field = BREAKERS[rule_id]
    found = check(builder(), CTX)
    assert [(v.rule_id, v.field) for v in found] == [(rule_id, field)]
    assert found[0].message == RULES[rule_id].message
    assert found[0].severity is Severity.ERROR
    with pytest.raises(FlkFailed) as raised:
        flk.ensure_valid(builder(), CTX)
    assert raised.value.violations == found
    assert raised.value.message == RULES[rule_id].message


def test_exact_seed_wording_of_some_rules() -> None:
    assert RULES["FLK-01"].message == (
        "Поле «Номер листка нетрудоспособности» должно содержать 12 цифр."
    )
    assert RULES["FLK-03"].message == "Поле «ОГРН МО» обязательно для заполнения."
    assert RULES["FLK-24"].message == (
        "Дата выхода на работу не может быть равна или ранее даты окончания периода "
        "нетрудоспособности."
    )


def test_all_violations_at_once() -> None:
    eln = valid_eln(ln_code="1", reason1=None, pregn12w_flag=True, employer=Employer())
    ids = [v.rule_id for v in check(eln, CTX)]
    assert ids == ["FLK-01", "FLK-05", "FLK-06", "FLK-17"]


def test_rule_21_counts_from_first_period_and_chairman_fixes_it() -> None:
    start = date(2024, 2, 1)
    periods = [period(start, start + days(9)), period(start + days(10), start + days(19))]
    eln = valid_eln(ln_date=start, treat_periods=periods, ln_result=None)
    assert [(v.rule_id, v.field) for v in check(eln, CTX)] == [
        ("FLK-21", "treat_periods[1].chairman")
    ]
    periods[1] = replace(periods[1], chairman="Сидорова Анна Петровна", chairman_role="ПРЕД ВК")
    assert check(replace(eln, treat_periods=periods), CTX) == []


def test_rule_21_does_not_apply_to_maternity_leave() -> None:
    assert check(maternity(140), CTX) == []


def test_rule_9_either_code_alone() -> None:
    found = check(valid_eln(reason2="020"), CTX)
    assert [(v.rule_id, v.field) for v in found] == [("FLK-09", "reason2")]


def test_rule_10_father_must_be_male() -> None:
    eln = female(reason1=None, serv_data=[care(relation_code="39")])
    assert [v.rule_id for v in check(eln, CTX)] == ["FLK-10"]


def test_rule_5_v11_requires_row_reason_even_for_care() -> None:
    eln = valid_eln(reason1=None, serv_data=[care()])
    assert check(eln, CTX) == []
    found = check(eln, CheckContext(today=TODAY, version=V11))
    assert [(v.rule_id, v.field) for v in found] == [("FLK-05", "reason1")]


def test_rule_5_care_member_without_reason() -> None:
    eln = valid_eln(reason1=None, serv_data=[care(reason1=None, treatment_type=None)])
    assert [(v.rule_id, v.field) for v in check(eln, CTX)] == [("FLK-05", "serv_data[0].reason1")]


def test_rule_6_not_needed_when_registered_with_employment_service() -> None:
    eln = valid_eln(employer=Employer(), patient=patient(employment_service_flag=True))
    assert check(eln, CTX) == []


# --- schema constraints -------------------------------------------------------------------


def ids_fields(eln: Eln, ctx: CheckContext = CTX) -> list[tuple[str, str]]:
    return [(v.rule_id, v.field) for v in check(eln, ctx)]


@pytest.mark.parametrize(
    ("eln", "expected"),
    [
        (valid_eln(patient=patient(snils=None)), ("SCH-REQ", "patient.snils")),
        (valid_eln(patient=patient(snils="11223344596")), ("SCH-SNILS-CHECK", "patient.snils")),
        (valid_eln(patient=patient(snils="112-233-445 95")), ("SCH-SNILS", "patient.snils")),
        (valid_eln(patient=patient(surname="Ж" * 61)), ("SCH-LEN", "patient.surname")),
        (valid_eln(lpu=replace(valid_eln().lpu, name="М" * 91)), ("SCH-LEN", "lpu.name")),
        (valid_eln(diagnos="J06.9000000"), ("SCH-LEN", "diagnos")),
        (valid_eln(lpu=replace(valid_eln().lpu, address=None)), ("SCH-REQ", "lpu.address")),
        (
            valid_eln(lpu=replace(valid_eln().lpu, ogrn="1027739443237")),
            ("SCH-OGRN-CHECK", "lpu.ogrn"),
        ),
        (
            valid_eln(lpu=replace(valid_eln().lpu, ogrn="2027739443236")),
            ("SCH-OGRN-CHECK", "lpu.ogrn"),
        ),
        (valid_eln(voucher_ogrn="1027500716144"), ("SCH-OGRN-CHECK", "voucher_ogrn")),
        (valid_eln(reason1="16"), ("SCH-CODE", "reason1")),
        (valid_eln(reason2="022"), ("SCH-CODE", "reason2")),
        (valid_eln(mse_invalid_group="4"), ("SCH-CODE", "mse_invalid_group")),
        (valid_eln(ln_state="015"), ("SCH-CODE", "ln_state")),
        (valid_eln(written_agreement_flag=False), ("SCH-AGREEMENT", "written_agreement_flag")),
        (valid_eln(prev_ln_code="12"), ("SCH-LNCODE", "prev_ln_code")),
        (valid_eln(duplicate_flag=True), ("SCH-DUPLICATE-REF", "previously_issued_code")),
        (valid_eln(voucher_no="123"), ("SCH-VOUCHER-NO", "voucher_no")),
        (
            valid_eln(patient=patient(birthday=TODAY + days(1))),
            ("SCH-DATE-FUTURE", "patient.birthday"),
        ),
        (valid_eln(treat_periods=[]), ("SCH-REQ", "treat_periods")),
        (valid_eln(reason1="09"), ("SCH-CARE-MISSING", "serv_data")),
        (
            valid_eln(reason1=None, serv_data=[care(treatment_type=None)]),
            ("SCH-TREATMENT-TYPE", "serv_data[0].treatment_type"),
        ),
        (
            valid_eln(reason1=None, serv_data=[care(), care(), care()]),
            ("SCH-CARE-MAX", "serv_data[2]"),
        ),
        (
            valid_eln(hospital_dt1=date(2024, 3, 12), hospital_dt2=date(2024, 3, 11)),
            ("SCH-HOSPITAL-ORDER", "hospital_dt2"),
        ),
        (
            valid_eln(hospital_breach=HospitalBreach(code="24", dt=date(2024, 3, 1))),
            ("SCH-BREACH-DATE", "hospital_breach.dt"),
        ),
        (
            valid_eln(ln_result=LnResult(mse_result="36")),
            ("SCH-OTHER-STATE-PAIR", "ln_result.other_state_dt"),
        ),
        (
            valid_eln(ln_result=LnResult(mse_result="36", other_state_dt=date(2024, 3, 1))),
            ("SCH-OTHER-STATE-DATE", "ln_result.other_state_dt"),
        ),
    ],
)
def test_schema_constraint(eln: Eln, expected: tuple[str, str]) -> None:
    assert ids_fields(eln) == [expected]


def test_issue_date_in_future_depends_on_context_today() -> None:
    eln = valid_eln()
    assert check(eln, CheckContext(today=date(2024, 3, 11))) == []
    assert ids_fields(eln, CheckContext(today=date(2024, 3, 10))) == [
        ("SCH-DATE-FUTURE", "ln_date")
    ]


def test_died_may_be_dated_before_issue() -> None:
    eln = valid_eln(ln_result=LnResult(mse_result="34", other_state_dt=date(2024, 3, 1)))
    assert check(eln, CTX) == []


def test_invalid_group_9_only_in_v20() -> None:
    eln = valid_eln(mse_invalid_group="9")
    assert check(eln, CTX) == []
    assert ids_fields(eln, CheckContext(today=TODAY, version=V11)) == [
        ("SCH-CODE", "mse_invalid_group")
    ]


def test_periods_order_and_contiguity() -> None:
    s = date(2024, 3, 1)
    eln = valid_eln(
        ln_date=s,
        treat_periods=[period(s, s + days(2)), period(s + days(4), s + days(3))],
        ln_result=None,
    )
    assert ids_fields(eln) == [
        ("SCH-PERIOD-ORDER", "treat_periods[1].dt2"),
        ("SCH-PERIOD-CONTIGUOUS", "treat_periods[1].dt1"),
    ]


def test_four_periods_only_in_v11() -> None:
    s = date(2024, 3, 1)
    periods = [period(s + days(3 * i), s + days(3 * i + 2)) for i in range(4)]
    eln = valid_eln(ln_date=s, treat_periods=periods, ln_result=None)
    assert ("SCH-PERIODS-MAX", "treat_periods[3]") in ids_fields(eln)
    assert "SCH-PERIODS-MAX" not in {
        r for r, _ in ids_fields(eln, CheckContext(today=TODAY, version=V11))
    }


def test_chairman_role_must_be_pred_vk() -> None:
    eln = valid_eln(
        treat_periods=[
            period(
                date(2024, 3, 11),
                date(2024, 3, 15),
                chairman="Сидорова А. П.",
                chairman_role="Заведующая",
            )
        ]
    )
    assert ids_fields(eln) == [("SCH-CHAIRMAN-ROLE", "treat_periods[0].chairman_role")]
    eln.treat_periods[0].chairman_role = None
    assert ids_fields(eln) == [("SCH-CHAIRMAN-PAIR", "treat_periods[0].chairman_role")]


def test_snils_triple_digit_is_only_a_warning() -> None:
    # 111222333: S = 9 + 8 + 7 + 12 + 10 + 8 + 9 + 6 + 3 = 72
    found = check(valid_eln(patient=patient(snils="11122233372")), CTX)
    assert [(v.rule_id, v.severity) for v in found] == [("W-SNILS-REPEAT", Severity.WARNING)]
    assert flk.ensure_valid(valid_eln(patient=patient(snils="11122233372")), CTX) == found


def test_signatures_checked_only_before_sending() -> None:
    eln = valid_eln()
    assert check(eln, CTX) == []
    ctx = CheckContext(today=TODAY, check_signatures=True)
    assert ids_fields(eln, ctx) == [
        ("SIG-DOC", "ln_result"),
        ("SIG-DOC", "treat_periods[0]"),
    ]
    eln.treat_periods[0].doctor_signature = signature()
    eln.ln_result.signature = signature()  # type: ignore[union-attr]
    assert check(eln, ctx) == []


def test_periods_accepted_by_the_fund_need_no_local_signature() -> None:
    """An ELN received from the Fund carries periods signed where they were sent."""
    eln = valid_eln(ln_result=None)
    ctx = CheckContext(today=TODAY, send_date=date(2024, 3, 18), check_signatures=True)
    assert {v.rule_id for v in check(eln, ctx)} == {"SIG-DOC", "SIG-VK"}
    eln.treat_periods[0].sent = True
    assert check(eln, ctx) == []


def test_late_sending_needs_vk_signature() -> None:
    eln = valid_eln(ln_result=None)
    eln.treat_periods[0].doctor_signature = signature()
    on_time = CheckContext(today=TODAY, send_date=date(2024, 3, 15), check_signatures=True)
    assert check(eln, on_time) == []
    late = CheckContext(today=TODAY, send_date=date(2024, 3, 18), check_signatures=True)
    found = check(eln, late)
    assert [(v.rule_id, v.field) for v in found] == [("SIG-VK", "treat_periods[0].chairman")]
    assert "позже даты его окончания" in found[0].message


def test_rule_6_not_for_an_eln_taken_over_from_the_fund_in_v20() -> None:
    """v2.0 sends no employer and getLNData returns none: an ELN received from another МО is
    continued or closed without one; an ELN of our own still needs it, and v1.1 sends it."""
    from eln_tui.core.domain.model import Source

    received = valid_eln(employer=Employer(), source=Source.FSS)
    assert "FLK-06" not in [v.rule_id for v in check(received, CTX)]
    own = valid_eln(employer=Employer())
    assert "FLK-06" in [v.rule_id for v in check(own, CTX)]
    v11 = replace(CTX, version=V11)
    assert "FLK-06" in [v.rule_id for v in check(received, v11)]
