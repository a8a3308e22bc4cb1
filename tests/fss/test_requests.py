"""Every request the client produces: XSD-valid (v2.0 and v1.1), signed per the profile,
encrypted in the layout of its version, and byte-exact where stored fragments go in."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from lxml import etree

from eln_tui.core.fss import (
    MAX_ROWS,
    ExchangeRecord,
    FssClient,
    FssConfigError,
    FssRequestError,
    Operation,
    RowInput,
)
from eln_tui.core.fss.rows import canonical
from eln_tui.core.fss.service import operation_info
from fss_emulator import Emulator
from gostsign.testpki import Pki
from gostsign.x509 import Certificate
from gostsign.xml import profile, schema, wssec, xmlenc
from gostsign.xml.c14n import exc_c14n
from gostsign.xml.ns import DS, KT_GOST2001, TYPE_ELEMENT, XENC
from gostsign.xml.parse import parse
from tests.fss import elns
from tests.fss.conftest import SoftKey, Wire

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MO = "http://www.fss.ru/integration/types/eln/mo/v01"
COM = "http://www.fss.ru/integration/types/eln/v01"
V11 = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
SNILS = "12345394243"
VERSIONS = ["2.0", "1.1"]

MakeClient = Callable[..., tuple[FssClient, list[ExchangeRecord]]]


def call(client: FssClient, op: Operation, pki: Pki, emulator: Emulator | None = None) -> Any:
    """Run ``op`` with typical arguments (the ELN read or cancelled is put into the emulator's
    state first, as one another МО sent)."""
    ogrn = client.config.ogrn
    if emulator is not None and op in (Operation.GET_LN_DATA, Operation.DISABLE_LN):
        emulator.seed_eln("900000000101", SNILS, ogrn)
    if op is Operation.GET_NEW_LN_NUM:
        return client.get_new_ln_num()
    if op is Operation.GET_NEW_LN_NUM_RANGE:
        return client.get_new_ln_num_range(5)
    if op is Operation.GET_EXISTING_LN_NUM_RANGE:
        return client.get_existing_ln_num_range()
    if op is Operation.PR_PARSE_FILE_NUMBERSLPU:
        return client.pr_parse_file_numberslpu(["900000000101", "900000000102"])
    if op is Operation.GET_LN_DATA:
        return client.get_ln_data("900000000101", SNILS)
    if op is Operation.GET_LN_LIST_BY_SNILS:
        return client.get_ln_list_by_snils(SNILS)
    if op is Operation.GET_LN_LIST_BY_DATE:
        return client.get_ln_list_by_date(date(2024, 3, 11))
    if op is Operation.DISABLE_LN:
        return client.disable_ln("900000000101", SNILS, "010", "Отмена оформления")
    v = client.version
    items = [
        elns.row_input(elns.new_eln("900000000201", ogrn), pki, v),
        elns.row_input(
            elns.full_eln("900000000202", ogrn),
            pki,
            v,
            blocks=["treat_periods[0]", "hospital_breach", "ln_result"],
        ),
    ]
    if v == "2.0":
        items.append(elns.row_input(elns.care_eln("900000000203", ogrn), pki, v))
    return client.pr_parse_filelnlpu(items)


def decrypt(wire_bytes: bytes, pki: Pki) -> xmlenc.DecryptedMessage:
    return xmlenc.decrypt(wire_bytes, pki.fund.key)


def payload_of(doc: etree._ElementTree) -> etree._Element:
    body = doc.getroot().find(f"{{{SOAP}}}Body")
    assert body is not None and len(body) == 1
    return body[0]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("op", list(Operation))
def test_every_request_is_xsd_valid_signed_and_encrypted(
    make_client: MakeClient, wire: Wire, pki: Pki, emulator: Emulator, op: Operation, version: str
) -> None:
    client, records = make_client(version=version)
    call(client, op, pki, emulator)
    ((address, data, headers),) = wire.sent
    assert address == client.config.endpoint
    assert headers["SOAPAction"] == f'"{operation_info(client.version, op).soap_action}"'

    # the outer envelope: one EncryptedData, as protocol.md §5.1 draws it
    outer = parse(data).getroot()
    assert outer.tag == f"{{{SOAP}}}Envelope" and outer.prefix == "soapenv"
    enc = outer.find(f"{{{SOAP}}}Body/{{{XENC}}}EncryptedData")
    assert enc is not None and enc.get("Type") == TYPE_ELEMENT
    method = enc.find(f"{{{DS}}}KeyInfo/{{{XENC}}}EncryptedKey/{{{XENC}}}EncryptionMethod")
    assert method is not None and method.get("Algorithm") == KT_GOST2001
    message = decrypt(data, pki)

    # v2.0: the Fund's certificate in EncryptedKey, ours in the inner Header; v1.1: ours in
    # EncryptedKey and nothing in the Header (protocol.md §5.2)
    if version == "2.0":
        assert message.key_certificate == pki.fund.cert
        assert message.layout == "v2.0" and message.sender_certificate == pki.mo.cert
    else:
        assert message.key_certificate == pki.mo.cert
        header = message.document.getroot().find(f"{{{SOAP}}}Header")
        assert header is not None and header.find(f"{{{DS}}}X509Certificate") is None

    # the journal keeps exactly what was encrypted
    (record,) = records
    assert record.request == message.plaintext
    assert record.ok and record.response_clear
    assert b"EncryptedData" not in (record.request or b"")

    # the payload conforms to the Fund's schema of the dialect
    payload = payload_of(message.document)
    schema.validate(payload, version)  # type: ignore[arg-type]
    assert etree.QName(payload).namespace == (MO if version == "2.0" else V11)
    # no WS-Addressing, only our Security blocks (and the certificate) in the Header
    header = message.document.getroot().find(f"{{{SOAP}}}Header")
    assert header is not None
    assert {etree.QName(c).localname for c in header} <= {"Security", "X509Certificate"}

    # signed as the Fund checks it (S20 §4.2)
    report = profile.verify_request(message.document)
    assert report.valid, report.all_problems()
    ogrn = client.config.ogrn
    body = message.document.getroot().find(f"{{{SOAP}}}Body")
    assert body is not None
    if op is Operation.PR_PARSE_FILELNLPU:
        assert body.get(WSU_ID) is None
        for row in profile.rows(message.document):
            code = profile._ln_code_of(row)
            assert code is not None
            assert row.get(WSU_ID) == f"ELN_{code}"
            report.require(row, actor=f"http://eln.fss.ru/actor/mo/{ogrn}/ELN_{code}")
    else:
        assert body.get(WSU_ID) == f"OGRN_{ogrn}"
        report.require(body, actor=f"http://eln.fss.ru/actor/mo/{ogrn}")


@pytest.mark.parametrize("version", VERSIONS)
def test_plain_contour_sends_the_signed_clear_form(
    make_client: MakeClient, wire: Wire, pki: Pki, version: str
) -> None:
    client, records = make_client(version=version, encryption=False)
    client.get_new_ln_num_range(2)
    ((_, data, _),) = wire.sent
    assert data == records[0].request
    doc = parse(data)
    assert not xmlenc.is_encrypted(doc)
    assert doc.getroot().find(f"{{{SOAP}}}Header/{{{DS}}}X509Certificate") is None
    assert profile.verify_request(doc).valid


def test_v2_row_namespaces_follow_protocol_md_3(
    make_client: MakeClient, wire: Wire, pki: Pki
) -> None:
    client, _ = make_client()
    call(client, Operation.PR_PARSE_FILELNLPU, pki)
    doc = decrypt(wire.sent[0][1], pki).document
    rowset = doc.getroot().find(f".//{{{MO}}}rowset")
    assert rowset is not None
    # the six rowset attributes are qualified in the com namespace
    assert {etree.QName(a).namespace for a in rowset.attrib} == {COM}
    assert rowset.get(f"{{{COM}}}version") == "2.0"
    assert rowset.get(f"{{{COM}}}phone") == client.config.phone
    assert rowset.get(f"{{{COM}}}email") == client.config.email
    assert rowset.get(f"{{{COM}}}author") == client.config.author
    assert rowset.get(f"{{{COM}}}software") == client.config.software
    rows = {r.findtext(f"{{{MO}}}lnCode"): r for r in rowset.iter(f"{{{MO}}}row")}
    full = rows["900000000202"]
    mo_children = {etree.QName(c).localname for c in full if etree.QName(c).namespace == MO}
    assert {"snils", "lnCode", "hospitalBreach", "treatPeriods", "lnResult", "lnState"} <= (
        mo_children
    )
    assert all(etree.QName(c).namespace == MO for c in full)
    for parent, children in (
        ("hospitalBreach", {"hospitalBreachCode", "hospitalBreachDt"}),
        ("lnResult", {"returnDateLpu"}),
        ("treatFullPeriod", {"treatChairman", "treatChairmanRole", "treatPeriod"}),
    ):
        el = full.find(f".//{{{MO}}}{parent}")
        assert el is not None, parent
        assert {etree.QName(c).localname for c in el} == children
        assert all(etree.QName(c).namespace == COM for c in el), parent
    tp = full.find(f".//{{{COM}}}treatPeriod")
    assert tp is not None and all(etree.QName(c).namespace == COM for c in tp)
    assert full.findtext(f".//{{{COM}}}treatChairmanRole") == "ПРЕД ВК"
    care = rows["900000000203"].find(f"{{{MO}}}servData/{{{MO}}}servFullData")
    assert care is not None
    names = [(etree.QName(c).namespace, etree.QName(c).localname) for c in care]
    assert names[-1] == (MO, "diagnosis")
    assert all(ns == COM for ns, _ in names[:-1])
    # nil rules: required nillable without a value are xsi:nil; optional ones are omitted
    new = rows["900000000201"]
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    for name in ("date1", "date2", "mseDt1", "mseDt2", "mseDt3", "mseInvalidGroup"):
        el = new.find(f"{{{MO}}}{name}")
        assert el is not None and el.get(nil) == "true" and not el.text, name
    for name in ("lnHash", "prevLnCode", "voucherNo", "hospitalBreach", "lnResult", "reason2"):
        assert new.find(f"{{{MO}}}{name}") is None, name
    assert new.findtext(f"{{{MO}}}lnState") == "000"
    assert new.findtext(f"{{{MO}}}writtenAgreementFlag") == "true"


@pytest.mark.parametrize("version", VERSIONS)
def test_stored_fragments_travel_byte_exact(
    make_client: MakeClient, wire: Wire, pki: Pki, version: str
) -> None:
    client, _ = make_client(version=version)
    ogrn = client.config.ogrn
    eln = elns.full_eln("900000000202", ogrn)
    fragments = elns.sign_all(eln, pki, version)
    client.pr_parse_filelnlpu(
        [RowInput(eln, fragments, ["treat_periods[0]", "hospital_breach", "ln_result"])]
    )
    doc = decrypt(wire.sent[0][1], pki).document
    report = wssec.verify(doc)
    assert report.valid, report.all_problems()
    for suffix, fragment in fragments.items():
        # (the doctor's period sits inside the VK block and is still the doctor's bytes)
        (el,) = wssec.find_by_id(doc.getroot(), fragment.element_id)
        assert exc_c14n(el) == canonical(fragment.element), suffix
        (sig,) = report.by_id(fragment.element_id)
        assert sig.actor == fragment.actor and sig.valid
        assert sig.element is el
    # the VK chairman's and the doctor's signatures both cover the period
    assert {s.actor for s in report.signatures} >= {
        "http://eln.fss.ru/actor/doc/900000000202_3_doc",
        "http://eln.fss.ru/actor/doc/900000000202_3_vk",
        "http://eln.fss.ru/actor/doc/900000000202_1_doc",
        "http://eln.fss.ru/actor/doc/900000000202_2_doc",
        f"http://eln.fss.ru/actor/mo/{ogrn}/ELN_900000000202",
    }


def test_thirty_rows_go_in_one_message_and_thirty_one_do_not(
    make_client: MakeClient, wire: Wire, pki: Pki
) -> None:
    client, _ = make_client()
    ogrn = client.config.ogrn
    doctor = elns.sign_all  # one doctor signature per ELN
    numbers = [*client.get_new_ln_num_range(MAX_ROWS).numbers, "900000000399"]
    items = []
    for number in numbers:
        eln = elns.new_eln(number, ogrn)
        items.append(RowInput(eln, doctor(eln, pki)))
    sent = len(wire.sent)
    with pytest.raises(FssRequestError, match="не более 30 ЭЛН") as info:
        client.pr_parse_filelnlpu(items)
    assert "31" in info.value.message
    assert len(wire.sent) == sent  # nothing went out
    result = client.pr_parse_filelnlpu(items[:MAX_ROWS])
    assert len(result.rows) == MAX_ROWS and all(r.ok for r in result.rows), result.rows[:1]
    doc = decrypt(wire.sent[-1][1], pki).document
    schema.validate(payload_of(doc), "2.0")
    assert len(profile.rows(doc)) == MAX_ROWS


def test_v11_get_ln_list_by_date_follows_the_xsd(
    make_client: MakeClient, wire: Wire, pki: Pki
) -> None:
    client, _ = make_client(version="1.1")
    client.get_ln_list_by_date(date(2018, 9, 26))
    payload = payload_of(decrypt(wire.sent[0][1], pki).document)
    # XSD order (date, ogrn) and type (xs:dateTime), unlike the spec's printed example
    assert [etree.QName(c).localname for c in payload] == ["date", "ogrn"]
    assert payload[0].text == "2018-09-26T00:00:00"


def test_mo_certificate_with_another_ogrn_is_refused_before_sending(
    make_client: MakeClient, wire: Wire, stranger: Any
) -> None:
    client, records = make_client(key=SoftKey(stranger))
    with pytest.raises(FssConfigError, match="выдан на ОГРН 1027700000039"):
        client.get_new_ln_num()
    assert wire.sent == [] and records == []


def test_certificate_without_ogrn_signs_with_the_mchd(
    make_client: MakeClient, wire: Wire, pki: Pki
) -> None:
    # the doctor's personal certificate has no ОГРН: an employee signing for the МО
    client, _ = make_client(key=SoftKey(pki.doctor))
    with pytest.raises(FssConfigError, match="МЧД"):
        client.get_new_ln_num()
    assert wire.sent == []
    uuid = "6f1b1c3e-7d1c-4a3e-9d0e-2b7c5a1e4f10"
    client, _ = make_client(key=SoftKey(pki.doctor), mchd_uuid=uuid)
    client.get_new_ln_num()
    doc = decrypt(wire.sent[0][1], pki).document
    (sig,) = wssec.verify(doc).signatures
    assert sig.mchd_uuid == uuid
    report = profile.verify_request(doc)
    assert report.valid, report.all_problems()


def test_a_key_without_vko_sends_nothing_in_encrypted_mode(
    make_client: MakeClient, wire: Wire, pki: Pki
) -> None:
    from providers.errors import OperationNotSupported

    class SignOnly(SoftKey):
        def key_agreement(self) -> Any:
            raise OperationNotSupported("Токен не предлагает выработку общего ключа VKO.")

    client, records = make_client(key=SignOnly(pki.mo))
    with pytest.raises(FssConfigError, match="VKO"):
        client.get_new_ln_num_range(3)
    assert wire.sent == [] and records == []
    # the same key works where nothing is encrypted
    client, _ = make_client(key=SignOnly(pki.mo), encryption=False)
    assert len(client.get_new_ln_num_range(3).numbers) == 3


def test_expired_fund_certificate_is_refused_before_sending(
    make_client: MakeClient, wire: Wire, pki: Pki
) -> None:
    from datetime import UTC, datetime, timedelta

    from gostsign.testpki import make_fund

    old = make_fund(pki.ca, now=datetime.now(UTC) - timedelta(days=800), days=365)
    client, _ = make_client(fund_certificates={"emulator": old.cert})
    with pytest.raises(FssConfigError, match="уполномоченного лица СФР недействителен"):
        client.get_new_ln_num()
    assert wire.sent == []


def test_sender_certificate_in_header_is_ours_as_der(
    make_client: MakeClient, wire: Wire, pki: Pki
) -> None:
    client, _ = make_client()
    client.get_new_ln_num()
    doc = decrypt(wire.sent[0][1], pki).document
    el = doc.getroot().find(f"{{{SOAP}}}Header/{{{DS}}}X509Certificate")
    assert el is not None and el.text
    assert Certificate(base64.b64decode(el.text)) == pki.mo.cert
