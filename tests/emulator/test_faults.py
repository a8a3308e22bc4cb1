"""Each injected fault produces what it says, once or until cleared, for one operation or all,
and by default leaves no trace in the Fund's state."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from lxml import etree

from fss_emulator import Emulator, Fault
from gostsign.errors import GostError
from gostsign.xml import profile, wssec, xmlenc
from gostsign.xml.errors import SignatureNotCovering
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.soap import find_fault
from tests.emulator.messages import Mo, action, post, simple_request
from tests.emulator.messages import Signers as _Signers


def raw_call(mo: Mo, op: str = "getNewLNNum", **params: str) -> tuple[int, bytes, str]:
    doc = parse_xml(simple_request(op, ogrn=mo.ogrn, **params))
    profile.sign_body(doc, mo.ogrn, _Signers.of(mo.signers.mo))
    return post(mo.url, mo.seal(doc), action(op, "2.0"))


def test_delay(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("delay", seconds=1.0)
    start = time.monotonic()
    reply = mo.body_call("getNewLNNum")
    assert time.monotonic() - start >= 1.0
    assert reply.text("status") == "1"  # slow, not broken
    assert len(emulator.store.numbers()) == 1
    start = time.monotonic()
    mo.body_call("getNewLNNum")
    assert time.monotonic() - start < 1.0  # one-shot


def test_http_500(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("http500")
    status, raw, ctype = raw_call(mo)
    assert status == 500 and ctype.startswith("text/html")
    assert b"Envelope" not in raw
    assert emulator.store.numbers() == []  # the Fund did nothing
    assert mo.body_call("getNewLNNum").text("status") == "1"


def test_http_status_is_configurable(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("http500", status=503)
    assert raw_call(mo)[0] == 503


def test_clear_text_soap_fault(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("soap_fault", message="Сервис временно недоступен", code="E_0200")
    status, raw, _ = raw_call(mo)
    assert status == 500 and b"EncryptedData" not in raw
    fault = find_fault(parse_xml(raw).getroot())
    assert fault is not None
    assert fault.faultstring == fault.message == "Сервис временно недоступен"
    assert fault.detail_code == "E_0200" and fault.detail_uuid
    with pytest.raises(GostError):  # what a careful client does first (§5.6)
        xmlenc.decrypt(raw, mo.signers.mo.key)
    assert emulator.store.numbers() == []


def _decrypted(mo: Mo, raw: bytes) -> etree._ElementTree:
    return xmlenc.decrypt(raw, mo.signers.mo.key).document


def test_unsigned_reply(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("unsigned")
    status, raw, _ = raw_call(mo)
    assert status == 200
    doc = _decrypted(mo, raw)
    assert not wssec.security_headers(doc.getroot())
    with pytest.raises(SignatureNotCovering):
        profile.verify_reply(doc, emulator.fund_cert)
    assert emulator.store.numbers() == []


def test_reply_signed_by_a_stranger(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("stranger")
    _, raw, _ = raw_call(mo)
    doc = _decrypted(mo, raw)
    (sig,) = wssec.verify(doc, trusted=[emulator.ca_cert]).signatures
    assert sig.valid  # a good signature, by a certificate of the same CA, under the Fund's actor
    assert sig.actor == emulator.fund_actor
    assert sig.certificate is not None and sig.certificate.certificate != emulator.fund_cert
    with pytest.raises(SignatureNotCovering, match="not-fund-certificate"):
        profile.verify_reply(doc, emulator.fund_cert)


def test_corrupt_ciphertext(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("corrupt")
    status, raw, _ = raw_call(mo)
    assert status == 200 and b"EncryptedData" in raw
    with pytest.raises(GostError):
        xmlenc.decrypt(raw, mo.signers.mo.key)
    assert emulator.store.numbers() == []


def test_corrupt_in_plain_mode_breaks_the_signature(
    plain_emulator: Emulator, signers: _Signers
) -> None:
    mo = Mo(plain_emulator.url, plain_emulator.fund_cert, signers, encrypted=False)
    plain_emulator.inject("corrupt")
    status, raw, _ = raw_call(mo)
    assert status == 200
    with pytest.raises(SignatureNotCovering, match="digest"):
        profile.verify_reply(parse_xml(raw), plain_emulator.fund_cert)


def test_replay_of_an_earlier_reply(mo: Mo, emulator: Emulator) -> None:
    first = mo.body_call("getNewLNNum")
    emulator.inject("replay")
    status, raw, _ = raw_call(mo)
    assert status == 200
    doc = _decrypted(mo, raw)
    report = profile.verify_reply(doc, emulator.fund_cert)  # a genuine reply of the Fund…
    assert report.valid
    payload = wssec.body_of(doc.getroot())[0]
    texts = {e.tag.split("}")[1]: e.text for e in payload}
    # …but the one already received: same requestId, same number
    assert texts["requestId"] == first.text("requestId")
    assert texts["data"] == first.text("data")
    assert len(emulator.store.numbers()) == 1


def test_replay_waits_for_an_earlier_reply(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("replay")
    first = mo.body_call("getNewLNNum")  # nothing to replay yet: served normally
    assert first.text("status") == "1"
    assert len(emulator.faults.active()) == 1
    _, raw, _ = raw_call(mo)
    payload = wssec.body_of(_decrypted(mo, raw).getroot())[0]
    assert payload[0].text == first.text("requestId")


def test_per_operation_and_persistent(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("http500", operation="getLNData", times=None)
    assert mo.body_call("getNewLNNum").text("status") == "1"
    for _ in range(3):
        assert raw_call(mo, "getLNData", lnCode="900000000001", snils="12345394243")[0] == 500
    emulator.clear_faults()
    reply = mo.body_call("getLNData", lnCode="900000000001", snils="12345394243")
    assert reply.text("status") == "0"


def test_commit_keeps_the_effect_of_a_lost_reply(mo: Mo, emulator: Emulator) -> None:
    emulator.inject("http500", commit=True)
    assert raw_call(mo)[0] == 500
    (lost,) = emulator.store.numbers()
    # the МО can recover the number it never saw (getExistingLNNumRange, domain.md §3)
    existing = mo.body_call("getExistingLNNumRange")
    assert [e.text for e in existing.all("lnCode")] == [lost["ln_code"]]


def test_faults_over_the_admin_endpoint(mo: Mo, emulator: Emulator) -> None:
    url = emulator.base_url + "/_emulator/faults"
    spec = [{"kind": "soap_fault", "message": "Тест"}, {"kind": "delay", "seconds": 0.2}]
    status, body, _ = post(url, json.dumps(spec).encode())
    assert status == 200
    listed = json.loads(body)
    assert [f["kind"] for f in listed] == ["soap_fault", "delay"]
    with urllib.request.urlopen(url) as resp:  # noqa: S310 - loopback
        assert len(json.loads(resp.read())) == 2
    status, raw, _ = raw_call(mo)
    assert status == 500 and find_fault(parse_xml(raw).getroot()) is not None
    assert sorted(emulator.faults.fired) == [("delay", None), ("soap_fault", None)]
    emulator.inject("http500", times=None)
    req = urllib.request.Request(url, method="DELETE")  # noqa: S310 - loopback
    with urllib.request.urlopen(req) as resp:  # noqa: S310 - loopback
        assert json.loads(resp.read()) == []
    assert mo.body_call("getNewLNNum").text("status") == "1"


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "meteor"},
        {"kind": "delay"},
        {"kind": "http500", "operation": "getEverything"},
        {"kind": "http500", "times": 0},
        {"kind": "http500", "colour": "red"},
    ],
)
def test_bad_faults_are_refused(emulator: Emulator, bad: dict[str, object]) -> None:
    status, body, _ = post(emulator.base_url + "/_emulator/faults", json.dumps(bad).encode())
    assert status == 400 and "error" in json.loads(body)
    with pytest.raises(ValueError):
        Fault.from_dict(bad)
