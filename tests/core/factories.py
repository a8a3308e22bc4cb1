"""Builders of valid domain objects for the core tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from eln_tui.core.domain.codes import Role
from eln_tui.core.domain.lifecycle import Signer
from eln_tui.core.domain.model import (
    Eln,
    Employer,
    Gender,
    LnResult,
    Lpu,
    Patient,
    Signature,
    TreatPeriod,
)

TODAY = date(2024, 3, 20)
NOW = datetime(2024, 3, 20, 9, 30, tzinfo=UTC)
SNILS = "11223344595"  # domain.md §10 worked example
OGRN = "1027739443236"  # ЦА ФСС, from the FSS examples
LN_CODE = "900000000001"

DOCTOR = Signer(7, "Иванов Иван Иванович", frozenset({Role.DOCTOR}))
CHAIRMAN = Signer(8, "Сидорова Анна Петровна", frozenset({Role.DOCTOR, Role.VK_CHAIRMAN}))
NURSE = Signer(9, "Кузнецова Мария Ивановна", frozenset({Role.NURSE}))
OPERATOR = Signer(10, "Оператор Олег Олегович", frozenset({Role.ELN_OPERATOR}))


def patient(**kw: object) -> Patient:
    values: dict[str, object] = {
        "snils": SNILS,
        "surname": "Петров",
        "name": "Пётр",
        "patronymic": "Петрович",
        "birthday": date(1980, 5, 5),
        "gender": Gender.MALE,
    }
    values.update(kw)
    return Patient(**values)  # type: ignore[arg-type]


def lpu(**kw: object) -> Lpu:
    values: dict[str, object] = {
        "name": "ГБУЗ «Городская поликлиника № 1»",
        "address": "г. Москва, ул. Ленина, д. 1",
        "ogrn": OGRN,
    }
    values.update(kw)
    return Lpu(**values)  # type: ignore[arg-type]


def period(dt1: date, dt2: date, **kw: object) -> TreatPeriod:
    values: dict[str, object] = {
        "dt1": dt1,
        "dt2": dt2,
        "doctor": DOCTOR.full_name,
        "doctor_role": "Врач-терапевт",
        "doctor_id": DOCTOR.user_id,
    }
    values.update(kw)
    return TreatPeriod(**values)  # type: ignore[arg-type]


def signature(signer: Signer = DOCTOR, fragment_id: int | None = None) -> Signature:
    return Signature(signer.user_id, signer.full_name, NOW, fragment_id)


def valid_eln(**kw: object) -> Eln:
    """An ELN that passes every ФЛК rule: one 5-day period, closed with return to work."""
    start = date(2024, 3, 11)
    values: dict[str, object] = {
        "ln_code": LN_CODE,
        "number_from_pool": True,
        "written_agreement_flag": True,
        "patient": patient(),
        "employer": Employer(name="ООО «Ромашка»"),
        "lpu": lpu(),
        "ln_date": start,
        "reason1": "01",
        "diagnos": "J06.9",
        "treat_periods": [period(start, start + timedelta(days=4))],
        "ln_result": LnResult(return_date_lpu=start + timedelta(days=5)),
    }
    values.update(kw)
    return Eln(**values)  # type: ignore[arg-type]


def open_eln(**kw: object) -> Eln:
    """A valid ELN without the closing block, ready to be extended."""
    kw.setdefault("ln_result", None)
    return valid_eln(**kw)
