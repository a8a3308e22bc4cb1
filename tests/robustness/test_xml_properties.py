"""Every XML reader under damaged input: only the project's own error types, never a crash.

Readers: the tolerant parsing of the Fund's replies (``eln_tui.core.fss.parse`` through the
client's result builders, getLNData data included), the client's reply path
(``FssClient.read_reply``: Fault, decryption, signature, replay checks, parsing) on the spec's
Fund-signed reply and on an encrypted reply of the emulator, the emulator's request handling,
gostsign's verification, and stored signed fragments put into a registry message.

A mutated *signed* reply must either be refused or give exactly the original result: the
signature is what makes the content trustworthy.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from eln_tui.core.domain.codes import SignerSlot
from eln_tui.core.domain.model import Block
from eln_tui.core.fss import (
    Contour,
    FssClient,
    FssConfig,
    FssError,
    FssReplyError,
    FssRequestError,
    FssServiceError,
    Operation,
    RowInput,
    sign_block,
)
from eln_tui.core.fss.rows import RowsetAttributes, assemble_registry, canonical
from eln_tui.core.fss.security import ReplayGuard
from fss_emulator import Emulator
from fss_emulator import texts as emulator_texts
from fss_emulator.dialects import endpoint_for
from gostsign.errors import GostError
from gostsign.signer import SoftwareSigner
from gostsign.testpki import Pki, create_test_pki
from gostsign.x509 import Certificate
from gostsign.xml import profile, wssec
from gostsign.xml.parse import parse as parse_xml
from tests.emulator.messages import Mo, Signers, action, simple_request
from tests.fss import elns
from tests.fss.conftest import SoftKey
from tests.robustness.xmlfuzz import (
    any_bytes,
    damaged_ciphertext,
    local_names,
    mutated_bytes,
    mutated_tree,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "fss-examples"
SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
AT_RANGE = datetime(2020, 8, 28, 12, 0, tzinfo=UTC)
SPEC_OGRN = "1027500716143"
COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}

REPLIES = {
    "6.1.3_getNewLNNum_response.xml": Operation.GET_NEW_LN_NUM,
    "7.1.3_getNewLNNumRange_response.xml": Operation.GET_NEW_LN_NUM_RANGE,
    "8.1.4_prParseFilelnlpu_response.xml": Operation.PR_PARSE_FILELNLPU,
    "9.1.4_getLNData_response.xml": Operation.GET_LN_DATA,
    "10.1.3_disableLn_response.xml": Operation.DISABLE_LN,
    "11.1.3_getExistingLNNumRange_response.xml": Operation.GET_EXISTING_LN_NUM_RANGE,
    "12.1.3_getLNListBySnils_response.xml": Operation.GET_LN_LIST_BY_SNILS,
    "13.1.3_getLNListByDate_response.xml": Operation.GET_LN_LIST_BY_DATE,
}


def _response(name: str) -> etree._Element:
    doc = parse_xml((DATA / name).read_bytes())
    body = doc.getroot().find(f"{SOAP}Body")
    assert body is not None
    return next(c for c in body if isinstance(c.tag, str))


RESPONSES = {name: _response(name) for name in REPLIES}
NAMES = local_names(*RESPONSES.values())


def _spec_cert() -> Certificate:
    (sig,) = wssec.verify(
        parse_xml((DATA / "7.1.3_getNewLNNumRange_response.xml").read_bytes()), at=AT_RANGE
    ).signatures
    assert sig.certificate is not None
    return sig.certificate.certificate


def _plain_client(cert: Certificate, ogrn: str = SPEC_OGRN) -> FssClient:
    config = FssConfig(
        ogrn=ogrn, contour=Contour.TEST_PLAIN, fund_certificates={Contour.TEST_PLAIN: cert}
    )
    return FssClient(config)


@pytest.fixture(scope="module")
def spec_client() -> FssClient:
    return _plain_client(_spec_cert())


def _read_parsed(client: FssClient, operation: Operation, response: etree._Element) -> Any:
    """What the client does with a verified reply: the result builders and the status check."""
    reply = types.SimpleNamespace(response=response)
    result = client._result(operation, reply)  # type: ignore[arg-type]
    if operation in (Operation.GET_NEW_LN_NUM, Operation.GET_NEW_LN_NUM_RANGE):
        client._numbers(reply, require=True)  # type: ignore[arg-type]
    else:
        client._checked(reply)  # type: ignore[arg-type]
    return result


def test_the_unmutated_replies_are_read(spec_client: FssClient) -> None:
    for name, op in REPLIES.items():
        result = _read_parsed(spec_client, op, RESPONSES[name])
        assert result.request_id, name
    data = _read_parsed(
        spec_client, Operation.GET_LN_DATA, RESPONSES["9.1.4_getLNData_response.xml"]
    )
    assert data.data is not None and data.data.eln.treat_periods


@settings(max_examples=1500, **COMMON)  # type: ignore[call-overload]
@given(st.sampled_from(sorted(REPLIES)), st.data())
def test_reply_parsers_give_a_result_or_a_reply_error(
    spec_client: FssClient, name: str, data: st.DataObject
) -> None:
    """Tree mutations of every printed reply shape (getLNData data included)."""
    response = data.draw(mutated_tree(RESPONSES[name], NAMES))
    try:
        _read_parsed(spec_client, REPLIES[name], response)
    except (FssReplyError, FssServiceError) as exc:
        assert exc.message and "Traceback" not in exc.message


@settings(max_examples=500, **COMMON)  # type: ignore[call-overload]
@given(st.sampled_from(sorted(REPLIES)), any_bytes)
def test_reply_parsers_on_random_elements(spec_client: FssClient, name: str, raw: bytes) -> None:
    try:
        element = parse_xml(raw)
    except GostError:
        return
    try:
        _read_parsed(spec_client, REPLIES[name], element.getroot())
    except (FssReplyError, FssServiceError):
        pass


# --- the client's whole reply path ---------------------------------------------------------------

SIGNED_7_1_3 = (DATA / "7.1.3_getNewLNNumRange_response.xml").read_bytes()
SIGNED_ROOT = parse_xml(SIGNED_7_1_3).getroot()
SIGNED_NAMES = local_names(SIGNED_ROOT)
#: The signed reply damaged as bytes, as a tree (elements moved, renamed, Ids duplicated …), or
#: replaced by anything at all.
damaged_signed_reply = (
    mutated_bytes(SIGNED_7_1_3)
    | mutated_tree(SIGNED_ROOT, SIGNED_NAMES).map(etree.tostring)
    | any_bytes
)


@settings(max_examples=600, **COMMON)  # type: ignore[call-overload]
@given(st.data())
def test_a_mutated_fund_signed_reply_is_refused_or_unchanged(
    spec_client: FssClient, data: st.DataObject
) -> None:
    raw = data.draw(damaged_signed_reply)
    spec_client.wsse.guard = ReplayGuard()
    original = spec_client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, SIGNED_7_1_3, at=AT_RANGE)
    spec_client.wsse.guard = ReplayGuard()
    try:
        result = spec_client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, raw, at=AT_RANGE)
    except FssError as exc:
        assert exc.message
    else:
        assert result == original


@pytest.fixture(scope="module")
def pki() -> Pki:
    return create_test_pki()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp("fss"), trust=[pki.ca.cert]) as emu:
        yield emu


def _emulator_client(emu: Emulator, pki: Pki) -> FssClient:
    config = FssConfig(
        ogrn=pki.mo.cert.subject.ogrn or "",
        contour=Contour.EMULATOR,
        url=emu.url,
        fund_certificates={Contour.EMULATOR: emu.fund_cert},
        author="Иванова М. П.",
        phone="+7 495 000-00-00",
        email="eln@example.test",
        retries=0,
    )
    return FssClient(config, SoftKey(pki.mo))


@pytest.fixture(scope="module")
def encrypted_reply(emulator: Emulator, pki: Pki) -> tuple[FssClient, bytes, Any]:
    """An encrypted, Fund-signed getNewLNNumRange reply of the emulator as received."""
    client = _emulator_client(emulator, pki)
    received: list[bytes] = []
    post = client.transport.post_capped

    def capture(*args: Any, **kw: Any) -> Any:
        status, body = post(*args, **kw)
        received.append(body)
        return status, body

    client.transport.post_capped = capture  # type: ignore[method-assign]
    result = client.get_new_ln_num_range(2)
    assert len(result.numbers) == 2 and b"EncryptedData" in received[-1]
    return client, received[-1], result


ENCRYPTED_NAMES = ["CipherValue", "EncryptedKey", "EncryptedData", "KeyInfo", "Body", "Header"]


@settings(max_examples=300, **COMMON)  # type: ignore[call-overload]
@given(st.data())
def test_a_mutated_encrypted_reply_is_refused_or_unchanged(
    encrypted_reply: tuple[FssClient, bytes, Any], data: st.DataObject
) -> None:
    client, raw, original = encrypted_reply
    damaged = data.draw(
        mutated_bytes(raw)
        | damaged_ciphertext(raw)
        | mutated_tree(etree.fromstring(raw), ENCRYPTED_NAMES).map(etree.tostring)
    )
    client.wsse.guard = ReplayGuard()
    try:
        result = client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, damaged)
    except FssError as exc:
        assert exc.message
    else:
        assert result == original


# --- the emulator reading requests ---------------------------------------------------------------


@pytest.fixture(scope="module")
def requests_to_damage(emulator: Emulator, pki: Pki) -> dict[str, bytes]:
    signers = Signers(pki.mo, pki.doctor, pki.chairman)
    mo = Mo(emulator.url, emulator.fund_cert, signers, trusted=[emulator.ca_cert])
    ogrn = mo.ogrn
    doc = parse_xml(simple_request("getExistingLNNumRange", "2.0", ogrn=ogrn))
    profile.sign_body(doc, ogrn, Signers.of(pki.mo))
    clear = etree.tostring(doc, encoding="UTF-8", xml_declaration=True)
    return {"clear": clear, "encrypted": mo.seal(parse_xml(clear)), "mo": mo}  # type: ignore[dict-item]


REQUEST_NAMES = (
    "Body Header Security Signature SignedInfo Reference DigestValue SignatureValue ogrn "
    "getExistingLNNumRangeRequest x"
).split()


def _handle(emu: Emulator, path: str, body: bytes) -> tuple[int, bytes]:
    endpoint = endpoint_for(path)
    assert endpoint is not None
    reply = emu.service.handle(endpoint, body, action("getExistingLNNumRange", "2.0"))
    return reply.status, reply.body


def test_the_unmutated_requests_are_served(
    emulator: Emulator, requests_to_damage: dict[str, bytes]
) -> None:
    assert (
        _handle(emulator, "/WSLnV20/FileOperationsLnService", requests_to_damage["clear"])[0] == 200
    )
    status, _ = _handle(
        emulator, "/WSLnCryptoV20/FileOperationsLnService", requests_to_damage["encrypted"]
    )
    assert status == 200


@settings(max_examples=300, **COMMON)  # type: ignore[call-overload]
@given(st.sampled_from(["clear", "encrypted", "sealed"]), st.data())
def test_the_emulator_answers_damaged_requests_with_a_specific_fault(
    emulator: Emulator, requests_to_damage: dict[str, Any], which: str, data: st.DataObject
) -> None:
    """Damaged bytes on both endpoints, and on the encrypted one also a request whose clear
    form was damaged as a tree and then properly encrypted (so decryption succeeds and the
    signature, schema and profile checks meet the damage)."""
    clear = requests_to_damage["clear"]
    if which == "sealed":
        tree = data.draw(mutated_tree(parse_xml(clear).getroot(), REQUEST_NAMES))
        try:
            body = requests_to_damage["mo"].seal(tree.getroottree())
        except GostError:  # our own side refuses to encrypt something that is no envelope
            return
    elif which == "encrypted":
        raw = requests_to_damage["encrypted"]
        body = data.draw(mutated_bytes(raw) | damaged_ciphertext(raw) | any_bytes)
    else:
        body = data.draw(mutated_bytes(clear) | any_bytes)
    path = (
        "/WSLnV20/FileOperationsLnService"
        if which == "clear"
        else "/WSLnCryptoV20/FileOperationsLnService"
    )
    status, reply = _handle(emulator, path, body)
    assert status in (200, 500)
    assert emulator_texts.INTERNAL.encode() not in reply, reply[:400]


# --- gostsign verification ------------------------------------------------------------------------


@settings(max_examples=600, **COMMON)  # type: ignore[call-overload]
@given(st.data())
def test_verify_request_reports_or_raises_a_gostsign_error(
    requests_to_damage: dict[str, bytes], pki: Pki, data: st.DataObject
) -> None:
    raw = data.draw(mutated_bytes(requests_to_damage["clear"]) | any_bytes)
    try:
        report = profile.verify_request(parse_xml(raw), trusted=[pki.ca.cert])
    except GostError:
        return
    if raw != requests_to_damage["clear"] and report.valid:
        # only changes outside what is signed may keep the signature (e.g. in the Header)
        original = parse_xml(requests_to_damage["clear"]).getroot().find(f"{SOAP}Body")
        body = parse_xml(raw).getroot().find(f"{SOAP}Body")
        assert body is not None and original is not None
        assert canonical(etree.tostring(body)) == canonical(etree.tostring(original))


# --- stored signed fragments ---------------------------------------------------------------------

LN = "900000000301"
ATTRS = RowsetAttributes("eln-workstation", "0.1.0", "Иванова", "+7 000", "a@b.test")
DOC0 = Block("period", SignerSlot.DOC, 0)


@pytest.fixture(scope="module")
def signed_eln(pki: Pki) -> tuple[Any, Any]:
    eln = elns.new_eln(LN, pki.mo.cert.subject.ogrn or "")
    fragment = sign_block(eln, DOC0, SoftwareSigner(pki.doctor.key, pki.doctor.cert))
    assemble_registry([RowInput(eln, {DOC0.suffix: fragment})], eln.lpu.ogrn or "", ATTRS)
    return eln, fragment


@settings(max_examples=500, **COMMON)  # type: ignore[call-overload]
@given(st.sampled_from(["element", "security"]), st.data())
def test_a_damaged_stored_fragment_is_refused_or_still_verifies_as_signed(
    signed_eln: tuple[Any, Any], pki: Pki, part: str, data: st.DataObject
) -> None:
    eln, fragment = signed_eln
    damaged = data.draw(mutated_bytes(getattr(fragment, part)) | any_bytes)
    changed = type(fragment)(**{**fragment.__dict__, part: damaged})
    try:
        registry = assemble_registry(
            [RowInput(eln, {DOC0.suffix: changed})], "1027700000019", ATTRS
        )
    except FssRequestError as exc:
        assert exc.message and exc.ln_code in (LN, None)
        return
    # Accepted: the doctor's block in the message must be exactly what was signed, or its
    # signature no longer verifies (the Fund refuses the row; nothing is forged).
    report = wssec.verify(registry.document, trusted=[pki.ca.cert])
    (block,) = wssec.find_by_id(registry.document.getroot(), fragment.element_id)
    try:
        report.require(block, actor=fragment.actor)
    except GostError:
        return
    assert canonical(etree.tostring(block)) == canonical(fragment.element)
