"""WS-Security signing and verification in the Fund's profile, with a test PKI.

Each tampering case must fail with its own reason; the wrapping attack must be caught by
``require``; stored signed fragments must survive being put into a new message.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from gostsign import testpki
from gostsign.errors import CertificateExpired, InvalidInput, InvalidSignature
from gostsign.signer import Signer, SoftwareSigner
from gostsign.x509 import Certificate
from gostsign.xml import fragments, ns, profile, wssec
from gostsign.xml.c14n import exc_c14n
from gostsign.xml.errors import SignatureNotCovering
from gostsign.xml.parse import parse, to_bytes
from gostsign.xml.wssec import Kind, Reason
from tests.gostsign import xml_messages as msgs

OTHER_OGRN = testpki.ogrn_with_check("102550000007")
MCHD = "4a1f5c2e-8d2b-4c6e-9a57-0e3c1b2d4f60"


@pytest.fixture(scope="module")
def pki() -> testpki.Pki:
    return testpki.create_test_pki()


@pytest.fixture(scope="module")
def pki512() -> testpki.Pki:
    return testpki.create_test_pki("tc26-512-a")


def signer(party: testpki.Party) -> SoftwareSigner:
    return SoftwareSigner(party.key, party.cert)


def ogrn_of(pki: testpki.Pki) -> str:
    ogrn = pki.mo.cert.subject.ogrn
    assert ogrn is not None
    return ogrn


def signed_request(pki: testpki.Pki, *, with_comments: bool = True) -> etree._ElementTree:
    doc = parse(msgs.get_new_ln_num(ogrn_of(pki)))
    profile.sign_body(doc, ogrn_of(pki), signer(pki.mo), with_comments=with_comments)
    return parse(to_bytes(doc))  # what the receiver sees


def signed_rows(pki: testpki.Pki, rows: int = 3) -> etree._ElementTree:
    """prParseFilelnlpu: doctor blocks 1 and 3, VK block 3, then the МО signs every row."""
    ogrn = ogrn_of(pki)
    doc = parse(msgs.pr_parse(ogrn, rows))
    for i in range(rows):
        code = msgs.ln_code(i)
        profile.sign_doctor_block(doc, code, 1, signer(pki.doctor))
        profile.sign_doctor_block(doc, code, 3, signer(pki.doctor))
        profile.sign_vk_block(doc, code, 3, signer(pki.chairman))
        profile.sign_row(doc, ogrn, code, signer(pki.mo))
    return parse(to_bytes(doc))


def security_of(doc: etree._ElementTree, actor: str) -> etree._Element:
    (sec,) = [s for s in wssec.security_headers(doc.getroot()) if s.get(wssec.ACTOR) == actor]
    return sec


def reverify(doc: etree._ElementTree, **kw: object) -> wssec.VerificationReport:
    return profile.verify(parse(to_bytes(doc)), **kw)  # type: ignore[arg-type]


# -- the happy paths --------------------------------------------------------------------------


def test_body_signature_has_the_funds_layout(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    ogrn = ogrn_of(pki)
    (sec,) = wssec.security_headers(doc.getroot())
    assert sec.get(wssec.ACTOR) == f"http://eln.fss.ru/actor/mo/{ogrn}"
    assert sec.get(f"{{{ns.SOAP11}}}actor") == sec.get(wssec.ACTOR)
    token, sig = list(sec)
    assert token.tag == wssec.BST
    assert token.get(wssec.WSU_ID) == sec.get(wssec.ACTOR)
    assert token.get("ValueType") == ns.X509V3
    assert token.get("EncodingType") == ns.BASE64_BINARY
    assert base64.b64decode(token.text or "") == pki.mo.cert.der
    info = sig.find(wssec.SIGNED_INFO)
    assert info is not None
    assert [c.tag for c in info] == [wssec.C14N_METHOD, wssec.SIGNATURE_METHOD, wssec.REFERENCE]
    assert info[1].get("Algorithm") == ns.SIG_2012_256
    (ref,) = info.findall(wssec.REFERENCE)
    assert ref.get("URI") == f"#OGRN_{ogrn}"
    assert len(ref.findall(f"{wssec.TRANSFORMS}/{wssec.TRANSFORM}")) == 1
    assert ref.find(wssec.DIGEST_METHOD).get("Algorithm") == ns.DIGEST_2012_256  # type: ignore[union-attr]
    str_ref = sig.find(f"{wssec.KEY_INFO}/{wssec.STR}/{wssec.WSSE_REFERENCE}")
    assert str_ref is not None and str_ref.get("URI") == "#" + (sec.get(wssec.ACTOR) or "")
    body = wssec.body_of(doc.getroot())
    assert body.get(wssec.WSU_ID) == f"OGRN_{ogrn}"
    assert body.prefix == "soapenv" and sec.prefix == "wsse"
    # the wsu prefix of the Envelope is reused, not redeclared with a generated prefix
    assert b"ns0:" not in to_bytes(doc)


def test_signed_request_verifies_with_a_full_report(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    report = profile.verify_request(doc, trusted=[pki.ca.cert])
    assert report.valid, report.all_problems()
    (s,) = report.signatures
    assert s.element is wssec.body_of(doc.getroot())
    assert (s.digest_valid, s.signature_valid, s.certificate_valid_at, s.certificate_trusted) == (
        True,
        True,
        True,
        True,
    )
    assert s.certificate is not None
    assert s.certificate.ogrn == ogrn_of(pki)
    assert s.certificate.serial == pki.mo.cert.serial
    assert s.certificate.subject == str(pki.mo.cert.subject)
    assert s.c14n_method == ns.EXC_C14N_WITH_COMMENTS
    json.dumps(report.to_dict(), ensure_ascii=False)


def test_512_bit_signature(pki512: testpki.Pki) -> None:
    doc = signed_request(pki512)
    (s,) = profile.verify_request(doc, trusted=[pki512.ca.cert]).signatures
    assert s.valid
    assert s.signature_method == ns.SIG_2012_512 and s.digest_method == ns.DIGEST_2012_512
    assert s.certificate is not None and s.certificate.key_bits == 512


@pytest.mark.parametrize("with_comments", [False, True])
def test_comments_are_covered_only_with_comments(pki: testpki.Pki, with_comments: bool) -> None:
    ogrn = ogrn_of(pki)
    data = msgs.get_new_ln_num(ogrn).replace(b"<v01:ogrn>", b"<!-- c --><v01:ogrn>")
    doc = parse(data)
    profile.sign_body(doc, ogrn, signer(pki.mo), with_comments=with_comments)
    assert reverify(doc).valid
    stripped = parse(to_bytes(doc).replace(b"<!-- c -->", b""))
    assert profile.verify(stripped).valid is (not with_comments)


def test_rows_doctor_and_vk_blocks(pki: testpki.Pki) -> None:
    doc = signed_rows(pki, 3)
    report = profile.verify_request(doc, trusted=[pki.ca.cert])
    assert report.valid, report.all_problems()
    assert len(report.signatures) == 12
    code = msgs.ln_code(1)
    by_id = {s.reference_id: s for s in report.signatures}
    assert by_id[f"ELN_{code}_1_doc"].element_name == "hospitalBreach"
    assert by_id[f"ELN_{code}_1_doc"].actor == f"http://eln.fss.ru/actor/doc/{code}_1_doc"
    assert by_id[f"ELN_{code}_3_doc"].element_name == "treatPeriod"
    assert by_id[f"ELN_{code}_3_vk"].element_name == "treatFullPeriod"
    assert by_id[f"ELN_{code}_3_vk"].actor == f"http://eln.fss.ru/actor/doc/{code}_3_vk"
    doctor = by_id[f"ELN_{code}_3_doc"].certificate
    assert doctor is not None and doctor.snils == pki.doctor.cert.subject.snils
    row = by_id[f"ELN_{code}"]
    assert row.actor == f"http://eln.fss.ru/actor/mo/{ogrn_of(pki)}/ELN_{code}"
    for r in profile.rows(doc):
        report.require(r)


def test_sign_request_picks_rows_or_body(pki: testpki.Pki) -> None:
    ogrn = ogrn_of(pki)
    rows_doc = parse(msgs.pr_parse(ogrn, 3))
    assert len(profile.sign_request(rows_doc, ogrn, signer(pki.mo))) == 3
    body_doc = parse(msgs.get_new_ln_num(ogrn))
    assert len(profile.sign_request(body_doc, ogrn, signer(pki.mo))) == 1
    for doc in (rows_doc, body_doc):
        assert profile.verify_request(parse(to_bytes(doc)), trusted=[pki.ca.cert]).valid


def test_profile_ids_and_actors() -> None:
    assert profile.body_id("1027739443236") == "OGRN_1027739443236"
    assert profile.mo_actor("1027739443236") == "http://eln.fss.ru/actor/mo/1027739443236"
    assert profile.row_actor("1021900520410", "900000161967") == (
        "http://eln.fss.ru/actor/mo/1021900520410/ELN_900000161967"
    )
    assert profile.doctor_id("900000161967", 1) == "ELN_900000161967_1_doc"
    assert profile.doctor_actor("900000161967", 1) == (
        "http://eln.fss.ru/actor/doc/900000161967_1_doc"
    )
    assert profile.vk_id("900000161967", profile.period_block(3)) == "ELN_900000161967_5_vk"
    assert profile.fund_actor() == "http://eln.fss.ru/actor/fss/ca/1027739443236"
    for bad in (
        lambda: profile.vk_id("1", 2),
        lambda: profile.doctor_id("1", 6),
        lambda: profile.mo_actor("12345"),
        lambda: profile.row_id("12a"),
    ):
        with pytest.raises(InvalidInput):
            bad()
    assert profile.actor_matches_id(profile.doctor_actor("5", 2), "ELN_5_2_doc") is None
    assert "expected" in (
        profile.actor_matches_id(profile.doctor_actor("5", 2), "ELN_5_3_doc") or ""
    )


def test_mchd_object_is_written_and_reported(pki: testpki.Pki) -> None:
    ogrn = ogrn_of(pki)
    doc = parse(msgs.get_new_ln_num(ogrn))
    sec = profile.sign_body(doc, ogrn, signer(pki.mo), mchd_uuid=MCHD)
    sig = sec.find(wssec.SIGNATURE)
    assert sig is not None and sig[-1].tag == f"{{{ns.DS}}}object"
    uuid = sig[-1].find(
        f"{{{ns.FSS_SIGNATURE}}}authority/{{{ns.FSS_MCHD}}}powerOfAttorneyLink/"
        f"{{{ns.FSS_MCHD}}}uuid"
    )
    assert uuid is not None and uuid.text == MCHD
    (s,) = reverify(doc).signatures
    assert s.valid and s.mchd_uuid == MCHD


def test_personal_certificate_needs_an_mchd_for_the_mo(pki: testpki.Pki) -> None:
    ogrn = ogrn_of(pki)
    doc = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(doc, ogrn, signer(pki.doctor))  # a certificate with СНИЛС, no ОГРН
    (s,) = reverify(doc).signatures
    assert s.crypto_valid and s.reasons == [Reason.OGRN_MISSING]
    doc = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(doc, ogrn, signer(pki.doctor), mchd_uuid=MCHD)
    (s,) = reverify(doc).signatures
    assert s.valid and s.mchd_uuid == MCHD


def test_mo_certificate_of_another_ogrn_is_refused(pki: testpki.Pki) -> None:
    other = testpki.make_mo(pki.ca, ogrn=OTHER_OGRN)
    ogrn = ogrn_of(pki)
    doc = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(doc, ogrn, signer(other))
    report = profile.verify_request(parse(to_bytes(doc)), trusted=[pki.ca.cert])
    (s,) = report.signatures
    assert s.crypto_valid and s.certificate_trusted
    assert s.reasons == [Reason.OGRN_MISMATCH]
    assert OTHER_OGRN in s.problems[0].message and ogrn in s.problems[0].message
    assert not report.valid


def test_several_security_headers_and_duplicate_actor_refused(pki: testpki.Pki) -> None:
    doc = signed_rows(pki, 1)
    code = msgs.ln_code(0)
    with pytest.raises(InvalidInput, match="already has a Security header"):
        profile.sign_row(doc, ogrn_of(pki), code, signer(pki.mo))


# -- the Fund's replies -----------------------------------------------------------------------


def fund_reply(pki: testpki.Pki, party: testpki.Party | None = None) -> etree._ElementTree:
    doc = parse(msgs.get_new_ln_num_reply())
    profile.sign_fund_reply(doc, signer(party or pki.fund), ogrn=testpki.FUND_OGRN)
    return parse(to_bytes(doc))


def test_fund_reply_verifies(pki: testpki.Pki) -> None:
    report = profile.verify_reply(fund_reply(pki), pki.fund.cert, trusted=[pki.ca.cert])
    assert report.valid


def test_reply_signed_by_anyone_but_the_fund_certificate_is_refused(pki: testpki.Pki) -> None:
    doc = fund_reply(pki, pki.mo)  # the Fund's actor, the МО's key and certificate
    with pytest.raises(SignatureNotCovering, match="not-fund-certificate"):
        profile.verify_reply(doc, pki.fund.cert, trusted=[pki.ca.cert])
    report = profile.verify(doc, fund_certificate=pki.fund.cert)
    assert report.signatures[0].reasons == [Reason.NOT_FUND_CERTIFICATE]


def test_reply_signed_under_the_mo_actor_is_refused(pki: testpki.Pki) -> None:
    doc = parse(msgs.get_new_ln_num_reply())
    profile.sign_body(doc, ogrn_of(pki), signer(pki.mo))
    with pytest.raises(SignatureNotCovering, match="none of them an acceptable signer"):
        profile.verify_reply(parse(to_bytes(doc)), pki.fund.cert)


# -- tampering: each case with its own reason -------------------------------------------------


def test_changed_byte_in_a_signed_row(pki: testpki.Pki) -> None:
    data = to_bytes(signed_rows(pki, 3))
    code = msgs.ln_code(1)
    start = data.index(f"<lnCode>{code}</lnCode>".encode())
    tampered = data[:start] + data[start:].replace(b"<gender>1</gender>", b"<gender>2</gender>", 1)
    report = profile.verify_request(parse(tampered))
    bad = [s for s in report.signatures if not s.valid]
    assert [s.reference_id for s in bad] == [f"ELN_{code}"]
    assert bad[0].reasons == [Reason.DIGEST_MISMATCH]
    assert bad[0].signature_valid is True  # SignedInfo untouched
    assert f"#ELN_{code}" in bad[0].problems[0].message
    assert any("is not valid" in p.message for p in report.problems)


def test_moved_wsu_id(pki: testpki.Pki) -> None:
    doc = signed_rows(pki, 2)
    code = msgs.ln_code(0)
    (row,) = [r for r in profile.rows(doc) if r.get(wssec.WSU_ID) == f"ELN_{code}"]
    del row.attrib[wssec.WSU_ID]
    row.getparent().set(wssec.WSU_ID, f"ELN_{code}")  # type: ignore[union-attr]  # onto rowset
    (s,) = reverify(doc).by_id(f"ELN_{code}")
    assert s.element_name == "rowset"
    assert Reason.ID_MISPLACED in s.reasons
    assert Reason.DIGEST_MISMATCH in s.reasons


def test_duplicated_wsu_id(pki: testpki.Pki) -> None:
    doc = signed_rows(pki, 2)
    code = msgs.ln_code(0)
    copy = etree.SubElement(wssec.header_of(doc.getroot()), "copy")  # type: ignore[arg-type]
    copy.set(wssec.WSU_ID, f"ELN_{code}")
    (s,) = reverify(doc).by_id(f"ELN_{code}")
    assert s.reasons == [Reason.REFERENCE_AMBIGUOUS]
    assert s.digest_valid is None and s.element is None


def test_duplicated_plain_id_also_counts(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    etree.SubElement(wssec.header_of(doc.getroot()), "x").set("Id", f"OGRN_{ogrn_of(pki)}")  # type: ignore[arg-type]
    (s,) = reverify(doc).signatures
    assert s.reasons == [Reason.REFERENCE_AMBIGUOUS]


def test_swapped_actors(pki: testpki.Pki) -> None:
    doc = signed_rows(pki, 2)
    ogrn = ogrn_of(pki)
    a, b = (profile.row_actor(ogrn, msgs.ln_code(i)) for i in range(2))
    sa, sb = security_of(doc, a), security_of(doc, b)
    sa.set(wssec.ACTOR, b)
    sb.set(wssec.ACTOR, a)
    report = reverify(doc)
    for res in (
        report.by_id(f"ELN_{msgs.ln_code(0)}")[0],
        report.by_id(f"ELN_{msgs.ln_code(1)}")[0],
    ):
        assert res.crypto_valid
        assert Reason.ACTOR_MISMATCH in res.reasons


def test_swapped_actors_tokens_and_references(pki: testpki.Pki) -> None:
    # A careful attacker rewrites token Ids and STRs too: the actor still does not fit the Id.
    data = to_bytes(signed_rows(pki, 2))
    ogrn = ogrn_of(pki)
    a, b = (profile.row_actor(ogrn, msgs.ln_code(i)).encode() for i in range(2))
    swapped = data.replace(a, b"@@").replace(b, a).replace(b"@@", b)
    report = profile.verify(parse(swapped))
    rows = [s for s in report.signatures if s.reference_id and s.reference_id.count("_") == 1]
    assert rows and all(s.reasons == [Reason.ACTOR_MISMATCH] for s in rows)


def test_foreign_certificate_in_the_token(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    (sec,) = wssec.security_headers(doc.getroot())
    sec.find(wssec.BST).text = base64.b64encode(pki.doctor.cert.der).decode()  # type: ignore[union-attr]
    (s,) = reverify(doc).signatures
    assert s.digest_valid is True and s.signature_valid is False
    assert Reason.SIGNATURE_INVALID in s.reasons


def test_foreign_certificate_resigned_is_not_trusted(pki: testpki.Pki) -> None:
    rogue_ca = testpki.make_ca(subject="CN=Rogue CA")
    rogue = testpki.make_mo(rogue_ca, ogrn=ogrn_of(pki))
    ogrn = ogrn_of(pki)
    doc = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(doc, ogrn, signer(rogue))
    report = profile.verify_request(parse(to_bytes(doc)), trusted=[pki.ca.cert])
    (s,) = report.signatures
    assert s.crypto_valid and s.certificate_trusted is False
    assert s.reasons == [Reason.CERT_NOT_TRUSTED]
    assert s.problems[0].kind is Kind.CERTIFICATE


def test_truncated_signature_value(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    value = doc.getroot().find(f".//{wssec.SIGNATURE_VALUE}")
    assert value is not None
    raw = base64.b64decode(value.text or "")
    value.text = base64.b64encode(raw[:-1]).decode()
    (s,) = reverify(doc).signatures
    assert s.reasons == [Reason.SIGNATURE_MALFORMED]
    assert "63 bytes" in s.problems[0].message


def test_wrapping_attack_is_caught(pki: testpki.Pki) -> None:
    # The signed Body is moved into the Header; a new Body with other data takes its place.
    doc = signed_request(pki)
    env = doc.getroot()
    original = wssec.body_of(env)
    header = wssec.header_of(env)
    assert header is not None
    wrapper = etree.SubElement(header, "{urn:attacker}Wrapper")
    env.remove(original)
    wrapper.append(original)
    forged = etree.SubElement(env, wssec.BODY)
    forged.append(etree.fromstring(msgs.get_new_ln_num(OTHER_OGRN))[1][0])
    tampered = parse(to_bytes(doc))
    report = profile.verify(tampered, ogrn=ogrn_of(pki))
    (s,) = report.signatures
    assert s.crypto_valid  # the signature still holds over the moved original...
    assert Reason.ID_MISPLACED in s.reasons  # ...which is not where a Body belongs
    with pytest.raises(SignatureNotCovering, match="not covered"):
        report.require(wssec.body_of(tampered.getroot()))
    strict = profile.verify_request(tampered, ogrn=ogrn_of(pki))
    assert not strict.valid
    assert any(p.reason is Reason.NO_SIGNATURE for p in strict.problems)


def test_wrapping_with_the_id_kept_on_the_forged_body(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    env = doc.getroot()
    original = wssec.body_of(env)
    wrapper = etree.SubElement(wssec.header_of(env), "{urn:attacker}Wrapper")  # type: ignore[arg-type]
    env.remove(original)
    wrapper.append(original)
    forged = etree.SubElement(env, wssec.BODY)
    forged.set(wssec.WSU_ID, f"OGRN_{ogrn_of(pki)}")
    (s,) = reverify(doc).signatures
    assert s.reasons == [Reason.REFERENCE_AMBIGUOUS]


def _rewrite(doc: etree._ElementTree, xpath: str, attr: str, value: str) -> None:
    for el in doc.getroot().iter(xpath):
        el.set(attr, value)


@pytest.mark.parametrize(
    ("tag", "uri"),
    [
        (wssec.SIGNATURE_METHOD, "http://www.w3.org/2001/04/xmldsig-more#gostr34102001-gostr3411"),
        (wssec.DIGEST_METHOD, "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr3411"),
    ],
)
def test_gost_2001_uris_are_refused(pki: testpki.Pki, tag: str, uri: str) -> None:
    doc = signed_request(pki)
    _rewrite(doc, tag, "Algorithm", uri)
    (s,) = reverify(doc).signatures
    assert s.reasons[0] is Reason.ALGORITHM_REFUSED
    assert "GOST R 34.10-2001 is no longer accepted" in s.problems[0].message


def test_downgraded_algorithms_are_refused(pki512: testpki.Pki) -> None:
    doc = signed_request(pki512)
    _rewrite(doc, wssec.SIGNATURE_METHOD, "Algorithm", ns.SIG_2012_256)
    _rewrite(doc, wssec.DIGEST_METHOD, "Algorithm", ns.DIGEST_2012_256)
    (s,) = reverify(doc).signatures
    assert s.reasons == [Reason.ALGORITHM_MISMATCH]
    assert "512-bit" in s.problems[0].message
    doc = signed_request(pki512)
    _rewrite(doc, wssec.DIGEST_METHOD, "Algorithm", ns.DIGEST_2012_256)
    (s,) = reverify(doc).signatures
    assert Reason.ALGORITHM_MISMATCH in s.reasons


def test_unknown_algorithm_is_refused(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    _rewrite(doc, wssec.SIGNATURE_METHOD, "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    (s,) = reverify(doc).signatures
    assert s.reasons == [Reason.ALGORITHM_UNSUPPORTED]


def test_exactly_one_reference_and_one_transform(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    ref = doc.getroot().find(f".//{wssec.REFERENCE}")
    assert ref is not None
    ref.getparent().append(etree.fromstring(etree.tostring(ref)))  # type: ignore[union-attr]
    (s,) = reverify(doc).signatures
    assert s.reasons[0] is Reason.MALFORMED and "2 References" in s.problems[0].message

    doc = signed_request(pki)
    transforms = doc.getroot().find(f".//{wssec.TRANSFORMS}")
    assert transforms is not None
    extra = etree.SubElement(transforms, wssec.TRANSFORM)
    extra.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    (s,) = reverify(doc).signatures
    assert s.reasons[0] is Reason.MALFORMED and "2 Transforms" in s.problems[0].message

    doc = signed_request(pki)
    _rewrite(doc, wssec.TRANSFORM, "Algorithm", "http://www.w3.org/2000/09/xmldsig#base64")
    (s,) = reverify(doc).signatures
    # SignedInfo changed too, so its SignatureValue fails as well
    assert s.reasons == [Reason.ALGORITHM_UNSUPPORTED, Reason.SIGNATURE_INVALID]
    assert s.digest_valid is None


def test_external_reference_is_refused(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    _rewrite(doc, wssec.REFERENCE, "URI", "http://example.invalid/x.xml")
    (s,) = reverify(doc).signatures
    assert Reason.MALFORMED in s.reasons and "same-document" in s.problems[0].message


def test_missing_token_and_missing_signature(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    (sec,) = wssec.security_headers(doc.getroot())
    sec.remove(sec.find(wssec.BST))  # type: ignore[arg-type]
    (s,) = reverify(doc).signatures
    assert s.reasons == [Reason.TOKEN_NOT_FOUND]
    sec.remove(sec.find(wssec.SIGNATURE))  # type: ignore[arg-type]
    report = reverify(doc)
    assert not report.signatures and report.problems[0].reason is Reason.NO_SIGNATURE
    unsigned = profile.verify(parse(msgs.get_new_ln_num(ogrn_of(pki))))
    assert not unsigned.valid and unsigned.problems[0].reason is Reason.NO_SIGNATURE


def test_certificate_time_and_revocation(pki: testpki.Pki) -> None:
    doc = signed_request(pki)
    later = datetime.now(UTC) + timedelta(days=400)
    (s,) = profile.verify(doc, at=later).signatures
    assert s.crypto_valid and s.reasons == [Reason.CERT_NOT_VALID_AT]
    crl = pki.crl([pki.mo.cert])
    (s,) = profile.verify(doc, trusted=[pki.ca.cert], crls=[crl]).signatures
    assert s.crypto_valid and s.reasons == [Reason.CERT_REVOKED]
    assert s.problems[0].kind is Kind.CERTIFICATE


# -- signing errors ---------------------------------------------------------------------------


class ReversingSigner:
    """A provider that forgot to reverse CryptoAPI's byte order."""

    def __init__(self, inner: Signer) -> None:
        self.inner = inner

    @property
    def certificate(self) -> bytes | Certificate:
        return self.inner.certificate

    def sign_digest(self, digest: bytes) -> bytes:
        return self.inner.sign_digest(digest)[::-1]


def test_signer_byte_order_mistake_is_caught(pki: testpki.Pki) -> None:
    ogrn = ogrn_of(pki)
    doc = parse(msgs.get_new_ln_num(ogrn))
    with pytest.raises(InvalidSignature, match="byte-reversed"):
        profile.sign_body(doc, ogrn, ReversingSigner(signer(pki.mo)))
    assert not wssec.security_headers(doc.getroot())  # nothing half-written is left
    mismatched = SoftwareSigner(pki.doctor.key, pki.mo.cert)
    with pytest.raises(InvalidSignature, match="does not verify with its certificate"):
        profile.sign_body(doc, ogrn, mismatched)


def test_signer_with_a_der_certificate(pki: testpki.Pki) -> None:
    ogrn = ogrn_of(pki)
    doc = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(doc, ogrn, SoftwareSigner(pki.mo.key, pki.mo.cert.der))
    assert reverify(doc).valid


def test_expired_signing_certificate_is_refused(pki: testpki.Pki) -> None:
    old = testpki.make_mo(pki.ca, now=datetime.now(UTC) - timedelta(days=800))
    doc = parse(msgs.get_new_ln_num(ogrn_of(pki)))
    with pytest.raises(CertificateExpired):
        profile.sign_body(doc, ogrn_of(pki), signer(old))


def test_sign_input_errors(pki: testpki.Pki) -> None:
    doc = parse(msgs.pr_parse(ogrn_of(pki), 1))
    with pytest.raises(InvalidInput, match="no element has wsu:Id"):
        wssec.sign(doc, "ELN_1", "http://eln.fss.ru/actor/mo/1/ELN_1", signer(pki.mo))
    with pytest.raises(InvalidInput, match="not a SOAP envelope"):
        wssec.sign(parse(b"<a/>"), "x", "y", signer(pki.mo))
    with pytest.raises(InvalidInput, match=r"SOAP 1\.1"):
        wssec.sign(
            parse(b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"/>'),
            "x",
            "y",
            signer(pki.mo),
        )
    dup = parse(
        msgs.pr_parse(ogrn_of(pki), 1)
        .replace(b"<lnState>", b'<x wsu:Id="dup"/><lnState>')
        .replace(b"<lnDate>", b'<y wsu:Id="dup"/><lnDate>')
    )
    with pytest.raises(InvalidInput, match="2 elements carry"):
        wssec.sign(dup, "dup", "urn:a", signer(pki.mo))


# -- stored fragments -------------------------------------------------------------------------


def message_without_period(
    pki: testpki.Pki, extra_ns: str = ""
) -> tuple[etree._ElementTree, etree._Element]:
    """A one-row message whose treatFullPeriod lacks its treatPeriod (to be inserted)."""
    data = msgs.pr_parse(ogrn_of(pki), 1)
    data = data.replace(
        b"<prParseFilelnlpuRequest ", f"<prParseFilelnlpuRequest {extra_ns} ".encode()
    )
    doc = parse(data)
    full = doc.getroot().find(f".//{{{msgs.MO_NS}}}treatFullPeriod")
    assert full is not None
    full.remove(full[1])
    return doc, full


def test_stored_doctor_fragment_reinserted_into_a_new_message(pki: testpki.Pki) -> None:
    code = msgs.ln_code(0)
    period = msgs.treat_period().encode()
    stored = fragments.sign_doctor_fragment(period, code, 3, signer(pki.doctor))
    stored = fragments.SignedFragment.from_dict(json.loads(json.dumps(stored.to_dict())))
    assert stored.element_id == f"ELN_{code}_3_doc"
    # ... days later: a new message, whose context binds the com namespace to prefix ns2
    doc, full = message_without_period(pki)
    assert (
        msgs.COM_NS
        in doc.getroot().find(f".//{{{msgs.MO_NS}}}prParseFilelnlpuRequest").nsmap.values()
    )  # type: ignore[union-attr]
    new = fragments.insert_fragment(doc, stored, full)
    profile.sign_row(new, ogrn_of(pki), code, signer(pki.mo))
    report = profile.verify_request(parse(to_bytes(new)), trusted=[pki.ca.cert])
    assert report.valid, report.all_problems()
    (doctor,) = report.by_id(f"ELN_{code}_3_doc")
    assert doctor.element_name == "treatPeriod"  # still unprefixed, com as default namespace


@pytest.mark.parametrize(
    "fragment",
    [
        # default namespace (as in the Fund's example 8.1.3)
        f'<treatPeriod xmlns="{msgs.COM_NS}"><treatDt1>2020-08-20</treatDt1></treatPeriod>',
        # a prefix the message binds differently / to the same URI under another name
        f'<ns2:treatPeriod xmlns:ns2="{msgs.COM_NS}"><ns2:treatDt1>2020-08-20</ns2:treatDt1>'
        "</ns2:treatPeriod>",
        f'<com:treatPeriod xmlns:com="{msgs.COM_NS}"><com:treatDt1>2020-08-20</com:treatDt1>'
        "</com:treatPeriod>",
        # a prefix that the surrounding message binds to another namespace
        f'<v01:treatPeriod xmlns:v01="{msgs.COM_NS}"><v01:treatDt1>2020-08-20</v01:treatDt1>'
        "</v01:treatPeriod>",
    ],
    ids=["default-ns", "same-prefix", "other-prefix", "clashing-prefix"],
)
def test_fragment_survives_namespace_context_differences(pki: testpki.Pki, fragment: str) -> None:
    code = msgs.ln_code(0)
    stored = fragments.sign_doctor_fragment(fragment.encode(), code, 3, signer(pki.doctor))
    # a context that binds v01 to the mo namespace and com to the same URI as the fragment
    doc, full = message_without_period(pki, f'xmlns:v01="{msgs.MO_NS}" xmlns:com="{msgs.COM_NS}"')
    new = fragments.insert_fragment(doc, stored, full, index=1)
    (s,) = profile.verify(parse(to_bytes(new))).by_id(f"ELN_{code}_3_doc")
    assert s.valid, s.problems


def test_naive_lxml_append_would_break_the_signature(pki: testpki.Pki) -> None:
    # Why fragments.splice exists: lxml rewrites the fragment's namespaces to an ancestor's.
    code = msgs.ln_code(0)
    stored = fragments.sign_doctor_fragment(
        msgs.treat_period().encode(), code, 3, signer(pki.doctor)
    )
    _, full = message_without_period(pki)
    element = parse(stored.element).getroot()
    before = exc_c14n(element)
    full.append(element)
    assert exc_c14n(full[-1]) != before


def test_fragment_that_would_change_meaning_is_refused(pki: testpki.Pki) -> None:
    code = msgs.ln_code(0)
    stored = fragments.sign_fragment(
        b"<period><d>1</d></period>",
        f"ELN_{code}_3_doc",
        profile.doctor_actor(code, 3),
        signer(pki.doctor),
    )
    doc, full = message_without_period(pki)  # treatFullPeriod has the mo default namespace
    with pytest.raises(InvalidInput, match="canonical form"):
        fragments.insert_fragment(doc, stored, full)


def test_replace_unsigned_block_with_its_signed_copy(pki: testpki.Pki) -> None:
    code = msgs.ln_code(0)
    doc = parse(msgs.pr_parse(ogrn_of(pki), 1))
    period = profile.find_block(doc, code, 3)
    stored = fragments.sign_doctor_fragment(period, code, 3, signer(pki.doctor))
    new = fragments.replace_with_fragment(doc, period, stored)
    vk = fragments.sign_vk_fragment(
        profile.find_block(new, code, 3, vk=True), code, 3, signer(pki.chairman)
    )
    new = fragments.replace_with_fragment(new, profile.find_block(new, code, 3, vk=True), vk)
    profile.sign_row(new, ogrn_of(pki), code, signer(pki.mo))
    report = profile.verify_request(parse(to_bytes(new)))
    assert report.valid, report.all_problems()
    assert len(report.signatures) == 3
    # extracting it again gives the same canonical bytes
    again = fragments.fragment_of(new, f"ELN_{code}_3_doc")
    assert exc_c14n(parse(again.element).getroot()) == exc_c14n(parse(stored.element).getroot())


def test_splice_leaves_the_original_untouched(pki: testpki.Pki) -> None:
    doc = parse(msgs.get_new_ln_num(ogrn_of(pki)))
    before = to_bytes(doc)
    header = wssec.header_of(doc.getroot())
    assert header is not None
    slot = etree.SubElement(header, "slot")
    slot.tail = "\n"
    new = fragments.splice(doc, {slot: b"<x xmlns='urn:x'/>"})
    header.remove(slot)
    assert to_bytes(doc) == before
    assert b'<x xmlns="urn:x"/>\n' in to_bytes(new)
