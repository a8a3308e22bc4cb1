"""The spec's own validly signed requests (S20 §6.1.2, §9.1.3, §10.1.2) against the emulator.

They were signed with CryptoPro by the Fund's staff, with the Fund's own certificate (ОГРН
1027739443236) for an МО with ОГРН 1027500716143, under an actor naming …3236 while the token
and the Body name …6143 (the slip protocol.md §4.1 notes). The certificate expired on
2021-01-01, so certificates are checked as of 2020-09-01. Accepting them takes: trusting that
certificate, registering it as a representative of ОГРН 1027500716143, and the lenient actor
rule; each is shown to be needed, and the signatures themselves are really checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from fss_emulator import Emulator, texts
from gostsign.x509 import Certificate
from gostsign.xml import wssec
from gostsign.xml.parse import parse as parse_xml
from tests.emulator.messages import Mo, Reply, Signers, action, post

DATA = Path(__file__).resolve().parents[1] / "data" / "fss-examples"
AT = date(2020, 9, 1)
MO_OGRN = "1027500716143"
LN, SNILS = "900000161753", "00000060002"
EXAMPLES = {
    "6.1.2_getNewLNNum_request.xml": "getNewLNNum",
    "9.1.3_getLNData_request.xml": "getLNData",
    "10.1.2_disableLn_request.xml": "disableLn",
}


def example(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture(scope="module")
def example_cert() -> Certificate:
    (s,) = wssec.verify(parse_xml(example("6.1.2_getNewLNNum_request.xml")), at=AT).signatures
    assert s.certificate is not None
    return s.certificate.certificate


def start(tmp_path: Path, cert: Certificate | None, **options: object) -> Emulator:
    emu = Emulator(
        tmp_path / "fss",
        plain=True,
        trust=[cert] if cert is not None else [],
        verify_at=options.pop("verify_at", AT),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )
    emu.seed_eln(LN, SNILS, MO_OGRN)
    return emu.start()


@pytest.fixture
def spec_emulator(tmp_path: Path, example_cert: Certificate) -> Iterator[Emulator]:
    emu = start(tmp_path, example_cert, lenient_actors=True)
    emu.add_representative(example_cert, MO_OGRN)
    try:
        yield emu
    finally:
        emu.stop()


def send(emu: Emulator, data: bytes, op: str, signers: Signers) -> Reply:
    reader = Mo(emu.url, emu.fund_cert, signers, encrypted=False, trusted=[emu.ca_cert])
    return reader.read(*post(emu.url, data, action(op, "2.0")))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_spec_requests_are_accepted(spec_emulator: Emulator, name: str, signers: Signers) -> None:
    reply = send(spec_emulator, example(name), EXAMPLES[name], signers)
    assert reply.status == 200 and reply.fault is None, reply.raw
    assert reply.report is not None and reply.report.valid  # signed by the Fund's certificate
    assert reply.text("status") == "1", reply.text("mess")
    assert reply.text("mess") == "OK"
    request_id = reply.text("requestId") or ""
    assert re.fullmatch(
        rf"(LNNUMMO|GETLNMO|LNDISMO)_{MO_OGRN}_\d{{4}}_\d\d_\d\d_\d{{5}}", request_id
    )


def test_6_1_2_issues_a_number_to_the_mo(spec_emulator: Emulator, signers: Signers) -> None:
    reply = send(spec_emulator, example("6.1.2_getNewLNNum_request.xml"), "getNewLNNum", signers)
    number = reply.text("data") or ""
    assert re.fullmatch(r"\d{12}", number)
    assert [n["ln_code"] for n in spec_emulator.store.numbers(MO_OGRN)] == [number]


def test_9_1_3_reads_the_eln_and_10_1_2_terminates_it(
    spec_emulator: Emulator, signers: Signers
) -> None:
    data = send(spec_emulator, example("9.1.3_getLNData_request.xml"), "getLNData", signers)
    assert data.text("responseRow", "lnCode") == LN
    assert data.text("responseRow", "lnState") == "010"
    send(spec_emulator, example("10.1.2_disableLn_request.xml"), "disableLn", signers)
    stored = spec_emulator.eln(LN)
    assert stored is not None and stored.state == "090"


def _fault(emu: Emulator, name: str, signers: Signers) -> str:
    reply = send(emu, example(name), EXAMPLES[name], signers)
    assert reply.status == 500 and reply.fault is not None, reply.raw
    assert reply.fault.detail_code == texts.FAULT_SIGNATURE
    return reply.fault.message


def test_a_changed_byte_breaks_the_real_signature(
    spec_emulator: Emulator, signers: Signers
) -> None:
    data = example("9.1.3_getLNData_request.xml").replace(b">00000060002<", b">00000060003<")
    reply = send(spec_emulator, data, "getLNData", signers)
    assert reply.fault is not None
    assert reply.fault.message == texts.SIGNATURE_WRONG_LIVE


def test_strict_actor_rule_refuses_the_examples_slip(
    tmp_path: Path, example_cert: Certificate, signers: Signers
) -> None:
    emu = start(tmp_path, example_cert)
    emu.add_representative(example_cert, MO_OGRN)
    try:
        message = _fault(emu, "6.1.2_getNewLNNum_request.xml", signers)
    finally:
        emu.stop()
    assert message == texts.ACTOR_MISMATCH.format(
        actor="http://eln.fss.ru/actor/mo/1027739443236", element_id=f"OGRN_{MO_OGRN}"
    )


def test_the_certificate_must_carry_the_ogrn_or_be_registered(
    tmp_path: Path, example_cert: Certificate, signers: Signers
) -> None:
    emu = start(tmp_path, example_cert, lenient_actors=True)
    try:
        message = _fault(emu, "10.1.2_disableLn_request.xml", signers)
    finally:
        emu.stop()
    assert message == texts.OGRN_MISMATCH.format(cert="1027739443236", ogrn=MO_OGRN)


def test_an_untrusted_certificate_is_refused(tmp_path: Path, signers: Signers) -> None:
    emu = start(tmp_path, None, lenient_actors=True)
    try:
        assert _fault(emu, "9.1.3_getLNData_request.xml", signers) == texts.CHAIN_ERROR
    finally:
        emu.stop()


def test_expired_certificates_are_refused_today(
    tmp_path: Path, example_cert: Certificate, signers: Signers
) -> None:
    emu = start(tmp_path, example_cert, lenient_actors=True, verify_at=None)
    emu.add_representative(example_cert, MO_OGRN)
    try:
        assert _fault(emu, "6.1.2_getNewLNNum_request.xml", signers) == texts.CERT_CHECK_ERROR
    finally:
        emu.stop()


def test_gost_2001_requests_are_refused_with_the_funds_sentence(
    spec_emulator: Emulator, signers: Signers
) -> None:
    # 7.1.2 is signed with GOST R 34.10-2001 / 34.11-94 (examples README)
    reply = send(
        spec_emulator, example("7.1.2_getNewLNNumRange_request.xml"), "getNewLNNumRange", signers
    )
    assert reply.fault is not None, reply.raw
    assert reply.fault.message == texts.GOST_2001_BANNED
