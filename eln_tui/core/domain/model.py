"""Plain dataclasses of an ELN (v2.0 row, plus the v1.1-only fields for that dialect).

Attribute names are the v2.0 element names in snake_case (``lnCode`` → ``ln_code``), grouped:
``patient`` (insured person), ``employer`` (v1.1 employer data; in v2.0 a local check only),
``lpu`` (the issuing МО), ``serv_data`` (care for family members), ``hospital_breach`` (signed
block 1), ``ln_result`` (signed block 2) and ``treat_periods`` (signed blocks 3..5).

A *field path* such as ``"treat_periods[1].chairman"`` names one attribute; ФЛК violations and
errors carry such paths so the UI can move focus to the field. :data:`FIELD_TITLES` gives the
Russian label of each path (indices stripped).
"""

from __future__ import annotations

import copy
import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from eln_tui.core.domain.codes import STATE_NEW, SignerSlot

MAX_PERIODS_V20 = 3
MAX_CARE_RECORDS = 2


class Gender(enum.IntEnum):
    MALE = 0
    FEMALE = 1


class Source(enum.StrEnum):
    """Where the ELN came from: opened here, or taken over from FSS via getLNData."""

    LOCAL = "local"
    FSS = "fss"


@dataclass
class Patient:
    snils: str | None = None
    surname: str | None = None
    name: str | None = None
    patronymic: str | None = None
    birthday: date | None = None
    gender: Gender | None = None
    # v1.1 BOZ_FLAG: registered with the employment service (then no workplace is needed).
    employment_service_flag: bool = False


@dataclass
class Employer:
    """v1.1 LPU_EMPLOYER / LPU_EMPL_FLAG; removed in v2.0 but kept for ФЛК rule 6."""

    name: str | None = None
    main_job: bool = True  # True основное место работы, False совместительство


@dataclass
class Lpu:
    """The issuing medical organisation as written into the row."""

    name: str | None = None
    address: str | None = None
    ogrn: str | None = None
    id_mo: str | None = None  # v2.0 «Код МО», optional


@dataclass(frozen=True)
class Signature:
    """A signature placed on a block. The signed bytes live in storage (``fragment_id``)."""

    signer_id: int | None
    signer_name: str
    signed_at: datetime
    fragment_id: int | None = None


@dataclass
class CareRecord:
    """One servFullData entry (v2.0) / SERVn_* group (v1.1): a family member being cared for."""

    relation_code: str | None = None
    dt1: date | None = None
    dt2: date | None = None
    treatment_type: str | None = None
    surname: str | None = None
    name: str | None = None
    patronymic: str | None = None
    birthday: date | None = None
    reason1: str | None = None
    snils: str | None = None
    diagnosis: str | None = None
    # v1.1 only: age in years and months (SERVn_AGE, SERVn_MM); FIO went as one string.
    age_years: int | None = None
    age_months: int | None = None

    @property
    def fio(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


@dataclass
class HospitalBreach:
    """Block 1 (``_1_doc``): regime breach, signed by the doctor."""

    code: str | None = None
    dt: date | None = None
    signature: Signature | None = None
    sent: bool = False  # accepted by FSS


@dataclass
class TreatPeriod:
    """One «Освобождение от работы» row: ``treatPeriod`` (doctor) in ``treatFullPeriod`` (VK)."""

    dt1: date | None = None
    dt2: date | None = None
    doctor: str | None = None
    doctor_role: str | None = None
    id_doctor: str | None = None
    chairman: str | None = None
    chairman_role: str | None = None
    doctor_signature: Signature | None = None
    chairman_signature: Signature | None = None
    # Local links to users (who is meant to sign); never sent.
    doctor_id: int | None = None
    chairman_id: int | None = None
    sent: bool = False  # accepted by FSS

    @property
    def days(self) -> int | None:
        if self.dt1 is None or self.dt2 is None:
            return None
        return (self.dt2 - self.dt1).days + 1


@dataclass
class LnResult:
    """Block 2 (``_2_doc``): closing — return to work or «Иное», and the continuation number."""

    return_date_lpu: date | None = None
    mse_result: str | None = None
    other_state_dt: date | None = None
    next_ln_code: str | None = None
    signature: Signature | None = None
    sent: bool = False

    def is_empty(self) -> bool:
        return not any(
            (self.return_date_lpu, self.mse_result, self.other_state_dt, self.next_ln_code)
        )


@dataclass
class Termination:
    """«Прекращение ЛН» (disableLn): signed by the current user without field checks."""

    reason_code: str
    reason: str
    by_id: int | None
    by_name: str
    at: datetime
    sent: bool = False


@dataclass
class Eln:
    # Identity
    id: int | None = None  # storage id
    ln_code: str | None = None
    electronic: bool = True
    written_agreement_flag: bool = False  # «Согласие на формирование ЭЛН получено»
    unconditional: bool = True  # SAMSON always sends true (domain.md §10)
    # Who and where
    patient: Patient = field(default_factory=Patient)
    employer: Employer = field(default_factory=Employer)
    lpu: Lpu = field(default_factory=Lpu)
    # Continuation / duplicate
    primary_flag: bool = True
    prev_ln_code: str | None = None
    prev_ln_issuer: str | None = None  # local: «кем выдан предыдущий ЛН» (seed 000)
    duplicate_flag: bool = False
    previously_issued_code: str | None = None
    # Incapacity
    ln_date: date | None = None
    reason1: str | None = None
    reason2: str | None = None
    reason3: str | None = None  # v1.1 only: «Код изм.»
    diagnos: str | None = None
    parent_code: str | None = None  # v1.1 only: номер ЛН по основному месту работы
    date1: date | None = None
    date2: date | None = None
    voucher_no: str | None = None
    voucher_ogrn: str | None = None
    serv_data: list[CareRecord] = field(default_factory=list)
    pregn12w_flag: bool | None = None
    intermittent_method_flag: bool | None = None
    # Hospital stay and breach
    hospital_dt1: date | None = None
    hospital_dt2: date | None = None
    hospital_breach: HospitalBreach | None = None
    # МСЭ
    mse_dt1: date | None = None
    mse_dt2: date | None = None
    mse_dt3: date | None = None
    mse_invalid_group: str | None = None
    mse_sent: bool = False  # the referral date was accepted by FSS
    # Periods and result
    treat_periods: list[TreatPeriod] = field(default_factory=list)
    ln_result: LnResult | None = None
    # FSS state
    ln_state: str = STATE_NEW
    ln_hash: str | None = None
    # Local bookkeeping
    source: Source = Source.LOCAL
    number_from_pool: bool = False  # the number came from FSS: the field is locked
    doctor_id: int | None = None  # treating doctor (user id), for «my ELNs»
    patient_id: int | None = None  # patient card the data were taken from
    transfer_error: str | None = None  # text of the last failed transfer
    last_sent_at: datetime | None = None  # our last transfer FSS accepted
    termination: Termination | None = None
    version: int = 0  # optimistic lock, kept by storage

    def copy(self) -> Eln:
        return copy.deepcopy(self)

    @property
    def patient_fio(self) -> str:
        p = self.patient
        return " ".join(x for x in (p.surname, p.name, p.patronymic) if x)

    @property
    def first_dt1(self) -> date | None:
        return self.treat_periods[0].dt1 if self.treat_periods else None

    @property
    def last_dt2(self) -> date | None:
        return self.treat_periods[-1].dt2 if self.treat_periods else None

    @property
    def is_care(self) -> bool:
        return bool(self.serv_data)


@dataclass(frozen=True)
class Block:
    """A signable block of the row and its signer slot (protocol.md §4.2).

    ``kind`` is ``"breach"`` (block 1), ``"result"`` (block 2) or ``"period"`` (block 2+n);
    ``index`` is the 0-based period index for periods.
    """

    kind: str
    slot: SignerSlot = SignerSlot.DOC
    index: int | None = None

    @property
    def number(self) -> int:
        """Block number used in wsu:Id and actor (``ELN_<lnCode>_<number>_<slot>``)."""
        if self.kind == "breach":
            return 1
        if self.kind == "result":
            return 2
        assert self.index is not None
        return 3 + self.index

    @property
    def suffix(self) -> str:
        return f"{self.number}_{self.slot.value}"

    @property
    def path(self) -> str:
        if self.kind == "breach":
            return "hospital_breach"
        if self.kind == "result":
            return "ln_result"
        return f"treat_periods[{self.index}]"

    @property
    def title(self) -> str:
        if self.kind == "breach":
            return "«Отметки о нарушении режима»"
        if self.kind == "result":
            return "«Приступить к работе / Иное»"
        return f"«Освобождение от работы» № {(self.index or 0) + 1}"


# Russian labels of field paths (list indices removed), for messages and the UI.
FIELD_TITLES: dict[str, str] = {
    "ln_code": "Номер листка нетрудоспособности",
    "electronic": "Электронный",
    "written_agreement_flag": "Согласие на формирование ЭЛН получено",
    "unconditional": "Безусловный метод",
    "patient.snils": "СНИЛС",
    "patient.surname": "Фамилия",
    "patient.name": "Имя",
    "patient.patronymic": "Отчество",
    "patient.birthday": "Дата рождения",
    "patient.gender": "Пол",
    "patient.employment_service_flag": "Состоит на учете в службе занятости",
    "employer.name": "Место работы",
    "employer.main_job": "Основное место работы",
    "lpu.name": "Наименование МО",
    "lpu.address": "Адрес МО",
    "lpu.ogrn": "ОГРН МО",
    "lpu.id_mo": "Код МО",
    "primary_flag": "Первичный",
    "prev_ln_code": "Номер предыдущего листка",
    "prev_ln_issuer": "Кем выдан предыдущий ЛН",
    "duplicate_flag": "Дубликат",
    "previously_issued_code": "Взамен ранее сформированного ЭЛН №",
    "ln_date": "Дата выдачи",
    "reason1": "Код причины нетрудоспособности",
    "reason2": "Дополнительный код",
    "reason3": "Код изменения причины нетрудоспособности",
    "diagnos": "Диагноз по МКБ-10",
    "parent_code": "Номер ЛН по основному месту работы",
    "date1": "Предполагаемая дата родов / дата начала путевки",
    "date2": "Дата окончания путевки",
    "voucher_no": "№ путевки",
    "voucher_ogrn": "ОГРН санатория или клиники НИИ",
    "serv_data": "Уход за больным членом семьи",
    "serv_data.relation_code": "Родственная связь",
    "serv_data.dt1": "Уход с",
    "serv_data.dt2": "Уход по",
    "serv_data.treatment_type": "Условия оказания медицинской помощи",
    "serv_data.surname": "Фамилия члена семьи",
    "serv_data.name": "Имя члена семьи",
    "serv_data.patronymic": "Отчество члена семьи",
    "serv_data.birthday": "Дата рождения члена семьи",
    "serv_data.reason1": "Код причины нетрудоспособности",
    "serv_data.snils": "СНИЛС члена семьи",
    "serv_data.diagnosis": "Диагноз члена семьи по МКБ-10",
    "serv_data.age_years": "Возраст члена семьи (лет)",
    "serv_data.age_months": "Возраст члена семьи (месяцев)",
    "pregn12w_flag": "Поставлена на учет в ранние сроки беременности",
    "intermittent_method_flag": "Прерывистый метод",
    "hospital_dt1": "Находился в стационаре с",
    "hospital_dt2": "Находился в стационаре по",
    "hospital_breach": "Отметки о нарушении режима",
    "hospital_breach.code": "Код нарушения режима",
    "hospital_breach.dt": "Дата нарушения режима",
    "mse_dt1": "Дата направления в бюро МСЭ",
    "mse_dt2": "Дата регистрации документов в бюро МСЭ",
    "mse_dt3": "Дата освидетельствования в бюро МСЭ",
    "mse_invalid_group": "Установлена/изменена группа инвалидности",
    "treat_periods": "Освобождение от работы",
    "treat_periods.dt1": "Дата с",
    "treat_periods.dt2": "Дата по",
    "treat_periods.doctor": "ФИО врача",
    "treat_periods.doctor_role": "Должность врача",
    "treat_periods.id_doctor": "Код врача",
    "treat_periods.chairman": "ФИО председателя ВК",
    "treat_periods.chairman_role": "Должность председателя ВК",
    "ln_result": "Приступить к работе / Иное",
    "ln_result.return_date_lpu": "Приступить к работе, учебе или службе с",
    "ln_result.mse_result": "Иное",
    "ln_result.other_state_dt": "Дата (Иное)",
    "ln_result.next_ln_code": "Выдан ЛН (продолжение) №",
    "ln_state": "Состояние ЭЛН",
    "ln_hash": "Хэш ЭЛН",
}

_INDEX = re.compile(r"\[\d+\]")


def field_title(path: str) -> str:
    """Russian label of a field path; ``"treat_periods[1].dt2"`` → «Дата по»."""
    return FIELD_TITLES.get(_INDEX.sub("", path), path)
