"""The strict DER reader/writer: round trips, an independent decoder, and malformed input."""

from __future__ import annotations

from datetime import UTC, datetime

import asn1crypto.core
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gostsign import asn1
from gostsign.errors import InvalidInput


@given(st.integers(min_value=-(1 << 600), max_value=1 << 600))
def test_integer_round_trip_and_asn1crypto(value: int) -> None:
    der = asn1.integer(value)
    assert asn1.decode(der).as_integer() == value
    assert asn1crypto.core.Integer.load(der).native == value
    assert asn1crypto.core.Integer(value).dump() == der


oid_arcs = st.tuples(
    st.integers(0, 2), st.integers(0, 39), st.lists(st.integers(0, 1 << 70), max_size=8)
)


@given(oid_arcs)
def test_oid_round_trip_and_asn1crypto(arcs: tuple[int, int, list[int]]) -> None:
    dotted = ".".join(map(str, [arcs[0], arcs[1], *arcs[2]]))
    der = asn1.oid(dotted)
    assert asn1.decode(der).as_oid() == dotted
    assert asn1crypto.core.ObjectIdentifier(dotted).dump() == der


def test_known_oid_encoding() -> None:
    assert asn1.oid("1.2.643.7.1.1.1.1").hex() == "06082a85030701010101"
    assert asn1.oid("2.999.3").hex() == "0603883703"


@given(st.text(max_size=200))
def test_utf8_string(text: str) -> None:
    der = asn1.utf8_string(text)
    assert asn1.decode(der).as_string() == text
    assert asn1crypto.core.UTF8String.load(der).native == text


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(9999, 12, 31)))
def test_time_round_trip(dt: datetime) -> None:
    dt = dt.replace(microsecond=0, tzinfo=UTC)
    der = asn1.time(dt)
    assert asn1.decode(der).as_time() == dt
    assert der[0] == (0x17 if dt.year < 2050 else 0x18)


def test_time_matches_asn1crypto() -> None:
    dt = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert asn1crypto.core.UTCTime.load(asn1.utc_time(dt)).native == dt
    assert asn1crypto.core.GeneralizedTime.load(asn1.generalized_time(dt)).native == dt
    assert asn1.decode(asn1.generalized_time(dt)).as_time() == dt
    fraction = asn1.tlv(asn1.UNIVERSAL, False, 24, b"20310506070809.25Z")
    assert asn1.decode(fraction).as_time() == dt.replace(microsecond=250000)


def test_naive_time_refused() -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        asn1.time(datetime(2030, 1, 1))


def test_named_bits_are_minimal() -> None:
    # keyUsage digitalSignature + keyCertSign + cRLSign: 03 02 01 86
    assert asn1.named_bits({0, 5, 6}).hex() == "03020186"
    assert asn1.named_bits({0}).hex() == "03020780"
    assert asn1.named_bits({8}).hex() == "0303070080"
    assert asn1.decode(asn1.named_bits({0, 5, 6})).as_bit_string_bits() == (1, b"\x86")


def test_set_of_is_sorted_and_context_tags() -> None:
    assert asn1.set_of(asn1.integer(2), asn1.integer(1)) == asn1.tlv(
        0, True, 17, asn1.integer(1) + asn1.integer(2)
    )
    explicit = asn1.decode(asn1.explicit(3, asn1.integer(5)))
    assert explicit.is_context(3) and explicit.explicit().as_integer() == 5
    implicit = asn1.decode(asn1.implicit(0, asn1.sequence(asn1.null())))
    assert implicit.is_context(0) and implicit.constructed
    implicit.implicit(asn1.SEQUENCE).sequence()[0].as_null()
    big = asn1.tlv(asn1.CONTEXT, False, 200, b"ab")
    assert big[:3] == b"\x9f\x81\x48" and asn1.decode(big).number == 200


def test_strings_types() -> None:
    assert asn1.decode(asn1.numeric_string("1027700132195")).as_string() == "1027700132195"
    assert asn1.decode(asn1.printable_string("RU")).as_string() == "RU"
    assert asn1.decode(asn1.ia5_string("a@b.ru")).as_string() == "a@b.ru"
    bmp = asn1.tlv(0, False, 30, "Тест".encode("utf-16-be"))
    assert asn1.decode(bmp).as_string() == "Тест"
    with pytest.raises(InvalidInput, match="NumericString"):
        asn1.numeric_string("12a")
    with pytest.raises(InvalidInput, match="PrintableString"):
        asn1.printable_string("Россия")
    with pytest.raises(InvalidInput, match="IA5String"):
        asn1.ia5_string("почта@пример.рф")
    with pytest.raises(InvalidInput, match="non-digits"):
        asn1.decode(asn1.tlv(0, False, 18, b"12x")).as_string()


@pytest.mark.parametrize(
    ("der", "message"),
    [
        (b"", "empty"),
        (b"\x30", "no length"),
        (b"\x30\x05\x02\x01", "truncated"),
        (b"\x04\x81\x05abcde", "below 128"),
        (b"\x04\x82\x00\x81" + b"a" * 129, "non-minimal length"),
        (b"\x30\x80\x05\x00\x00\x00", "indefinite"),
        (b"\x04\x85\x01\x00\x00\x00\x00", "too large"),
        (b"\x04\x84\x7f\xff\xff\xff", "too large"),
        (b"\x04\x84\x00\xff\xff\xff", "non-minimal"),
        (b"\x04\xff", "reserved"),
        (b"\x05\x00\x00", "trailing"),
        (b"\x1f", "truncated in the tag"),
        (b"\x1f\x05\x00", "non-minimal tag"),
    ],
)
def test_malformed_tlv(der: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        asn1.decode(der)


@pytest.mark.parametrize(
    ("der", "method", "message"),
    [
        (b"\x02\x00", "as_integer", "empty"),
        (b"\x02\x02\x00\x01", "as_integer", "minimally"),
        (b"\x02\x02\xff\x80", "as_integer", "minimally"),
        (b"\x06\x00", "as_oid", "empty"),
        (b"\x06\x02\x2a\x85", "as_oid", "truncated"),
        (b"\x06\x03\x2a\x80\x01", "as_oid", "minimally"),
        (b"\x01\x01\x01", "as_boolean", "00 or FF"),
        (b"\x05\x01\x00", "as_null", "empty"),
        (b"\x03\x00", "as_bit_string", "unused-bits"),
        (b"\x03\x02\x08\x00", "as_bit_string", "unused-bits"),
        (b"\x03\x02\x01\x01", "as_bit_string_bits", "padding"),
        (b"\x03\x02\x01\x00", "as_bit_string", "whole number"),
        (b"\x24\x03\x04\x01\x00", "as_octet_string", "must not be constructed"),
        (b"\x17\x0b3001010000Z", "as_time", "YYMMDDHHMMSSZ"),
        (b"\x17\x0d300101000000+", "as_time", "YYMMDDHHMMSSZ"),
        (b"\x17\x0d301301000000Z", "as_time", "valid date"),
        (b"\x18\x1220300101000000.10Z", "as_time", "GeneralizedTime"),
        (b"\x0c\x02\xc3\x28", "as_string", "not valid text"),
        (b"\x04\x00", "as_integer", "expected INTEGER"),
    ],
)
def test_malformed_values(der: bytes, method: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        getattr(asn1.decode(der), method)()


def test_sequence_count_and_nested_truncation() -> None:
    seq = asn1.sequence(asn1.integer(1), asn1.integer(2))
    with pytest.raises(InvalidInput, match="expected 3"):
        asn1.decode(seq).sequence("pair", min_len=3, max_len=3)
    # Outer length fine, inner element claims more than the outer content holds.
    with pytest.raises(InvalidInput, match="truncated"):
        asn1.decode(b"\x30\x05\x04\x05abc").children()
    with pytest.raises(InvalidInput, match="offset 2"):
        asn1.decode(b"\x30\x03\x02\x02\x00").children()


def test_pem_round_trip_and_errors() -> None:
    der = asn1.sequence(asn1.integer(7))
    pem = asn1.pem_encode(der, "TEST")
    assert pem.startswith(b"-----BEGIN TEST-----\n")
    assert asn1.pem_decode(b"junk before\n" + pem + b"after", "TEST") == ("TEST", der)
    assert asn1.to_der(pem.decode(), "TEST") == der
    assert asn1.to_der(der, "TEST") == der
    with pytest.raises(InvalidInput, match="no PEM block OTHER"):
        asn1.pem_decode(pem, "OTHER")
    with pytest.raises(InvalidInput, match="base64"):
        asn1.pem_decode(b"-----BEGIN TEST-----\n@@@@\n-----END TEST-----\n")
    with pytest.raises(InvalidInput, match="ends with END"):
        asn1.pem_decode(b"-----BEGIN TEST-----\nMAA=\n-----END OTHER-----\n")
    with pytest.raises(InvalidInput, match="without a matching END"):
        asn1.pem_decode(b"-----BEGIN TEST-----\nMAA=\n")
    with pytest.raises(InvalidInput, match="headers"):
        asn1.pem_decode(b"-----BEGIN TEST-----\nProc-Type: 4,ENCRYPTED\nMAA=\n-----END TEST-----\n")
