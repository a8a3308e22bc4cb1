"""WS-Security signatures in the Fund's layout (protocol.md §4): signing and verification.

One signer = one ``wsse:Security`` header block::

    wsse:Security @soapenv:actor=<actor>
    ├─ wsse:BinarySecurityToken @wsu:Id=<actor>        base64 DER certificate
    └─ ds:Signature
       ├─ ds:SignedInfo  (exc-c14n, GOST R 34.10-2012, exactly one Reference "#<wsu:Id>"
       │                  with exactly one exc-c14n Transform)
       ├─ ds:SignatureValue                            base64(s_be || r_be)
       ├─ ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference @URI="#<actor>"
       └─ (optional) ds:object/authority/powerOfAttorneyLink/uuid     (МЧД)

Verification reports every signature separately (:class:`SignatureResult`): what it covers,
who signed, whether the digest and the signature value are correct, whether the certificate
was valid at the given time and chains to the given roots. Cryptographic failures, certificate
problems, refused algorithms, structural errors and violations of the Fund's profile are
distinct :class:`Reason` values of distinct :class:`Kind`.

Elements are found by attribute value (``wsu:Id``, and plain ``Id``/``ID`` to detect
ambiguity), never through DTD IDs. A reference must resolve to exactly one element, and a
caller must ask :meth:`VerificationReport.require` whether the very element it is going to
read is covered (this defeats signature wrapping).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from lxml import etree

from gostsign import streebog
from gostsign.errors import (
    CertificateError,
    CertificateExpired,
    CertificateNotTrusted,
    CertificateRevoked,
    GostError,
    InvalidInput,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from gostsign.gost3410 import PublicKey
from gostsign.signer import Signer
from gostsign.x509 import Certificate, CertificateRevocationList, verify_chain
from gostsign.xml import ns
from gostsign.xml.c14n import canonicalize, exc_c14n
from gostsign.xml.errors import SignatureNotCovering
from gostsign.xml.ns import qn

WSU_ID = qn(ns.WSU, "Id")
ACTOR = qn(ns.SOAP11, "actor")
ENVELOPE = qn(ns.SOAP11, "Envelope")
HEADER = qn(ns.SOAP11, "Header")
BODY = qn(ns.SOAP11, "Body")
SECURITY = qn(ns.WSSE, "Security")
BST = qn(ns.WSSE, "BinarySecurityToken")
STR = qn(ns.WSSE, "SecurityTokenReference")
WSSE_REFERENCE = qn(ns.WSSE, "Reference")
SIGNATURE = qn(ns.DS, "Signature")
SIGNED_INFO = qn(ns.DS, "SignedInfo")
C14N_METHOD = qn(ns.DS, "CanonicalizationMethod")
SIGNATURE_METHOD = qn(ns.DS, "SignatureMethod")
REFERENCE = qn(ns.DS, "Reference")
TRANSFORMS = qn(ns.DS, "Transforms")
TRANSFORM = qn(ns.DS, "Transform")
DIGEST_METHOD = qn(ns.DS, "DigestMethod")
DIGEST_VALUE = qn(ns.DS, "DigestValue")
SIGNATURE_VALUE = qn(ns.DS, "SignatureValue")
KEY_INFO = qn(ns.DS, "KeyInfo")
X509_CERTIFICATE = qn(ns.DS, "X509Certificate")
MCHD_OBJECT = qn(ns.DS, "object")
MCHD_AUTHORITY = qn(ns.FSS_SIGNATURE, "authority")
MCHD_LINK = qn(ns.FSS_MCHD, "powerOfAttorneyLink")
MCHD_UUID = qn(ns.FSS_MCHD, "uuid")

CertificateLike = bytes | Certificate


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def as_certificate(cert: CertificateLike | str) -> Certificate:
    """A :class:`Certificate` from DER, PEM or a Certificate."""
    if isinstance(cert, Certificate):
        return cert
    return Certificate.load(cert)


def as_time(at: datetime | date | None) -> datetime:
    """``None`` → now; a date → noon UTC of that day; naive datetimes are taken as UTC."""
    if at is None:
        return datetime.now(UTC)
    if isinstance(at, datetime):
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return datetime.combine(at, time(12, 0), tzinfo=UTC)


def envelope_of(doc: etree._ElementTree | etree._Element) -> etree._Element:
    """The SOAP 1.1 Envelope of ``doc`` (the root element); InvalidInput otherwise."""
    root = doc.getroot() if isinstance(doc, etree._ElementTree) else doc.getroottree().getroot()
    if root.tag != ENVELOPE:
        if isinstance(root.tag, str) and root.tag.endswith("}Envelope"):
            raise InvalidInput(
                f"the message is not a SOAP 1.1 envelope ({root.tag}); the Fund uses SOAP 1.1 "
                f"({ns.SOAP11})"
            )
        raise InvalidInput(f"the message is not a SOAP envelope: its root is {_name(root)}")
    return root


def header_of(envelope: etree._Element, *, create: bool = False) -> etree._Element | None:
    headers = [c for c in envelope if c.tag == HEADER]
    if len(headers) > 1:
        raise InvalidInput("the SOAP envelope has more than one Header")
    if headers:
        return headers[0]
    if not create:
        return None
    header = etree.Element(HEADER)
    envelope.insert(0, header)
    return header


def body_of(envelope: etree._Element) -> etree._Element:
    bodies = [c for c in envelope if c.tag == BODY]
    if len(bodies) != 1:
        raise InvalidInput(f"the SOAP envelope must have exactly one Body, it has {len(bodies)}")
    return bodies[0]


def _name(el: etree._Element) -> str:
    """``prefix:local`` of an element as written."""
    tag = el.tag
    if not isinstance(tag, str):
        return "(non-element)"
    local = etree.QName(tag).localname
    return f"{el.prefix}:{local}" if el.prefix else local


def local_name(el: etree._Element) -> str:
    return etree.QName(el.tag).localname if isinstance(el.tag, str) else ""


def _id_values(el: etree._Element) -> Iterator[str]:
    for attr in (WSU_ID, "Id", "ID"):
        value = el.get(attr)
        if value is not None:
            yield value


def find_by_id(doc: etree._Element, value: str, *, tokens: bool = False) -> list[etree._Element]:
    """Every element carrying ``value`` as ``wsu:Id`` (or plain ``Id``/``ID``).

    BinarySecurityTokens are left out unless ``tokens`` (they are never a signed element;
    leaving them out tolerates the v1.1 examples whose token repeats the Body's Id).
    """
    root = doc.getroottree().getroot()
    found = []
    for el in root.iter(etree.Element):
        if (el.tag == BST) != tokens:
            continue
        if value in _id_values(el):
            found.append(el)
    return found


def who(cert: Certificate) -> str:
    """A short name of a certificate for messages: «CN» (serial …)."""
    name = cert.subject.common_name or str(cert.subject)
    return f"«{name}» (serial {cert.serial:x})"


def _b64decode(text: str | None, what: str) -> bytes:
    if text is None or not text.strip():
        raise InvalidInput(f"{what} is empty")
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{what} is not valid base64") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _short(data: bytes) -> str:
    text = _b64(data)
    return text if len(text) <= 20 else text[:16] + "…"


def set_wsu_id(element: etree._Element, value: str) -> None:
    """Give ``element`` ``wsu:Id=value`` (keeping one that is already equal).

    If no prefix is bound to the wsu namespace where the element is, ``xmlns:wsu`` is declared
    on the element itself. Refuses an element that already has a different Id.
    """
    current = element.get(WSU_ID)
    if current == value:
        return
    if current is not None:
        raise InvalidInput(f"{_name(element)} already has wsu:Id={current!r}, not {value!r}")
    in_subtree = any(ns.WSU in el.nsmap.values() for el in element.iter(etree.Element))
    if not in_subtree and "wsu" not in element.nsmap:
        # Declare xmlns:wsu on the element itself. Safe: nothing below uses the namespace,
        # so no existing prefix is rewritten; every other declaration is kept.
        prefixes = sorted(
            {"wsu"} | {p for el in element.iter(etree.Element) for p in el.nsmap if p is not None}
        )
        etree.cleanup_namespaces(element, top_nsmap={"wsu": ns.WSU}, keep_ns_prefixes=prefixes)
    element.set(WSU_ID, value)


# ----------------------------------------------------------------------------------------------
# Signing
# ----------------------------------------------------------------------------------------------


def _signer_certificate(signer: Signer) -> Certificate:
    try:
        cert = signer.certificate
    except AttributeError:
        raise InvalidInput("the signer has no certificate") from None
    return as_certificate(cert)


def _check_own_signature(pub: PublicKey, digest: bytes, value: bytes) -> None:
    try:
        pub.verify_digest(digest, value)
    except InvalidSignature:
        try:
            pub.verify_digest(digest, value[::-1])
        except InvalidSignature:
            raise InvalidSignature(
                "the signer's signature does not verify with its certificate: the key does not "
                "belong to the certificate, or the signer hashed the digest again"
            ) from None
        raise InvalidSignature(
            "the signer returned the signature byte-reversed (CryptoAPI order r_le||s_le); "
            "the provider must reverse it to s_be||r_be"
        ) from None


def _build_security(
    parent: etree._Element | None,
    actor: str,
    cert: Certificate,
) -> etree._Element:
    if parent is None:
        security = etree.Element(
            SECURITY, nsmap={"soapenv": ns.SOAP11, "wsse": ns.WSSE, "wsu": ns.WSU}
        )
    else:
        security = etree.SubElement(parent, SECURITY, nsmap={"wsse": ns.WSSE, "wsu": ns.WSU})
    security.set(ACTOR, actor)
    token = etree.SubElement(security, BST)
    token.set("EncodingType", ns.BASE64_BINARY)
    token.set("ValueType", ns.X509V3)
    token.set(WSU_ID, actor)
    token.text = _b64(cert.der)
    return security


def _build_signature(
    security: etree._Element,
    target: etree._Element,
    element_id: str,
    actor: str,
    signer: Signer,
    cert: Certificate,
    *,
    with_comments: bool,
    mchd_uuid: str | None,
    self_check: bool,
) -> None:
    bits = cert.public_key.curve.bits
    c14n_uri = ns.EXC_C14N_WITH_COMMENTS if with_comments else ns.EXC_C14N
    digest = streebog.digest(exc_c14n(target, with_comments=with_comments), bits)

    sig = etree.SubElement(security, SIGNATURE, nsmap={"ds": ns.DS})
    info = etree.SubElement(sig, SIGNED_INFO)
    etree.SubElement(info, C14N_METHOD).set("Algorithm", c14n_uri)
    etree.SubElement(info, SIGNATURE_METHOD).set("Algorithm", ns.SIGNATURE_URIS[bits])
    ref = etree.SubElement(info, REFERENCE)
    ref.set("URI", "#" + element_id)
    transforms = etree.SubElement(ref, TRANSFORMS)
    etree.SubElement(transforms, TRANSFORM).set("Algorithm", c14n_uri)
    etree.SubElement(ref, DIGEST_METHOD).set("Algorithm", ns.DIGEST_URIS[bits])
    etree.SubElement(ref, DIGEST_VALUE).text = _b64(digest)
    value_el = etree.SubElement(sig, SIGNATURE_VALUE)
    key_info = etree.SubElement(sig, KEY_INFO)
    token_ref = etree.SubElement(etree.SubElement(key_info, STR), WSSE_REFERENCE)
    token_ref.set("URI", "#" + actor)
    token_ref.set("ValueType", ns.X509V3)
    if mchd_uuid is not None:
        add_mchd(sig, mchd_uuid)

    si_digest = streebog.digest(exc_c14n(info, with_comments=with_comments), bits)
    value = bytes(signer.sign_digest(si_digest))
    if len(value) != 2 * cert.public_key.curve.size:
        raise InvalidSignature(
            f"the signer returned {len(value)} bytes; a {bits}-bit signature is "
            f"{2 * cert.public_key.curve.size} bytes (s||r)"
        )
    if self_check:
        _check_own_signature(cert.public_key, si_digest, value)
    value_el.text = _b64(value)


def add_mchd(signature: etree._Element, uuid: str) -> etree._Element:
    """Append the МЧД reference (protocol.md §8) as the last child of ``ds:Signature``.

    It is not covered by SignedInfo, so it may be added after signing.
    """
    uuid = uuid.strip()
    if not uuid:
        raise InvalidInput("the МЧД uuid is empty")
    obj = etree.SubElement(signature, MCHD_OBJECT)
    auth = etree.SubElement(obj, MCHD_AUTHORITY, nsmap={"fsssig": ns.FSS_SIGNATURE})
    link = etree.SubElement(auth, MCHD_LINK, nsmap={"mchd": ns.FSS_MCHD})
    etree.SubElement(link, MCHD_UUID).text = uuid
    return obj


def _check_signing_certificate(cert: Certificate, check_validity: bool) -> None:
    if check_validity:
        cert.check_validity()
    if cert.key_usage is not None and not cert.key_usage & {"digitalSignature", "nonRepudiation"}:
        raise CertificateError(
            f"certificate {cert.subject} does not allow signing (key usage: "
            f"{', '.join(sorted(cert.key_usage)) or 'none'})"
        )


def sign(
    doc: etree._ElementTree | etree._Element,
    element_id: str,
    actor: str,
    signer: Signer,
    *,
    with_comments: bool = False,
    mchd_uuid: str | None = None,
    self_check: bool = True,
    check_validity: bool = True,
) -> etree._Element:
    """Sign the element with ``wsu:Id=element_id`` of a SOAP 1.1 envelope, in place.

    Adds a new ``wsse:Security`` header block for ``actor`` (creating the Header if needed)
    and returns it. The signature covers the exclusive canonical form of the element (with
    comments if ``with_comments``), uses GOST R 34.10-2012 of the certificate's key size and
    Streebog of the same size. ``signer.sign_digest`` receives the Streebog digest of the
    canonical SignedInfo; with ``self_check`` its result is verified against the
    certificate before it is written (this catches byte-order mistakes of token providers).
    """
    envelope = envelope_of(doc)
    if not element_id or not actor:
        raise InvalidInput("both the element Id and the actor must be non-empty")
    targets = find_by_id(envelope, element_id)
    if not targets:
        raise InvalidInput(f"no element has wsu:Id={element_id!r}")
    if len(targets) > 1:
        raise InvalidInput(
            f"{len(targets)} elements carry the Id {element_id!r}; it must be unique"
        )
    target = targets[0]
    if target.get(WSU_ID) != element_id:
        raise InvalidInput(
            f"{_name(target)} carries {element_id!r} in a plain Id attribute; the Fund needs wsu:Id"
        )
    for existing in envelope.iter(SECURITY):
        if existing.get(ACTOR) == actor:
            raise InvalidInput(f"the message already has a Security header for actor {actor}")
    if find_by_id(envelope, actor, tokens=True) or find_by_id(envelope, actor):
        raise InvalidInput(f"an element already carries the Id {actor!r}")
    cert = _signer_certificate(signer)
    _check_signing_certificate(cert, check_validity)
    header = header_of(envelope, create=True)
    assert header is not None
    security = _build_security(header, actor, cert)
    try:
        _build_signature(
            security,
            target,
            element_id,
            actor,
            signer,
            cert,
            with_comments=with_comments,
            mchd_uuid=mchd_uuid,
            self_check=self_check,
        )
    except BaseException:
        header.remove(security)
        raise
    return security


def sign_detached(
    element: etree._Element,
    element_id: str,
    actor: str,
    signer: Signer,
    *,
    with_comments: bool = False,
    mchd_uuid: str | None = None,
    self_check: bool = True,
    check_validity: bool = True,
) -> etree._Element:
    """Sign ``element`` (already carrying ``wsu:Id=element_id``) outside any envelope.

    Returns a standalone ``wsse:Security`` element for ``actor``; see
    :mod:`gostsign.xml.fragments` for storing both and inserting them into a message later.
    """
    if element.get(WSU_ID) != element_id:
        raise InvalidInput(f"{_name(element)} does not carry wsu:Id={element_id!r}")
    cert = _signer_certificate(signer)
    _check_signing_certificate(cert, check_validity)
    security = _build_security(None, actor, cert)
    _build_signature(
        security,
        element,
        element_id,
        actor,
        signer,
        cert,
        with_comments=with_comments,
        mchd_uuid=mchd_uuid,
        self_check=self_check,
    )
    return security


# ----------------------------------------------------------------------------------------------
# Verification results
# ----------------------------------------------------------------------------------------------


class Kind(enum.StrEnum):
    """What went wrong, broadly: the CLI and the UI group reasons by kind."""

    STRUCTURE = "structure"
    ALGORITHM = "algorithm"
    CRYPTO = "crypto"
    CERTIFICATE = "certificate"
    PROFILE = "profile"


class Reason(enum.StrEnum):
    # structure of the message or of one signature
    NO_SIGNATURE = "no-signature"
    MALFORMED = "malformed"
    REFERENCE_NOT_FOUND = "reference-not-found"
    REFERENCE_AMBIGUOUS = "reference-ambiguous"
    TOKEN_NOT_FOUND = "token-not-found"  # noqa: S105
    TOKEN_AMBIGUOUS = "token-ambiguous"  # noqa: S105
    BAD_CERTIFICATE = "bad-certificate"
    # algorithms
    ALGORITHM_REFUSED = "algorithm-refused"
    ALGORITHM_UNSUPPORTED = "algorithm-unsupported"
    ALGORITHM_MISMATCH = "algorithm-mismatch"
    # cryptography
    DIGEST_MISMATCH = "digest-mismatch"
    SIGNATURE_MALFORMED = "signature-malformed"
    SIGNATURE_INVALID = "signature-invalid"
    # certificate
    CERT_NOT_VALID_AT = "certificate-not-valid-at-time"
    CERT_NOT_TRUSTED = "certificate-not-trusted"
    CERT_REVOKED = "certificate-revoked"
    CERT_KEY_USAGE = "certificate-key-usage"
    # the Fund's profile
    ACTOR_MISMATCH = "actor-mismatch"
    TOKEN_ID_MISMATCH = "token-id-mismatch"  # noqa: S105
    DUPLICATE_ACTOR = "duplicate-actor"
    UNKNOWN_ID = "unknown-id"
    ID_MISPLACED = "id-misplaced"
    OGRN_MISMATCH = "ogrn-mismatch"
    OGRN_MISSING = "ogrn-missing"
    NOT_FUND_CERTIFICATE = "not-fund-certificate"

    @property
    def kind(self) -> Kind:
        return _KINDS[self]


_KINDS: dict[Reason, Kind] = {
    **{
        r: Kind.STRUCTURE
        for r in (
            Reason.NO_SIGNATURE,
            Reason.MALFORMED,
            Reason.REFERENCE_NOT_FOUND,
            Reason.REFERENCE_AMBIGUOUS,
            Reason.TOKEN_NOT_FOUND,
            Reason.TOKEN_AMBIGUOUS,
            Reason.BAD_CERTIFICATE,
        )
    },
    Reason.ALGORITHM_REFUSED: Kind.ALGORITHM,
    Reason.ALGORITHM_UNSUPPORTED: Kind.ALGORITHM,
    Reason.ALGORITHM_MISMATCH: Kind.ALGORITHM,
    Reason.DIGEST_MISMATCH: Kind.CRYPTO,
    Reason.SIGNATURE_MALFORMED: Kind.CRYPTO,
    Reason.SIGNATURE_INVALID: Kind.CRYPTO,
    Reason.CERT_NOT_VALID_AT: Kind.CERTIFICATE,
    Reason.CERT_NOT_TRUSTED: Kind.CERTIFICATE,
    Reason.CERT_REVOKED: Kind.CERTIFICATE,
    Reason.CERT_KEY_USAGE: Kind.CERTIFICATE,
    **{
        r: Kind.PROFILE
        for r in (
            Reason.ACTOR_MISMATCH,
            Reason.TOKEN_ID_MISMATCH,
            Reason.DUPLICATE_ACTOR,
            Reason.UNKNOWN_ID,
            Reason.ID_MISPLACED,
            Reason.OGRN_MISMATCH,
            Reason.OGRN_MISSING,
            Reason.NOT_FUND_CERTIFICATE,
        )
    },
}


@dataclass(frozen=True)
class Problem:
    """One reason a signature (or the message) is not acceptable, with one clear sentence."""

    reason: Reason
    message: str

    @property
    def kind(self) -> Kind:
        return self.reason.kind

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True)
class CertificateInfo:
    """What a report says about a signer's certificate."""

    subject: str
    issuer: str
    serial: int
    common_name: str | None
    organization: str | None
    ogrn: str | None
    ogrnip: str | None
    snils: str | None
    inn: str | None
    not_before: datetime
    not_after: datetime
    curve: str
    key_bits: int
    thumbprint: str
    certificate: Certificate = field(repr=False, compare=False)

    @classmethod
    def of(cls, cert: Certificate) -> CertificateInfo:
        s = cert.subject
        return cls(
            subject=str(s),
            issuer=str(cert.issuer),
            serial=cert.serial,
            common_name=s.common_name,
            organization=s.organization,
            ogrn=s.ogrn,
            ogrnip=s.ogrnip,
            snils=s.snils,
            inn=s.inn or s.inn_le,
            not_before=cert.not_before,
            not_after=cert.not_after,
            curve=cert.public_key.curve.name,
            key_bits=cert.public_key.curve.bits,
            thumbprint=cert.thumbprint,
            certificate=cert,
        )

    @property
    def serial_hex(self) -> str:
        return f"{self.serial:x}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial_hex,
            "common_name": self.common_name,
            "organization": self.organization,
            "ogrn": self.ogrn,
            "ogrnip": self.ogrnip,
            "snils": self.snils,
            "inn": self.inn,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "curve": self.curve,
            "key_bits": self.key_bits,
            "thumbprint_sha1": self.thumbprint,
        }


@dataclass
class SignatureResult:
    """Everything about one ``ds:Signature``.

    ``digest_valid``/``signature_valid``/``certificate_valid_at``/``certificate_trusted`` are
    ``None`` when the check could not be made (e.g. a refused algorithm) or was not asked for
    (no trusted roots given). ``element`` is the element the Reference resolved to: compare
    it by identity with the element you read (:meth:`VerificationReport.require`).
    """

    index: int
    actor: str | None
    reference_id: str | None = None
    element: etree._Element | None = field(default=None, repr=False, compare=False)
    element_name: str | None = None
    token_id: str | None = None
    certificate: CertificateInfo | None = None
    c14n_method: str | None = None
    signature_method: str | None = None
    transform: str | None = None
    digest_method: str | None = None
    digest_valid: bool | None = None
    signature_valid: bool | None = None
    certificate_valid_at: bool | None = None
    certificate_trusted: bool | None = None
    mchd_uuid: str | None = None
    problems: list[Problem] = field(default_factory=list)
    signature_element: etree._Element | None = field(default=None, repr=False, compare=False)

    def add(self, reason: Reason, message: str) -> None:
        self.problems.append(Problem(reason, message))

    @property
    def valid(self) -> bool:
        """Digest and signature value correct, and no problem of any kind."""
        return bool(self.digest_valid and self.signature_valid and not self.problems)

    @property
    def crypto_valid(self) -> bool:
        """Digest and signature value correct (whatever the certificate or profile say)."""
        return bool(self.digest_valid and self.signature_valid)

    def problems_of(self, kind: Kind) -> list[Problem]:
        return [p for p in self.problems if p.kind is kind]

    @property
    def reasons(self) -> list[Reason]:
        return [p.reason for p in self.problems]

    def summary(self) -> str:
        """One sentence: OK or the first problem."""
        if self.valid:
            return "valid"
        if self.problems:
            return str(self.problems[0])
        return "not verified"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "actor": self.actor,
            "reference_id": self.reference_id,
            "element": self.element_name,
            "token_id": self.token_id,
            "certificate": self.certificate.to_dict() if self.certificate else None,
            "c14n_method": self.c14n_method,
            "signature_method": self.signature_method,
            "transform": self.transform,
            "digest_method": self.digest_method,
            "digest_valid": self.digest_valid,
            "signature_valid": self.signature_valid,
            "certificate_valid_at": self.certificate_valid_at,
            "certificate_trusted": self.certificate_trusted,
            "mchd_uuid": self.mchd_uuid,
            "valid": self.valid,
            "problems": [
                {"reason": str(p.reason), "kind": str(p.kind), "message": p.message}
                for p in self.problems
            ],
        }


@dataclass
class VerificationReport:
    """The result of verifying a message: one :class:`SignatureResult` per signature."""

    at: datetime
    signatures: list[SignatureResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """At least one signature, every signature valid, no message-level problem."""
        return bool(self.signatures) and not self.problems and all(s.valid for s in self.signatures)

    def all_problems(self) -> list[Problem]:
        out = list(self.problems)
        for s in self.signatures:
            out.extend(s.problems)
        return out

    def by_actor(self, actor: str) -> list[SignatureResult]:
        return [s for s in self.signatures if s.actor == actor]

    def by_id(self, element_id: str) -> list[SignatureResult]:
        return [s for s in self.signatures if s.reference_id == element_id]

    def covering(self, element: etree._Element) -> list[SignatureResult]:
        """The signatures whose Reference resolved to exactly this element object."""
        return [s for s in self.signatures if s.element is not None and s.element is element]

    def require(
        self,
        element: etree._Element,
        *,
        actor: str | None = None,
        accept: Callable[[SignatureResult], bool] | None = None,
    ) -> SignatureResult:
        """Assert that ``element`` (the one you are going to read) is covered by a valid
        signature of ``actor``; return that signature or raise :class:`SignatureNotCovering`.

        Identity, not Id, decides: a signature over a copy of the element moved elsewhere in the
        message (signature wrapping) does not count.
        """
        name = _name(element)
        covering = self.covering(element)
        candidates = [
            s
            for s in covering
            if (actor is None or s.actor == actor) and (accept is None or accept(s))
        ]
        for s in candidates:
            if s.valid:
                return s
        if candidates:
            raise SignatureNotCovering(
                f"{name} is covered by the signature of {candidates[0].actor}, but it is not "
                f"valid: {candidates[0].summary()}"
            )
        if covering:
            signers = ", ".join(str(s.actor) for s in covering)
            wanted = f"not by {actor}" if actor else "none of them an acceptable signer"
            raise SignatureNotCovering(f"{name} is signed by {signers}, {wanted}")
        element_id = element.get(WSU_ID)
        same_id = [s for s in self.signatures if element_id and s.reference_id == element_id]
        if same_id:
            raise SignatureNotCovering(
                f"{name} is not covered: the signature for #{element_id} resolves to another "
                f"element ({same_id[0].element_name}); the message may be a signature-wrapping "
                "attack"
            )
        who = f" of {actor}" if actor else ""
        raise SignatureNotCovering(f"{name} is not covered by any signature{who}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "at": self.at.isoformat(),
            "problems": [
                {"reason": str(p.reason), "kind": str(p.kind), "message": p.message}
                for p in self.problems
            ],
            "signatures": [s.to_dict() for s in self.signatures],
        }


# ----------------------------------------------------------------------------------------------
# Verification
# ----------------------------------------------------------------------------------------------


def _children(el: etree._Element, tag: str) -> list[etree._Element]:
    return [c for c in el if c.tag == tag]


def _one(parent: etree._Element, tag: str, res: SignatureResult) -> etree._Element | None:
    found = _children(parent, tag)
    if len(found) == 1:
        return found[0]
    what = etree.QName(tag).localname
    if not found:
        res.add(Reason.MALFORMED, f"{_name(parent)} has no {what}")
    else:
        res.add(Reason.MALFORMED, f"{_name(parent)} has {len(found)} {what} elements, not one")
    return None


def _check_algorithm(
    uri: str | None, known: dict[str, int], what: str, res: SignatureResult
) -> int | None:
    if uri is None:
        res.add(Reason.MALFORMED, f"{what} has no Algorithm")
        return None
    if uri in ns.LEGACY_2001_URIS:
        if Reason.ALGORITHM_REFUSED not in res.reasons:
            res.add(Reason.ALGORITHM_REFUSED, f"{what} {uri}: {ns.GOST_2001_REFUSED}")
        return None
    if uri not in known:
        res.add(
            Reason.ALGORITHM_UNSUPPORTED,
            f"{what} {uri} is not accepted; the Fund's profile uses " + " or ".join(sorted(known)),
        )
        return None
    return known[uri]


def _check_c14n(uri: str | None, what: str, res: SignatureResult) -> bool:
    if uri is None:
        res.add(Reason.MALFORMED, f"{what} has no Algorithm")
        return False
    if uri not in ns.C14N_ALGORITHMS:
        res.add(
            Reason.ALGORITHM_UNSUPPORTED,
            f"{what} {uri} is not accepted; only exclusive c14n ({ns.EXC_C14N}, with or without "
            "comments)",
        )
        return False
    return True


def _resolve_token(
    security: etree._Element, token_uri: str, res: SignatureResult
) -> etree._Element | None:
    if not token_uri.startswith("#") or len(token_uri) < 2:
        res.add(Reason.MALFORMED, f"SecurityTokenReference URI {token_uri!r} is not '#<Id>'")
        return None
    token_id = token_uri[1:]
    res.token_id = token_id
    local = [t for t in _children(security, BST) if token_id in _id_values(t)]
    if len(local) == 1:
        return local[0]
    if len(local) > 1:
        res.add(Reason.TOKEN_AMBIGUOUS, f"{len(local)} BinarySecurityTokens carry Id {token_id!r}")
        return None
    anywhere = find_by_id(security, token_id, tokens=True)
    if len(anywhere) == 1:
        return anywhere[0]
    if anywhere:
        res.add(
            Reason.TOKEN_AMBIGUOUS, f"{len(anywhere)} BinarySecurityTokens carry Id {token_id!r}"
        )
    else:
        res.add(
            Reason.TOKEN_NOT_FOUND,
            f"no BinarySecurityToken has wsu:Id={token_id!r} (referenced by the KeyInfo)",
        )
    return None


def _digest_hints(element: etree._Element, expected: bytes, bits: int, with_comments: bool) -> str:
    """Explain a digest mismatch when a common mistake reproduces the expected value."""
    if expected[::-1] == streebog.digest(exc_c14n(element, with_comments=with_comments), bits):
        return "; the DigestValue is byte-reversed (the signer reversed the hash)"
    try:
        inclusive = etree.tostring(element, method="c14n", exclusive=False)
    except etree.C14NError:  # e.g. a relative namespace URI on an ancestor
        inclusive = b""
    if inclusive and streebog.digest(inclusive, bits) == expected:
        return "; it matches inclusive c14n: the signer did not use exclusive c14n"
    return (
        "; the element was changed after signing, or re-serialised with other whitespace, "
        "prefixes or namespace declarations"
    )


def _verify_signature(
    index: int,
    security: etree._Element,
    signature: etree._Element,
    at: datetime,
    trusted: Sequence[Certificate] | None,
    intermediates: Sequence[Certificate],
    crls: Sequence[CertificateRevocationList],
) -> SignatureResult:
    res = SignatureResult(index=index, actor=security.get(ACTOR), signature_element=signature)
    if not res.actor:
        res.add(Reason.MALFORMED, "the Security header has no (or an empty) soapenv:actor")

    info = _one(signature, SIGNED_INFO, res)
    sig_value_el = _one(signature, SIGNATURE_VALUE, res)
    key_info = _one(signature, KEY_INFO, res)
    if info is None:
        return res

    # -- SignedInfo: algorithms and the single reference ---------------------------------------
    c14n_el = _one(info, C14N_METHOD, res)
    method_el = _one(info, SIGNATURE_METHOD, res)
    refs = _children(info, REFERENCE)
    if len(refs) != 1:
        res.add(Reason.MALFORMED, f"SignedInfo has {len(refs)} References; the profile allows one")
    ref = refs[0] if len(refs) == 1 else None
    res.c14n_method = c14n_el.get("Algorithm") if c14n_el is not None else None
    res.signature_method = method_el.get("Algorithm") if method_el is not None else None
    c14n_ok = c14n_el is not None and _check_c14n(res.c14n_method, "CanonicalizationMethod", res)
    sig_bits = (
        _check_algorithm(res.signature_method, ns.SIGNATURE_BITS, "SignatureMethod", res)
        if method_el is not None
        else None
    )

    digest_bits: int | None = None
    transform_ok = False
    expected_digest: bytes | None = None
    if ref is not None:
        uri = ref.get("URI")
        if uri is None or not uri.startswith("#") or len(uri) < 2:
            res.add(
                Reason.MALFORMED,
                f"Reference URI {uri!r} is not a same-document reference '#<wsu:Id>'",
            )
        else:
            res.reference_id = uri[1:]
        transforms_el = _one(ref, TRANSFORMS, res)
        if transforms_el is not None:
            transforms = _children(transforms_el, TRANSFORM)
            if len(transforms) != 1:
                res.add(
                    Reason.MALFORMED,
                    f"the Reference has {len(transforms)} Transforms; the profile allows exactly "
                    "one (exclusive c14n)",
                )
            else:
                res.transform = transforms[0].get("Algorithm")
                transform_ok = _check_c14n(res.transform, "Transform", res)
        dm = _one(ref, DIGEST_METHOD, res)
        if dm is not None:
            res.digest_method = dm.get("Algorithm")
            digest_bits = _check_algorithm(res.digest_method, ns.DIGEST_BITS, "DigestMethod", res)
        dv = _one(ref, DIGEST_VALUE, res)
        if dv is not None:
            try:
                expected_digest = _b64decode(dv.text, "DigestValue")
            except InvalidInput as exc:
                res.add(Reason.MALFORMED, str(exc))
    if sig_bits and digest_bits and sig_bits != digest_bits:
        res.add(
            Reason.ALGORITHM_MISMATCH,
            f"SignatureMethod is {sig_bits}-bit but DigestMethod is {digest_bits}-bit",
        )
        digest_bits = sig_bits = None

    # -- the certificate -----------------------------------------------------------------------
    cert: Certificate | None = None
    if key_info is not None:
        str_el = _one(key_info, STR, res)
        if str_el is not None:
            token_ref = _one(str_el, WSSE_REFERENCE, res)
            if token_ref is not None:
                token = _resolve_token(security, token_ref.get("URI") or "", res)
                if token is not None:
                    value_type = token.get("ValueType")
                    if value_type is not None and value_type != ns.X509V3:
                        res.add(
                            Reason.MALFORMED,
                            f"BinarySecurityToken ValueType {value_type} is not X509v3",
                        )
                    try:
                        cert = Certificate(_b64decode(token.text, "BinarySecurityToken"))
                    except UnsupportedAlgorithm as exc:
                        if "2001" in str(exc):
                            if Reason.ALGORITHM_REFUSED not in res.reasons:
                                res.add(
                                    Reason.ALGORITHM_REFUSED,
                                    f"certificate: {ns.GOST_2001_REFUSED}",
                                )
                        else:
                            res.add(Reason.ALGORITHM_UNSUPPORTED, f"certificate: {exc}")
                    except GostError as exc:
                        res.add(Reason.BAD_CERTIFICATE, f"the BinarySecurityToken: {exc}")
    if cert is not None:
        res.certificate = CertificateInfo.of(cert)
        key_bits = cert.public_key.curve.bits
        if sig_bits and sig_bits != key_bits:
            res.add(
                Reason.ALGORITHM_MISMATCH,
                f"SignatureMethod is {sig_bits}-bit but the certificate's key is {key_bits}-bit",
            )
            sig_bits = None
        if digest_bits and digest_bits != key_bits:
            if Reason.ALGORITHM_MISMATCH not in res.reasons:
                res.add(
                    Reason.ALGORITHM_MISMATCH,
                    f"DigestMethod is {digest_bits}-bit but the certificate's key is "
                    f"{key_bits}-bit",
                )
            digest_bits = None
    mchd = signature.find(f"{MCHD_OBJECT}/{MCHD_AUTHORITY}/{MCHD_LINK}/{MCHD_UUID}")
    if mchd is None:  # shilovk writes an unprefixed `object` in the XMLDSig default namespace
        mchd = signature.find(f".//{MCHD_UUID}")
    if mchd is not None and mchd.text and mchd.text.strip():
        res.mchd_uuid = mchd.text.strip()

    # -- the referenced element and its digest --------------------------------------------------
    if res.reference_id is not None:
        targets = find_by_id(security, res.reference_id)
        if not targets:
            res.add(Reason.REFERENCE_NOT_FOUND, f"no element has wsu:Id={res.reference_id!r}")
        elif len(targets) > 1:
            names = ", ".join(_name(t) for t in targets)
            res.add(
                Reason.REFERENCE_AMBIGUOUS,
                f"#{res.reference_id} resolves to {len(targets)} elements ({names}); an Id must "
                "be unique",
            )
        else:
            res.element = targets[0]
            res.element_name = _name(targets[0])
    if (
        res.element is not None
        and transform_ok
        and digest_bits
        and expected_digest is not None
        and res.transform is not None
    ):
        with_comments = ns.C14N_ALGORITHMS[res.transform]
        try:
            actual: bytes | None = streebog.digest(
                canonicalize(res.element, res.transform), digest_bits
            )
        except InvalidInput as exc:  # e.g. a relative namespace URI: nothing to compare
            actual = None
            res.digest_valid = False
            res.add(Reason.MALFORMED, f"#{res.reference_id} ({res.element_name}): {exc}")
        if actual is not None:
            res.digest_valid = hmac.compare_digest(actual, expected_digest)
        if actual is not None and not res.digest_valid:
            res.add(
                Reason.DIGEST_MISMATCH,
                f"the digest of #{res.reference_id} ({res.element_name}) does not match: "
                f"DigestValue {_short(expected_digest)}, computed {_short(actual)}"
                + _digest_hints(res.element, expected_digest, digest_bits, with_comments),
            )

    # -- the signature value -------------------------------------------------------------------
    if cert is not None and sig_bits and c14n_ok and sig_value_el is not None and res.c14n_method:
        try:
            value = _b64decode(sig_value_el.text, "SignatureValue")
        except InvalidInput as exc:
            res.signature_valid = False
            res.add(Reason.SIGNATURE_MALFORMED, str(exc))
        else:
            size = 2 * cert.public_key.curve.size
            if len(value) != size:
                res.signature_valid = False
                res.add(
                    Reason.SIGNATURE_MALFORMED,
                    f"SignatureValue is {len(value)} bytes; a {sig_bits}-bit signature is {size}",
                )
            else:
                try:
                    h = streebog.digest(canonicalize(info, res.c14n_method), sig_bits)
                except InvalidInput as exc:  # SignedInfo cannot be canonicalised
                    res.signature_valid = False
                    res.add(Reason.SIGNATURE_MALFORMED, f"SignedInfo: {exc}")
                else:
                    _check_signature_value(res, cert, h, value)

    # -- the certificate at the time and its chain ---------------------------------------------
    if cert is not None:
        _check_certificate(res, cert, at, trusted, intermediates, crls)
    return res


def _check_signature_value(res: SignatureResult, cert: Certificate, h: bytes, value: bytes) -> None:
    try:
        cert.public_key.verify_digest(h, value)
        res.signature_valid = True
    except InvalidSignature:
        res.signature_valid = False
        hint = (
            "; it verifies byte-reversed: the signer wrote CryptoAPI byte order"
            if _verifies(cert.public_key, h, value[::-1])
            else ""
        )
        res.add(
            Reason.SIGNATURE_INVALID,
            "the SignatureValue does not verify over SignedInfo with the key of "
            f"certificate {who(cert)}" + hint,
        )


def _verifies(pub: PublicKey, digest: bytes, value: bytes) -> bool:
    try:
        pub.verify_digest(digest, value)
    except InvalidSignature:
        return False
    return True


def _check_certificate(
    res: SignatureResult,
    cert: Certificate,
    at: datetime,
    trusted: Sequence[Certificate] | None,
    intermediates: Sequence[Certificate],
    crls: Sequence[CertificateRevocationList],
) -> None:
    if cert.is_valid_at(at):
        res.certificate_valid_at = True
    else:
        res.certificate_valid_at = False
        when = "expired on" if at > cert.not_after else "is not valid before"
        edge = cert.not_after if at > cert.not_after else cert.not_before
        res.add(
            Reason.CERT_NOT_VALID_AT,
            f"certificate {who(cert)} {when} {edge:%Y-%m-%d %H:%M:%S} UTC (checked at "
            f"{at:%Y-%m-%d %H:%M:%S} UTC)",
        )
    if cert.key_usage is not None and not cert.key_usage & {"digitalSignature", "nonRepudiation"}:
        res.add(
            Reason.CERT_KEY_USAGE,
            f"certificate {who(cert)} does not allow signing (key usage: "
            f"{', '.join(sorted(cert.key_usage)) or 'none'})",
        )
    if trusted is None:
        return
    try:
        verify_chain(cert, intermediates, trusted, at=at, crls=crls)
        res.certificate_trusted = True
    except CertificateRevoked as exc:
        res.certificate_trusted = False
        res.add(Reason.CERT_REVOKED, str(exc))
    except CertificateExpired as exc:
        # the leaf's own validity is reported above; this is a CA in the path
        if res.certificate_valid_at:
            res.certificate_trusted = False
            res.add(Reason.CERT_NOT_VALID_AT, f"in the chain: {exc}")
    except (CertificateNotTrusted, InvalidSignature, CertificateError) as exc:
        res.certificate_trusted = False
        res.add(Reason.CERT_NOT_TRUSTED, f"certificate {who(cert)} is not trusted: {exc}")
    except GostError as exc:
        res.certificate_trusted = False
        res.add(Reason.CERT_NOT_TRUSTED, f"certificate {who(cert)}: {exc}")


def security_headers(envelope: etree._Element) -> list[etree._Element]:
    header = header_of(envelope)
    if header is None:
        return []
    return _children(header, SECURITY)


def verify(
    doc: etree._ElementTree | etree._Element,
    *,
    at: datetime | date | None = None,
    trusted: Iterable[Certificate] | None = None,
    intermediates: Iterable[Certificate] = (),
    crls: Iterable[CertificateRevocationList] = (),
) -> VerificationReport:
    """Verify every signature in the Header's ``wsse:Security`` blocks.

    ``at`` is the time the certificates must be valid at (default now). With ``trusted``
    (possibly empty) every certificate must chain to one of those roots via ``intermediates``
    and is checked against ``crls``; without it chains are not checked
    (``certificate_trusted`` stays ``None``). This does no profile checks; see
    :func:`gostsign.xml.profile.verify` for the Fund's rules.
    """
    envelope = envelope_of(doc)
    when = as_time(at)
    roots = list(trusted) if trusted is not None else None
    mids = list(intermediates)
    crl_list = list(crls)
    report = VerificationReport(at=when)
    headers = security_headers(envelope)
    stray = [s for s in envelope.iter(SECURITY) if s not in headers]
    for s in stray:
        report.problems.append(
            Problem(
                Reason.MALFORMED,
                f"a wsse:Security element outside the SOAP Header is ignored (actor "
                f"{s.get(ACTOR)})",
            )
        )
    if not headers:
        report.problems.append(
            Problem(Reason.NO_SIGNATURE, "the message has no wsse:Security header")
        )
        return report
    seen_actors: dict[str, int] = {}
    index = 0
    for security in headers:
        actor = security.get(ACTOR) or ""
        if actor:
            seen_actors[actor] = seen_actors.get(actor, 0) + 1
        sigs = _children(security, SIGNATURE)
        if not sigs:
            report.problems.append(
                Problem(
                    Reason.NO_SIGNATURE, f"the Security header of {actor or '?'} has no Signature"
                )
            )
            continue
        for sig in sigs:
            index += 1
            res = _verify_signature(index, security, sig, when, roots, mids, crl_list)
            if len(sigs) > 1:
                res.add(
                    Reason.MALFORMED,
                    f"the Security header of {actor} holds {len(sigs)} Signatures; the profile "
                    "has one signer per header",
                )
            report.signatures.append(res)
    for actor, count in seen_actors.items():
        if count > 1:
            report.problems.append(
                Problem(Reason.DUPLICATE_ACTOR, f"{count} Security headers have actor {actor}")
            )
    return report
