"""Signing ELN blocks with the software provider and the gostsign test PKI (no mocks).

The signed fragments are put into a Fund-style prParseFilelnlpu message the way the registry
will do it (``fragments.splice``), the row is signed with the МО key, and the whole message is
verified as the Fund does and validated against the bundled v2.0 XSD.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from lxml import etree

from eln_tui.core import signing
from eln_tui.core.domain import lifecycle as lc
from eln_tui.core.domain.codes import CHAIRMAN_ROLE, V11, Role, SignerSlot
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.model import Block, Eln, HospitalBreach, LnResult
from eln_tui.core.errors import ConcurrentModification, TransitionError
from eln_tui.core.storage import ElnStore, UserInfo
from gostsign.x509 import Certificate
from gostsign.xml import fragments, profile, schema
from gostsign.xml.parse import parse, parse_element, to_bytes
from gostsign.xml.wssec import envelope_of, header_of
from providers.base import Pin
from providers.software import DemoKeySet, SoftwareProvider, create_test_set
from tests.core import factories

PIN = "1234"
DOC0 = Block("period", SignerSlot.DOC, 0)
VK0 = Block("period", SignerSlot.VK, 0)
BREACH = Block("breach")
RESULT = Block("result")
MO_NS, COM_NS = signing.MO_NS, signing.COM_NS
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


@pytest.fixture(scope="module")
def keyset(tmp_path_factory: pytest.TempPathFactory) -> DemoKeySet:
    return create_test_set(tmp_path_factory.mktemp("keys") / "keys", PIN, iterations=1000)


def mo_ogrn(keyset: DemoKeySet) -> str:
    ogrn = keyset["mo"].certificate.subject.ogrn
    assert ogrn is not None
    return ogrn


def person(keyset: DemoKeySet, role: str) -> str:
    return keyset[role].common_name


@pytest.fixture(scope="module")
def provider(keyset: DemoKeySet) -> SoftwareProvider:
    return SoftwareProvider({"key_dir": keyset.directory})


def _user(store: ElnStore, login: str, name: str, roles: list[Role], serial: str) -> UserInfo:
    return store.add_user(login, name, roles, position="Врач-терапевт", cert_serial=serial)


@pytest.fixture
def doctor(store: ElnStore, keyset: DemoKeySet) -> UserInfo:
    return _user(
        store, "ivanova", "Иванова Мария Петровна", [Role.DOCTOR], keyset["doctor1"].serial_hex
    )


@pytest.fixture
def chairman(store: ElnStore, keyset: DemoKeySet) -> UserInfo:
    serial = keyset["vk-chairman"].serial_hex
    return _user(
        store, "sidorova", "Сидорова Анна Викторовна", [Role.DOCTOR, Role.VK_CHAIRMAN], serial
    )


def saved(store: ElnStore, doctor: UserInfo, keyset: DemoKeySet, **kw: object) -> Eln:
    """A valid, saved ELN of ``doctor`` (18 days, so the period needs the VK chairman)."""
    pool = store.pool()
    pool.add([f"{900_000_000_100 + i:012d}" for i in range(5)])
    start = factories.TODAY - timedelta(days=17)
    period = factories.period(
        start,
        factories.TODAY,
        doctor=doctor.full_name,
        doctor_id=doctor.id,
        chairman="Сидорова Анна Викторовна",
        chairman_role=CHAIRMAN_ROLE,
    )
    values: dict[str, object] = {
        "ln_code": None,
        "number_from_pool": False,
        "ln_date": start,
        "treat_periods": [period],
        "ln_result": None,
        "lpu": factories.lpu(ogrn=mo_ogrn(keyset)),
        "hospital_breach": HospitalBreach(code="24", dt=start + timedelta(days=3)),
    }
    values.update(kw)
    draft = factories.valid_eln(**values)
    draft.doctor_id = doctor.id
    with_number = store.take_number(draft, doctor.signer)
    return store.save(with_number, doctor.signer, context=CheckContext(today=factories.TODAY))


def sign(
    store: ElnStore,
    provider: SoftwareProvider,
    keyset: DemoKeySet,
    role: str,
    eln: Eln,
    block: Block,
    user: UserInfo,
) -> Eln:
    with provider.open_session(keyset[role], Pin(PIN)) as session:
        return signing.sign_block(
            store,
            eln.id,  # type: ignore[arg-type]
            block,
            user,
            session,
            expected_version=eln.version,
            context=CheckContext(today=factories.TODAY),
        )


# --- assembling a message the way the registry will --------------------------------------------


def _message(eln: Eln) -> tuple[etree._ElementTree, dict[str, etree._Element]]:
    """An unsigned prParseFilelnlpu with placeholders where the signed blocks go."""
    assert eln.ln_code is not None
    p = eln.patient
    row = (
        f'<row wsu:Id="ELN_{eln.ln_code}"><unconditional>true</unconditional>'
        f"<snils>{p.snils}</snils><surname>{p.surname}</surname><name>{p.name}</name>"
        f"<patronymic>{p.patronymic}</patronymic><lnCode>{eln.ln_code}</lnCode>"
        f"<primaryFlag>1</primaryFlag><duplicateFlag>0</duplicateFlag>"
        f"<lnDate>{eln.ln_date}</lnDate><lpuName>{eln.lpu.name}</lpuName>"
        f"<lpuAddress>{eln.lpu.address}</lpuAddress><lpuOgrn>{eln.lpu.ogrn}</lpuOgrn>"
        f"<birthday>{p.birthday}</birthday><gender>{int(p.gender or 0)}</gender>"
        f"<reason1>{eln.reason1}</reason1><diagnos>{eln.diagnos}</diagnos>"
        '<date1 xsi:nil="true"/><date2 xsi:nil="true"/><ph-breach/>'
        '<mseDt1 xsi:nil="true"/><mseDt2 xsi:nil="true"/><mseDt3 xsi:nil="true"/>'
        '<mseInvalidGroup xsi:nil="true"/><treatPeriods><ph-period/></treatPeriods>'
        "<ph-result/><lnState>000</lnState><writtenAgreementFlag>true</writtenAgreementFlag></row>"
    )
    text = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:wsu="{WSU}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header/>'
        f'<soapenv:Body><prParseFilelnlpuRequest xmlns="{MO_NS}" xmlns:ns2="{COM_NS}">'
        f'<ogrn>{eln.lpu.ogrn}</ogrn><pXmlFile><rowset ns2:author="Тестов" '
        'ns2:email="t@example.test" ns2:phone="0" ns2:software="eln-tests" ns2:version="2.0" '
        f'ns2:version_software="1">{row}</rowset></pXmlFile></prParseFilelnlpuRequest>'
        "</soapenv:Body></soapenv:Envelope>"
    )
    doc = parse(text.encode())
    slots = {
        name: el
        for name in ("breach", "period", "result")
        for el in doc.getroot().iter(f"{{{MO_NS}}}ph-{name}")
    }
    return doc, slots


def assemble(store: ElnStore, eln: Eln) -> etree._ElementTree:
    """Put the stored signed blocks into the message and their Security blocks into the Header."""
    doc, slots = _message(eln)
    period = eln.treat_periods[0]
    vk, doc_sig = period.chairman_signature, period.doctor_signature
    assert doc_sig is not None and doc_sig.fragment_id is not None
    securities = [store.fragment(doc_sig.fragment_id).security]
    if vk is not None:
        stored = store.fragment(vk.fragment_id)  # type: ignore[arg-type]
        elements = {slots["period"]: stored.data}
        securities.append(stored.security)
    else:
        treat = store.fragment(doc_sig.fragment_id).data
        chairman = (
            f'<treatChairman xmlns="{COM_NS}">{period.chairman}</treatChairman>'
            f'<treatChairmanRole xmlns="{COM_NS}">{period.chairman_role}</treatChairmanRole>'
            if period.chairman
            else ""
        )
        full = f'<treatFullPeriod xmlns="{MO_NS}">{chairman}<ph-doctor/></treatFullPeriod>'
        el = parse_element(full.encode(), what="test")
        tmp = fragments.splice(etree.ElementTree(el), {el[-1]: treat})
        elements = {slots["period"]: to_bytes(tmp, declaration=False)}
    for name, block in (("breach", BREACH), ("result", RESULT)):
        element = signing.signed_element(store, eln, block)
        if element is None:
            slots[name].getparent().remove(slots[name])  # type: ignore[union-attr]
            continue
        sig = eln.hospital_breach.signature if name == "breach" else eln.ln_result.signature  # type: ignore[union-attr]
        stored = store.fragment(sig.fragment_id)  # type: ignore[union-attr,arg-type]
        elements[slots[name]] = stored.data
        securities.append(stored.security)
    header = header_of(envelope_of(doc), create=True)
    assert header is not None
    for security in securities:
        assert security is not None
        elements[etree.SubElement(header, "ph-security")] = security
    return fragments.splice(doc, elements)


def mo_signed(
    store: ElnStore, eln: Eln, provider: SoftwareProvider, keyset: DemoKeySet
) -> etree._ElementTree:
    doc = assemble(store, eln)
    with provider.open_session(keyset["mo"], Pin(PIN)) as mo:
        profile.sign_row(doc, mo_ogrn(keyset), eln.ln_code, mo)  # type: ignore[arg-type]
    return parse(to_bytes(doc))


# --- tests ------------------------------------------------------------------------------------


def test_doctor_and_vk_signatures_verify_in_a_fund_message(
    store: ElnStore,
    provider: SoftwareProvider,
    keyset: DemoKeySet,
    doctor: UserInfo,
    chairman: UserInfo,
) -> None:
    eln = saved(store, doctor, keyset)
    eln = sign(store, provider, keyset, "doctor1", eln, DOC0, doctor)
    eln = sign(store, provider, keyset, "doctor1", eln, BREACH, doctor)
    eln = sign(store, provider, keyset, "vk-chairman", eln, VK0, chairman)
    period = eln.treat_periods[0]
    assert period.doctor_signature and period.chairman_signature
    assert eln.hospital_breach and eln.hospital_breach.signature

    # The VK element wraps the doctor's signed treatPeriod byte for byte.
    doc_bytes = store.fragment(period.doctor_signature.fragment_id).data  # type: ignore[arg-type]
    vk_bytes = store.fragment(period.chairman_signature.fragment_id).data  # type: ignore[arg-type]
    assert doc_bytes in vk_bytes
    assert vk_bytes.startswith(f'<treatFullPeriod xmlns="{MO_NS}"'.encode())

    doc = mo_signed(store, eln, provider, keyset)
    report = profile.verify_request(doc, trusted=[keyset.ca_certificate])
    assert report.valid, report.all_problems()
    code = eln.ln_code
    for element_id in (f"ELN_{code}", f"ELN_{code}_1_doc", f"ELN_{code}_3_doc", f"ELN_{code}_3_vk"):
        (result,) = report.by_id(element_id)
        assert result.valid, result.problems
    body = doc.getroot().find(f"{{{SOAP}}}Body")
    assert body is not None
    assert schema.errors(body[0], "2.0") == []


def test_closing_block_verifies(
    store: ElnStore, provider: SoftwareProvider, keyset: DemoKeySet, doctor: UserInfo
) -> None:
    period = factories.period(date(2024, 3, 11), date(2024, 3, 15), doctor=doctor.full_name)
    eln = saved(
        store,
        doctor,
        keyset,
        treat_periods=[period],
        hospital_breach=None,
        ln_date=date(2024, 3, 11),
    )
    eln = sign(store, provider, keyset, "doctor1", eln, DOC0, doctor)
    closed = lc.close(eln, date(2024, 3, 16))
    eln = store.save(closed, doctor.signer, context=CheckContext(today=factories.TODAY))
    eln = sign(store, provider, keyset, "doctor1", eln, RESULT, doctor)
    assert eln.ln_result is not None and eln.ln_result.signature is not None
    element = signing.signed_element(store, eln, RESULT)
    assert element is not None and element.tag == f"{{{MO_NS}}}lnResult"
    doc = mo_signed(store, eln, provider, keyset)
    report = profile.verify_request(doc, trusted=[keyset.ca_certificate])
    assert report.valid, report.all_problems()
    body = doc.getroot().find(f"{{{SOAP}}}Body")
    assert schema.errors(body[0], "2.0") == []  # type: ignore[index]


def test_a_key_that_is_not_the_profiles_is_refused(
    store: ElnStore, provider: SoftwareProvider, keyset: DemoKeySet, doctor: UserInfo
) -> None:
    eln = saved(store, doctor, keyset)
    with pytest.raises(signing.CertificateNotOwn, match="не принадлежит профилю"):
        sign(store, provider, keyset, "doctor2", eln, DOC0, doctor)
    assert store.load(eln.id).treat_periods[0].doctor_signature is None  # type: ignore[arg-type]


def test_find_profile_certificate(provider: SoftwareProvider, keyset: DemoKeySet) -> None:
    candidates = provider.list_certificates()
    user = UserInfo(1, "ivanova", "Иванова Мария Петровна", frozenset({Role.DOCTOR}))
    with pytest.raises(signing.ProfileCertificateMissing, match="не указан сертификат"):
        signing.find_profile_certificate(user, candidates)
    own = keyset["doctor1"]
    by_serial = replace(
        user, cert_serial=" ".join(own.serial_hex[i : i + 2] for i in range(0, 32, 2))
    )
    assert signing.find_profile_certificate(by_serial, candidates).certificate == own.certificate
    by_thumb = replace(user, cert_ref=f"thumbprint:{own.thumbprint.upper()}")
    assert signing.find_profile_certificate(by_thumb, candidates).certificate == own.certificate
    others = [c for c in candidates if c.certificate != own.certificate]
    with pytest.raises(signing.CertificateNotFound, match="доступны: «"):
        signing.find_profile_certificate(by_serial, others)
    with pytest.raises(signing.CertificateNotFound, match="вставьте свой токен"):
        signing.find_profile_certificate(by_serial, [])
    labelled = replace(user, cert_ref="label:doctor1")
    with pytest.raises(signing.ProfileCertificateMissing):
        signing.find_profile_certificate(labelled, candidates)
    assert isinstance(own.certificate, Certificate)


def test_changed_meanwhile_nothing_is_signed(
    store: ElnStore, provider: SoftwareProvider, keyset: DemoKeySet, doctor: UserInfo
) -> None:
    eln = saved(store, doctor, keyset)
    store.save(
        replace(eln, diagnos="J06.0"), doctor.signer, context=CheckContext(today=factories.TODAY)
    )
    with pytest.raises(ConcurrentModification):
        sign(store, provider, keyset, "doctor1", eln, DOC0, doctor)
    assert store.load(eln.id).treat_periods[0].doctor_signature is None  # type: ignore[arg-type]
    # the storage check alone, too (the fragment is built, then the ELN changes)
    with pytest.raises(ConcurrentModification):
        store.sign(eln.id, DOC0, doctor.signer, b"<x/>", expected_version=eln.version)  # type: ignore[arg-type]


def test_a_period_is_signed_by_the_doctor_it_names(
    store: ElnStore, provider: SoftwareProvider, keyset: DemoKeySet, doctor: UserInfo
) -> None:
    other = store.add_user(
        "petrov", "Петров Сергей Николаевич", [Role.DOCTOR],
        cert_serial=keyset["doctor2"].serial_hex,
    )  # fmt: skip
    eln = saved(store, doctor, keyset)
    with pytest.raises(signing.SignerNotNamed, match="Иванова Мария Петровна"):
        sign(store, provider, keyset, "doctor2", eln, DOC0, other)
    blank = replace(eln.treat_periods[0], doctor=None, doctor_role=None, doctor_id=None)
    filled = signing.fill_signer(replace(eln, treat_periods=[blank]), DOC0, other)
    assert filled.treat_periods[0].doctor == other.full_name
    assert filled.treat_periods[0].doctor_id == other.id
    vk_filled = signing.fill_signer(eln, VK0, other)  # not a chairman: unchanged
    assert vk_filled is eln


def test_vk_before_doctor_is_refused(
    store: ElnStore,
    provider: SoftwareProvider,
    keyset: DemoKeySet,
    doctor: UserInfo,
    chairman: UserInfo,
) -> None:
    eln = saved(store, doctor, keyset)
    with pytest.raises(TransitionError, match="сначала подписывает врач"):
        sign(store, provider, keyset, "vk-chairman", eln, VK0, chairman)


def test_v11_block_elements() -> None:
    eln = factories.valid_eln(
        hospital_breach=HospitalBreach(code="24", dt=date(2024, 3, 12)),
        ln_result=LnResult(mse_result="31", other_state_dt=date(2024, 3, 16)),
    )
    period = etree.fromstring(signing.block_element(eln, DOC0, version=V11))
    assert period.tag == f"{{{signing.V11_NS}}}TREAT_PERIOD"
    assert [etree.QName(c).localname for c in period] == [
        "TREAT_DT1", "TREAT_DT2", "TREAT_DOCTOR_ROLE", "TREAT_DOCTOR",
    ]  # fmt: skip
    result = etree.fromstring(signing.block_element(eln, RESULT, version=V11))
    ret = result.find(f"{{{signing.V11_NS}}}RETURN_DATE_LPU")
    assert ret is not None and ret.get(f"{{{signing.XSI_NS}}}nil") == "true"
    assert result.findtext(f"{{{signing.V11_NS}}}MSE_RESULT") == "31"
    breach = etree.fromstring(signing.block_element(eln, BREACH, version=V11))
    assert breach.findtext(f"{{{signing.V11_NS}}}HOSPITAL_BREACH_CODE") == "24"


def test_v20_block_elements_declare_their_namespaces() -> None:
    eln = factories.valid_eln(hospital_breach=HospitalBreach(code="24", dt=date(2024, 3, 12)))
    period = signing.block_element(eln, DOC0)
    assert period.startswith(f'<treatPeriod xmlns="{COM_NS}"><treatDt1>2024-03-11'.encode())
    breach = signing.block_element(eln, BREACH)
    assert (
        breach
        == (
            f'<hospitalBreach xmlns="{MO_NS}"><hospitalBreachCode xmlns="{COM_NS}">24'
            f'</hospitalBreachCode><hospitalBreachDt xmlns="{COM_NS}">2024-03-12</hospitalBreachDt>'
            "</hospitalBreach>"
        ).encode()
    )
    with pytest.raises(TransitionError):
        signing.block_element(eln, Block("period", SignerSlot.DOC, 5))


def test_keys_stay_on_disk(keyset: DemoKeySet) -> None:
    # the software keys of these tests are encrypted files in a private directory
    assert all((Path(keyset.directory) / f"{r}.key").exists() for r in ("doctor1", "mo"))
