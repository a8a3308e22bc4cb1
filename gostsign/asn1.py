"""A minimal, strict DER reader and writer, plus PEM armour.

The reader accepts DER only: definite minimal lengths, minimal INTEGER and OID encodings,
primitive strings, BOOLEAN as 00/FF, exactly one element where one is expected. Every
violation raises :class:`gostsign.errors.InvalidInput` naming what is wrong and where.

The writer is a set of small functions returning the DER bytes of one element; compose them
(``sequence(integer(1), oid("1.2.643.7.1.1.1.1"))``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from gostsign.errors import InvalidInput

# Tag classes (the two high bits of the identifier octet).
UNIVERSAL = 0x00
APPLICATION = 0x40
CONTEXT = 0x80
PRIVATE = 0xC0

# Universal tag numbers.
BOOLEAN = 1
INTEGER = 2
BIT_STRING = 3
OCTET_STRING = 4
NULL = 5
OBJECT_IDENTIFIER = 6
ENUMERATED = 10
UTF8_STRING = 12
SEQUENCE = 16
SET = 17
NUMERIC_STRING = 18
PRINTABLE_STRING = 19
TELETEX_STRING = 20
IA5_STRING = 22
UTC_TIME = 23
GENERALIZED_TIME = 24
VISIBLE_STRING = 26
UNIVERSAL_STRING = 28
BMP_STRING = 30

STRING_TAGS = {
    UTF8_STRING: "UTF8String",
    NUMERIC_STRING: "NumericString",
    PRINTABLE_STRING: "PrintableString",
    TELETEX_STRING: "TeletexString",
    IA5_STRING: "IA5String",
    VISIBLE_STRING: "VisibleString",
    UNIVERSAL_STRING: "UniversalString",
    BMP_STRING: "BMPString",
}
_UNIVERSAL_NAMES = {
    BOOLEAN: "BOOLEAN",
    INTEGER: "INTEGER",
    BIT_STRING: "BIT STRING",
    OCTET_STRING: "OCTET STRING",
    NULL: "NULL",
    OBJECT_IDENTIFIER: "OBJECT IDENTIFIER",
    ENUMERATED: "ENUMERATED",
    SEQUENCE: "SEQUENCE",
    SET: "SET",
    UTC_TIME: "UTCTime",
    GENERALIZED_TIME: "GeneralizedTime",
    **STRING_TAGS,
}
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")
_NUMERIC = re.compile(r"[0-9 ]*")

#: Nothing we read is anywhere near this; larger lengths are refused before any slicing.
MAX_LENGTH = 1 << 26


def _tag_name(tag_class: int, number: int) -> str:
    if tag_class == UNIVERSAL:
        return _UNIVERSAL_NAMES.get(number, f"universal tag {number}")
    if tag_class == CONTEXT:
        return f"[{number}]"
    return f"{'application' if tag_class == APPLICATION else 'private'} tag {number}"


@dataclass(frozen=True, slots=True)
class Element:
    """One decoded TLV: identifier, content octets and the complete encoding."""

    tag_class: int
    constructed: bool
    number: int
    content: bytes
    der: bytes
    offset: int = 0

    # -- identification ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return _tag_name(self.tag_class, self.number)

    def is_universal(self, number: int) -> bool:
        return self.tag_class == UNIVERSAL and self.number == number

    def is_context(self, number: int) -> bool:
        return self.tag_class == CONTEXT and self.number == number

    def expect(self, number: int, what: str = "") -> Element:
        """Return self if it is the universal type ``number``, else raise InvalidInput."""
        if not self.is_universal(number):
            where = f" for {what}" if what else ""
            raise InvalidInput(
                f"expected {_tag_name(UNIVERSAL, number)}{where} at offset {self.offset}, "
                f"found {self.name}"
            )
        constructed = number in (SEQUENCE, SET)
        if self.constructed != constructed:
            form = "constructed" if self.constructed else "primitive"
            raise InvalidInput(f"{self.name} at offset {self.offset} must not be {form} in DER")
        return self

    def _primitive(self) -> bytes:
        if self.constructed:
            raise InvalidInput(f"{self.name} at offset {self.offset} must be primitive in DER")
        return self.content

    # -- structure -----------------------------------------------------------------------------

    def children(self) -> list[Element]:
        """The elements inside a constructed value (SEQUENCE, SET, explicit tag)."""
        if not self.constructed:
            raise InvalidInput(f"{self.name} at offset {self.offset} is not constructed")
        start = self.offset + len(self.der) - len(self.content)
        return list(_iter_elements(self.content, start))

    def sequence(
        self, what: str = "", *, min_len: int = 0, max_len: int | None = None
    ) -> list[Element]:
        """Children of a SEQUENCE, with a count check."""
        items = self.expect(SEQUENCE, what).children()
        _check_count(items, what or "SEQUENCE", self.offset, min_len, max_len)
        return items

    def set_of(self, what: str = "") -> list[Element]:
        return self.expect(SET, what).children()

    def explicit(self) -> Element:
        """The single element inside an EXPLICIT context tag."""
        if self.tag_class == UNIVERSAL or not self.constructed:
            raise InvalidInput(f"{self.name} at offset {self.offset} is not an explicit tag")
        items = self.children()
        if len(items) != 1:
            raise InvalidInput(
                f"explicit tag {self.name} at offset {self.offset} must hold one element, "
                f"holds {len(items)}"
            )
        return items[0]

    def implicit(self, number: int, constructed: bool | None = None) -> Element:
        """Reinterpret an IMPLICIT-tagged element as the universal type ``number``."""
        if constructed is None:
            constructed = number in (SEQUENCE, SET)
        if self.constructed != constructed:
            raise InvalidInput(f"{self.name} at offset {self.offset} has the wrong form")
        header = len(self.der) - len(self.content)
        ident = bytes([number | (0x20 if constructed else 0)])
        return Element(
            UNIVERSAL,
            constructed,
            number,
            self.content,
            ident + self.der[header - _len_octets(len(self.content)) :],
            self.offset,
        )

    # -- primitive values ----------------------------------------------------------------------

    def as_integer(self, what: str = "INTEGER") -> int:
        return _decode_integer(self.expect(INTEGER, what)._primitive(), self.offset, what)

    def as_enumerated(self) -> int:
        return _decode_integer(self.expect(ENUMERATED)._primitive(), self.offset, "ENUMERATED")

    def as_boolean(self) -> bool:
        content = self.expect(BOOLEAN)._primitive()
        if content == b"\xff":
            return True
        if content == b"\x00":
            return False
        raise InvalidInput(f"BOOLEAN at offset {self.offset} must be 00 or FF in DER")

    def as_null(self) -> None:
        if self.expect(NULL)._primitive():
            raise InvalidInput(f"NULL at offset {self.offset} must be empty")

    def as_oid(self, what: str = "OBJECT IDENTIFIER") -> str:
        return _decode_oid(self.expect(OBJECT_IDENTIFIER, what)._primitive(), self.offset)

    def as_octet_string(self, what: str = "OCTET STRING") -> bytes:
        return self.expect(OCTET_STRING, what)._primitive()

    def as_bit_string(self, what: str = "BIT STRING") -> bytes:
        """Content of a BIT STRING that must have no unused bits (keys, signatures)."""
        unused, data = self.as_bit_string_bits(what)
        if unused:
            raise InvalidInput(f"{what} at offset {self.offset} must be a whole number of bytes")
        return data

    def as_bit_string_bits(self, what: str = "BIT STRING") -> tuple[int, bytes]:
        """(unused bit count, bytes) of a BIT STRING; DER rules on the padding are checked."""
        content = self.expect(BIT_STRING, what)._primitive()
        if not content:
            raise InvalidInput(f"{what} at offset {self.offset} has no unused-bits octet")
        unused = content[0]
        data = content[1:]
        if unused > 7 or (unused and not data):
            raise InvalidInput(f"{what} at offset {self.offset} has a bad unused-bits count")
        if unused and data[-1] & ((1 << unused) - 1):
            raise InvalidInput(f"{what} at offset {self.offset} has non-zero padding bits")
        return unused, data

    def as_string(self) -> str:
        """Decode any of the X.500 string types."""
        if self.tag_class != UNIVERSAL or self.number not in STRING_TAGS:
            raise InvalidInput(
                f"expected a character string at offset {self.offset}, found {self.name}"
            )
        raw = self._primitive()
        kind = self.number
        try:
            if kind == UTF8_STRING:
                text = raw.decode("utf-8")
            elif kind == BMP_STRING:
                text = raw.decode("utf-16-be")
            elif kind == UNIVERSAL_STRING:
                text = raw.decode("utf-32-be")
            elif kind == TELETEX_STRING:
                text = raw.decode("latin-1")  # the common reading of T61 in certificates
            else:
                text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidInput(
                f"{STRING_TAGS[kind]} at offset {self.offset} is not valid text"
            ) from None
        if kind == NUMERIC_STRING and not _NUMERIC.fullmatch(text):
            raise InvalidInput(f"NumericString at offset {self.offset} holds non-digits")
        if kind == PRINTABLE_STRING and not _PRINTABLE.fullmatch(text):
            raise InvalidInput(f"PrintableString at offset {self.offset} holds forbidden text")
        return text

    def as_time(self) -> datetime:
        """UTCTime or GeneralizedTime as an aware UTC datetime (DER: seconds and 'Z')."""
        if self.is_universal(UTC_TIME):
            return _decode_utc_time(self._primitive(), self.offset)
        if self.is_universal(GENERALIZED_TIME):
            return _decode_generalized_time(self._primitive(), self.offset)
        raise InvalidInput(
            f"expected UTCTime or GeneralizedTime at offset {self.offset}, found {self.name}"
        )


def _check_count(items: list[Element], what: str, offset: int, lo: int, hi: int | None) -> None:
    if len(items) < lo or (hi is not None and len(items) > hi):
        want = f"{lo}" if hi == lo else f"{lo}..{hi if hi is not None else 'n'}"
        raise InvalidInput(f"{what} at offset {offset} has {len(items)} elements, expected {want}")


# ----------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------


def _read_header(data: bytes, pos: int, base: int) -> tuple[int, bool, int, int, int]:
    """Parse identifier and length at ``pos``; returns (class, constructed, number, hlen, len)."""
    end = len(data)
    at = base + pos
    if pos >= end:
        raise InvalidInput(f"DER is truncated: expected an element at offset {at}")
    first = data[pos]
    tag_class = first & 0xC0
    constructed = bool(first & 0x20)
    number = first & 0x1F
    i = pos + 1
    if number == 0x1F:
        number = 0
        count = 0
        while True:
            if i >= end:
                raise InvalidInput(f"DER is truncated in the tag at offset {at}")
            octet = data[i]
            i += 1
            if count == 0 and octet == 0x80:
                raise InvalidInput(f"non-minimal tag number at offset {at}")
            number = (number << 7) | (octet & 0x7F)
            count += 1
            if count > 4:
                raise InvalidInput(f"tag number too large at offset {at}")
            if not octet & 0x80:
                break
        if number < 0x1F:
            raise InvalidInput(f"non-minimal tag number at offset {at}")
    if i >= end:
        raise InvalidInput(f"DER is truncated: no length octet at offset {base + i}")
    first_len = data[i]
    i += 1
    if first_len < 0x80:
        length = first_len
    elif first_len == 0x80:
        raise InvalidInput(f"indefinite length at offset {at} is not allowed in DER")
    elif first_len == 0xFF:
        raise InvalidInput(f"reserved length octet 0xFF at offset {at}")
    else:
        count = first_len & 0x7F
        if count > 4:
            raise InvalidInput(
                f"length of the element at offset {at} is too large ({count} length octets)"
            )
        if i + count > end:
            raise InvalidInput(f"DER is truncated in the length at offset {at}")
        raw = data[i : i + count]
        i += count
        if raw[0] == 0:
            raise InvalidInput(f"non-minimal length encoding at offset {at}")
        length = int.from_bytes(raw, "big")
        if length < 0x80:
            raise InvalidInput(f"long-form length below 128 at offset {at} is not DER")
    if length > MAX_LENGTH:
        raise InvalidInput(f"length {length} of the element at offset {at} is too large")
    if i + length > end:
        raise InvalidInput(
            f"DER is truncated: the element at offset {at} declares {length} content bytes, "
            f"only {end - i} remain"
        )
    return tag_class, constructed, number, i - pos, length


def _iter_elements(data: bytes, base: int = 0) -> Iterator[Element]:
    pos = 0
    while pos < len(data):
        tag_class, constructed, number, hlen, length = _read_header(data, pos, base)
        stop = pos + hlen + length
        yield Element(
            tag_class, constructed, number, data[pos + hlen : stop], data[pos:stop], base + pos
        )
        pos = stop


def decode(data: bytes, what: str = "DER data") -> Element:
    """Decode exactly one element; trailing bytes are an error."""
    data = bytes(data)
    if not data:
        raise InvalidInput(f"{what} is empty")
    tag_class, constructed, number, hlen, length = _read_header(data, 0, 0)
    stop = hlen + length
    if stop != len(data):
        raise InvalidInput(
            f"{what} has {len(data) - stop} trailing bytes after the element ending at "
            f"offset {stop}"
        )
    return Element(tag_class, constructed, number, data[hlen:stop], data, 0)


def decode_all(data: bytes) -> list[Element]:
    """Decode a concatenation of elements."""
    return list(_iter_elements(bytes(data)))


def _decode_integer(content: bytes, offset: int, what: str) -> int:
    if not content:
        raise InvalidInput(f"{what} at offset {offset} is empty")
    if len(content) > 1 and (
        (content[0] == 0x00 and not content[1] & 0x80) or (content[0] == 0xFF and content[1] & 0x80)
    ):
        raise InvalidInput(f"{what} at offset {offset} is not minimally encoded")
    return int.from_bytes(content, "big", signed=True)


def _decode_oid(content: bytes, offset: int) -> str:
    if not content:
        raise InvalidInput(f"OBJECT IDENTIFIER at offset {offset} is empty")
    if content[-1] & 0x80:
        raise InvalidInput(f"OBJECT IDENTIFIER at offset {offset} is truncated")
    arcs: list[int] = []
    value = 0
    fresh = True
    for octet in content:
        if fresh and octet == 0x80:
            raise InvalidInput(f"OBJECT IDENTIFIER at offset {offset} is not minimally encoded")
        value = (value << 7) | (octet & 0x7F)
        fresh = not octet & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(map(str, head + arcs[1:]))


_UTC_RE = re.compile(rb"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z")
_GEN_RE = re.compile(rb"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z")


def _make_time(parts: list[int], micro: int, offset: int) -> datetime:
    year, month, day, hour, minute, second = parts
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"time at offset {offset} is not a valid date") from None


def _decode_utc_time(content: bytes, offset: int) -> datetime:
    m = _UTC_RE.fullmatch(content)
    if not m:
        raise InvalidInput(f"UTCTime at offset {offset} is not YYMMDDHHMMSSZ")
    yy, *rest = (int(g) for g in m.groups())
    year = 1900 + yy if yy >= 50 else 2000 + yy  # RFC 5280 §4.1.2.5.1
    return _make_time([year, *rest], 0, offset)


def _decode_generalized_time(content: bytes, offset: int) -> datetime:
    m = _GEN_RE.fullmatch(content)
    if not m:
        raise InvalidInput(f"GeneralizedTime at offset {offset} is not YYYYMMDDHHMMSS[.f]Z")
    parts = [int(g) for g in m.groups()[:6]]
    frac = m.group(7)
    micro = int((frac.decode() + "000000")[:6]) if frac else 0
    return _make_time(parts, micro, offset)


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------


def _len_octets(length: int) -> int:
    return 1 if length < 0x80 else 1 + (length.bit_length() + 7) // 8


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def identifier(tag_class: int, constructed: bool, number: int) -> bytes:
    first = tag_class | (0x20 if constructed else 0)
    if number < 0x1F:
        return bytes([first | number])
    groups = []
    while True:
        groups.append(number & 0x7F)
        number >>= 7
        if not number:
            break
    tail = [g | 0x80 for g in reversed(groups[1:])] + [groups[0]]
    return bytes([first | 0x1F, *tail])


def tlv(tag_class: int, constructed: bool, number: int, content: bytes) -> bytes:
    return identifier(tag_class, constructed, number) + encode_length(len(content)) + content


def integer(value: int) -> bytes:
    size = (value + (value < 0)).bit_length() // 8 + 1
    return tlv(UNIVERSAL, False, INTEGER, value.to_bytes(size, "big", signed=True))


def enumerated(value: int) -> bytes:
    return b"\x0a" + integer(value)[1:]


def boolean(value: bool) -> bytes:
    return b"\x01\x01\xff" if value else b"\x01\x01\x00"


def null() -> bytes:
    return b"\x05\x00"


def oid(dotted: str) -> bytes:
    try:
        arcs = [int(a) for a in dotted.split(".")]
    except ValueError:
        raise InvalidInput(f"{dotted!r} is not a dotted OID") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise InvalidInput(f"{dotted!r} is not a valid OID")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(UNIVERSAL, False, OBJECT_IDENTIFIER, bytes(out))


def octet_string(data: bytes) -> bytes:
    return tlv(UNIVERSAL, False, OCTET_STRING, bytes(data))


def bit_string(data: bytes, unused: int = 0) -> bytes:
    if not 0 <= unused <= 7 or (unused and not data):
        raise InvalidInput("bad unused-bits count for a BIT STRING")
    return tlv(UNIVERSAL, False, BIT_STRING, bytes([unused]) + bytes(data))


def named_bits(bits: set[int] | frozenset[int]) -> bytes:
    """DER BIT STRING for a named-bit list (KeyUsage): trailing zero bits dropped."""
    if not bits:
        return bit_string(b"")
    top = max(bits)
    value = bytearray((top // 8) + 1)
    for b in bits:
        value[b // 8] |= 0x80 >> (b % 8)
    return bit_string(bytes(value), 7 - top % 8)


def sequence(*items: bytes) -> bytes:
    return tlv(UNIVERSAL, True, SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    """DER SET OF: the encodings are sorted."""
    return tlv(UNIVERSAL, True, SET, b"".join(sorted(items)))


def utf8_string(text: str) -> bytes:
    return tlv(UNIVERSAL, False, UTF8_STRING, text.encode("utf-8"))


def printable_string(text: str) -> bytes:
    if not _PRINTABLE.fullmatch(text):
        raise InvalidInput(f"{text!r} cannot be a PrintableString")
    return tlv(UNIVERSAL, False, PRINTABLE_STRING, text.encode("ascii"))


def numeric_string(text: str) -> bytes:
    if not _NUMERIC.fullmatch(text):
        raise InvalidInput(f"{text!r} cannot be a NumericString (digits and spaces only)")
    return tlv(UNIVERSAL, False, NUMERIC_STRING, text.encode("ascii"))


def ia5_string(text: str) -> bytes:
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidInput(f"{text!r} cannot be an IA5String (ASCII only)") from None
    return tlv(UNIVERSAL, False, IA5_STRING, raw)


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise InvalidInput("times written to DER must be timezone-aware")
    return dt.astimezone(UTC)


def utc_time(dt: datetime) -> bytes:
    dt = _utc(dt)
    if not 1950 <= dt.year <= 2049:
        raise InvalidInput(f"UTCTime covers 1950..2049, not {dt.year}")
    return tlv(UNIVERSAL, False, UTC_TIME, dt.strftime("%y%m%d%H%M%SZ").encode())


def generalized_time(dt: datetime) -> bytes:
    dt = _utc(dt)
    text = f"{dt.year:04d}{dt:%m%d%H%M%S}Z"
    return tlv(UNIVERSAL, False, GENERALIZED_TIME, text.encode())


def time(dt: datetime) -> bytes:
    """RFC 5280 Time: UTCTime through 2049, GeneralizedTime after (whole seconds)."""
    dt = _utc(dt).replace(microsecond=0)
    return utc_time(dt) if dt.year < 2050 else generalized_time(dt)


def explicit(number: int, inner: bytes) -> bytes:
    """[number] EXPLICIT wrapping of a complete encoding."""
    return tlv(CONTEXT, True, number, inner)


def implicit(number: int, inner: bytes) -> bytes:
    """[number] IMPLICIT retagging of a complete encoding (keeps its form and content)."""
    elem = decode(inner, "the element to retag")
    return tlv(CONTEXT, elem.constructed, number, elem.content)


def context(number: int, content: bytes, constructed: bool = True) -> bytes:
    """A context-specific element from raw content octets."""
    return tlv(CONTEXT, constructed, number, content)


# ----------------------------------------------------------------------------------------------
# PEM
# ----------------------------------------------------------------------------------------------

_PEM_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END ([A-Z0-9 ]+)-----", re.DOTALL
)


def is_pem(data: bytes | str) -> bool:
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    return b"-----BEGIN " in raw


def pem_blocks(data: bytes | str) -> list[tuple[str, bytes]]:
    """All (label, DER) blocks in a PEM text; text around the blocks is ignored."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    blocks: list[tuple[str, bytes]] = []
    for m in _PEM_RE.finditer(raw):
        label, body, end_label = m.group(1), m.group(2), m.group(3)
        name = label.decode()
        if label != end_label:
            raise InvalidInput(f"PEM block BEGIN {name} ends with END {end_label.decode()}")
        if b":" in body:
            raise InvalidInput(
                f"PEM block {name} has RFC 1421 headers (legacy encryption is not supported)"
            )
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"PEM block {name} is not valid base64") from None
        blocks.append((name, der))
    if not blocks and b"-----BEGIN " in raw:
        raise InvalidInput("PEM text has a BEGIN line without a matching END line")
    return blocks


def pem_decode(data: bytes | str, *labels: str) -> tuple[str, bytes]:
    """The first PEM block whose label is one of ``labels`` (any label if none given)."""
    blocks = pem_blocks(data)
    for label, der in blocks:
        if not labels or label in labels:
            return label, der
    found = ", ".join(label for label, _ in blocks) or "none"
    raise InvalidInput(f"no PEM block {' or '.join(labels)} found (blocks: {found})")


def pem_encode(der: bytes, label: str) -> bytes:
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"".join(
        [
            f"-----BEGIN {label}-----\n".encode(),
            *(ln + b"\n" for ln in lines),
            f"-----END {label}-----\n".encode(),
        ]
    )


def to_der(data: bytes | str, *labels: str) -> bytes:
    """DER from either DER bytes or PEM text with one of ``labels``."""
    if is_pem(data):
        return pem_decode(data, *labels)[1]
    if isinstance(data, str):
        raise InvalidInput(f"expected PEM ({' or '.join(labels)}) or DER bytes, got text")
    return bytes(data)


__all__ = [
    "APPLICATION",
    "CONTEXT",
    "PRIVATE",
    "UNIVERSAL",
    "Element",
    "bit_string",
    "boolean",
    "context",
    "decode",
    "decode_all",
    "encode_length",
    "enumerated",
    "explicit",
    "generalized_time",
    "ia5_string",
    "identifier",
    "implicit",
    "integer",
    "is_pem",
    "named_bits",
    "null",
    "numeric_string",
    "octet_string",
    "oid",
    "pem_blocks",
    "pem_decode",
    "pem_encode",
    "printable_string",
    "sequence",
    "set_of",
    "time",
    "tlv",
    "to_der",
    "utc_time",
    "utf8_string",
]
