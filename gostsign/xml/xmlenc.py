"""GOST XML encryption of whole SOAP envelopes, as the Fund expects (protocol.md §5)::

    soapenv:Envelope
    ├─ soapenv:Header
    └─ soapenv:Body
       └─ xenc:EncryptedData @Type=…xmlenc#Element
          ├─ xenc:EncryptionMethod @Algorithm=urn:…:cpxmlsec:algorithms:gost28147
          ├─ ds:KeyInfo/xenc:EncryptedKey
          │  ├─ xenc:EncryptionMethod @Algorithm=urn:…:cpxmlsec:algorithms:transport-gost2001
          │  ├─ ds:KeyInfo/ds:X509Data/ds:X509Certificate    (layout, below)
          │  └─ xenc:CipherData/xenc:CipherValue              base64(DER GostR3410-KeyTransport)
          └─ xenc:CipherData/xenc:CipherValue                 base64(IV(8) || ciphertext)

The content is GOST 28147-89 CBC (S-box of the key transport: TC26-Z for 2012 keys; CryptoPro
key meshing optional) with ISO 10126 padding; the 32-byte content key is wrapped for the
recipient by :func:`gostsign.keytransport.wrap_key` (ephemeral key on the recipient's curve,
VKO, CryptoPro key wrap). The transport URI is ``transport-gost2001`` even for 2012 keys.

Where certificates go depends on the protocol version (protocol.md §5.2):

* ``v1.1``: the sender's certificate in ``EncryptedKey/KeyInfo``;
* ``v2.0``: the recipient's (Fund's) certificate in ``EncryptedKey/KeyInfo`` and the sender's as
  a ``ds:X509Certificate`` child of the Header of the signed inner message.

Decryption takes a :class:`~gostsign.vko.KeyAgreement` so that a token can do the VKO step
without exporting its key. A SOAP Fault sent in clear raises
:class:`~gostsign.xml.errors.FundFault` before anything is decrypted.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from gostsign import gost28147, keytransport
from gostsign.errors import (
    CertificateError,
    DecryptionError,
    GostError,
    IntegrityError,
    InvalidInput,
    UnsupportedAlgorithm,
)
from gostsign.gost3410 import PrivateKey
from gostsign.vko import KeyAgreement, SoftwareKeyAgreement
from gostsign.x509 import Certificate
from gostsign.xml import ns
from gostsign.xml.ns import qn
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.parse import to_bytes
from gostsign.xml.soap import raise_for_fault
from gostsign.xml.wssec import (
    X509_CERTIFICATE,
    as_certificate,
    body_of,
    envelope_of,
    header_of,
    who,
)

Layout = Literal["v1.1", "v2.0"]
LAYOUTS: tuple[Layout, ...] = ("v1.1", "v2.0")

ENVELOPE = qn(ns.SOAP11, "Envelope")
ENCRYPTED_DATA = qn(ns.XENC, "EncryptedData")
ENCRYPTED_KEY = qn(ns.XENC, "EncryptedKey")
ENCRYPTION_METHOD = qn(ns.XENC, "EncryptionMethod")
CIPHER_DATA = qn(ns.XENC, "CipherData")
CIPHER_VALUE = qn(ns.XENC, "CipherValue")
KEY_INFO = qn(ns.DS, "KeyInfo")
X509_DATA = qn(ns.DS, "X509Data")

IV_SIZE = 8
#: Content S-box for 2012 keys ("TK26Z", S20 §5).
DEFAULT_SBOX = "tc26-z"
_ENCRYPT_USAGES = frozenset({"keyAgreement", "keyEncipherment", "dataEncipherment"})


@dataclass(frozen=True)
class DecryptedMessage:
    """A decrypted message and what the encryption layer says about it."""

    plaintext: bytes
    document: etree._ElementTree = field(repr=False)
    #: the certificate in EncryptedKey/KeyInfo (v1.1: the sender's; v2.0: the recipient's)
    key_certificate: Certificate | None
    #: the sender's certificate (v2.0: from the inner Header; v1.1: from EncryptedKey)
    sender_certificate: Certificate | None
    layout: Layout | None
    type_uri: str | None
    key_transport_uri: str
    sbox_oid: str


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str | None, what: str) -> bytes:
    if text is None or not text.strip():
        raise DecryptionError(f"{what} is empty")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"{what} is not valid base64") from None


def _check_recipient(cert: Certificate, check_validity: bool) -> None:
    if check_validity:
        cert.check_validity()
    if cert.key_usage is not None and not cert.key_usage & _ENCRYPT_USAGES:
        raise CertificateError(
            f"certificate {who(cert)} does not allow encryption (key usage: "
            f"{', '.join(sorted(cert.key_usage)) or 'none'}); the Fund needs keyAgreement or "
            "keyEncipherment"
        )


def _header_certificates(envelope: etree._Element) -> list[etree._Element]:
    header = header_of(envelope)
    if header is None:
        return []
    return [c for c in header if c.tag == X509_CERTIFICATE]


def add_sender_certificate(
    doc: etree._ElementTree | etree._Element, certificate: Certificate | bytes
) -> bool:
    """Put the sender's certificate into the Header as ``ds:X509Certificate`` (v2.0), in place.

    Returns False when exactly this certificate is already there. The Header's new child is
    not covered by any signature, and no signed element is touched.
    """
    cert = as_certificate(certificate)
    envelope = envelope_of(doc)
    existing = _header_certificates(envelope)
    for el in existing:
        try:
            if Certificate(_b64decode(el.text, "the Header's X509Certificate")) == cert:
                return False
        except (GostError, ValueError):
            pass
    if existing:
        raise InvalidInput("the Header already carries another sender certificate")
    header = header_of(envelope, create=True)
    assert header is not None
    el = etree.SubElement(header, X509_CERTIFICATE, nsmap={"ds": ns.DS})
    el.text = _b64(cert.der)
    return True


def _plaintext(message: bytes | etree._ElementTree | etree._Element) -> etree._ElementTree:
    if isinstance(message, (bytes, bytearray, memoryview, str)):
        return parse_xml(message, what="the message to encrypt")
    if isinstance(message, etree._Element):
        return message.getroottree()
    return message


def encrypt(
    message: bytes | etree._ElementTree | etree._Element,
    recipient: Certificate | bytes,
    *,
    sender_certificate: Certificate | bytes | None = None,
    layout: Layout = "v2.0",
    sbox: str = DEFAULT_SBOX,
    key_meshing: bool = False,
    type_uri: str = ns.TYPE_ELEMENT,
    check_validity: bool = True,
) -> bytes:
    """Encrypt a whole (signed) SOAP envelope for ``recipient``; return the outer envelope.

    ``layout`` chooses where the certificates go (module docstring); both need
    ``sender_certificate``. ``sbox`` names the 28147 parameter set of both the key wrap and
    the content (TC26-Z by default, as the Fund's spec says for 2012 keys). Input bytes are
    encrypted unchanged when they are already UTF-8 and nothing must be added to them.
    """
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if type_uri not in (ns.TYPE_ELEMENT, ns.TYPE_CONTENT):
        raise InvalidInput(f"EncryptedData Type must be #Element or #Content, not {type_uri}")
    if sender_certificate is None:
        raise InvalidInput(
            "the sender's certificate is required: the Fund encrypts its reply to it"
        )
    recipient_cert = as_certificate(recipient)
    sender_cert = as_certificate(sender_certificate)
    _check_recipient(recipient_cert, check_validity)
    _check_recipient(sender_cert, check_validity)
    box = gost28147.get_sbox(sbox)

    tree = _plaintext(message)
    envelope_of(tree)
    changed = False
    if layout == "v2.0":
        changed = add_sender_certificate(tree, sender_cert)
    if (
        isinstance(message, bytes)
        and not changed
        and (tree.docinfo.encoding or "UTF-8").upper() in ("UTF-8", "UTF8")
    ):
        plaintext = message
    else:
        plaintext = to_bytes(tree)

    cek = os.urandom(keytransport.CEK_SIZE)
    kt = keytransport.wrap_key(recipient_cert.public_key, cek, box.oid)
    iv = os.urandom(IV_SIZE)
    ciphertext = gost28147.cbc_encrypt(
        cek, iv, gost28147.pad_iso10126(plaintext), sbox=box, key_meshing=key_meshing
    )
    key_cert = sender_cert if layout == "v1.1" else recipient_cert

    outer = etree.Element(qn(ns.SOAP11, "Envelope"), nsmap={"soapenv": ns.SOAP11})
    etree.SubElement(outer, qn(ns.SOAP11, "Header"))
    body = etree.SubElement(outer, qn(ns.SOAP11, "Body"))
    data = etree.SubElement(body, ENCRYPTED_DATA, nsmap={"xenc": ns.XENC, "ds": ns.DS})
    data.set("Type", type_uri)
    etree.SubElement(data, ENCRYPTION_METHOD).set("Algorithm", ns.ENC_GOST28147)
    key_info = etree.SubElement(data, KEY_INFO)
    enc_key = etree.SubElement(key_info, ENCRYPTED_KEY)
    etree.SubElement(enc_key, ENCRYPTION_METHOD).set("Algorithm", ns.KT_GOST2001)
    x509 = etree.SubElement(etree.SubElement(enc_key, KEY_INFO), X509_DATA)
    etree.SubElement(x509, X509_CERTIFICATE).text = _b64(key_cert.der)
    etree.SubElement(etree.SubElement(enc_key, CIPHER_DATA), CIPHER_VALUE).text = _b64(kt)
    etree.SubElement(etree.SubElement(data, CIPHER_DATA), CIPHER_VALUE).text = _b64(iv + ciphertext)
    return to_bytes(outer.getroottree())


def _only(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = [c for c in parent if c.tag == tag]
    if not found:
        raise DecryptionError(f"{what} is missing")
    if len(found) > 1:
        raise DecryptionError(f"{what} occurs {len(found)} times; exactly one is allowed")
    return found[0]


def _algorithm(el: etree._Element, what: str) -> str:
    uri = el.get("Algorithm")
    if not uri:
        raise DecryptionError(f"{what} has no Algorithm")
    return uri


def is_encrypted(doc: etree._ElementTree | etree._Element) -> bool:
    """True if the Body holds an ``xenc:EncryptedData``."""
    body = body_of(envelope_of(doc))
    return any(c.tag == ENCRYPTED_DATA for c in body)


def decrypt(
    message: bytes | etree._ElementTree | etree._Element,
    agreement: KeyAgreement | PrivateKey,
    *,
    key_meshing: bool = False,
    content_sbox: str | None = None,
    layout: Layout | None = None,
) -> DecryptedMessage:
    """Decrypt an encrypted envelope with the recipient's key agreement.

    Raises :class:`~gostsign.xml.errors.FundFault` for a SOAP Fault in clear,
    :class:`DecryptionError` (or its :class:`IntegrityError`) with the precise reason
    otherwise. ``content_sbox`` overrides the content S-box (default: the key transport's
    ``encryptionParamSet``). ``layout`` forces where the sender certificate is read from
    (default: the inner Header if it carries one, else EncryptedKey).
    """
    tree = _plaintext(message)
    envelope = envelope_of(tree)
    raise_for_fault(envelope)
    body = body_of(envelope)
    data_els = [c for c in body.iter(ENCRYPTED_DATA)]
    if not data_els:
        raise DecryptionError("the message is not encrypted: its Body holds no xenc:EncryptedData")
    if len(data_els) > 1:
        raise DecryptionError(
            f"the Body holds {len(data_els)} EncryptedData; exactly one is allowed"
        )
    data = data_els[0]
    if data.getparent() is not body:
        raise DecryptionError("xenc:EncryptedData must be a direct child of the SOAP Body")
    type_uri = data.get("Type")
    if type_uri not in (None, ns.TYPE_ELEMENT, ns.TYPE_CONTENT):
        raise UnsupportedAlgorithm(f"EncryptedData Type {type_uri} is not #Element or #Content")
    method = _algorithm(
        _only(data, ENCRYPTION_METHOD, "EncryptedData/EncryptionMethod"), "EncryptionMethod"
    )
    if method != ns.ENC_GOST28147:
        raise UnsupportedAlgorithm(
            f"content encryption {method} is not accepted; the Fund uses {ns.ENC_GOST28147}"
        )
    key_info = _only(data, KEY_INFO, "EncryptedData/KeyInfo")
    enc_key = _only(key_info, ENCRYPTED_KEY, "EncryptedKey")
    kt_uri = _algorithm(
        _only(enc_key, ENCRYPTION_METHOD, "EncryptedKey/EncryptionMethod"),
        "EncryptedKey/EncryptionMethod",
    )
    if kt_uri not in ns.KEY_TRANSPORT_URIS:
        raise UnsupportedAlgorithm(
            f"key transport {kt_uri} is not accepted; the Fund uses {ns.KT_GOST2001}"
        )
    key_cert: Certificate | None = None
    cert_els = list(enc_key.iterfind(f"{KEY_INFO}/{X509_DATA}/{X509_CERTIFICATE}"))
    if len(cert_els) > 1:
        raise DecryptionError("EncryptedKey carries several X509Certificate elements")
    if cert_els:
        try:
            key_cert = Certificate(_b64decode(cert_els[0].text, "EncryptedKey's X509Certificate"))
        except DecryptionError:
            raise
        except GostError as exc:
            raise DecryptionError(f"EncryptedKey's X509Certificate: {exc}") from None
    kt_der = _b64decode(
        _only(
            _only(enc_key, CIPHER_DATA, "EncryptedKey/CipherData"),
            CIPHER_VALUE,
            "EncryptedKey/CipherData/CipherValue",
        ).text,
        "EncryptedKey's CipherValue",
    )
    blob = _b64decode(
        _only(
            _only(data, CIPHER_DATA, "EncryptedData/CipherData"),
            CIPHER_VALUE,
            "EncryptedData/CipherData/CipherValue",
        ).text,
        "EncryptedData's CipherValue",
    )

    if isinstance(agreement, PrivateKey):
        agreement = SoftwareKeyAgreement(agreement)
    try:
        kt = keytransport.KeyTransport.decode(kt_der)
    except GostError as exc:
        raise DecryptionError(
            f"EncryptedKey's CipherValue is not a GostR3410-KeyTransport: {exc}"
        ) from None
    try:
        cek = keytransport.unwrap_key(kt_der, agreement)
    except IntegrityError:
        hint = ""
        if key_cert is not None and key_cert.public_key != agreement.public_key:
            hint = f"; EncryptedKey names certificate {who(key_cert)}, whose key is not this one"
        raise IntegrityError(
            "the content key does not unwrap with this key (MAC mismatch): the message was "
            "encrypted for another key" + hint
        ) from None
    except GostError as exc:
        raise DecryptionError(f"cannot unwrap the content key: {exc}") from None

    if len(blob) < IV_SIZE + 8 or (len(blob) - IV_SIZE) % 8:
        raise DecryptionError(
            f"EncryptedData's CipherValue is {len(blob)} bytes: not IV(8) + whole 8-byte blocks"
        )
    sbox_oid = kt.sbox_oid
    box = gost28147.get_sbox(content_sbox) if content_sbox else gost28147.get_sbox(sbox_oid)
    padded = gost28147.cbc_decrypt(
        cek, blob[:IV_SIZE], blob[IV_SIZE:], sbox=box, key_meshing=key_meshing
    )
    try:
        plaintext = gost28147.unpad_iso10126(padded)
    except DecryptionError as exc:
        raise DecryptionError(
            f"{exc}: the content does not decrypt cleanly (other S-box or key meshing?)"
        ) from None
    try:
        inner = parse_xml(plaintext, what="the decrypted message")
        if type_uri == ns.TYPE_CONTENT and inner.getroot().tag != ENVELOPE:
            inner = _content_document(tree, data, plaintext)
    except InvalidInput as exc:
        raise DecryptionError(
            f"the decrypted data is not the expected XML ({exc}); the content S-box or key "
            "meshing may differ"
        ) from None
    inner_envelope = envelope_of(inner)
    header_certs = _header_certificates(inner_envelope)
    sender: Certificate | None = None
    found_layout: Layout | None = None
    if layout != "v1.1" and len(header_certs) == 1:
        try:
            sender = Certificate(_b64decode(header_certs[0].text, "the Header's X509Certificate"))
            found_layout = "v2.0"
        except GostError as exc:
            raise DecryptionError(f"the inner Header's X509Certificate: {exc}") from None
    elif layout != "v2.0" and key_cert is not None:
        sender = key_cert
        found_layout = "v1.1"
    return DecryptedMessage(
        plaintext=plaintext,
        document=inner,
        key_certificate=key_cert,
        sender_certificate=sender,
        layout=found_layout,
        type_uri=type_uri,
        key_transport_uri=kt_uri,
        sbox_oid=box.oid,
    )


def _content_document(
    outer: etree._ElementTree, data: etree._Element, plaintext: bytes
) -> etree._ElementTree:
    """For ``#Content``: put the decrypted content in place of EncryptedData."""
    from gostsign.xml.fragments import splice

    return splice(outer, {data: plaintext})
