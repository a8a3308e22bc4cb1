"""What the Fund checks before it reads a request: the encryption envelope (S11/S20 §5), the
signatures by the actor/Id rules (§4.2–4.3) and the certificates (§4.6).

Cryptography is gostsign's (xmlenc, wssec); the decisions — which element must be signed by
whom, which certificate may sign for which ОГРН, which text the Fund answers — are made here,
independently of gostsign's profile module and of the client.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from fss_emulator import texts
from fss_emulator.dialects import DS, SOAP11, WSSE, WSU
from gostsign.errors import (
    DecryptionError,
    GostError,
    IntegrityError,
    UnsupportedAlgorithm,
)
from gostsign.gost3410 import PrivateKey
from gostsign.vko import SoftwareKeyAgreement
from gostsign.x509 import Certificate
from gostsign.xml import xmlenc
from gostsign.xml.wssec import Reason, SignatureResult, VerificationReport

XENC = "http://www.w3.org/2001/04/xmlenc#"
ACTOR_BASE = "http://eln.fss.ru/actor/"
_ENCRYPT_USAGES = frozenset({"keyEncipherment", "keyAgreement", "dataEncipherment"})


class FundError(Exception):
    """A request the Fund refuses as a whole; answered with a clear-text SOAP Fault."""

    def __init__(self, message: str, code: str = texts.FAULT_SYSTEM) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ----------------------------------------------------------------------------------------------
# Actors and Ids (protocol.md §4.2)
# ----------------------------------------------------------------------------------------------


def body_id(ogrn: str) -> str:
    return f"OGRN_{ogrn}"


def mo_actor(ogrn: str) -> str:
    return f"{ACTOR_BASE}mo/{ogrn}"


def row_id(ln: str) -> str:
    return f"ELN_{ln}"


def row_actor(ogrn: str, ln: str) -> str:
    return f"{ACTOR_BASE}mo/{ogrn}/ELN_{ln}"


def doc_id(ln: str, block: int) -> str:
    return f"ELN_{ln}_{block}_doc"


def doc_actor(ln: str, block: int) -> str:
    return f"{ACTOR_BASE}doc/{ln}_{block}_doc"


def vk_id(ln: str, block: int) -> str:
    return f"ELN_{ln}_{block}_vk"


def vk_actor(ln: str, block: int) -> str:
    return f"{ACTOR_BASE}doc/{ln}_{block}_vk"


def fund_actor(ogrn: str) -> str:
    return f"{ACTOR_BASE}fss/ca/{ogrn}"


# ----------------------------------------------------------------------------------------------
# Encryption envelope
# ----------------------------------------------------------------------------------------------


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _kids(parent: etree._Element, ns: str, local: str) -> list[etree._Element]:
    return [c for c in parent if c.tag == _q(ns, local)]


def _one(parent: etree._Element, ns: str, local: str, missing: str, many: str) -> etree._Element:
    found = _kids(parent, ns, local)
    if not found:
        raise FundError(missing, texts.FAULT_SYSTEM)
    if len(found) > 1:
        raise FundError(many, texts.FAULT_SYSTEM)
    return found[0]


def _cipher_value(parent: etree._Element) -> None:
    data = _one(parent, XENC, "CipherData", texts.NO_CIPHER_DATA, texts.MANY_CIPHER_DATA)
    value = _one(data, XENC, "CipherValue", texts.NO_CIPHER_VALUE, texts.MANY_CIPHER_VALUE)
    if not (value.text or "").strip():
        raise FundError(texts.EMPTY_CIPHER_VALUE)


def is_encrypted(envelope: etree._Element) -> bool:
    return any(True for _ in envelope.iter(_q(XENC, "EncryptedData")))


def _certificate_of(el: etree._Element) -> Certificate:
    raw = "".join((el.text or "").split())
    if not raw:
        raise FundError(texts.EMPTY_SENDER_CERT)
    try:
        return Certificate(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError, GostError):
        raise FundError(texts.BAD_CERT_ELEMENT) from None


def check_envelope(envelope: etree._Element) -> Certificate | None:
    """The S11 §14.7 structure checks of the outer message; the EncryptedKey's certificate."""
    bodies = _kids(envelope, SOAP11, "Body")
    all_data = list(envelope.iter(_q(XENC, "EncryptedData")))
    if not bodies or not all_data:
        raise FundError(texts.NOT_ENCRYPTED)
    if len(all_data) > 1:
        raise FundError(texts.MANY_ENCRYPTED_DATA)
    data = all_data[0]
    keys = list(data.iter(_q(XENC, "EncryptedKey")))
    if not keys:
        raise FundError(texts.NO_ENCRYPTED_KEY)
    if len(keys) > 1:
        raise FundError(texts.MANY_ENCRYPTED_KEY)
    _cipher_value(data)
    _cipher_value(keys[0])
    certs = list(keys[0].iter(_q(DS, "X509Certificate")))
    if len(certs) > 1:
        raise FundError(texts.MANY_SENDER_CERTS)
    return _certificate_of(certs[0]) if certs else None


@dataclass(frozen=True)
class Decrypted:
    document: etree._ElementTree
    sender: Certificate
    layout: str  # "v2.0": sender certificate in the inner Header; "v1.1": in EncryptedKey


def decrypt(outer: etree._ElementTree, fund_key: PrivateKey, fund_cert: Certificate) -> Decrypted:
    """Decrypt a request and find its sender's certificate (either layout, §5.2)."""
    key_cert = check_envelope(outer.getroot())
    try:
        # layout "v1.1" keeps gostsign from reading the inner Header: we judge it ourselves
        message = xmlenc.decrypt(outer, SoftwareKeyAgreement(fund_key), layout="v1.1")
    except IntegrityError:
        raise FundError(texts.DECRYPT_WRONG_KEY) from None
    except (DecryptionError, UnsupportedAlgorithm):
        raise FundError(texts.DECRYPT_BAD_CIPHERVALUE) from None
    envelope = message.document.getroot()
    headers = _kids(envelope, SOAP11, "Header")
    inner = _kids(headers[0], DS, "X509Certificate") if headers else []
    if len(inner) > 1:
        raise FundError(texts.MANY_SENDER_CERTS)
    if inner:
        return Decrypted(message.document, _certificate_of(inner[0]), "v2.0")
    if key_cert is not None and key_cert != fund_cert:
        return Decrypted(message.document, key_cert, "v1.1")
    raise FundError(texts.NO_SENDER_CERT)


def check_reply_certificate(cert: Certificate) -> None:
    """The Fund encrypts its reply to the sender's certificate: it must allow encryption."""
    if cert.key_usage is not None and not cert.key_usage & _ENCRYPT_USAGES:
        raise FundError(texts.CANNOT_ENCRYPT_REPLY)


# ----------------------------------------------------------------------------------------------
# Signatures
# ----------------------------------------------------------------------------------------------

_STRUCTURE = frozenset(
    {
        Reason.MALFORMED,
        Reason.REFERENCE_NOT_FOUND,
        Reason.REFERENCE_AMBIGUOUS,
        Reason.ALGORITHM_UNSUPPORTED,
        Reason.ALGORITHM_MISMATCH,
        Reason.SIGNATURE_MALFORMED,
        Reason.DIGEST_MISMATCH,
        Reason.SIGNATURE_INVALID,
    }
)
_TOKEN = frozenset({Reason.TOKEN_NOT_FOUND, Reason.TOKEN_AMBIGUOUS, Reason.BAD_CERTIFICATE})


def failure(res: SignatureResult, *, certificates: bool = True) -> str | None:
    """The Fund's text for the first problem of one signature; None if it is acceptable.

    With ``certificates=False`` only the signature itself is judged (a block re-sent with the
    signature it had when the Fund accepted it).
    """
    reasons = set(res.reasons)
    if not res.actor:
        return texts.EMPTY_ACTOR
    if Reason.ALGORITHM_REFUSED in reasons:
        return texts.GOST_2001_BANNED
    if reasons & _TOKEN or res.certificate is None:
        security = res.signature_element.getparent() if res.signature_element is not None else None
        if security is not None and not _kids(security, WSSE, "BinarySecurityToken"):
            return texts.NO_BST
        return texts.BAD_BST
    if reasons & _STRUCTURE or not (res.digest_valid and res.signature_valid):
        return texts.SIGNATURE_WRONG_LIVE
    if not certificates:
        return None
    if res.certificate.certificate.is_self_issued:
        return texts.SELF_SIGNED
    if Reason.CERT_REVOKED in reasons:
        return texts.REVOKED
    if Reason.CERT_NOT_TRUSTED in reasons or res.certificate_trusted is False:
        return texts.CHAIN_ERROR
    if Reason.CERT_NOT_VALID_AT in reasons or Reason.CERT_KEY_USAGE in reasons:
        return texts.CERT_CHECK_ERROR
    return None


def profile_failure(
    res: SignatureResult, element_id: str, actor: str, *, lenient: bool
) -> str | None:
    """The actor/Id rule for a signature covering its element (None when it holds).

    ``lenient`` accepts the slips of the spec's own examples (actor of another ОГРН, token Id
    differing from the actor), as the Fund's test contour evidently did (docs/emulator.md).
    """
    if not res.actor:
        return texts.EMPTY_ACTOR
    if lenient:
        return None
    if res.reference_id != element_id or res.actor != actor:
        return texts.ACTOR_MISMATCH.format(actor=res.actor, element_id=element_id)
    # v1.1 examples use the Body's Id as the token Id (protocol.md §4.1): tolerated
    if res.token_id not in (actor, element_id):
        return texts.ACTOR_MISMATCH.format(actor=res.actor, element_id=element_id)
    return None


@dataclass
class Representatives:
    """Certificates registered to sign for an ОГРН they do not carry (the Fund's registry of
    authorised representatives, cf. the live error text in protocol.md §8)."""

    by_thumbprint: dict[str, set[str]]

    def allows(self, cert: Certificate, ogrn: str) -> bool:
        return ogrn in self.by_thumbprint.get(cert.thumbprint, set())


def ogrn_failure(res: SignatureResult, ogrn: str, representatives: Representatives) -> str | None:
    """The МО certificate must carry the request's ОГРН, or an МЧД, or be registered (§4.6)."""
    info = res.certificate
    if info is None:
        return texts.BAD_BST
    cert_ogrn = info.ogrn or info.ogrnip
    if cert_ogrn == ogrn or representatives.allows(info.certificate, ogrn):
        return None
    if cert_ogrn is None:
        return None if res.mchd_uuid else texts.NO_OGRN_NO_MCHD
    return texts.OGRN_MISMATCH.format(cert=cert_ogrn, ogrn=ogrn)


def covering(report: VerificationReport, element: etree._Element) -> list[SignatureResult]:
    """Signatures whose Reference resolved to this very element (defeats wrapping)."""
    return [s for s in report.signatures if s.element is element]


def judge(
    candidates: Iterable[SignatureResult],
    element_id: str,
    actor: str,
    *,
    lenient: bool,
    certificates: bool = True,
    extra: Callable[[SignatureResult], str | None] | None = None,
) -> tuple[SignatureResult | None, str | None]:
    """The first acceptable signature among ``candidates``, or the first one's failure."""
    first: str | None = None
    for res in candidates:
        why = (
            profile_failure(res, element_id, actor, lenient=lenient)
            or failure(res, certificates=certificates)
            or (extra(res) if extra is not None else None)
        )
        if why is None:
            return res, None
        first = first or why
    return None, first


def has_security(envelope: etree._Element) -> bool:
    headers = _kids(envelope, SOAP11, "Header")
    return bool(headers) and bool(_kids(headers[0], WSSE, "Security"))


def check_body(
    report: VerificationReport,
    envelope: etree._Element,
    ogrn: str,
    representatives: Representatives,
    *,
    lenient: bool,
) -> SignatureResult:
    """Every operation but prParseFilelnlpu: the Body signed by the МО (``OGRN_<ogrn>``)."""
    if not report.signatures:
        raise FundError(texts.NO_SIGNATURE, texts.FAULT_SIGNATURE)
    body = _kids(envelope, SOAP11, "Body")[0]
    found = covering(report, body)
    if not found:
        raise FundError(texts.BODY_NOT_SIGNED.format(ogrn=ogrn), texts.FAULT_SIGNATURE)
    if not lenient and body.get(_q(WSU, "Id")) != body_id(ogrn):
        raise FundError(texts.BODY_NOT_SIGNED.format(ogrn=ogrn), texts.FAULT_SIGNATURE)
    chosen, why = judge(
        found,
        body_id(ogrn),
        mo_actor(ogrn),
        lenient=lenient,
        extra=lambda r: ogrn_failure(r, ogrn, representatives),
    )
    if chosen is None:
        raise FundError(why or texts.INVALID_SIGNATURE, texts.FAULT_SIGNATURE)
    return chosen
