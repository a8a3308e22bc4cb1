"""X.509 v3 certificates and CRLs signed with GOST R 34.10-2012.

* :class:`Certificate` parses PEM/DER: names with the Russian attributes (ОГРН, ОГРНИП, СНИЛС,
  ИНН, ИНН ЮЛ), validity, the GOST public key, the usual extensions, SHA-1 thumbprint.
* :func:`issue_certificate` and :func:`issue_crl` sign with a GOST key (Streebog of the TBS,
  signature s_be || r_be in the BIT STRING, what OpenSSL and GnuTLS write and read).
* :func:`verify_issued_by` and :func:`verify_chain` check signatures, CA flags, validity
  periods and revocation, raising :class:`InvalidSignature`, :class:`CertificateNotTrusted`,
  :class:`CertificateExpired` or :class:`CertificateRevoked`.

Signature algorithms (1.2.643.7.1.1.3.2 / .3) are accepted with NULL or absent parameters and
written without parameters (RFC 9215); certificates with other key or signature algorithms are
refused when loaded.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from gostsign import asn1
from gostsign.errors import (
    CertificateExpired,
    CertificateNotTrusted,
    CertificateRevoked,
    InvalidInput,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from gostsign.gost3410 import SIGNATURE_OID, PrivateKey, PublicKey
from gostsign.keys import dump_public_key_spki, load_public_key_spki

PEM_CERTIFICATE = "CERTIFICATE"
PEM_CRL = "X509 CRL"

_SIGNATURE_BITS = {oid: bits for bits, oid in SIGNATURE_OID.items()}
_LEGACY_SIGNATURES = {
    "1.2.643.2.2.3": "GOST R 34.10-2001",
    "1.2.643.2.2.4": "GOST R 34.10-94",
}

# ----------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeType:
    """A known name attribute: OID, short name, Russian label and the DER string type."""

    oid: str
    short: str
    label: str
    tag: int = asn1.UTF8_STRING
    aliases: tuple[str, ...] = ()


OID_CN = "2.5.4.3"
OID_SURNAME = "2.5.4.4"
OID_SERIAL_NUMBER = "2.5.4.5"
OID_C = "2.5.4.6"
OID_L = "2.5.4.7"
OID_ST = "2.5.4.8"
OID_STREET = "2.5.4.9"
OID_O = "2.5.4.10"
OID_OU = "2.5.4.11"
OID_TITLE = "2.5.4.12"
OID_GIVEN_NAME = "2.5.4.42"
OID_EMAIL = "1.2.840.113549.1.9.1"
OID_OGRN = "1.2.643.100.1"
OID_SNILS = "1.2.643.100.3"
OID_INN_LE = "1.2.643.100.4"
OID_OGRNIP = "1.2.643.100.5"
OID_INN = "1.2.643.3.131.1.1"

ATTRIBUTE_TYPES: tuple[AttributeType, ...] = (
    AttributeType(OID_CN, "CN", "Общее имя", aliases=("commonName",)),
    AttributeType(OID_SURNAME, "SN", "Фамилия", aliases=("surname",)),
    AttributeType(OID_GIVEN_NAME, "G", "Имя и отчество", aliases=("GN", "givenName")),
    AttributeType(OID_TITLE, "T", "Должность", aliases=("title",)),
    AttributeType(OID_O, "O", "Организация", aliases=("organizationName",)),
    AttributeType(OID_OU, "OU", "Подразделение", aliases=("organizationalUnitName",)),
    AttributeType(OID_STREET, "street", "Адрес", aliases=("streetAddress",)),
    AttributeType(OID_L, "L", "Населённый пункт", aliases=("localityName",)),
    AttributeType(OID_ST, "ST", "Регион", aliases=("S", "stateOrProvinceName")),
    AttributeType(OID_C, "C", "Страна", asn1.PRINTABLE_STRING, ("countryName",)),
    AttributeType(OID_EMAIL, "E", "Электронная почта", asn1.IA5_STRING, ("emailAddress",)),
    AttributeType(OID_OGRN, "OGRN", "ОГРН", asn1.NUMERIC_STRING),
    AttributeType(OID_OGRNIP, "OGRNIP", "ОГРНИП", asn1.NUMERIC_STRING),
    AttributeType(OID_SNILS, "SNILS", "СНИЛС", asn1.NUMERIC_STRING),
    AttributeType(OID_INN, "INN", "ИНН", asn1.NUMERIC_STRING),
    AttributeType(OID_INN_LE, "INNLE", "ИНН ЮЛ", asn1.NUMERIC_STRING),
    AttributeType(OID_SERIAL_NUMBER, "serialNumber", "Серийный номер", asn1.PRINTABLE_STRING),
    AttributeType("2.5.4.43", "initials", "Инициалы"),
    AttributeType("2.5.4.65", "pseudonym", "Псевдоним"),
    AttributeType("0.9.2342.19200300.100.1.25", "DC", "Компонент домена", asn1.IA5_STRING),
    AttributeType("0.9.2342.19200300.100.1.1", "UID", "Идентификатор"),
)
_ATTR_BY_OID = {a.oid: a for a in ATTRIBUTE_TYPES}
_ATTR_BY_KEY = {
    key.lower(): a
    for a in ATTRIBUTE_TYPES
    for key in (a.short, a.label, a.label.replace("ё", "е"), *a.aliases)
}
_OID_RE = re.compile(r"\d+(\.\d+)+")


def attribute_oid(key: str) -> str:
    """The OID for a short name (CN, OGRN, SNILS, ...), Russian label or dotted OID."""
    key = key.strip()
    if _OID_RE.fullmatch(key):
        return key
    attr = _ATTR_BY_KEY.get(key.lower())
    if attr is None:
        raise InvalidInput(f"unknown name attribute {key!r}")
    return attr.oid


@dataclass(frozen=True)
class Attribute:
    """One AttributeTypeAndValue of a distinguished name."""

    oid: str
    value: str
    tag: int = asn1.UTF8_STRING

    @property
    def short(self) -> str:
        known = _ATTR_BY_OID.get(self.oid)
        return known.short if known else self.oid

    @property
    def label(self) -> str:
        """Russian display name (the OID when the attribute is unknown)."""
        known = _ATTR_BY_OID.get(self.oid)
        return known.label if known else self.oid

    def encode(self) -> bytes:
        tag = self.tag
        if tag == asn1.NUMERIC_STRING:
            value = asn1.numeric_string(self.value)
        elif tag == asn1.PRINTABLE_STRING:
            value = asn1.printable_string(self.value)
        elif tag == asn1.IA5_STRING:
            value = asn1.ia5_string(self.value)
        elif tag == asn1.UTF8_STRING:
            value = asn1.utf8_string(self.value)
        else:
            raise InvalidInput(f"cannot write a name attribute with string tag {tag}")
        return asn1.sequence(asn1.oid(self.oid), value)


def _normalize(value: str) -> str:
    return " ".join(value.split()).casefold()


def _escape(value: str) -> str:
    out = re.sub(r'([,+"\\<>;=])', r"\\\1", value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


class Name:
    """A distinguished name: an ordered sequence of RDNs, each a set of attributes."""

    __slots__ = ("der", "rdns")

    def __init__(self, rdns: Sequence[Sequence[Attribute]], der: bytes | None = None) -> None:
        self.rdns: tuple[tuple[Attribute, ...], ...] = tuple(tuple(r) for r in rdns)
        if der is None:
            der = asn1.sequence(*(asn1.set_of(*(a.encode() for a in r)) for r in self.rdns))
        self.der = der

    @classmethod
    def from_element(cls, elem: asn1.Element) -> Name:
        rdns = []
        for rdn in elem.sequence("Name"):
            attrs = []
            items = rdn.set_of("RelativeDistinguishedName")
            if not items:
                raise InvalidInput(f"empty RelativeDistinguishedName at offset {rdn.offset}")
            for item in items:
                type_, value = item.sequence("AttributeTypeAndValue", min_len=2, max_len=2)
                oid = type_.as_oid("attribute type")
                if value.tag_class == asn1.UNIVERSAL and value.number in asn1.STRING_TAGS:
                    attrs.append(Attribute(oid, value.as_string(), value.number))
                else:  # not a string: keep it as RFC 4514 "#hex" of the DER
                    attrs.append(Attribute(oid, "#" + value.der.hex(), -1))
            rdns.append(attrs)
        return cls(rdns, elem.der)

    @classmethod
    def build(cls, items: SubjectLike) -> Name:
        """A name with one attribute per RDN, from pairs, a mapping or a subject string.

        Keys are short names (CN, O, OGRN, SNILS, ...), Russian labels or dotted OIDs;
        values get the string type the attribute requires (NumericString for ОГРН/СНИЛС/ИНН,
        PrintableString for C, IA5String for E, UTF8String otherwise).
        """
        if isinstance(items, Name):
            return items
        if isinstance(items, str):
            pairs = parse_subject(items)
        elif isinstance(items, Mapping):
            pairs = [(attribute_oid(k), v) for k, v in items.items()]
        else:
            pairs = [(attribute_oid(k), v) for k, v in items]
        rdns = []
        for oid, value in pairs:
            known = _ATTR_BY_OID.get(oid)
            tag = known.tag if known else asn1.UTF8_STRING
            if oid in (OID_OGRN, OID_OGRNIP, OID_SNILS, OID_INN, OID_INN_LE) and not (
                value.isascii() and value.isdigit()
            ):
                raise InvalidInput(f"{known.label if known else oid} must be digits: {value!r}")
            rdns.append([Attribute(oid, value, tag)])
        return cls(rdns)

    # -- access --------------------------------------------------------------------------------

    def attributes(self) -> list[Attribute]:
        return [a for rdn in self.rdns for a in rdn]

    def get_all(self, key: str) -> list[str]:
        oid = attribute_oid(key)
        return [a.value for a in self.attributes() if a.oid == oid]

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of an attribute by short name, Russian label or OID."""
        values = self.get_all(key)
        return values[0] if values else default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    @property
    def common_name(self) -> str | None:
        """CN, общее имя"""
        return self.get(OID_CN)

    @property
    def organization(self) -> str | None:
        """O"""
        return self.get(OID_O)

    @property
    def organizational_unit(self) -> str | None:
        """OU"""
        return self.get(OID_OU)

    @property
    def title(self) -> str | None:
        """T, должность"""
        return self.get(OID_TITLE)

    @property
    def surname(self) -> str | None:
        """SN, фамилия"""
        return self.get(OID_SURNAME)

    @property
    def given_name(self) -> str | None:
        """G, имя и отчество"""
        return self.get(OID_GIVEN_NAME)

    @property
    def locality(self) -> str | None:
        """L"""
        return self.get(OID_L)

    @property
    def region(self) -> str | None:
        """ST"""
        return self.get(OID_ST)

    @property
    def street(self) -> str | None:
        """street"""
        return self.get(OID_STREET)

    @property
    def country(self) -> str | None:
        """C"""
        return self.get(OID_C)

    @property
    def email(self) -> str | None:
        """E"""
        return self.get(OID_EMAIL)

    @property
    def ogrn(self) -> str | None:
        """ОГРН (1.2.643.100.1)"""
        return self.get(OID_OGRN)

    @property
    def ogrnip(self) -> str | None:
        """ОГРНИП (1.2.643.100.5)"""
        return self.get(OID_OGRNIP)

    @property
    def snils(self) -> str | None:
        """СНИЛС (1.2.643.100.3)"""
        return self.get(OID_SNILS)

    @property
    def inn(self) -> str | None:
        """ИНН (1.2.643.3.131.1.1)"""
        return self.get(OID_INN)

    @property
    def inn_le(self) -> str | None:
        """ИНН ЮЛ (1.2.643.100.4)"""
        return self.get(OID_INN_LE)

    def display(self) -> list[tuple[str, str]]:
        """(Russian label, value) pairs in written order, for ``gostsign cert show``."""
        return [(a.label, a.value) for a in self.attributes()]

    def matches(self, other: Name) -> bool:
        """RFC 5280 §7.1 comparison: equal DER, or equal after case and space folding."""
        if self.der == other.der:
            return True
        if len(self.rdns) != len(other.rdns):
            return False
        for mine, theirs in zip(self.rdns, other.rdns, strict=True):
            a = sorted((x.oid, _normalize(x.value)) for x in mine)
            b = sorted((x.oid, _normalize(x.value)) for x in theirs)
            if a != b:
                return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Name) and self.matches(other)

    def __hash__(self) -> int:
        return hash(tuple(sorted((a.oid, _normalize(a.value)) for a in self.attributes())))

    def __str__(self) -> str:
        return ", ".join(
            "+".join(f"{a.short}={a.value if a.tag < 0 else _escape(a.value)}" for a in rdn)
            for rdn in self.rdns
        )

    def __repr__(self) -> str:
        return f"Name({str(self)!r})"


SubjectLike = Name | str | Mapping[str, str] | Sequence[tuple[str, str]]


def _split_unescaped(text: str, seps: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch in seps and not quoted:
            parts.append("".join(buf))
            buf = []
            i += 1
            continue
        buf.append(ch)
        i += 1
    if quoted:
        raise InvalidInput(f"unbalanced quotes in subject {text!r}")
    parts.append("".join(buf))
    return parts


def _unescape(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return re.sub(r"\\(.)", r"\1", value)


def parse_subject(text: str) -> list[tuple[str, str]]:
    """Parse "CN=Иванов,O=ГБУЗ,OGRN=1027700000000" (or OpenSSL's "/CN=.../O=...").

    Returns (OID, value) pairs in the given order. Separators inside double quotes or escaped
    with a backslash are literal. Keys: short names, Russian labels ("ОГРН") or dotted OIDs.
    """
    text = text.strip()
    if not text:
        raise InvalidInput("empty subject")
    if text.startswith("/"):
        chunks = _split_unescaped(text[1:], "/")
    else:
        chunks = _split_unescaped(text, ",;")
    pairs = []
    for chunk in chunks:
        if not chunk.strip():
            continue
        key, sep, value = chunk.partition("=")
        if not sep:
            raise InvalidInput(f"subject component {chunk.strip()!r} has no '='")
        value = _unescape(value)
        if not value:
            raise InvalidInput(f"subject component {key.strip()!r} has an empty value")
        pairs.append((attribute_oid(key), value))
    return pairs


# ----------------------------------------------------------------------------------------------
# Extensions
# ----------------------------------------------------------------------------------------------

OID_SKI = "2.5.29.14"
OID_KEY_USAGE = "2.5.29.15"
OID_SAN = "2.5.29.17"
OID_BASIC_CONSTRAINTS = "2.5.29.19"
OID_CRL_NUMBER = "2.5.29.20"
OID_CRL_REASON = "2.5.29.21"
OID_CRL_DP = "2.5.29.31"
OID_POLICIES = "2.5.29.32"
OID_AKI = "2.5.29.35"
OID_EKU = "2.5.29.37"

KEY_USAGE_BITS = (
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
)
_KU_ALIASES = {"contentCommitment": "nonRepudiation"}

EKU_OIDS = {
    "serverAuth": "1.3.6.1.5.5.7.3.1",
    "clientAuth": "1.3.6.1.5.5.7.3.2",
    "codeSigning": "1.3.6.1.5.5.7.3.3",
    "emailProtection": "1.3.6.1.5.5.7.3.4",
    "timeStamping": "1.3.6.1.5.5.7.3.8",
    "OCSPSigning": "1.3.6.1.5.5.7.3.9",
}

#: Extensions whose criticality we can honour (RFC 5280 §4.2: others critical = reject).
_UNDERSTOOD = frozenset(
    {
        OID_SKI,
        OID_KEY_USAGE,
        OID_SAN,
        OID_BASIC_CONSTRAINTS,
        OID_CRL_DP,
        OID_POLICIES,
        OID_AKI,
        OID_EKU,
        "2.5.29.16",  # private key usage period
        "2.5.29.18",  # issuer alternative name
        "1.3.6.1.5.5.7.1.1",  # authority information access
        "1.2.643.100.111",  # subjectSignTool
        "1.2.643.100.112",  # issuerSignTool
    }
)

CRL_REASONS = (
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "",
    "removeFromCRL",
    "privilegeWithdrawn",
    "aACompromise",
)


@dataclass(frozen=True)
class Extension:
    """One extension: OID, criticality and the DER inside extnValue."""

    oid: str
    critical: bool
    value: bytes

    def encode(self) -> bytes:
        parts = [asn1.oid(self.oid)]
        if self.critical:
            parts.append(asn1.boolean(True))
        parts.append(asn1.octet_string(self.value))
        return asn1.sequence(*parts)


def _parse_extensions(elem: asn1.Element) -> tuple[Extension, ...]:
    out: list[Extension] = []
    seen: set[str] = set()
    for item in elem.sequence("Extensions", min_len=1):
        parts = item.sequence("Extension", min_len=2, max_len=3)
        oid = parts[0].as_oid("extnID")
        critical = parts[1].as_boolean() if len(parts) == 3 else False
        value = parts[-1].as_octet_string("extnValue")
        if oid in seen:
            raise InvalidInput(f"extension {oid} appears twice")
        seen.add(oid)
        out.append(Extension(oid, critical, value))
    return tuple(out)


def _key_usage_bits(usages: Iterable[str]) -> set[int]:
    bits = set()
    for usage in usages:
        name = _KU_ALIASES.get(usage, usage)
        if name not in KEY_USAGE_BITS:
            raise InvalidInput(f"unknown key usage {usage!r}")
        bits.add(KEY_USAGE_BITS.index(name))
    return bits


def _eku_oid(name: str) -> str:
    if name in EKU_OIDS:
        return EKU_OIDS[name]
    if _OID_RE.fullmatch(name):
        return name
    raise InvalidInput(f"unknown extended key usage {name!r}")


# ----------------------------------------------------------------------------------------------
# Signature algorithm and signed envelopes
# ----------------------------------------------------------------------------------------------


def _parse_signature_algorithm(elem: asn1.Element) -> str:
    items = elem.sequence("signature AlgorithmIdentifier", min_len=1, max_len=2)
    oid = items[0].as_oid("signature algorithm")
    if len(items) == 2:
        items[1].as_null()  # OpenSSL writes NULL, RFC 9215 says absent: accept both
    legacy = _LEGACY_SIGNATURES.get(oid)
    if legacy:
        raise UnsupportedAlgorithm(
            f"{legacy} signatures ({oid}) are no longer accepted; only GOST R 34.10-2012"
        )
    if oid not in _SIGNATURE_BITS:
        raise UnsupportedAlgorithm(f"signature algorithm {oid} is not GOST R 34.10-2012")
    return oid


def _signature_algorithm(key: PrivateKey) -> bytes:
    return asn1.sequence(asn1.oid(SIGNATURE_OID[key.curve.bits]))


def _check_signature(tbs: bytes, oid: str, signature: bytes, pub: PublicKey, what: str) -> None:
    bits = _SIGNATURE_BITS[oid]
    if bits != pub.curve.bits:
        raise InvalidSignature(
            f"{what} uses a {bits}-bit signature algorithm ({oid}) but the issuer key is "
            f"{pub.curve.bits}-bit"
        )
    try:
        pub.verify(tbs, signature)
    except InvalidSignature as exc:
        raise InvalidSignature(f"{what}: {exc}") from None


def _split_signed(der: bytes, what: str) -> tuple[asn1.Element, str, bytes]:
    tbs, alg, sig = asn1.decode(der, what).sequence(what, min_len=3, max_len=3)
    tbs.expect(asn1.SEQUENCE, f"{what} TBS")
    oid = _parse_signature_algorithm(alg)
    signature = sig.as_bit_string("signatureValue")
    size = _SIGNATURE_BITS[oid] // 4
    if len(signature) != size:
        raise InvalidInput(f"{what} signature is {len(signature)} bytes, expected {size}")
    return tbs, oid, signature


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime | None, what: str = "time") -> datetime:
    if at is None:
        return _now()
    if at.tzinfo is None:
        raise InvalidInput(f"{what} must be timezone-aware")
    return at


# ----------------------------------------------------------------------------------------------
# Certificates
# ----------------------------------------------------------------------------------------------


class Certificate:
    """A parsed X.509 certificate with a GOST R 34.10-2012 key and signature."""

    def __init__(self, der: bytes) -> None:
        der = bytes(der)
        tbs, oid, signature = _split_signed(der, "certificate")
        self.der = der
        self.tbs_der = tbs.der
        self.signature_algorithm = oid
        self.signature = signature
        items = tbs.children()
        pos = 0
        self.version = 1
        if items and items[0].is_context(0):
            self.version = items[0].explicit().as_integer("version") + 1
            if self.version not in (1, 2, 3):
                raise InvalidInput(f"certificate version {self.version} is unknown")
            pos = 1
        rest = items[pos:]
        if len(rest) < 6:
            raise InvalidInput("certificate TBS has too few fields")
        serial, inner_alg, issuer, validity, subject, spki = rest[:6]
        self.serial = serial.as_integer("serialNumber")
        if _parse_signature_algorithm(inner_alg) != oid:
            raise InvalidInput("certificate signature algorithm differs inside and outside TBS")
        self.issuer = Name.from_element(issuer)
        not_before, not_after = validity.sequence("Validity", min_len=2, max_len=2)
        self.not_before = not_before.as_time()
        self.not_after = not_after.as_time()
        self.subject = Name.from_element(subject)
        self.spki_der = spki.der
        self.public_key = load_public_key_spki(spki)
        self.extensions: tuple[Extension, ...] = ()
        last = -1
        for extra in rest[6:]:
            if not extra.tag_class == asn1.CONTEXT or not 1 <= extra.number <= 3:
                raise InvalidInput(f"unexpected {extra.name} in certificate TBS")
            if extra.number <= last:
                raise InvalidInput(f"{extra.name} out of order in certificate TBS")
            last = extra.number
            if extra.number == 3:
                if self.version != 3:
                    raise InvalidInput("extensions in a certificate that is not v3")
                self.extensions = _parse_extensions(extra.explicit())
        self._parse_known_extensions()

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def load(cls, data: bytes | str) -> Certificate:
        """From PEM (the first CERTIFICATE block) or DER."""
        return cls(asn1.to_der(data, PEM_CERTIFICATE))

    @property
    def pem(self) -> bytes:
        return asn1.pem_encode(self.der, PEM_CERTIFICATE)

    # -- extensions ----------------------------------------------------------------------------

    def extension(self, oid: str) -> Extension | None:
        return next((e for e in self.extensions if e.oid == oid), None)

    def _parse_known_extensions(self) -> None:
        self.key_usage: frozenset[str] | None = None
        self.basic_constraints: tuple[bool, int | None] | None = None
        self.extended_key_usage: tuple[str, ...] | None = None
        self.subject_key_identifier: bytes | None = None
        self.authority_key_identifier: bytes | None = None
        known = (OID_KEY_USAGE, OID_BASIC_CONSTRAINTS, OID_EKU, OID_SKI, OID_AKI)
        for ext in self.extensions:
            if ext.oid not in known:
                continue  # kept as raw bytes; only the ones we interpret must be DER
            value = asn1.decode(ext.value, f"extension {ext.oid}")
            if ext.oid == OID_KEY_USAGE:
                unused, raw = value.as_bit_string_bits("KeyUsage")
                number = int.from_bytes(raw, "big") >> unused if raw else 0
                width = len(raw) * 8 - unused
                self.key_usage = frozenset(
                    name
                    for i, name in enumerate(KEY_USAGE_BITS)
                    if i < width and number >> (width - 1 - i) & 1
                )
            elif ext.oid == OID_BASIC_CONSTRAINTS:
                parts = value.sequence("BasicConstraints", max_len=2)
                ca = False
                path_len = None
                for part in parts:
                    if part.is_universal(asn1.BOOLEAN):
                        ca = part.as_boolean()
                    else:
                        path_len = part.as_integer("pathLenConstraint")
                        if path_len < 0:
                            raise InvalidInput("negative pathLenConstraint")
                self.basic_constraints = (ca, path_len)
            elif ext.oid == OID_EKU:
                self.extended_key_usage = tuple(
                    item.as_oid("KeyPurposeId") for item in value.sequence("ExtKeyUsage")
                )
            elif ext.oid == OID_SKI:
                self.subject_key_identifier = value.as_octet_string("SubjectKeyIdentifier")
            elif ext.oid == OID_AKI:
                for part in value.sequence("AuthorityKeyIdentifier", max_len=3):
                    if part.is_context(0):
                        self.authority_key_identifier = part.implicit(
                            asn1.OCTET_STRING
                        ).as_octet_string()

    # -- properties ----------------------------------------------------------------------------

    @property
    def is_ca(self) -> bool:
        """True for a CA certificate (a v1 self-issued certificate counts as a root)."""
        if self.basic_constraints is not None:
            return self.basic_constraints[0]
        return self.version == 1 and self.is_self_issued

    @property
    def path_length(self) -> int | None:
        return self.basic_constraints[1] if self.basic_constraints else None

    @property
    def is_self_issued(self) -> bool:
        return self.issuer.matches(self.subject)

    @property
    def public_key_algorithm(self) -> str:
        return {256: "1.2.643.7.1.1.1.1", 512: "1.2.643.7.1.1.1.2"}[self.public_key.curve.bits]

    @cached_property
    def thumbprint_sha1(self) -> bytes:
        """SHA-1 of the DER (what CryptoPro and Windows call the thumbprint)."""
        return hashlib.sha1(self.der, usedforsecurity=False).digest()

    @property
    def thumbprint(self) -> str:
        """The SHA-1 thumbprint as lower-case hex."""
        return self.thumbprint_sha1.hex()

    @property
    def serial_hex(self) -> str:
        """The serial number as lower-case hex with an even number of digits."""
        text = f"{self.serial:x}"
        return text.zfill(len(text) + len(text) % 2)

    @property
    def subject_text(self) -> str:
        return str(self.subject)

    @property
    def issuer_text(self) -> str:
        return str(self.issuer)

    def unknown_critical_extensions(self) -> list[str]:
        return [e.oid for e in self.extensions if e.critical and e.oid not in _UNDERSTOOD]

    def check_validity(self, at: datetime | None = None) -> None:
        """Raise CertificateExpired unless ``at`` (default now) is inside the validity period."""
        at = _aware(at)
        if at < self.not_before:
            raise CertificateExpired(
                f"certificate {self.subject} is not valid before "
                f"{self.not_before:%Y-%m-%d %H:%M:%S} UTC"
            )
        if at > self.not_after:
            raise CertificateExpired(
                f"certificate {self.subject} expired on {self.not_after:%Y-%m-%d %H:%M:%S} UTC"
            )

    def is_valid_at(self, at: datetime | None = None) -> bool:
        at = _aware(at)
        return self.not_before <= at <= self.not_after

    def verify_signature(self, issuer_key: PublicKey) -> None:
        """Check this certificate's signature with ``issuer_key`` (InvalidSignature if not)."""
        _check_signature(
            self.tbs_der,
            self.signature_algorithm,
            self.signature,
            issuer_key,
            f"certificate {self.subject}",
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and self.der == other.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"Certificate(subject={str(self.subject)!r}, serial={self.serial:#x})"


def load_certificate(data: bytes | str) -> Certificate:
    """One certificate from PEM or DER (the first CERTIFICATE block of a PEM text)."""
    return Certificate.load(data)


def load_certificates(data: bytes | str) -> list[Certificate]:
    """Every certificate in a PEM bundle (or the one DER certificate)."""
    if asn1.is_pem(data):
        return [
            Certificate(der) for label, der in asn1.pem_blocks(data) if label == PEM_CERTIFICATE
        ]
    return [Certificate(asn1.to_der(data))]


def subject_key_identifier(pub: PublicKey) -> bytes:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value."""
    return hashlib.sha1(asn1.octet_string(pub.to_le()), usedforsecurity=False).digest()


KEY_USAGE_LABELS = {
    "digitalSignature": "Цифровая подпись",
    "nonRepudiation": "Неотрекаемость",
    "keyEncipherment": "Шифрование ключей",
    "dataEncipherment": "Шифрование данных",
    "keyAgreement": "Согласование ключей",
    "keyCertSign": "Подписание сертификатов",
    "cRLSign": "Подписание списков отзыва",
    "encipherOnly": "Только шифрование",
    "decipherOnly": "Только расшифрование",
}
EKU_LABELS = {
    EKU_OIDS["serverAuth"]: "Проверка подлинности сервера",
    EKU_OIDS["clientAuth"]: "Проверка подлинности клиента",
    EKU_OIDS["codeSigning"]: "Подписание кода",
    EKU_OIDS["emailProtection"]: "Защищённая электронная почта",
    EKU_OIDS["timeStamping"]: "Штамп времени",
    EKU_OIDS["OCSPSigning"]: "Подписание ответов OCSP",
}


def _time_text(dt: datetime) -> str:
    return f"{dt:%d.%m.%Y %H:%M:%S} UTC"


def describe(cert: Certificate) -> str:
    """A Russian multi-line description of ``cert`` (what ``gostsign cert show`` prints)."""
    lines = ["Владелец:"]
    lines += [f"  {label}: {value}" for label, value in cert.subject.display()]
    lines.append("Издатель:")
    lines += [f"  {label}: {value}" for label, value in cert.issuer.display()]
    curve = cert.public_key.curve
    lines += [
        f"Серийный номер: {cert.serial_hex}",
        f"Действителен: с {_time_text(cert.not_before)} по {_time_text(cert.not_after)}",
        f"Ключ: ГОСТ Р 34.10-2012, {curve.bits} бит, параметры {curve.name} ({curve.oid})",
        f"Подпись: ГОСТ Р 34.10-2012 с ГОСТ Р 34.11-2012, "
        f"{_SIGNATURE_BITS[cert.signature_algorithm]} бит ({cert.signature_algorithm})",
    ]
    if cert.key_usage is not None:
        usage = [KEY_USAGE_LABELS[u] for u in KEY_USAGE_BITS if u in cert.key_usage]
        lines.append(f"Использование ключа: {', '.join(usage) or '—'}")
    if cert.extended_key_usage is not None:
        ext = [EKU_LABELS.get(oid, oid) for oid in cert.extended_key_usage]
        lines.append(f"Расширенное использование: {', '.join(ext) or '—'}")
    ca = "да" if cert.is_ca else "нет"
    if cert.is_ca and cert.path_length is not None:
        ca += f" (длина пути не более {cert.path_length})"
    lines.append(f"Удостоверяющий центр: {ca}")
    if cert.subject_key_identifier is not None:
        lines.append(f"Идентификатор ключа: {cert.subject_key_identifier.hex()}")
    lines.append(f"Отпечаток SHA-1: {cert.thumbprint}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Issuing
# ----------------------------------------------------------------------------------------------

DEFAULT_CA_USAGE = ("digitalSignature", "keyCertSign", "cRLSign")
DEFAULT_LEAF_USAGE = ("digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment")


def _random_serial() -> int:
    return secrets.randbits(127) | (1 << 126)


def _check_issuer(
    issuer_cert: Certificate | None, issuer_key: PrivateKey, subject_key_pub: PublicKey
) -> None:
    expected = issuer_cert.public_key if issuer_cert is not None else subject_key_pub
    if issuer_key.public_key() != expected:
        whose = "the issuer certificate" if issuer_cert is not None else "the subject (self-signed)"
        raise InvalidKey(f"the issuer key does not belong to {whose}")


def issue_certificate(
    subject_key_pub: PublicKey,
    subject: SubjectLike,
    issuer_cert: Certificate | None,
    issuer_key: PrivateKey,
    serial: int | None = None,
    days: int = 365,
    ca: bool = False,
    key_usage: Iterable[str] | None = None,
    ogrn: str | None = None,
    snils: str | None = None,
    inn: str | None = None,
    not_before: datetime | None = None,
    *,
    ogrnip: str | None = None,
    inn_le: str | None = None,
    not_after: datetime | None = None,
    extended_key_usage: Iterable[str] | None = None,
    path_length: int | None = None,
    extensions: Iterable[Extension] = (),
) -> Certificate:
    """Issue a v3 certificate signed with ``issuer_key`` (self-signed if ``issuer_cert`` is None).

    ``ogrn``/``snils``/``inn``/``ogrnip``/``inn_le`` are appended to the subject. Extensions:
    basicConstraints (critical), keyUsage (critical), SKI, AKI and, if given, extKeyUsage and
    ``extensions``. Validity starts at ``not_before`` (default now) and lasts ``days`` unless
    ``not_after`` is given.
    """
    _check_issuer(issuer_cert, issuer_key, subject_key_pub)
    if issuer_cert is not None and not issuer_cert.is_ca:
        raise CertificateNotTrusted(f"issuer {issuer_cert.subject} is not a CA certificate")
    name = Name.build(subject)
    extra = [
        (oid, value)
        for oid, value in (
            (OID_OGRN, ogrn),
            (OID_OGRNIP, ogrnip),
            (OID_SNILS, snils),
            (OID_INN, inn),
            (OID_INN_LE, inn_le),
        )
        if value is not None
    ]
    if extra:
        name = Name([*name.rdns, *Name.build(extra).rdns])
    if serial is None:
        serial = _random_serial()
    if not 0 < serial < 1 << 159:
        raise InvalidInput("certificate serial must be positive and at most 20 bytes")
    start = _aware(not_before, "not_before").replace(microsecond=0)
    end = _aware(not_after, "not_after") if not_after is not None else start + timedelta(days=days)
    end = end.replace(microsecond=0)
    if end <= start:
        raise InvalidInput("certificate validity ends before it starts")
    issuer_name = issuer_cert.subject if issuer_cert is not None else name

    ski = subject_key_identifier(subject_key_pub)
    if issuer_cert is None:
        aki: bytes | None = ski
    else:
        aki = issuer_cert.subject_key_identifier or subject_key_identifier(issuer_cert.public_key)
    usages = (
        key_usage if key_usage is not None else (DEFAULT_CA_USAGE if ca else DEFAULT_LEAF_USAGE)
    )
    bc_parts = []
    if ca:
        bc_parts.append(asn1.boolean(True))
        if path_length is not None:
            bc_parts.append(asn1.integer(path_length))
    elif path_length is not None:
        raise InvalidInput("path_length only applies to CA certificates")
    exts = [
        Extension(OID_BASIC_CONSTRAINTS, True, asn1.sequence(*bc_parts)),
        Extension(OID_KEY_USAGE, True, asn1.named_bits(_key_usage_bits(usages))),
        Extension(OID_SKI, False, asn1.octet_string(ski)),
    ]
    if aki is not None:
        exts.append(Extension(OID_AKI, False, asn1.sequence(asn1.context(0, aki, False))))
    if extended_key_usage is not None:
        exts.append(
            Extension(
                OID_EKU, False, asn1.sequence(*(asn1.oid(_eku_oid(e)) for e in extended_key_usage))
            )
        )
    exts.extend(extensions)
    oids = [e.oid for e in exts]
    if len(set(oids)) != len(oids):
        raise InvalidInput("an extension is given twice")

    tbs = asn1.sequence(
        asn1.explicit(0, asn1.integer(2)),
        asn1.integer(serial),
        _signature_algorithm(issuer_key),
        issuer_name.der,
        asn1.sequence(asn1.time(start), asn1.time(end)),
        name.der,
        dump_public_key_spki(subject_key_pub),
        asn1.explicit(3, asn1.sequence(*(e.encode() for e in exts))),
    )
    signature = issuer_key.sign(tbs)
    der = asn1.sequence(tbs, _signature_algorithm(issuer_key), asn1.bit_string(signature))
    return Certificate(der)


# ----------------------------------------------------------------------------------------------
# Verification
# ----------------------------------------------------------------------------------------------


def verify_issued_by(cert: Certificate, issuer: Certificate) -> None:
    """Check that ``issuer`` issued ``cert``: names, key identifiers, CA rights, signature.

    Raises CertificateNotTrusted when ``issuer`` cannot have issued it and InvalidSignature
    when the signature does not verify. Validity periods are not checked here.
    """
    if not cert.issuer.matches(issuer.subject):
        raise CertificateNotTrusted(
            f"certificate {cert.subject} names issuer {cert.issuer}, not {issuer.subject}"
        )
    if (
        cert.authority_key_identifier is not None
        and issuer.subject_key_identifier is not None
        and cert.authority_key_identifier != issuer.subject_key_identifier
    ):
        raise CertificateNotTrusted(
            f"certificate {cert.subject} was issued under another key of {issuer.subject}"
        )
    if not issuer.is_ca:
        raise CertificateNotTrusted(f"{issuer.subject} is not a CA certificate")
    if issuer.key_usage is not None and "keyCertSign" not in issuer.key_usage:
        raise CertificateNotTrusted(f"{issuer.subject} may not sign certificates (keyUsage)")
    cert.verify_signature(issuer.public_key)


_MAX_DEPTH = 10


def build_chain(
    cert: Certificate,
    intermediates: Iterable[Certificate] = (),
    trusted_roots: Iterable[Certificate] = (),
) -> list[Certificate]:
    """The path [cert, intermediates..., root] to a trusted root, signatures checked.

    Raises CertificateNotTrusted when no path exists and InvalidSignature when the only
    candidate issuer's signature does not verify. Validity periods are not checked.
    """
    roots = list(trusted_roots)
    pool = list(intermediates)
    chain = [cert]
    current = cert
    while True:
        if current in roots:
            return chain
        if len(chain) > _MAX_DEPTH:
            raise CertificateNotTrusted("certificate chain is too long")
        bad_signature: InvalidSignature | None = None
        found = None
        for candidate in roots + [c for c in pool if c not in chain]:
            if not current.issuer.matches(candidate.subject):
                continue
            try:
                verify_issued_by(current, candidate)
            except InvalidSignature as exc:
                bad_signature = exc
                continue
            except CertificateNotTrusted:
                continue
            found = candidate
            break
        if found is None:
            if bad_signature is not None:
                raise bad_signature
            raise CertificateNotTrusted(
                f"no trusted issuer {current.issuer} found for certificate {current.subject}"
            )
        chain.append(found)
        if found in roots:
            break
        current = found
    _check_path_lengths(chain)
    return chain


def _check_path_lengths(chain: list[Certificate]) -> None:
    # chain[0] is the leaf; chain[i] (i >= 1) is followed by i - 1 intermediates below it.
    for i, ca in enumerate(chain[1:], start=1):
        limit = ca.path_length
        below = sum(1 for c in chain[1:i] if not c.is_self_issued)
        if limit is not None and below > limit:
            raise CertificateNotTrusted(f"path length constraint of {ca.subject} is exceeded")


def verify_chain(
    cert: Certificate,
    intermediates: Iterable[Certificate] = (),
    trusted_roots: Iterable[Certificate] = (),
    at: datetime | None = None,
    crls: Iterable[CertificateRevocationList] = (),
) -> list[Certificate]:
    """Verify ``cert`` up to one of ``trusted_roots`` at time ``at`` (default now).

    Order of checks: path and signatures (CertificateNotTrusted / InvalidSignature), unknown
    critical extensions (CertificateNotTrusted), validity of every certificate in the path
    (CertificateExpired), then revocation against the given CRLs (CertificateRevoked; each CRL
    must verify against its issuer in the path). Returns the path, leaf first.
    """
    at = _aware(at)
    chain = build_chain(cert, intermediates, trusted_roots)
    for c in chain:
        unknown = c.unknown_critical_extensions()
        if unknown:
            raise CertificateNotTrusted(
                f"certificate {c.subject} has unsupported critical extensions: "
                + ", ".join(unknown)
            )
    for c in chain:
        c.check_validity(at)
    crl_list = list(crls)
    for child, issuer in itertools.pairwise(chain):
        for crl in crl_list:
            if not crl.issuer.matches(issuer.subject):
                continue
            crl.verify(issuer)
            entry = crl.entry_for(child)
            if entry is not None and entry.date <= at:
                reason = f" ({entry.reason})" if entry.reason else ""
                raise CertificateRevoked(
                    f"certificate {child.subject} (serial {child.serial:#x}) was revoked on "
                    f"{entry.date:%Y-%m-%d %H:%M:%S} UTC{reason}"
                )
    return chain


# ----------------------------------------------------------------------------------------------
# CRLs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevokedCertificate:
    serial: int
    date: datetime
    reason: str | None = None


class CertificateRevocationList:
    """A parsed X.509 v1/v2 CRL with a GOST R 34.10-2012 signature."""

    def __init__(self, der: bytes) -> None:
        der = bytes(der)
        tbs, oid, signature = _split_signed(der, "CRL")
        self.der = der
        self.tbs_der = tbs.der
        self.signature_algorithm = oid
        self.signature = signature
        items = tbs.children()
        pos = 0
        self.version = 1
        if items and items[0].is_universal(asn1.INTEGER):
            self.version = items[0].as_integer("CRL version") + 1
            if self.version != 2:
                raise InvalidInput(f"CRL version {self.version} is unknown")
            pos = 1
        rest = items[pos:]
        if len(rest) < 3:
            raise InvalidInput("CRL TBS has too few fields")
        if _parse_signature_algorithm(rest[0]) != oid:
            raise InvalidInput("CRL signature algorithm differs inside and outside TBS")
        self.issuer = Name.from_element(rest[1])
        self.this_update = rest[2].as_time()
        self.next_update: datetime | None = None
        self.extensions: tuple[Extension, ...] = ()
        self.revoked: dict[int, RevokedCertificate] = {}
        for item in rest[3:]:
            if item.is_universal(asn1.UTC_TIME) or item.is_universal(asn1.GENERALIZED_TIME):
                if self.next_update is not None or self.revoked:
                    raise InvalidInput("misplaced nextUpdate in CRL")
                self.next_update = item.as_time()
            elif item.is_universal(asn1.SEQUENCE):
                for entry in item.sequence("revokedCertificates"):
                    parsed = self._parse_entry(entry)
                    self.revoked[parsed.serial] = parsed
            elif item.is_context(0):
                self.extensions = _parse_extensions(item.explicit())
            else:
                raise InvalidInput(f"unexpected {item.name} in CRL")
        self.number: int | None = None
        for ext in self.extensions:
            if ext.oid == OID_CRL_NUMBER:
                self.number = asn1.decode(ext.value).as_integer("cRLNumber")

    @staticmethod
    def _parse_entry(entry: asn1.Element) -> RevokedCertificate:
        parts = entry.sequence("revoked certificate", min_len=2, max_len=3)
        serial = parts[0].as_integer("userCertificate")
        date = parts[1].as_time()
        reason = None
        if len(parts) == 3:
            for ext in _parse_extensions(parts[2]):
                if ext.oid == OID_CRL_REASON:
                    code = asn1.decode(ext.value).as_enumerated()
                    reason = CRL_REASONS[code] if 0 <= code < len(CRL_REASONS) else str(code)
                elif ext.critical:
                    raise InvalidInput(f"unsupported critical CRL entry extension {ext.oid}")
        return RevokedCertificate(serial, date, reason)

    @classmethod
    def load(cls, data: bytes | str) -> CertificateRevocationList:
        """From PEM (``X509 CRL``) or DER."""
        return cls(asn1.to_der(data, PEM_CRL))

    @property
    def pem(self) -> bytes:
        return asn1.pem_encode(self.der, PEM_CRL)

    def verify(self, issuer: Certificate) -> None:
        """Check that ``issuer`` signed this CRL (CertificateNotTrusted / InvalidSignature)."""
        if not self.issuer.matches(issuer.subject):
            raise CertificateNotTrusted(f"CRL of {self.issuer} is not from {issuer.subject}")
        if issuer.key_usage is not None and "cRLSign" not in issuer.key_usage:
            raise CertificateNotTrusted(f"{issuer.subject} may not sign CRLs (keyUsage)")
        _check_signature(
            self.tbs_der,
            self.signature_algorithm,
            self.signature,
            issuer.public_key,
            f"CRL of {self.issuer}",
        )

    def entry_for(self, cert: Certificate) -> RevokedCertificate | None:
        if not cert.issuer.matches(self.issuer):
            return None
        return self.revoked.get(cert.serial)

    def is_revoked(self, cert: Certificate) -> bool:
        """True if ``cert`` (of this CRL's issuer) is listed. The CRL signature is not checked."""
        return self.entry_for(cert) is not None

    def __repr__(self) -> str:
        return (
            f"CertificateRevocationList(issuer={str(self.issuer)!r}, entries={len(self.revoked)})"
        )


Crl = CertificateRevocationList


def load_crl(data: bytes | str) -> CertificateRevocationList:
    return CertificateRevocationList.load(data)


RevokedSpec = Certificate | int | tuple[Certificate | int, datetime | None, str | None]


def issue_crl(
    issuer_cert: Certificate,
    issuer_key: PrivateKey,
    revoked: Iterable[RevokedSpec] = (),
    *,
    this_update: datetime | None = None,
    next_update: datetime | None = None,
    days: int = 7,
    number: int = 1,
) -> CertificateRevocationList:
    """Issue a v2 CRL listing ``revoked`` (certificates, serials or (cert|serial, date, reason))."""
    _check_issuer(issuer_cert, issuer_key, issuer_cert.public_key)
    start = _aware(this_update, "this_update").replace(microsecond=0)
    end = _aware(next_update, "next_update") if next_update else start + timedelta(days=days)
    entries = []
    for spec in revoked:
        date: datetime | None = None
        reason: str | None = None
        if isinstance(spec, tuple):
            target, date, reason = spec
        else:
            target = spec
        serial = target.serial if isinstance(target, Certificate) else int(target)
        when = _aware(date, "revocation date") if date is not None else start
        parts = [asn1.integer(serial), asn1.time(when)]
        if reason is not None:
            if reason not in CRL_REASONS or not reason:
                raise InvalidInput(f"unknown CRL reason {reason!r}")
            ext = Extension(OID_CRL_REASON, False, asn1.enumerated(CRL_REASONS.index(reason)))
            parts.append(asn1.sequence(ext.encode()))
        entries.append(asn1.sequence(*parts))
    aki = issuer_cert.subject_key_identifier or subject_key_identifier(issuer_cert.public_key)
    exts = [
        Extension(OID_AKI, False, asn1.sequence(asn1.context(0, aki, False))),
        Extension(OID_CRL_NUMBER, False, asn1.integer(number)),
    ]
    tbs_parts = [
        asn1.integer(1),
        _signature_algorithm(issuer_key),
        issuer_cert.subject.der,
        asn1.time(start),
        asn1.time(end),
    ]
    if entries:
        tbs_parts.append(asn1.sequence(*entries))
    tbs_parts.append(asn1.explicit(0, asn1.sequence(*(e.encode() for e in exts))))
    tbs = asn1.sequence(*tbs_parts)
    signature = issuer_key.sign(tbs)
    der = asn1.sequence(tbs, _signature_algorithm(issuer_key), asn1.bit_string(signature))
    return CertificateRevocationList(der)
