"""ELNs for the client's tests, with their blocks signed by the test doctor and VK chairman."""

from __future__ import annotations

from datetime import date, timedelta

from eln_tui.core.domain.codes import SignerSlot
from eln_tui.core.domain.model import (
    Block,
    CareRecord,
    Eln,
    Gender,
    HospitalBreach,
    LnResult,
    Lpu,
    Patient,
    TreatPeriod,
)
from eln_tui.core.fss import ProtocolVersion, RowInput, sign_block
from gostsign.signer import SoftwareSigner
from gostsign.testpki import Pki
from gostsign.xml.fragments import SignedFragment

SNILS = "11223344595"


def new_eln(ln_code: str, ogrn: str, *, start: date = date(2024, 3, 11), **kw: object) -> Eln:
    """A new ELN (state 000) with one 5-day period, not closed."""
    values: dict[str, object] = {
        "ln_code": ln_code,
        "number_from_pool": True,
        "written_agreement_flag": True,
        "patient": Patient(
            snils=SNILS,
            surname="Петров",
            name="Пётр",
            patronymic="Петрович",
            birthday=date(1980, 5, 5),
            gender=Gender.MALE,
        ),
        "lpu": Lpu(
            name="ГБУЗ «Тестовая поликлиника № 1»", address="г. Москва, ул. Тестовая, 1", ogrn=ogrn
        ),
        "ln_date": start,
        "reason1": "01",
        "diagnos": "J06.9",
        "treat_periods": [
            TreatPeriod(
                dt1=start,
                dt2=start + timedelta(days=4),
                doctor="Иванова Мария Петровна",
                doctor_role="Врач-терапевт участковый",
            )
        ],
    }
    values.update(kw)
    return Eln(**values)  # type: ignore[arg-type]


def care_eln(ln_code: str, ogrn: str) -> Eln:
    """A care ELN (reason 09 per family member, row-level reason empty as the Fund shows)."""
    start = date(2024, 3, 11)
    return new_eln(
        ln_code,
        ogrn,
        reason1=None,
        diagnos=None,
        patient=Patient(
            snils=SNILS,
            surname="Петрова",
            name="Анна",
            birthday=date(1990, 1, 1),
            gender=Gender.FEMALE,
        ),
        serv_data=[
            CareRecord(
                relation_code="38",
                dt1=start,
                dt2=start + timedelta(days=4),
                treatment_type="1",
                surname="Петров",
                name="Иван",
                birthday=date(2020, 8, 24),
                reason1="09",
                diagnosis="A00.9",
            )
        ],
    )


def full_eln(ln_code: str, ogrn: str) -> Eln:
    """Breach, a VK period (retroactive issue), closed: every kind of signed block."""
    start = date(2024, 3, 11)
    eln = new_eln(ln_code, ogrn, ln_date=start + timedelta(days=1))
    eln.treat_periods[0].chairman = "Петров Сергей Николаевич"
    eln.treat_periods[0].chairman_role = "ПРЕД ВК"
    eln.hospital_breach = HospitalBreach(code="24", dt=start + timedelta(days=2))
    eln.ln_result = LnResult(return_date_lpu=start + timedelta(days=5))
    eln.mse_dt1 = None
    return eln


def sign_all(
    eln: Eln, pki: Pki, version: ProtocolVersion | str = ProtocolVersion.V20
) -> dict[str, SignedFragment]:
    """Every block the ELN has, signed the way the workstation signs them (doctor, VK)."""
    doctor = SoftwareSigner(pki.doctor.key, pki.doctor.cert)
    chairman = SoftwareSigner(pki.chairman.key, pki.chairman.cert)
    out: dict[str, SignedFragment] = {}
    if eln.hospital_breach is not None:
        b = Block("breach")
        out[b.suffix] = sign_block(eln, b, doctor, version)
    if eln.ln_result is not None and not eln.ln_result.is_empty():
        b = Block("result")
        out[b.suffix] = sign_block(eln, b, doctor, version)
    for i, p in enumerate(eln.treat_periods):
        b = Block("period", SignerSlot.DOC, i)
        out[b.suffix] = sign_block(eln, b, doctor, version)
        if p.chairman:
            vk = Block("period", SignerSlot.VK, i)
            out[vk.suffix] = sign_block(eln, vk, chairman, version, doctor_fragment=out[b.suffix])
    return out


def row_input(
    eln: Eln,
    pki: Pki,
    version: ProtocolVersion | str = ProtocolVersion.V20,
    blocks: list[str] | None = None,
) -> RowInput:
    return RowInput(eln, sign_all(eln, pki, version), blocks)
