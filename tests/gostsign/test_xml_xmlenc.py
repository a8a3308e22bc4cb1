"""GOST XML encryption of whole envelopes (protocol.md §5), with OpenSSL's gost engine as oracle.

Round trips with ourselves on every curve and S-box set and both certificate layouts; in the
XML context OpenSSL unwraps our EncryptedKey (``pkeyutl -decrypt``) and decrypts our content
(``enc -d -gost89-cbc -nopad``), and we decrypt what OpenSSL wrapped (``pkeyutl -encrypt``) and
enciphered (``enc -e -gost89-cbc -nopad``). A Fault in clear surfaces as the Fund's text.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import etree

from gostsign import gost28147, keytransport, testpki, x509
from gostsign.errors import (
    CertificateError,
    DecryptionError,
    IntegrityError,
    UnsupportedAlgorithm,
)
from gostsign.gost3410 import PublicKey
from gostsign.signer import SoftwareSigner
from gostsign.vko import SoftwareKeyAgreement
from gostsign.xml import ns, profile, wssec, xmlenc
from gostsign.xml.errors import FundFault
from gostsign.xml.parse import parse, to_bytes
from tests import oracles
from tests.gostsign import xml_messages as msgs

ALL_CURVES = [
    "cryptopro-a",
    "cryptopro-b",
    "cryptopro-c",
    "cryptopro-xcha",
    "cryptopro-xchb",
    "tc26-256-a",
    "tc26-256-b",
    "tc26-256-c",
    "tc26-256-d",
    "tc26-512-a",
    "tc26-512-b",
    "tc26-512-c",
]
SBOXES = ["tc26-z", "cryptopro-a", "cryptopro-b", "cryptopro-c", "cryptopro-d", "test"]
OPENSSL_SBOX = {
    "tc26-z": "id-tc26-gost-28147-param-Z",
    "cryptopro-a": "id-Gost28147-89-CryptoPro-A-ParamSet",
}
_PKIS: dict[str, testpki.Pki] = {}


def pki_for(curve: str = "cryptopro-xcha") -> testpki.Pki:
    if curve not in _PKIS:
        _PKIS[curve] = testpki.create_test_pki(curve)
    return _PKIS[curve]


def signed_request(pki: testpki.Pki) -> bytes:
    ogrn = pki.mo.cert.subject.ogrn
    assert ogrn is not None
    doc = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(doc, ogrn, SoftwareSigner(pki.mo.key, pki.mo.cert))
    return to_bytes(doc)


def cipher_values(data: bytes) -> tuple[bytes, bytes]:
    """(EncryptedKey's CipherValue, EncryptedData's CipherValue), decoded."""
    root = parse(data).getroot()
    kt = root.find(f".//{xmlenc.ENCRYPTED_KEY}/{xmlenc.CIPHER_DATA}/{xmlenc.CIPHER_VALUE}")
    content = root.find(f".//{xmlenc.ENCRYPTED_DATA}/{xmlenc.CIPHER_DATA}/{xmlenc.CIPHER_VALUE}")
    assert kt is not None and content is not None
    return base64.b64decode(kt.text or ""), base64.b64decode(content.text or "")


def replace_cipher_values(data: bytes, kt: bytes, content: bytes) -> bytes:
    tree = parse(data)
    root = tree.getroot()
    root.find(f".//{xmlenc.ENCRYPTED_KEY}/{xmlenc.CIPHER_DATA}/{xmlenc.CIPHER_VALUE}").text = (  # type: ignore[union-attr]
        base64.b64encode(kt).decode()
    )
    root.find(f".//{xmlenc.ENCRYPTED_DATA}/{xmlenc.CIPHER_DATA}/{xmlenc.CIPHER_VALUE}").text = (  # type: ignore[union-attr]
        base64.b64encode(content).decode()
    )
    return to_bytes(tree)


# -- layout -----------------------------------------------------------------------------------


def test_outer_envelope_has_the_funds_layout() -> None:
    pki = pki_for()
    out = xmlenc.encrypt(signed_request(pki), pki.fund.cert, sender_certificate=pki.mo.cert)
    root = parse(out).getroot()
    assert root.tag == f"{{{ns.SOAP11}}}Envelope" and root.prefix == "soapenv"
    header, body = list(root)
    assert header.tag == wssec.HEADER and len(header) == 0
    (data,) = list(body)
    assert data.tag == xmlenc.ENCRYPTED_DATA
    assert data.get("Type") == ns.TYPE_ELEMENT
    method, key_info, _cipher = list(data)
    assert method.get("Algorithm") == ns.ENC_GOST28147
    (enc_key,) = list(key_info)
    assert enc_key.find(xmlenc.ENCRYPTION_METHOD).get("Algorithm") == ns.KT_GOST2001  # type: ignore[union-attr]
    kt, content = cipher_values(out)
    assert len(kt) == 172  # RFC 4490 KeyTransport with a 256-bit ephemeral key
    decoded = keytransport.KeyTransport.decode(kt)
    assert decoded.sbox_oid == "1.2.643.7.1.2.5.1.1"  # TC26-Z for 2012 keys
    assert decoded.ephemeral_key.curve is pki.fund.cert.public_key.curve
    assert (len(content) - 8) % 8 == 0


@pytest.mark.parametrize("layout", ["v1.1", "v2.0"])
def test_certificate_layouts(layout: xmlenc.Layout) -> None:
    pki = pki_for()
    plain = signed_request(pki)
    out = xmlenc.encrypt(plain, pki.fund.cert, sender_certificate=pki.mo.cert, layout=layout)
    key_cert = parse(out).getroot().find(f".//{xmlenc.ENCRYPTED_KEY}//{wssec.X509_CERTIFICATE}")
    assert key_cert is not None
    expected = pki.mo.cert if layout == "v1.1" else pki.fund.cert
    assert base64.b64decode(key_cert.text or "") == expected.der
    result = xmlenc.decrypt(out, pki.fund.key)
    assert result.layout == layout
    assert result.sender_certificate == pki.mo.cert
    assert result.key_certificate == expected
    header = wssec.header_of(result.document.getroot())
    assert header is not None
    header_certs = [c for c in header if c.tag == wssec.X509_CERTIFICATE]
    if layout == "v1.1":
        assert result.plaintext == plain  # encrypted byte for byte
        assert not header_certs
    else:
        assert len(header_certs) == 1
    # the inner signature survives the added Header certificate
    assert profile.verify_request(result.document, trusted=[pki.ca.cert]).valid


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", ALL_CURVES)
def test_round_trip_on_every_curve(curve: str) -> None:
    pki = pki_for(curve)
    plain = signed_request(pki)
    out = xmlenc.encrypt(plain, pki.fund.cert, sender_certificate=pki.mo.cert, layout="v1.1")
    kt, _ = cipher_values(out)
    decoded = keytransport.KeyTransport.decode(kt)  # an ephemeral key on the recipient's curve
    assert decoded.ephemeral_key.curve is pki.fund.cert.public_key.curve
    assert xmlenc.decrypt(out, SoftwareKeyAgreement(pki.fund.key)).plaintext == plain


@pytest.mark.parametrize("sbox", SBOXES)
@pytest.mark.parametrize("meshing", [False, True])
def test_round_trip_with_every_sbox(sbox: str, meshing: bool) -> None:
    pki = pki_for()
    plain = msgs.pr_parse(pki.mo.cert.subject.ogrn or "", 3)  # > 1 KiB: meshing matters
    assert len(plain) > 4096
    out = xmlenc.encrypt(
        plain,
        pki.fund.cert,
        sender_certificate=pki.mo.cert,
        layout="v1.1",
        sbox=sbox,
        key_meshing=meshing,
    )
    kt, _ = cipher_values(out)
    assert keytransport.KeyTransport.decode(kt).sbox_oid == gost28147.get_sbox(sbox).oid
    result = xmlenc.decrypt(out, pki.fund.key, key_meshing=meshing)
    assert result.plaintext == plain
    assert result.sbox_oid == gost28147.get_sbox(sbox).oid
    with pytest.raises(DecryptionError):  # the meshing flag must match
        xmlenc.decrypt(out, pki.fund.key, key_meshing=not meshing)


class CountingAgreement:
    """A KeyAgreement as a token would offer it: the private key never leaves."""

    def __init__(self, party: testpki.Party) -> None:
        self._inner = SoftwareKeyAgreement(party.key)
        self.calls = 0

    @property
    def public_key(self) -> PublicKey:
        return self._inner.public_key

    def derive_kek(self, peer: PublicKey, ukm: bytes, *, legacy_2001: bool = False) -> bytes:
        self.calls += 1
        return self._inner.derive_kek(peer, ukm, legacy_2001=legacy_2001)


def test_decrypt_through_a_key_agreement_object() -> None:
    pki = pki_for()
    out = xmlenc.encrypt(signed_request(pki), pki.fund.cert, sender_certificate=pki.mo.cert)
    agreement = CountingAgreement(pki.fund)
    assert xmlenc.decrypt(out, agreement).sender_certificate == pki.mo.cert
    assert agreement.calls == 1


def test_reply_from_the_fund_round_trip() -> None:
    # The Fund encrypts its signed reply to the МО's certificate; the МО decrypts and verifies.
    pki = pki_for()
    doc = parse(msgs.get_new_ln_num_reply())
    profile.sign_fund_reply(
        doc, SoftwareSigner(pki.fund.key, pki.fund.cert), ogrn=testpki.FUND_OGRN
    )
    out = xmlenc.encrypt(to_bytes(doc), pki.mo.cert, sender_certificate=pki.fund.cert)
    result = xmlenc.decrypt(out, pki.mo.key)
    assert profile.verify_reply(result.document, pki.fund.cert, trusted=[pki.ca.cert]).valid


# -- failures ---------------------------------------------------------------------------------


FAULT = (
    '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault '
    'xmlns:ns4="http://www.w3.org/2003/05/soap-envelope"><faultcode>S:Server</faultcode>'
    "<faultstring>ru.fss.integration.ws.fault.v01.InternalException: Не удалось расшифровать "
    "сообщение. Возможно сообщение зашифровано на ключе отличном от ключа уполномоченного лица "
    "ФСС.</faultstring><detail><ns2:internalFault "
    'xmlns:ns2="http://www.fss.ru/integration/types/fault/v01"><ns2:uuid>8d1c</ns2:uuid>'
    "<ns2:code>E_0100</ns2:code><ns2:message>Не удалось расшифровать сообщение</ns2:message>"
    "</ns2:internalFault></detail></S:Fault></S:Body></S:Envelope>"
).encode()


def test_fault_in_clear_is_the_funds_error_not_a_decryption_failure() -> None:
    pki = pki_for()
    with pytest.raises(FundFault) as info:
        xmlenc.decrypt(FAULT, pki.mo.key)
    fault = info.value
    assert not isinstance(fault, DecryptionError)
    assert fault.faultcode == "S:Server"
    assert fault.faultstring.startswith(
        "ru.fss.integration.ws.fault.v01.InternalException: Не удалось расшифровать сообщение."
    )
    assert fault.code == "E_0100"
    assert fault.message == "Не удалось расшифровать сообщение"
    assert fault.detail_uuid == "8d1c"
    assert "Не удалось расшифровать сообщение" in str(fault)


def test_v11_plain_fault_is_recognised() -> None:
    v11 = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>ЭЦП неверна. "
        "INVALID_SIGNATURE ЭП недействительна.</faultstring><detail><ns2:SOAPException "
        'xmlns:ns2="http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"><message>ЭЦП неверна'
        "</message></ns2:SOAPException></detail></soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
    with pytest.raises(FundFault, match="INVALID_SIGNATURE") as info:
        xmlenc.decrypt(v11, pki_for().mo.key)
    assert info.value.code == "soap:Server"
    with pytest.raises(FundFault):  # and verification does not pretend it is a signature issue
        profile.verify_reply(parse(v11), pki_for().fund.cert)


def test_wrong_key_names_the_certificate_it_was_for() -> None:
    pki = pki_for()
    out = xmlenc.encrypt(signed_request(pki), pki.fund.cert, sender_certificate=pki.mo.cert)
    with pytest.raises(IntegrityError, match=r"encrypted for another key.*EncryptedKey names"):
        xmlenc.decrypt(out, pki.mo.key)


def test_tampered_content_is_a_decryption_error() -> None:
    pki = pki_for()
    out = xmlenc.encrypt(signed_request(pki), pki.fund.cert, sender_certificate=pki.mo.cert)
    kt, content = cipher_values(out)
    bad = replace_cipher_values(out, kt, content[:-8])
    with pytest.raises(DecryptionError):
        xmlenc.decrypt(bad, pki.fund.key)
    with pytest.raises(DecryptionError, match="IV\\(8\\)"):
        xmlenc.decrypt(replace_cipher_values(out, kt, content[:13]), pki.fund.key)
    with pytest.raises(DecryptionError, match="KeyTransport"):
        xmlenc.decrypt(replace_cipher_values(out, kt[:-3], content), pki.fund.key)


def test_structure_errors() -> None:
    pki = pki_for()
    with pytest.raises(DecryptionError, match="not encrypted"):
        xmlenc.decrypt(signed_request(pki), pki.fund.key)
    out = xmlenc.encrypt(signed_request(pki), pki.fund.cert, sender_certificate=pki.mo.cert)
    with pytest.raises(UnsupportedAlgorithm, match="gost28147"):
        xmlenc.decrypt(out.replace(ns.ENC_GOST28147.encode(), b"urn:x"), pki.fund.key)
    with pytest.raises(UnsupportedAlgorithm, match="transport-gost2001"):
        xmlenc.decrypt(out.replace(ns.KT_GOST2001.encode(), b"urn:x"), pki.fund.key)
    tree = parse(out)
    body = wssec.body_of(tree.getroot())
    body.append(etree.fromstring(etree.tostring(body[0])))
    with pytest.raises(DecryptionError, match="2 EncryptedData"):
        xmlenc.decrypt(to_bytes(tree), pki.fund.key)
    # the Fund sends #Content in its spec text: accepted as well
    content_type = out.replace(ns.TYPE_ELEMENT.encode(), ns.TYPE_CONTENT.encode())
    assert xmlenc.decrypt(content_type, pki.fund.key).document.getroot().tag == (
        f"{{{ns.SOAP11}}}Envelope"
    )


def test_encryption_needs_an_encryption_capable_certificate() -> None:
    pki = pki_for()
    key = pki.fund.key
    signing_only = x509.issue_certificate(
        key.public_key(),
        "CN=sign only",
        pki.ca.cert,
        pki.ca.key,
        key_usage=("digitalSignature",),
    )
    with pytest.raises(CertificateError, match="does not allow encryption"):
        xmlenc.encrypt(signed_request(pki), signing_only, sender_certificate=pki.mo.cert)
    with pytest.raises(Exception, match="sender's certificate is required"):
        xmlenc.encrypt(signed_request(pki), pki.fund.cert)


# -- OpenSSL in the XML context ---------------------------------------------------------------

OPENSSL_CURVES = ["cryptopro-a", "cryptopro-xcha", "tc26-256-b", "tc26-512-a"]


@pytest.mark.oracle("openssl")
@pytest.mark.parametrize("curve", OPENSSL_CURVES)
@pytest.mark.parametrize("sbox", sorted(OPENSSL_SBOX))
def test_openssl_decrypts_our_message(
    openssl: oracles.Tool, tmp_path: Path, curve: str, sbox: str
) -> None:
    pki = pki_for(curve)
    plain = signed_request(pki)
    out = xmlenc.encrypt(
        plain, pki.fund.cert, sender_certificate=pki.mo.cert, layout="v1.1", sbox=sbox
    )
    kt, content = cipher_values(out)
    (tmp_path / "kt.der").write_bytes(kt)
    (tmp_path / "fund.key.pem").write_bytes(pki.fund.key_pem())
    cek = openssl.run(
        "pkeyutl", "-decrypt", "-inkey", tmp_path / "fund.key.pem", "-in", tmp_path / "kt.der"
    ).stdout
    assert len(cek) == 32
    padded = openssl.run(
        "enc",
        "-d",
        "-gost89-cbc",
        "-nopad",
        "-K",
        cek.hex(),
        "-iv",
        content[:8].hex(),
        input=content[8:],
        env={"CRYPT_PARAMS": OPENSSL_SBOX[sbox]},
    ).stdout
    assert gost28147.unpad_iso10126(padded) == plain


@pytest.mark.oracle("openssl")
@pytest.mark.parametrize("curve", OPENSSL_CURVES)
def test_we_decrypt_what_openssl_wrapped_and_enciphered(
    openssl: oracles.Tool, tmp_path: Path, curve: str
) -> None:
    pki = pki_for(curve)
    plain = signed_request(pki)
    cek = bytes(range(1, 33))
    iv = bytes.fromhex("0102030405060708")
    (tmp_path / "fund.pem").write_bytes(pki.fund.cert.pem)
    pub = openssl.run("x509", "-in", tmp_path / "fund.pem", "-pubkey", "-noout").stdout
    (tmp_path / "pub.pem").write_bytes(pub)
    (tmp_path / "cek.bin").write_bytes(cek)
    kt = openssl.run(
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        tmp_path / "pub.pem",
        "-in",
        tmp_path / "cek.bin",
    ).stdout
    ciphertext = openssl.run(
        "enc",
        "-e",
        "-gost89-cbc",
        "-nopad",
        "-K",
        cek.hex(),
        "-iv",
        iv.hex(),
        input=gost28147.pad_iso10126(plain),
        env={"CRYPT_PARAMS": OPENSSL_SBOX["tc26-z"]},
    ).stdout
    ours = xmlenc.encrypt(plain, pki.fund.cert, sender_certificate=pki.mo.cert, layout="v1.1")
    theirs = replace_cipher_values(ours, kt, iv + ciphertext)
    result = xmlenc.decrypt(theirs, pki.fund.key)
    assert result.plaintext == plain
    assert result.sbox_oid == "1.2.643.7.1.2.5.1.1"
