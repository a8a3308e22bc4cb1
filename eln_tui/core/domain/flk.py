"""Format-logical control (ФЛК) of an ELN: the 25 rules of seed 000 plus the schema constraints.

``check(eln, context)`` returns every violation at once. Each :class:`Violation` has a stable rule
id, the field path it concerns (for UI focus) and a Russian message.

Rule ids:
- ``FLK-01`` … ``FLK-25``: seed 000's list in its numbering (domain.md §9); the message is the
  seed's own Russian wording of the rule (its pop-up texts exist only as pictures).
- ``SCH-*``: constraints of the v2.0 XSD / App. 1 and the date-order rules of domain.md §10.
- ``SIG-*``: missing signatures; only with ``CheckContext(check_signatures=True)`` (before sending).
- ``W-*``: warnings (severity ``warning``) that never block saving.

:data:`RULES` lists every id with its source and whether the check is our reading of the sources.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, timedelta

from eln_tui.core.domain import codes
from eln_tui.core.domain.codes import V11, V20, CodeTable
from eln_tui.core.domain.model import (
    MAX_CARE_RECORDS,
    MAX_PERIODS_V20,
    Eln,
    Gender,
    Source,
    field_title,
)
from eln_tui.core.domain.signatures import (
    effective_reason,
    missing_signatures,
    period_over_15_days,
    period_retroactive,
)
from eln_tui.core.domain.validators import (
    SNILS_UNCHECKED_MAX,
    is_digits,
    is_ln_code,
    ogrn_control,
    snils_control,
    snils_warning,
)
from eln_tui.core.errors import FlkFailed


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Violation:
    rule_id: str
    field: str  # path of the field to focus, e.g. "treat_periods[0].chairman"
    message: str
    severity: Severity = Severity.ERROR
    fields: tuple[str, ...] = ()  # every field the rule read that needs attention

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class CheckContext:
    """What the checks need besides the ELN; dates are explicit so rules are testable."""

    today: date
    version: str = V20  # protocol dialect: "2.0" or "1.1"
    send_date: date | None = None  # registry date: enables the late-sending VK requirement
    check_signatures: bool = False  # before sending: every filled block must be signed


@dataclass(frozen=True)
class Rule:
    id: str
    message: str  # exact text, or a template with {field} and rule-specific names
    source: str
    our_reading: bool = False


CONSENT_MESSAGE = "Не получено письменное согласие пациента на создание ЭЛН"

_RULE_LIST = [
    Rule("FLK-01", "Поле «Номер листка нетрудоспособности» должно содержать 12 цифр.", "seed 000"),
    Rule(
        "FLK-02",
        "Поле «Номер предыдущего листка» обязательно для заполнения, если не установлен флаг "
        "«Первичный».",
        "seed 000",
    ),
    Rule("FLK-03", "Поле «ОГРН МО» обязательно для заполнения.", "seed 000"),
    Rule("FLK-04", "Поле «ОГРН МО» должно содержать 13 или 15 цифр.", "seed 000"),
    Rule("FLK-05", "Поле «Код причины нетрудоспособности» обязательно для заполнения.", "seed 000"),
    Rule(
        "FLK-06",
        "Поле «Место работы» обязательно к заполнению, если пациент не состоит на учете в службе "
        "занятости.",
        "seed 000; in v2.0 a local check (employer data are not sent)",
        our_reading=True,
    ),
    Rule(
        "FLK-07",
        "Поле «ОГРН санатория или клиники НИИ» должно содержать 13 или 15 цифр.",
        "seed 000",
    ),
    Rule("FLK-08", "Поле «Выдан ЛН (продолжение) №» должно содержать 12 цифр.", "seed 000"),
    Rule(
        "FLK-09",
        "Причина нетрудоспособности не соответствует полу пациента: для пола «Мужской» нельзя "
        "указать причину 05 (отпуск по беременности и родам) и дополнительный код 020.",
        "seed 000 (example 05 + 020); rejecting each code alone is our generalisation",
        our_reading=True,
    ),
    Rule(
        "FLK-10",
        "Пол пациента не совместим с родственной связью лица, ухаживающего за больным.",
        "seed 000",
    ),
    Rule(
        "FLK-11",
        "Поле «Предполагаемая дата родов» при ЭЛН с причиной нетрудоспособности «По беременности "
        "и родам» обязательно к заполнению.",
        "seed 000; waived with additional code 020 as SAMSON does",
        our_reading=True,
    ),
    Rule(
        "FLK-12",
        "Данные о санатории и путевке обязательны при долечивании в санатории.",
        "seed 000",
    ),
    Rule(
        "FLK-13",
        "Данные о санатории и путевке обязательны при лечении в специализированном санатории.",
        "seed 000",
    ),
    Rule(
        "FLK-14",
        "При санаторно-курортном лечении (медицинской реабилитации) в связи с несчастным случаем "
        "на производстве в период временной нетрудоспособности (доп. код 018) обязательны "
        "№ путевки, ОГРН санатория, дата начала и дата окончания путевки.",
        "seed 000",
    ),
    Rule(
        "FLK-15",
        "Дополнительный код 018 может быть указан, только если причина нетрудоспособности – "
        "02 (травма) или 04 (несчастный случай на производстве или его последствия).",
        "seed 000",
    ),
    Rule(
        "FLK-16",
        "При лечении в клинике научно-исследовательского учреждения (института) курортологии, "
        "физиотерапии и реабилитации (доп. код 019) обязательны № путевки, ОГРН санатория, дата "
        "начала и дата окончания путевки.",
        "seed 000",
    ),
    Rule(
        "FLK-17",
        "Не совместимы «Пол – Мужской» и отметка «Поставлена на учет в ранние сроки беременности».",
        "seed 000",
    ),
    Rule(
        "FLK-18", "При нарушении режима дата нарушения обязательно должна быть указана.", "seed 000"
    ),
    Rule(
        "FLK-19",
        "Дата «Приступить к работе, учебе или службе с» должна быть позднее даты окончания "
        "нахождения в стационаре.",
        "seed 000",
    ),
    Rule(
        "FLK-20",
        "Если код в поле «Иное» равен 32 или 33, должен быть заполнен весь блок "
        "медико-социальной экспертизы.",
        "seed 000",
    ),
    Rule(
        "FLK-21",
        "Если период нетрудоспособности по одному ЛН более 15 дней, то необходимо заполнить ФИО и "
        "должность председателя ВК.",
        "seed 000; counted per ELN from the first period; reason 05 exempt",
        our_reading=True,
    ),
    Rule(
        "FLK-22",
        "При причине нетрудоспособности 05 продолжительность периода нетрудоспособности должна "
        "быть не более 110 дней либо ровно 140, 156 или 194 дня.",
        "seed 000",
    ),
    Rule(
        "FLK-23",
        "При причине нетрудоспособности 05 и дополнительном коде 020 продолжительность периода "
        "нетрудоспособности должна быть 16 или 54 дня.",
        "seed 000",
    ),
    Rule(
        "FLK-24",
        "Дата выхода на работу не может быть равна или ранее даты окончания периода "
        "нетрудоспособности.",
        "seed 000",
    ),
    Rule(
        "FLK-25",
        "Если поле «Дата выдачи» ЭЛН позже поля «Дата с» периода ВН, то необходимо заполнить ФИО "
        "и должность председателя ВК.",
        "seed 000",
    ),
    # Schema constraints (domain.md §10).
    Rule("SCH-REQ", "Поле «{field}»{where} обязательно для заполнения.", "XSD / S20 App. 1"),
    Rule("SCH-LEN", "Поле «{field}»{where} не может быть длиннее {max} символов.", "XSD"),
    Rule(
        "SCH-CHARS",
        "Поле «{field}»{where} содержит недопустимый символ (управляющий или не входящий в "
        "Юникод); удалите его.",
        "XML 1.0 Char; PostgreSQL text has no NUL",
    ),
    Rule("SCH-VOUCHER-NO", "Поле «{field}» должно содержать 10 символов.", "S20 App. 1"),
    Rule("SCH-LNCODE", "Поле «{field}» должно содержать 12 цифр.", "XSD lnCode"),
    Rule("SCH-SNILS", "Поле «{field}»{where} должно содержать 11 цифр без разделителей.", "XSD"),
    Rule(
        "SCH-SNILS-CHECK", "Поле «{field}»{where} содержит неверное контрольное число СНИЛС.", "PFR"
    ),
    Rule(
        "SCH-OGRN-CHECK",
        "Поле «{field}» содержит неверный ОГРН (первая цифра или контрольное число).",
        "domain.md §10",
    ),
    Rule(
        "SCH-CODE",
        "Значение «{value}» поля «{field}»{where} отсутствует в справочнике «{table}».",
        "S20 §14",
    ),
    Rule(
        "SCH-CHAIRMAN-ROLE",
        "Поле «Должность председателя ВК» должно содержать значение «ПРЕД ВК».",
        "S11 §8.1.2; test XSD fixed",
    ),
    Rule(
        "SCH-CHAIRMAN-PAIR",
        "ФИО и должность председателя ВК заполняются вместе.",
        "inferred",
        our_reading=True,
    ),
    Rule("SCH-AGREEMENT", CONSENT_MESSAGE, "seed 000; XSD writtenAgreementFlag fixed true"),
    Rule(
        "SCH-PERIODS-MAX",
        "В ЭЛН может быть не более трёх периодов освобождения от работы; для продолжения "
        "оформите новый ЭЛН.",
        "XSD v2.0",
    ),
    Rule(
        "SCH-PERIOD-ORDER",
        "Дата «по» периода освобождения от работы № {n} раньше даты «с».",
        "impl SAMSON",
    ),
    Rule(
        "SCH-PERIOD-CONTIGUOUS",
        "Период освобождения от работы № {n} должен начинаться на следующий день после окончания "
        "периода № {prev}.",
        "impl SAMSON",
    ),
    Rule(
        "SCH-HOSPITAL-ORDER",
        "Дата «Находился в стационаре по» раньше даты «Находился в стационаре с».",
        "impl SAMSON",
    ),
    Rule(
        "SCH-BREACH-DATE",
        "Дата нарушения режима должна входить в период нетрудоспособности по ЭЛН.",
        "impl SAMSON",
    ),
    Rule(
        "SCH-OTHER-STATE-DATE",
        "Дата в поле «Иное» не может быть раньше даты выдачи ЭЛН (кроме кода 34 «умер»).",
        "impl SAMSON",
    ),
    Rule(
        "SCH-OTHER-STATE-PAIR",
        "Код «Иное» и его дата заполняются вместе.",
        "inferred",
        our_reading=True,
    ),
    Rule(
        "SCH-TREATMENT-TYPE",
        "Поле «Условия оказания медицинской помощи» обязательно при уходе за больным членом семьи "
        "(причины 09, 12–15).",
        "S20 App. 1",
    ),
    Rule(
        "SCH-CARE-MAX",
        "Можно указать не более двух членов семьи, за которыми осуществляется уход.",
        "v1.1 SERV1/SERV2; our limit for v2.0",
        our_reading=True,
    ),
    Rule(
        "SCH-CARE-MISSING",
        "Для причины «уход за больным членом семьи» заполните сведения о члене семьи.",
        "S20 App. 1 (servData)",
        our_reading=True,
    ),
    Rule(
        "SCH-DUPLICATE-REF",
        "Для дубликата обязательно поле «Взамен ранее сформированного ЭЛН №».",
        "S20 App. 1; 1089н п. 67",
        our_reading=True,
    ),
    Rule(
        "SCH-DATE-FUTURE",
        "Поле «{field}» не может содержать дату позже текущей.",
        "inferred",
        our_reading=True,
    ),
    Rule("SIG-DOC", "Запись {block} не подписана ЭП врача.", "S20 §4.2"),
    Rule("SIG-VK", "Запись {block} требует ЭП председателя ВК: {reasons}.", "seed 000; S20 §4.2"),
    Rule("W-SNILS-REPEAT", "{text}", "ТФОМС ЕРП (warning only)", our_reading=True),
]

RULES: dict[str, Rule] = {r.id: r for r in _RULE_LIST}
SEED_RULE_IDS = tuple(f"FLK-{n:02d}" for n in range(1, 26))


def _where(path: str) -> str:
    """Which period or family member an indexed path belongs to, for the message."""
    if path.startswith("treat_periods[") and "." in path:
        return f" (период освобождения от работы № {int(path[14 : path.index(']')]) + 1})"
    if path.startswith("serv_data[") and "." in path:
        return f" (член семьи № {int(path[10 : path.index(']')]) + 1})"
    return ""


def _v(rule_id: str, field: str, *, fields: tuple[str, ...] = (), **fmt: object) -> Violation:
    rule = RULES[rule_id]
    message = rule.message
    if "{" in message:
        message = message.format(field=field_title(field), where=_where(field), **fmt)
    severity = Severity.WARNING if rule_id.startswith("W-") else Severity.ERROR
    return Violation(rule_id, field, message, severity, fields or (field,))


def _filled(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


Check = Callable[[Eln, CheckContext], Iterator[Violation]]
_CHECKS: list[Check] = []


def _check(fn: Check) -> Check:
    _CHECKS.append(fn)
    return fn


def check(eln: Eln, context: CheckContext | None = None) -> list[Violation]:
    """Run every rule; returns all violations (errors and warnings), in rule order."""
    ctx = context or CheckContext(today=date.today())
    found: list[Violation] = []
    for fn in _CHECKS:
        found.extend(fn(eln, ctx))
    return found


def errors(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.is_error]


def ensure_valid(eln: Eln, context: CheckContext | None = None) -> list[Violation]:
    """Raise :class:`FlkFailed` with all errors; return the warnings otherwise."""
    found = check(eln, context)
    bad = errors(found)
    if bad:
        raise FlkFailed(bad)
    return found


# --- the 25 rules of seed 000 ----------------------------------------------------------------


def _missing_voucher(eln: Eln) -> tuple[str, ...]:
    values = {
        "voucher_no": eln.voucher_no,
        "voucher_ogrn": eln.voucher_ogrn,
        "date1": eln.date1,
        "date2": eln.date2,
    }
    return tuple(k for k, v in values.items() if not _filled(v))


def _duration(eln: Eln) -> int | None:
    """D = last treatDt2 − first treatDt1 + 1, when all periods have both dates."""
    periods = eln.treat_periods
    if not periods or any(p.dt1 is None or p.dt2 is None for p in periods):
        return None
    return (periods[-1].dt2 - periods[0].dt1).days + 1  # type: ignore[operator]


def _chairman_gap(eln: Eln, i: int) -> str | None:
    p = eln.treat_periods[i]
    if not _filled(p.chairman):
        return f"treat_periods[{i}].chairman"
    if not _filled(p.chairman_role):
        return f"treat_periods[{i}].chairman_role"
    return None


@_check
def _rules_identity(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if not is_ln_code(eln.ln_code):
        yield _v("FLK-01", "ln_code")
    if not eln.primary_flag and not _filled(eln.prev_ln_code):
        yield _v("FLK-02", "prev_ln_code")
    ogrn = eln.lpu.ogrn
    if not _filled(ogrn):
        yield _v("FLK-03", "lpu.ogrn")
    elif not is_digits(ogrn, 13, 15):
        yield _v("FLK-04", "lpu.ogrn")
    elif not _ogrn_ok(ogrn):  # type: ignore[arg-type]
        yield _v("SCH-OGRN-CHECK", "lpu.ogrn")


def _ogrn_ok(value: str) -> bool:
    first_ok = value[0] in "15" if len(value) == 13 else value[0] == "3"
    return first_ok and ogrn_control(value) == int(value[-1])


@_check
def _rule_05_reason(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if ctx.version == V20 and eln.serv_data:
        for i, care in enumerate(eln.serv_data):
            if not _filled(care.reason1):
                yield _v("FLK-05", f"serv_data[{i}].reason1")
    elif not _filled(eln.reason1):
        yield _v("FLK-05", "reason1")


@_check
def _rule_06_workplace(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    # v2.0 sends no employer (domain.md §6, rule 6: a local check on the patient card). An ELN
    # taken over from the Fund (getLNData returns no employer either) is continued or closed
    # here without one: the check would only block the doctor with nothing to send.
    if ctx.version == V20 and eln.source is Source.FSS:
        return
    if not eln.patient.employment_service_flag and not _filled(eln.employer.name):
        yield _v("FLK-06", "employer.name")


@_check
def _rule_07_08_numbers(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if _filled(eln.voucher_ogrn):
        if not is_digits(eln.voucher_ogrn, 13, 15):
            yield _v("FLK-07", "voucher_ogrn")
        elif not _ogrn_ok(eln.voucher_ogrn):  # type: ignore[arg-type]
            yield _v("SCH-OGRN-CHECK", "voucher_ogrn")
    result = eln.ln_result
    if result is not None and _filled(result.next_ln_code) and not is_ln_code(result.next_ln_code):
        yield _v("FLK-08", "ln_result.next_ln_code")


@_check
def _rules_gender(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    gender = eln.patient.gender
    if gender is Gender.MALE:
        if eln.reason1 == codes.MATERNITY_REASON:
            yield _v("FLK-09", "reason1", fields=("patient.gender", "reason1", "reason2"))
        elif eln.reason2 == codes.EXTRA_MATERNITY_CODE:
            yield _v("FLK-09", "reason2", fields=("patient.gender", "reason1", "reason2"))
    if gender is not None:
        for i, care in enumerate(eln.serv_data):
            rel = care.relation_code
            if (rel == codes.RELATION_MOTHER and gender is not Gender.FEMALE) or (
                rel == codes.RELATION_FATHER and gender is not Gender.MALE
            ):
                path = f"serv_data[{i}].relation_code"
                yield _v("FLK-10", path, fields=(path, "patient.gender"))
    if gender is Gender.MALE and eln.pregn12w_flag:
        yield _v("FLK-17", "pregn12w_flag", fields=("pregn12w_flag", "patient.gender"))


@_check
def _rules_maternity(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if eln.reason1 != codes.MATERNITY_REASON:
        return
    if eln.date1 is None and eln.reason2 != codes.EXTRA_MATERNITY_CODE:
        yield _v("FLK-11", "date1")
    days = _duration(eln)
    if days is None:
        return
    last = f"treat_periods[{len(eln.treat_periods) - 1}].dt2"
    if days > 110 and days not in (140, 156, 194):
        yield _v("FLK-22", last)
    if eln.reason2 == codes.EXTRA_MATERNITY_CODE and days not in (16, 54):
        yield _v("FLK-23", last)


@_check
def _rules_voucher(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    missing = _missing_voucher(eln)
    triggers = (
        ("FLK-12", eln.reason1 == "08"),
        ("FLK-13", eln.reason2 == "017"),
        ("FLK-14", eln.reason2 == "018"),
        ("FLK-16", eln.reason2 == "019"),
    )
    for rule_id, applies in triggers:
        if applies and missing:
            yield _v(rule_id, missing[0], fields=missing)
    if eln.reason2 == "018" and eln.reason1 not in ("02", "04"):
        yield _v("FLK-15", "reason2", fields=("reason2", "reason1"))


@_check
def _rules_breach_hospital_mse(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    breach = eln.hospital_breach
    if breach is not None:
        if _filled(breach.code) and breach.dt is None:
            yield _v("FLK-18", "hospital_breach.dt")
        if breach.dt is not None and not _filled(breach.code):
            yield _v("SCH-REQ", "hospital_breach.code")
    result = eln.ln_result
    ret = result.return_date_lpu if result else None
    if ret is not None and eln.hospital_dt2 is not None and ret <= eln.hospital_dt2:
        yield _v(
            "FLK-19",
            "ln_result.return_date_lpu",
            fields=("ln_result.return_date_lpu", "hospital_dt2"),
        )
    if result is not None and result.mse_result in codes.OTHER_NEEDS_MSE:
        values = {
            "mse_dt1": eln.mse_dt1,
            "mse_dt2": eln.mse_dt2,
            "mse_dt3": eln.mse_dt3,
            "mse_invalid_group": eln.mse_invalid_group,
        }
        missing = tuple(k for k, v in values.items() if not _filled(v))
        if missing:
            yield _v("FLK-20", missing[0], fields=missing)


@_check
def _rules_chairman(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    for i in range(len(eln.treat_periods)):
        gap = _chairman_gap(eln, i)
        if gap is None:
            continue
        if period_over_15_days(eln, i):
            yield _v("FLK-21", gap)
        if period_retroactive(eln, i):
            yield _v("FLK-25", gap)


@_check
def _rule_24_return_date(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    ret = eln.ln_result.return_date_lpu if eln.ln_result else None
    ends = [p.dt2 for p in eln.treat_periods if p.dt2 is not None]
    if ret is not None and ends and ret <= max(ends):
        yield _v("FLK-24", "ln_result.return_date_lpu")


# --- schema constraints (domain.md §10) ------------------------------------------------------

_REQUIRED_V20 = (
    "patient.snils",
    "patient.surname",
    "patient.name",
    "patient.birthday",
    "patient.gender",
    "ln_date",
    "lpu.name",
    "lpu.address",
)
_REQUIRED_V11 = tuple(p for p in _REQUIRED_V20 if p != "lpu.address")
_PERIOD_REQUIRED = ("dt1", "dt2", "doctor", "doctor_role")
_CARE_REQUIRED = ("relation_code", "dt1", "dt2", "surname", "name", "birthday")

_MAX_LEN = {
    "patient.surname": 60,
    "patient.name": 60,
    "patient.patronymic": 60,
    "lpu.name": 90,
    "lpu.address": 2000,
    "diagnos": 10,
    "employer.name": 255,
    "ln_hash": 32,
    "lpu.id_mo": 100,
    "prev_ln_issuer": 500,
    "parent_code": 12,
    "reason3": 3,
}
_PERIOD_MAX_LEN = {
    "doctor": 90,
    "chairman": 90,
    "doctor_role": 300,
    "chairman_role": 300,
    "id_doctor": 100,
}
_CARE_MAX_LEN = {"surname": 60, "name": 60, "patronymic": 60, "diagnosis": 10}


def _get(obj: object, path: str) -> object:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@_check
def _schema_required(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    for path in _REQUIRED_V11 if ctx.version == V11 else _REQUIRED_V20:
        if not _filled(_get(eln, path)):
            yield _v("SCH-REQ", path)
    if not eln.treat_periods:
        yield _v("SCH-REQ", "treat_periods")
    for i, period in enumerate(eln.treat_periods):
        for name in _PERIOD_REQUIRED:
            if not _filled(getattr(period, name)):
                yield _v("SCH-REQ", f"treat_periods[{i}].{name}")
    for i, care in enumerate(eln.serv_data):
        for name in _CARE_REQUIRED:
            if not _filled(getattr(care, name)):
                yield _v("SCH-REQ", f"serv_data[{i}].{name}")
    if eln.hospital_dt2 is not None and eln.hospital_dt1 is None:
        yield _v("SCH-REQ", "hospital_dt1")


# Characters XML 1.0 cannot carry (and NUL, which PostgreSQL text cannot hold; lone surrogates,
# which UTF-8 cannot encode): such a value would fail when the block is signed or the ELN stored.
_BAD_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _strings(obj: object, prefix: str) -> Iterator[tuple[str, str]]:
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if isinstance(value, str):
            yield path, value
        elif is_dataclass(value):
            yield from _strings(value, f"{path}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if is_dataclass(item):
                    yield from _strings(item, f"{path}[{i}].")


@_check
def _schema_characters(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    for path, value in _strings(eln, ""):
        if _BAD_CHARS.search(value):
            yield _v("SCH-CHARS", path)


@_check
def _schema_lengths(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    for path, limit in _MAX_LEN.items():
        value = _get(eln, path)
        if isinstance(value, str) and len(value) > limit:
            yield _v("SCH-LEN", path, max=limit)
    for i, period in enumerate(eln.treat_periods):
        for name, limit in _PERIOD_MAX_LEN.items():
            value = getattr(period, name)
            if isinstance(value, str) and len(value) > limit:
                yield _v("SCH-LEN", f"treat_periods[{i}].{name}", max=limit)
    for i, care in enumerate(eln.serv_data):
        for name, limit in _CARE_MAX_LEN.items():
            value = getattr(care, name)
            if isinstance(value, str) and len(value) > limit:
                yield _v("SCH-LEN", f"serv_data[{i}].{name}", max=limit)
    if _filled(eln.voucher_no) and len(eln.voucher_no) != 10:  # type: ignore[arg-type]
        yield _v("SCH-VOUCHER-NO", "voucher_no")


def _snils_violations(value: str | None, path: str) -> Iterator[Violation]:
    if not _filled(value):
        return
    if not is_digits(value, 11):
        yield _v("SCH-SNILS", path)
        return
    assert value is not None
    if int(value[:9]) > SNILS_UNCHECKED_MAX and snils_control(value[:9]) != int(value[9:]):
        yield _v("SCH-SNILS-CHECK", path)
        return
    warning = snils_warning(value, field_title(path))
    if warning:
        yield _v("W-SNILS-REPEAT", path, text=warning)


@_check
def _schema_formats(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    yield from _snils_violations(eln.patient.snils, "patient.snils")
    for i, care in enumerate(eln.serv_data):
        yield from _snils_violations(care.snils, f"serv_data[{i}].snils")
    for path in ("prev_ln_code", "previously_issued_code"):
        value = getattr(eln, path)
        if _filled(value) and not is_ln_code(value):
            yield _v("SCH-LNCODE", path)


def _code(table: CodeTable, value: str | None, path: str, version: str) -> Iterator[Violation]:
    if _filled(value) and not table.valid(value, version):
        yield _v("SCH-CODE", path, value=value, table=table.name)


@_check
def _schema_codes(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    ver = ctx.version
    yield from _code(codes.REASONS, eln.reason1, "reason1", ver)
    yield from _code(codes.ADDITIONAL_CODES, eln.reason2, "reason2", ver)
    if ver == V11:
        yield from _code(codes.REASONS, eln.reason3, "reason3", ver)
    for i, care in enumerate(eln.serv_data):
        yield from _code(codes.REASONS, care.reason1, f"serv_data[{i}].reason1", ver)
        yield from _code(codes.RELATIONS, care.relation_code, f"serv_data[{i}].relation_code", ver)
        yield from _code(
            codes.TREATMENT_TYPES, care.treatment_type, f"serv_data[{i}].treatment_type", ver
        )
    if eln.hospital_breach is not None:
        yield from _code(codes.BREACHES, eln.hospital_breach.code, "hospital_breach.code", ver)
    if eln.ln_result is not None:
        yield from _code(codes.OTHER_STATES, eln.ln_result.mse_result, "ln_result.mse_result", ver)
    yield from _code(codes.INVALID_GROUPS, eln.mse_invalid_group, "mse_invalid_group", ver)
    yield from _code(codes.LN_STATES, eln.ln_state, "ln_state", ver)
    gender = eln.patient.gender
    if gender is not None and gender not in (Gender.MALE, Gender.FEMALE):
        yield _v("SCH-CODE", "patient.gender", value=gender, table=codes.GENDERS.name)


@_check
def _schema_chairman(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    for i, p in enumerate(eln.treat_periods):
        if _filled(p.chairman_role) and p.chairman_role != codes.CHAIRMAN_ROLE:
            yield _v("SCH-CHAIRMAN-ROLE", f"treat_periods[{i}].chairman_role")
        if _filled(p.chairman) != _filled(p.chairman_role):
            missing = "chairman" if not _filled(p.chairman) else "chairman_role"
            yield _v("SCH-CHAIRMAN-PAIR", f"treat_periods[{i}].{missing}")


@_check
def _schema_consent(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if not eln.written_agreement_flag:
        yield _v("SCH-AGREEMENT", "written_agreement_flag")


@_check
def _schema_periods(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    periods = eln.treat_periods
    if ctx.version == V20 and len(periods) > MAX_PERIODS_V20:
        yield _v("SCH-PERIODS-MAX", f"treat_periods[{MAX_PERIODS_V20}]")
    for i, p in enumerate(periods):
        if p.dt1 is not None and p.dt2 is not None and p.dt2 < p.dt1:
            yield _v("SCH-PERIOD-ORDER", f"treat_periods[{i}].dt2", n=i + 1)
        if i > 0:
            prev_end = periods[i - 1].dt2
            if prev_end is not None and p.dt1 is not None and p.dt1 != prev_end + timedelta(1):
                yield _v("SCH-PERIOD-CONTIGUOUS", f"treat_periods[{i}].dt1", n=i + 1, prev=i)


@_check
def _schema_dates(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if eln.hospital_dt1 and eln.hospital_dt2 and eln.hospital_dt2 < eln.hospital_dt1:
        yield _v("SCH-HOSPITAL-ORDER", "hospital_dt2")
    breach = eln.hospital_breach
    first = eln.first_dt1
    ends = [p.dt2 for p in eln.treat_periods if p.dt2 is not None]
    if breach and breach.dt and first and ends and not (first <= breach.dt <= max(ends)):
        yield _v("SCH-BREACH-DATE", "hospital_breach.dt")
    result = eln.ln_result
    if result is not None:
        if _filled(result.mse_result) != (result.other_state_dt is not None):
            missing = "mse_result" if not _filled(result.mse_result) else "other_state_dt"
            yield _v("SCH-OTHER-STATE-PAIR", f"ln_result.{missing}")
        if (
            result.other_state_dt is not None
            and eln.ln_date is not None
            and result.other_state_dt < eln.ln_date
            and result.mse_result != codes.OTHER_DIED
        ):
            yield _v("SCH-OTHER-STATE-DATE", "ln_result.other_state_dt")
    for path in ("ln_date", "patient.birthday"):
        value = _get(eln, path)
        if isinstance(value, date) and value > ctx.today:
            yield _v("SCH-DATE-FUTURE", path)


@_check
def _schema_care(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if len(eln.serv_data) > MAX_CARE_RECORDS:
        yield _v("SCH-CARE-MAX", f"serv_data[{MAX_CARE_RECORDS}]")
    if not eln.serv_data and effective_reason(eln) in codes.CARE_REASONS:
        yield _v("SCH-CARE-MISSING", "serv_data")
    for i, care in enumerate(eln.serv_data):
        if care.reason1 in codes.CARE_REASONS and not _filled(care.treatment_type):
            yield _v("SCH-TREATMENT-TYPE", f"serv_data[{i}].treatment_type")


@_check
def _schema_duplicate(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if eln.duplicate_flag and not _filled(eln.previously_issued_code):
        yield _v("SCH-DUPLICATE-REF", "previously_issued_code")


@_check
def _signatures(eln: Eln, ctx: CheckContext) -> Iterator[Violation]:
    if not ctx.check_signatures:
        return
    for req in missing_signatures(eln, ctx.send_date):
        path = req.block.path
        if req.block.slot is codes.SignerSlot.VK:
            path += ".chairman"
            yield _v("SIG-VK", path, block=req.block.title, reasons="; ".join(req.reasons))
        else:
            yield _v("SIG-DOC", path, block=req.block.title)
