"""The Fund's XSDs (bundled v2.0 and v1.1) validate payloads without touching the network."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gostsign.errors import InvalidInput
from gostsign.xml import schema, wssec
from gostsign.xml.errors import SchemaError
from gostsign.xml.parse import parse
from tests.gostsign import xml_messages as msgs

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "fss-examples"
V11 = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"
OGRN = "1027700000019"


def payload(data: bytes) -> etree._Element:
    return wssec.body_of(parse(data).getroot())[0]


def test_bundled_files() -> None:
    assert schema.bundled_files("2.0") == sorted(
        [
            "Common.xsd",
            "Eln.xsd",
            "Errors.xsd",
            "Fault.xsd",
            "FaultCode.xsd",
            "Faults.wsdl",
            "FileOperationsLnMo.xsd",
            "FileOperationsLnService.wsdl",
            "IdentityDocument.xsd",
            "Organization.xsd",
            "Person.xsd",
            "Sedo.xsd",
            "WsSecurity.xsd",
        ]
    )
    assert schema.bundled_files("1.1") == [
        "FileOperationsLnPort.1.xsd",
        "FileOperationsLnPort.2.xsd",
        "FileOperationsLnPort.wsdl",
    ]
    assert b"targetNamespace" in schema.read_bundled("2.0", "Eln.xsd")
    with pytest.raises(InvalidInput):
        schema.read_bundled("2.0", "../parse.py")


@pytest.mark.parametrize(
    "data",
    [
        msgs.get_new_ln_num(OGRN),
        msgs.get_new_ln_num_reply(),
        msgs.pr_parse(OGRN, 30, periods=3),
        (EXAMPLES / "6.1.2_getNewLNNum_request.xml").read_bytes(),
        (EXAMPLES / "9.1.3_getLNData_request.xml").read_bytes(),
        (EXAMPLES / "7.1.3_getNewLNNumRange_response.xml").read_bytes(),
    ],
    ids=["getNewLNNum", "reply", "prParse-30-rows", "ex-6.1.2", "ex-9.1.3", "ex-7.1.3"],
)
def test_v20_payloads_conform(data: bytes) -> None:
    schema.validate(payload(data), "2.0")
    assert schema.errors(payload(data)) == []


def test_v20_schema_finds_the_known_deviations_of_the_funds_example() -> None:
    # protocol.md §9: ex 8.1.3 carries treatHistory (absent from the XSD)
    with pytest.raises(SchemaError, match="treatHistory") as info:
        schema.validate(payload((EXAMPLES / "8.1.3_prParseFilelnlpu_request.xml").read_bytes()))
    assert info.value.errors


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        (b"<writtenAgreementFlag>true<", b"<writtenAgreementFlag>false<", "writtenAgreementFlag"),
        (b"<snils>12345394243</snils>", b"<snils>123</snils>", "snils"),
        (b"<lnState>010</lnState>", b"", "Missing child element"),
        (f"<ogrn>{OGRN}</ogrn>".encode(), b"<ogrn>12345</ogrn>", "ogrn"),
    ],
)
def test_v20_schema_rejects_bad_rows(old: bytes, new: bytes, what: str) -> None:
    data = msgs.pr_parse(OGRN, 1)
    assert old in data
    errors = schema.errors(payload(data.replace(old, new, 1)))
    assert errors and any(what in e for e in errors)


def test_v11_payloads() -> None:
    ok = etree.fromstring(
        f'<ns:getNewLNNum xmlns:ns="{V11}"><ns:ogrn>{OGRN}</ns:ogrn></ns:getNewLNNum>'
    )
    schema.validate(ok, "1.1")
    bad = etree.fromstring(f'<ns:getNewLNNum xmlns:ns="{V11}"><ns:x>1</ns:x></ns:getNewLNNum>')
    with pytest.raises(SchemaError, match=r"v1\.1"):
        schema.validate(bad, "1.1")
    # a v2.0 payload is not a v1.1 one
    assert schema.errors(payload(msgs.get_new_ln_num(OGRN)), "1.1")


def test_unknown_version_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"2\.0 or 1\.1"):
        schema.schema("3.0")  # type: ignore[arg-type]


def test_resolver_never_fetches() -> None:
    resolver = schema._BundledResolver("2.0")
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(resolver)
    doc = etree.fromstring(
        b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:import namespace="urn:x" '
        b'schemaLocation="http://127.0.0.1:9/evil.xsd"/></xs:schema>',
        parser,
        base_url="gostsign-schemas://2.0/t.xsd",
    )
    with pytest.raises((InvalidInput, etree.XMLSchemaParseError)):
        etree.XMLSchema(doc)
    assert schema._file_for(
        "1.1", "https://docs-test.fss.ru/WSLnV11/FileOperationsLnPort?xsd=2"
    ) == ("FileOperationsLnPort.2.xsd")
    assert (
        schema._file_for(
            "2.0",
            "https://docs-test.fss.ru/WSLnV20_2/FileOperationsLnService?xsd=../../xsd/v01/type/Eln.xsd",
        )
        == "Eln.xsd"
    )
