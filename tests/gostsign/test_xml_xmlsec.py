"""Interoperability with xmlsec1 built with GOST (the independent XMLDSig oracle).

* xmlsec1 verifies our Fund-style signatures (Body; rows with doctor and VK blocks), 256 and
  512 bit, on several curves, each signature with its signer's certificate;
* we verify what xmlsec1 signs from templates in the Fund's layout, and our DigestValue equals
  xmlsec1's for the same element (exclusive c14n with and without comments agree).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import etree

from gostsign import testpki
from gostsign.signer import SoftwareSigner
from gostsign.xml import ns, profile, wssec
from gostsign.xml.parse import parse, to_bytes
from tests import oracles
from tests.gostsign import xml_messages as msgs

pytestmark = pytest.mark.oracle("xmlsec1")

CURVES = ["cryptopro-a", "cryptopro-xcha", "tc26-256-a", "tc26-512-a", "tc26-512-c"]
ID_ATTRS = [
    f"{ns.SOAP11}:Body",
    f"{msgs.MO_NS}:row",
    f"{msgs.MO_NS}:hospitalBreach",
    f"{msgs.MO_NS}:treatFullPeriod",
    f"{msgs.COM_NS}:treatPeriod",
]
_PKIS: dict[str, testpki.Pki] = {}


def pki_for(curve: str) -> testpki.Pki:
    if curve not in _PKIS:
        _PKIS[curve] = testpki.create_test_pki(curve)
    return _PKIS[curve]


def signer(party: testpki.Party) -> SoftwareSigner:
    return SoftwareSigner(party.key, party.cert)


def id_args() -> list[str]:
    args = []
    for spec in ID_ATTRS:
        args += ["--id-attr:Id", spec]
    return args


def xmlsec_verify(
    tool: oracles.Tool, path: Path, cert: Path, index: int, *, check: bool = True
) -> int:
    proc = tool.run(
        "--verify",
        "--pubkey-cert-pem",
        cert,
        *id_args(),
        "--node-xpath",
        f"(//*[local-name()='Signature' and namespace-uri()='{ns.DS}'])[{index}]",
        path,
        check=check,
    )
    return proc.returncode


def write_party(tmp: Path, name: str, party: testpki.Party) -> tuple[Path, Path]:
    cert = tmp / f"{name}.pem"
    key = tmp / f"{name}.key.pem"
    cert.write_bytes(party.cert.pem)
    key.write_bytes(party.key_pem())
    return cert, key


@pytest.mark.parametrize("curve", CURVES)
def test_xmlsec1_verifies_our_body_signature(
    xmlsec1: oracles.Tool, tmp_path: Path, curve: str
) -> None:
    pki = pki_for(curve)
    ogrn = pki.mo.cert.subject.ogrn
    assert ogrn is not None
    doc = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(doc, ogrn, signer(pki.mo))
    path = tmp_path / "signed.xml"
    path.write_bytes(to_bytes(doc))
    cert, _ = write_party(tmp_path, "mo", pki.mo)
    assert xmlsec_verify(xmlsec1, path, cert, 1) == 0
    # the oracle does say no: one changed byte in the Body
    path.write_bytes(path.read_bytes().replace(f">{ogrn}<".encode(), b">1027700000000<"))
    assert xmlsec_verify(xmlsec1, path, cert, 1, check=False) != 0


@pytest.mark.parametrize("curve", CURVES)
def test_xmlsec1_verifies_our_row_doctor_and_vk_signatures(
    xmlsec1: oracles.Tool, tmp_path: Path, curve: str
) -> None:
    pki = pki_for(curve)
    ogrn = pki.mo.cert.subject.ogrn
    assert ogrn is not None
    doc = parse(msgs.pr_parse(ogrn, 2))
    order: list[str] = []
    for i in range(2):
        code = msgs.ln_code(i)
        profile.sign_doctor_block(doc, code, 1, signer(pki.doctor))
        profile.sign_doctor_block(doc, code, 3, signer(pki.doctor))
        profile.sign_vk_block(doc, code, 3, signer(pki.chairman))
        profile.sign_row(doc, ogrn, code, signer(pki.mo))
        order += ["doctor", "doctor", "chairman", "mo"]
    path = tmp_path / "rows.xml"
    path.write_bytes(to_bytes(doc))
    certs = {name: write_party(tmp_path, name, getattr(pki, name))[0] for name in set(order)}
    for index, who in enumerate(order, start=1):
        assert xmlsec_verify(xmlsec1, path, certs[who], index) == 0, (index, who)
    # and the wrong signer's certificate is refused by the oracle
    assert xmlsec_verify(xmlsec1, path, certs["doctor"], 4, check=False) != 0


def fund_template(
    doc: etree._ElementTree,
    element: etree._Element,
    element_id: str,
    actor: str,
    party: testpki.Party,
    *,
    with_comments: bool,
) -> None:
    """Add a Security header in the Fund's layout with an empty Signature for xmlsec1."""
    bits = party.cert.public_key.curve.bits
    wssec.set_wsu_id(element, element_id)
    header = wssec.header_of(doc.getroot(), create=True)
    sec = wssec._build_security(header, actor, party.cert)
    c14n = ns.EXC_C14N_WITH_COMMENTS if with_comments else ns.EXC_C14N
    E = etree.SubElement
    sig = E(sec, wssec.SIGNATURE, nsmap={"ds": ns.DS})
    info = E(sig, wssec.SIGNED_INFO)
    E(info, wssec.C14N_METHOD).set("Algorithm", c14n)
    E(info, wssec.SIGNATURE_METHOD).set("Algorithm", ns.SIGNATURE_URIS[bits])
    ref = E(info, wssec.REFERENCE)
    ref.set("URI", "#" + element_id)
    E(E(ref, wssec.TRANSFORMS), wssec.TRANSFORM).set("Algorithm", c14n)
    E(ref, wssec.DIGEST_METHOD).set("Algorithm", ns.DIGEST_URIS[bits])
    E(ref, wssec.DIGEST_VALUE)
    E(sig, wssec.SIGNATURE_VALUE)
    str_ref = E(E(E(sig, wssec.KEY_INFO), wssec.STR), wssec.WSSE_REFERENCE)
    str_ref.set("URI", "#" + actor)
    str_ref.set("ValueType", ns.X509V3)


def xmlsec_sign(tool: oracles.Tool, tmp: Path, data: bytes, key: Path, index: int) -> bytes:
    src = tmp / f"tmpl{index}.xml"
    out = tmp / f"signed{index}.xml"
    src.write_bytes(data)
    tool.run(
        "--sign",
        "--privkey-pem",
        key,
        *id_args(),
        "--node-xpath",
        f"(//*[local-name()='Signature' and namespace-uri()='{ns.DS}'])[{index}]",
        "--output",
        out,
        src,
    )
    return out.read_bytes()


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("with_comments", [False, True])
def test_we_verify_what_xmlsec1_signs(
    xmlsec1: oracles.Tool, tmp_path: Path, curve: str, with_comments: bool
) -> None:
    pki = pki_for(curve)
    ogrn = pki.mo.cert.subject.ogrn
    assert ogrn is not None
    code = msgs.ln_code(0)
    doc = parse(msgs.pr_parse(ogrn, 1))
    period = profile.find_block(doc, code, 3)
    fund_template(
        doc,
        period,
        profile.doctor_id(code, 3),
        profile.doctor_actor(code, 3),
        pki.doctor,
        with_comments=with_comments,
    )
    row = profile.find_row(doc, code)
    fund_template(
        doc,
        row,
        profile.row_id(code),
        profile.row_actor(ogrn, code),
        pki.mo,
        with_comments=with_comments,
    )
    _, doctor_key = write_party(tmp_path, "doctor", pki.doctor)
    _, mo_key = write_party(tmp_path, "mo", pki.mo)
    data = xmlsec_sign(xmlsec1, tmp_path, to_bytes(doc), doctor_key, 1)
    data = xmlsec_sign(xmlsec1, tmp_path, data, mo_key, 2)

    signed = parse(data)
    report = profile.verify_request(signed, trusted=[pki.ca.cert])
    assert report.valid, report.all_problems()
    assert [s.reference_id for s in report.signatures] == [
        profile.doctor_id(code, 3),
        profile.row_id(code),
    ]
    # c14n equivalence: our digest of each element equals xmlsec1's DigestValue
    from gostsign import streebog
    from gostsign.xml.c14n import exc_c14n

    bits = pki.mo.cert.public_key.curve.bits
    for s in report.signatures:
        assert s.element is not None and s.signature_element is not None
        value = s.signature_element.find(f".//{wssec.DIGEST_VALUE}")
        assert value is not None
        ours = streebog.digest(exc_c14n(s.element, with_comments=with_comments), bits)
        assert base64.b64decode(value.text or "") == ours


def test_xmlsec1_and_we_agree_on_a_tampered_message(xmlsec1: oracles.Tool, tmp_path: Path) -> None:
    pki = pki_for("cryptopro-xcha")
    ogrn = pki.mo.cert.subject.ogrn
    assert ogrn is not None
    doc = parse(msgs.pr_parse(ogrn, 1))
    profile.sign_row(doc, ogrn, msgs.ln_code(0), signer(pki.mo))
    tampered = to_bytes(doc).replace(b"<gender>1</gender>", b"<gender>2</gender>")
    path = tmp_path / "t.xml"
    path.write_bytes(tampered)
    cert, _ = write_party(tmp_path, "mo", pki.mo)
    assert xmlsec_verify(xmlsec1, path, cert, 1, check=False) != 0
    (s,) = profile.verify(parse(tampered)).signatures
    assert s.reasons == [wssec.Reason.DIGEST_MISMATCH]
