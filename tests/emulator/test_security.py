"""What the Fund refuses before it reads a request, with its own texts (S11 §14.7, protocol.md
§4–§5, §10): encryption envelope, signatures, certificates, the МО's ОГРН."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from fss_emulator import Emulator, texts
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import Party, Pki, create_test_pki, make_mo
from gostsign.x509 import issue_certificate, issue_crl
from gostsign.xml import profile, xmlenc
from gostsign.xml.parse import parse as parse_xml
from tests.emulator.messages import Mo, Reply, Signers, action, post, simple_request


def signed(ogrn: str, party: Party, op: str = "getNewLNNum", **params: str) -> etree._ElementTree:
    doc = parse_xml(simple_request(op, ogrn=ogrn, **params))
    profile.sign_body(doc, ogrn, Signers.of(party), check_validity=False)
    return doc


def refused(reply: Reply) -> str:
    assert reply.status == 500, reply.raw
    assert reply.fault is not None and reply.document is None
    assert reply.fault.faultcode == "S:Server"
    return reply.fault.message


def client(emu: Emulator, mo: Party, signers: Signers, **kw: object) -> Mo:
    return Mo(
        emu.url,
        emu.fund_cert,
        Signers(mo, signers.doctor, signers.chairman),
        trusted=[emu.ca_cert],
        **kw,  # type: ignore[arg-type]
    )


# -- the МО's certificate ---------------------------------------------------------------------


def test_wrong_ogrn_in_the_mo_certificate(mo: Mo, emulator: Emulator) -> None:
    other_ogrn = "1027700132195"
    reply = mo.send(mo.seal(signed(other_ogrn, mo.signers.mo)), "getNewLNNum")
    assert refused(reply) == texts.OGRN_MISMATCH.format(cert=mo.ogrn, ogrn=other_ogrn)
    assert reply.fault is not None and reply.fault.detail_code == texts.FAULT_SIGNATURE
    assert emulator.store.numbers() == []


def test_wrong_ogrn_on_a_row(mo: Mo, emulator: Emulator) -> None:
    from tests.emulator.messages import Period, Row

    ln = mo.body_call("getNewLNNum").text("data") or ""
    reply = mo.send_rows(
        [Row(ln, mo.ogrn, [Period("2020-08-20", "2020-08-21")])], mo_ogrn="1027700132195"
    )
    # the row's actor names another ОГРН than the request: not the МО's signature of this row
    assert [e.text for e in reply.all("errCode")] == ["E_2002"]


def test_a_certificate_without_ogrn_needs_an_mchd(
    emulator: Emulator, pki: Pki, signers: Signers
) -> None:
    person = make_mo(pki.ca, ogrn=None)  # type: ignore[arg-type]
    assert person.cert.subject.ogrn is None
    ogrn = "1027700132195"
    c = client(emulator, person, signers)
    refusal = c.send(c.seal(signed(ogrn, person)), "getNewLNNum")
    assert refused(refusal) == texts.NO_OGRN_NO_MCHD
    doc = parse_xml(simple_request("getNewLNNum", ogrn=ogrn))
    profile.sign_body(
        doc, ogrn, Signers.of(person), mchd_uuid="8e6b2b1e-0f0b-4b6e-9d59-3c1c2b7f1a11"
    )
    accepted = c.send(c.seal(doc), "getNewLNNum")
    assert accepted.text("status") == "1"


def test_a_registered_representative_may_sign_for_an_ogrn(
    emulator: Emulator, mo: Mo, pki: Pki
) -> None:
    ogrn = "1027700132195"
    emulator.add_representative(pki.mo.cert, ogrn)
    reply = mo.send(mo.seal(signed(ogrn, pki.mo)), "getNewLNNum")
    assert reply.text("status") == "1"
    assert [n["ogrn"] for n in emulator.store.numbers()] == [ogrn]


def test_an_untrusted_ca_is_refused(emulator: Emulator, signers: Signers) -> None:
    other = create_test_pki()
    c = client(emulator, other.mo, signers)
    assert refused(c.body_call("getNewLNNum")) == texts.CHAIN_ERROR


def test_trusting_a_ca_at_run_time_over_http(emulator: Emulator, signers: Signers) -> None:
    other = create_test_pki()
    c = client(emulator, other.mo, signers)
    assert refused(c.body_call("getNewLNNum")) == texts.CHAIN_ERROR
    status, _, _ = post(emulator.base_url + "/_emulator/trust", other.ca.cert.pem)
    assert status == 200
    assert c.body_call("getNewLNNum").text("status") == "1"


def test_a_self_signed_certificate_is_refused(emulator: Emulator, signers: Signers) -> None:
    key = PrivateKey.generate(signers.mo.key.curve)
    cert = issue_certificate(
        key.public_key(), "CN=Самоподписанная МО,O=МО", None, key, ogrn="1027700132195"
    )
    emulator.add_trusted(cert)  # even when trusted (S11 §14.7)
    c = client(emulator, Party(key, cert), signers)
    assert refused(c.body_call("getNewLNNum")) == texts.SELF_SIGNED


def test_an_expired_certificate_is_refused(
    plain_emulator: Emulator, pki: Pki, signers: Signers
) -> None:
    past = datetime.now(UTC) - timedelta(days=30)
    old = make_mo(pki.ca, now=past, days=10)
    c = client(plain_emulator, old, signers, encrypted=False)
    c.url = plain_emulator.url
    reply = c.send(c.seal(signed(c.ogrn, old)), "getNewLNNum")
    assert refused(reply) == texts.CERT_CHECK_ERROR


def test_a_revoked_certificate_is_refused(emulator: Emulator, mo: Mo, pki: Pki) -> None:
    revoked_at = datetime.now(UTC) - timedelta(hours=1)
    emulator.add_crl(issue_crl(pki.ca.cert, pki.ca.key, [(pki.mo.cert, revoked_at, None)]))
    assert refused(mo.body_call("getNewLNNum")) == texts.REVOKED


# -- signatures --------------------------------------------------------------------------------


def test_an_unsigned_request_is_refused(mo: Mo) -> None:
    doc = parse_xml(simple_request("getNewLNNum", ogrn=mo.ogrn))
    assert refused(mo.send(mo.seal(doc), "getNewLNNum")) == texts.NO_SIGNATURE


def test_a_body_changed_after_signing_is_refused(mo: Mo, emulator: Emulator) -> None:
    doc = signed(mo.ogrn, mo.signers.mo, "getNewLNNumRange", cntLnNumbers="1")
    count = next(e for e in doc.iter() if isinstance(e.tag, str) and e.tag.endswith("cntLnNumbers"))
    count.text = "900"
    assert refused(mo.send(mo.seal(doc), "getNewLNNumRange")) == texts.SIGNATURE_WRONG_LIVE
    assert emulator.store.numbers() == []


def test_a_signed_copy_elsewhere_does_not_cover_the_body(mo: Mo) -> None:
    # signature wrapping: the signed Body kept in the Header, another Body sent
    doc = signed(mo.ogrn, mo.signers.mo)
    envelope = doc.getroot()
    header, body = envelope[0], envelope[1]
    header.append(copy.deepcopy(body))
    del body.attrib[
        "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
    ]
    reply = mo.send(mo.seal(doc), "getNewLNNum")
    assert refused(reply) == texts.BODY_NOT_SIGNED.format(ogrn=mo.ogrn)


def test_empty_actor_is_refused(mo: Mo) -> None:
    doc = signed(mo.ogrn, mo.signers.mo)
    security = next(e for e in doc.iter() if isinstance(e.tag, str) and e.tag.endswith("}Security"))
    security.set("{http://schemas.xmlsoap.org/soap/envelope/}actor", "")
    assert refused(mo.send(mo.seal(doc), "getNewLNNum")) == texts.EMPTY_ACTOR


def test_missing_token_is_refused(mo: Mo) -> None:
    doc = signed(mo.ogrn, mo.signers.mo)
    token = next(
        e for e in doc.iter() if isinstance(e.tag, str) and e.tag.endswith("BinarySecurityToken")
    )
    token.getparent().remove(token)  # type: ignore[union-attr]
    assert refused(mo.send(mo.seal(doc), "getNewLNNum")) == texts.NO_BST


# -- the encryption envelope ------------------------------------------------------------------


def test_a_clear_request_on_the_encrypted_endpoint(mo: Mo) -> None:
    doc = signed(mo.ogrn, mo.signers.mo)
    data = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
    assert refused(mo.send(data, "getNewLNNum")) == texts.NOT_ENCRYPTED


def test_encrypted_to_another_certificate(mo: Mo, pki: Pki) -> None:
    data = xmlenc.encrypt(
        signed(mo.ogrn, mo.signers.mo), pki.fund.cert, sender_certificate=pki.mo.cert
    )
    assert refused(mo.send(data, "getNewLNNum")) == texts.DECRYPT_WRONG_KEY


def _outer(mo: Mo) -> etree._ElementTree:
    return parse_xml(mo.seal(signed(mo.ogrn, mo.signers.mo)))


def _xenc(doc: etree._ElementTree, local: str) -> list[etree._Element]:
    return [e for e in doc.iter() if e.tag == f"{{http://www.w3.org/2001/04/xmlenc#}}{local}"]


def test_damaged_cipher_value(mo: Mo) -> None:
    doc = _outer(mo)
    value = _xenc(doc, "CipherValue")[-1]  # the content, not the key
    blob = base64.b64decode(value.text or "")
    value.text = base64.b64encode(blob[:8] + bytes(len(blob) - 8)).decode()
    data = etree.tostring(doc)
    assert refused(mo.send(data, "getNewLNNum")) == texts.DECRYPT_BAD_CIPHERVALUE


@pytest.mark.parametrize(
    ("local", "text"),
    [("EncryptedKey", texts.NO_ENCRYPTED_KEY), ("CipherValue", texts.NO_CIPHER_VALUE)],
)
def test_missing_encryption_parts(mo: Mo, local: str, text: str) -> None:
    doc = _outer(mo)
    el = _xenc(doc, local)[-1]
    el.getparent().remove(el)  # type: ignore[union-attr]
    assert refused(mo.send(etree.tostring(doc), "getNewLNNum")) == text


def test_empty_cipher_value(mo: Mo) -> None:
    doc = _outer(mo)
    _xenc(doc, "CipherValue")[-1].text = " "
    assert refused(mo.send(etree.tostring(doc), "getNewLNNum")) == texts.EMPTY_CIPHER_VALUE


def test_v11_layout_is_accepted_on_v20(mo: Mo) -> None:
    # the sender's own certificate in EncryptedKey, nothing in the inner Header (§5.2, open q. 2)
    data = mo.seal(signed(mo.ogrn, mo.signers.mo), layout="v1.1")
    reply = mo.send(data, "getNewLNNum")
    assert reply.text("status") == "1"


def test_no_sender_certificate(mo: Mo, emulator: Emulator) -> None:
    # v1.1 layout whose EncryptedKey names the Fund: no certificate to encrypt the reply to
    data = xmlenc.encrypt(
        signed(mo.ogrn, mo.signers.mo),
        emulator.fund_cert,
        sender_certificate=emulator.fund_cert,
        layout="v1.1",
    )
    assert refused(mo.send(data, "getNewLNNum")) == texts.NO_SENDER_CERT


def test_a_sender_certificate_that_cannot_encrypt(
    mo: Mo, emulator: Emulator, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = PrivateKey.generate(pki.mo.key.curve)
    cert = issue_certificate(
        key.public_key(),
        "CN=МО только подпись,O=МО",
        pki.ca.cert,
        pki.ca.key,
        ogrn=mo.ogrn,
        key_usage=("digitalSignature", "nonRepudiation"),
    )
    sign_only = Party(key, cert)
    monkeypatch.setattr(xmlenc, "_check_recipient", lambda cert, check: None)
    data = xmlenc.encrypt(signed(mo.ogrn, sign_only), emulator.fund_cert, sender_certificate=cert)
    assert refused(mo.send(data, "getNewLNNum")) == texts.CANNOT_ENCRYPT_REPLY


# -- message format ----------------------------------------------------------------------------


def test_soap_action_must_match(mo: Mo) -> None:
    data = mo.seal(signed(mo.ogrn, mo.signers.mo))
    reply = mo.send(data, "getNewLNNum", soap_action=action("getLNData", "2.0"))
    assert refused(reply) == texts.WRONG_SOAP_ACTION


def test_the_schema_is_enforced(mo: Mo) -> None:
    doc = signed(mo.ogrn, mo.signers.mo, "getNewLNNumRange", cntLnNumbers="много")
    message = refused(mo.send(mo.seal(doc), "getNewLNNumRange"))
    assert message.startswith(texts.BAD_FORMAT_XSD) and "cntLnNumbers" in message


def test_not_xml(mo: Mo) -> None:
    assert refused(mo.send(b"<soapenv:Envelope", "getNewLNNum")) == texts.NOT_WELL_FORMED


def test_an_encrypted_request_on_a_plain_endpoint(emulator: Emulator, mo: Mo) -> None:
    data = mo.seal(signed(mo.ogrn, mo.signers.mo))
    plain = Mo(
        emulator.endpoint_url("2.0", encrypted=False), mo.fund_cert, mo.signers, encrypted=False
    )
    assert refused(plain.send(data, "getNewLNNum")) == texts.ENCRYPTED_ON_PLAIN


def test_plain_endpoint_replies_signed_not_encrypted(
    emulator: Emulator, mo: Mo, tmp_path: Path
) -> None:
    plain = Mo(
        emulator.endpoint_url("2.0", encrypted=False),
        mo.fund_cert,
        mo.signers,
        encrypted=False,
        trusted=[emulator.ca_cert],
    )
    reply = plain.body_call("getNewLNNum")
    assert b"EncryptedData" not in reply.raw
    assert reply.report is not None and reply.report.valid
    assert reply.text("status") == "1"


def test_v11_faults_carry_soap_exception(mo11: Mo) -> None:
    doc = parse_xml(simple_request("getNewLNNum", "1.1", ogrn=mo11.ogrn))
    reply = mo11.send(mo11.seal(doc), "getNewLNNum")
    assert refused(reply) == texts.NO_SIGNATURE
    assert b"SOAPException" in reply.raw and b"internalFault" not in reply.raw
    assert reply.fault is not None and reply.fault.detail_message == texts.NO_SIGNATURE
