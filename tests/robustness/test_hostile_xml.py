"""Hostile XML at every door: the client reading a reply, the emulator reading a request,
``gostsign verify-xml`` and its API, and a stored signed fragment put into a registry.

External entities (file and http), parameter entities, external DTDs, entity-expansion bombs,
XInclude, huge and deeply nested documents, relative namespace URIs, signature wrapping and
duplicated Ids. Each must be refused with the door's own clear error; a canary file's content
must never appear anywhere and a canary HTTP server must never be contacted.
"""

from __future__ import annotations

import contextlib
import copy
import io
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from eln_tui.core.fss import (
    Contour,
    ExchangeRecord,
    FssClient,
    FssConfig,
    FssError,
    FssReplyError,
    FssRequestError,
    FssTransportError,
    Operation,
    ReplySignatureError,
    RowInput,
    sign_block,
)
from eln_tui.core.fss.rows import RowsetAttributes, assemble_registry
from fss_emulator import Emulator
from fss_emulator import texts as emulator_texts
from fss_emulator.dialects import endpoint_for
from gostsign.cli import main as gostsign_main
from gostsign.errors import InvalidInput
from gostsign.signer import SoftwareSigner
from gostsign.testpki import Pki, create_test_pki
from gostsign.xml import profile
from gostsign.xml.parse import MAX_BYTES
from gostsign.xml.parse import parse as parse_xml
from tests.emulator.messages import Mo, Signers, action, simple_request
from tests.fss import elns
from tests.fss.conftest import SoftKey
from tests.robustness.test_xml_properties import AT_RANGE, DATA, DOC0, _spec_cert

SECRET = "CANARY-7f3a9c-не-должно-утечь"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
PLAIN = "/WSLnV20/FileOperationsLnService"
CRYPTO = "/WSLnCryptoV20/FileOperationsLnService"


class Canary:
    """A loopback HTTP server that counts every request (none may ever arrive)."""

    def __init__(self) -> None:
        hits = self.hits = []  # type: list[str]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(SECRET.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Canary, Path]]:
    secret_file = tmp_path_factory.mktemp("canary") / "secret.txt"
    secret_file.write_text(SECRET, encoding="utf-8")
    server = Canary()
    yield server, secret_file
    server.close()
    assert server.hits == [], f"an XML reader fetched {server.hits}"


def hostile(url: str, path: Path) -> dict[str, bytes]:
    """The attacks, each wrapped so that it would otherwise look like a SOAP message."""
    f = path.as_uri().encode()
    u = url.encode()
    env = b'<s:Envelope xmlns:s="' + SOAP.encode() + b'"><s:Body>%s</s:Body></s:Envelope>'
    lol = b"".join(
        b'<!ENTITY l%d "%s">' % (i + 1, b"&l%d;" % i * 10) for i in range(9)
    )  # 10^9 expansions
    return {
        "xxe-file": b'<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "' + f + b'">]>' + env % b"&x;",
        "xxe-http": b'<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "' + u + b'/x">]>' + env % b"&x;",
        "external-dtd": b'<!DOCTYPE s:Envelope SYSTEM "' + u + b'/dtd">' + env % b"",
        "parameter-entity": b'<!DOCTYPE s:Envelope [<!ENTITY % p SYSTEM "'
        + u
        + b'/p"> %p;]>'
        + env % b"",
        "parameter-entity-file": b'<!DOCTYPE r [<!ENTITY % p SYSTEM "'
        + f
        + b'"> %p;]>'
        + env % b"",
        "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY l0 "lol">'
        + lol
        + b"]>"
        + env % b"&l9;",
        "quadratic": b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]>' + env % (b"&a;" * 5000),
        "utf16-doctype": (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x SYSTEM "'
            + path.as_uri()
            + '">]><r>&x;</r>'
        ).encode("utf-16"),
        "undeclared-entity": env % b"&x;",
        "huge-40MB": b"<r>" + b"x" * (40 * 1024 * 1024) + b"</r>",
        "deep-100": b"<a>" * 100 + b"</a>" * 100,
        "deep-100000": b"<a>" * 100_000 + b"</a>" * 100_000,
        "relative-namespace": env.replace(b'xmlns:s="', b'xmlns:z="rel/ns" xmlns:s="') % b"<z:x/>",
    }


@pytest.fixture(scope="module")
def attacks(canary: tuple[Canary, Path]) -> dict[str, bytes]:
    server, path = canary
    return hostile(server.url, path)


ATTACKS = list(hostile("http://127.0.0.1:9", Path("/nonexistent")))


def xinclude(path: Path) -> bytes:
    """Well-formed SOAP whose Body asks for XInclude processing (which must never happen)."""
    return (
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><xi:include '
        f'xmlns:xi="http://www.w3.org/2001/XInclude" href="{path.as_uri()}" parse="text"/>'
        "</s:Body></s:Envelope>"
    ).encode()


def no_secret(*texts: object) -> None:
    for t in texts:
        assert SECRET not in str(t) and SECRET.encode() not in (t if isinstance(t, bytes) else b"")


# --- the client ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> Pki:
    return create_test_pki()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp("fss"), trust=[pki.ca.cert]) as emu:
        yield emu


def client_answered_with(
    pki: Pki, emu: Emulator, body: bytes, status: int = 200
) -> tuple[FssClient, list[ExchangeRecord]]:
    """A client whose every POST is answered with ``body`` (the real reply path after it)."""
    records: list[ExchangeRecord] = []
    config = FssConfig(
        ogrn=pki.mo.cert.subject.ogrn or "",
        contour=Contour.EMULATOR,
        url=emu.url,
        fund_certificates={Contour.EMULATOR: emu.fund_cert},
        retries=0,
    )
    client = FssClient(config, SoftKey(pki.mo), audit=records.append)

    def post(address: str, message: bytes, headers: dict[str, str], limit: int) -> Any:
        return status, body  # what a hostile server answers (the size cap: test_reply_limit)

    client.transport.post_capped = post  # type: ignore[method-assign]
    return client, records


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("status", [200, 500])
def test_the_client_refuses_a_hostile_reply(
    pki: Pki, emulator: Emulator, attacks: dict[str, bytes], name: str, status: int
) -> None:
    client, records = client_answered_with(pki, emulator, attacks[name], status)
    with pytest.raises(FssError) as info:
        client.get_ln_data("900000000001", "11223344595")
    err = info.value
    if status == 200:
        assert isinstance(err, FssReplyError) and "не является SOAP-сообщением" in err.message
    else:
        assert isinstance(err, FssTransportError) and "HTTP 500" in err.message
    assert err.detail and ("DOCTYPE" in err.detail or "XML" in err.detail or "entity" in err.detail
                           or "deep" in err.detail or "namespace" in err.detail
                           or "limit" in err.detail), err.detail  # fmt: skip
    no_secret(err.message, err.detail, *(str(r.to_dict()) for r in records))


@pytest.mark.parametrize("name", ATTACKS)
def test_read_reply_refuses_a_hostile_saved_reply(attacks: dict[str, bytes], name: str) -> None:
    client = FssClient(
        FssConfig(
            ogrn="1027500716143",
            contour=Contour.TEST_PLAIN,
            fund_certificates={Contour.TEST_PLAIN: _spec_cert()},
        )
    )
    with pytest.raises(FssReplyError) as info:
        client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, attacks[name], at=AT_RANGE)
    no_secret(info.value.message, info.value.detail)


# --- signature wrapping and duplicated Ids on a Fund-signed reply ---------------------------------


def _signed_reply() -> etree._ElementTree:
    return parse_xml((DATA / "7.1.3_getNewLNNumRange_response.xml").read_bytes())


def _body(doc: etree._ElementTree) -> etree._Element:
    body = doc.getroot().find(f"{{{SOAP}}}Body")
    assert body is not None
    return body


def _forge_numbers(body: etree._Element) -> None:
    for el in body.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == "lnCode":
            el.text = "900000999999"


Forge = Callable[[etree._Element], None]


def wrap_in_header(doc: etree._ElementTree, forge: Forge, keep_id: bool) -> None:
    """The signed Body moves into a Header wrapper; a forged Body takes its place."""
    body = _body(doc)
    header = doc.getroot().find(f"{{{SOAP}}}Header")
    assert header is not None
    wrapper = etree.SubElement(header, "{urn:attacker}Wrapper")
    wrapper.append(copy.deepcopy(body))
    forge(body)
    if not keep_id:
        del body.attrib[WSU_ID]


def duplicate_id_elsewhere(doc: etree._ElementTree, forge: Forge, keep_id: bool) -> None:
    """A forged copy of the Body with the same Id in the Header; the real Body untouched."""
    body = _body(doc)
    fake = copy.deepcopy(body)
    forge(fake)
    header = doc.getroot().find(f"{{{SOAP}}}Header")
    assert header is not None
    header.append(fake)


def body_twice(doc: etree._ElementTree, forge: Forge, keep_id: bool) -> None:
    """A second, forged Body after the signed one (same Id)."""
    fake = copy.deepcopy(_body(doc))
    forge(fake)
    doc.getroot().append(fake)


def forged_first(doc: etree._ElementTree, forge: Forge, keep_id: bool) -> None:
    """A forged Body (same Id) before the signed one, which readers might take first."""
    body = _body(doc)
    fake = copy.deepcopy(body)
    forge(fake)
    body.addprevious(fake)


WRAPPINGS: dict[str, Callable[[etree._ElementTree, Forge, bool], None]] = {
    "wrap-in-header": wrap_in_header,
    "duplicate-id-elsewhere": duplicate_id_elsewhere,
    "body-twice": body_twice,
    "forged-body-first": forged_first,
}


@pytest.mark.parametrize("keep_id", [True, False])
@pytest.mark.parametrize("attack", list(WRAPPINGS))
def test_wrapped_or_duplicated_fund_reply_is_refused(attack: str, keep_id: bool) -> None:
    client = FssClient(
        FssConfig(
            ogrn="1027500716143",
            contour=Contour.TEST_PLAIN,
            fund_certificates={Contour.TEST_PLAIN: _spec_cert()},
        )
    )
    doc = _signed_reply()
    WRAPPINGS[attack](doc, _forge_numbers, keep_id)
    data = etree.tostring(doc)
    with pytest.raises(FssReplyError) as info:
        client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, data, at=AT_RANGE)
    assert isinstance(info.value, ReplySignatureError) or "SOAP-сообщением" in info.value.message
    # the untouched reply is read, so the refusal is the attack's doing
    assert client.read_reply(
        Operation.GET_NEW_LN_NUM_RANGE, etree.tostring(_signed_reply()), at=AT_RANGE
    ).numbers == ("900000161980",)


# --- the emulator --------------------------------------------------------------------------------


def _handle(emu: Emulator, path: str, body: bytes) -> tuple[int, str]:
    endpoint = endpoint_for(path)
    assert endpoint is not None
    reply = emu.service.handle(endpoint, body, action("getNewLNNum", "2.0"))
    return reply.status, reply.body.decode("utf-8")


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("path", [PLAIN, CRYPTO])
def test_the_emulator_refuses_a_hostile_request(
    emulator: Emulator, attacks: dict[str, bytes], name: str, path: str
) -> None:
    status, reply = _handle(emulator, path, attacks[name])
    assert status == 500 and emulator_texts.NOT_WELL_FORMED in reply, reply[-300:]
    no_secret(reply)


def test_the_emulator_server_refuses_oversized_and_broken_lengths(emulator: Emulator) -> None:
    big = b"<r>" + b"x" * (MAX_BYTES + 10) + b"</r>"
    response = requests.post(emulator.url, data=big, timeout=30)
    assert response.status_code == 413
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
        sock.sendall(f"POST {PLAIN} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".encode())
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0], answer


@pytest.fixture(scope="module")
def signed_request(emulator: Emulator, pki: Pki) -> tuple[Mo, etree._ElementTree]:
    signers = Signers(pki.mo, pki.doctor, pki.chairman)
    mo = Mo(emulator.url, emulator.fund_cert, signers, trusted=[emulator.ca_cert])
    doc = parse_xml(simple_request("getNewLNNum", "2.0", ogrn=mo.ogrn))
    profile.sign_body(doc, mo.ogrn, Signers.of(pki.mo))
    return mo, doc


def _forge_request(body: etree._Element) -> None:
    for el in body.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == "ogrn":
            el.text = "1027700000039"


@pytest.mark.parametrize("attack", list(WRAPPINGS))
def test_the_emulator_refuses_wrapped_or_duplicated_requests(
    emulator: Emulator, signed_request: tuple[Mo, etree._ElementTree], attack: str
) -> None:
    mo, original = signed_request
    doc = copy.deepcopy(original)
    WRAPPINGS[attack](doc, _forge_request, True)
    numbers_before = len(emulator.store.numbers())
    status, reply = _handle(emulator, CRYPTO, mo.seal(doc))
    assert status == 500 and emulator_texts.INTERNAL not in reply, reply[-400:]
    assert "ЭП" in reply or "подпис" in reply or "Неверный формат" in reply, reply[-400:]
    assert len(emulator.store.numbers()) == numbers_before
    assert _handle(emulator, CRYPTO, mo.seal(copy.deepcopy(original)))[0] == 200


# --- gostsign ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ATTACKS)
def test_gostsign_verify_refuses(attacks: dict[str, bytes], name: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        profile.verify_request(parse_xml(attacks[name]))
    no_secret(str(info.value))
    path = tmp_path / "in.xml"
    path.write_bytes(attacks[name])
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = gostsign_main(["verify-xml", str(path)])
    assert code != 0 and err.getvalue().startswith("gostsign: ") and err.getvalue().count("\n") == 1
    no_secret(err.getvalue())


@pytest.mark.parametrize("attack", list(WRAPPINGS))
def test_gostsign_verify_reports_wrapping(
    signed_request: tuple[Mo, etree._ElementTree], pki: Pki, attack: str
) -> None:
    _, original = signed_request
    doc = copy.deepcopy(original)
    WRAPPINGS[attack](doc, _forge_request, True)
    try:
        report = profile.verify_request(doc, trusted=[pki.ca.cert])
    except InvalidInput:
        return
    assert not report.valid


# --- stored fragments ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("part", ["element", "security"])
def test_a_hostile_stored_fragment_is_refused(
    pki: Pki, attacks: dict[str, bytes], name: str, part: str
) -> None:
    eln = elns.new_eln("900000000301", pki.mo.cert.subject.ogrn or "")
    fragment = sign_block(eln, DOC0, SoftwareSigner(pki.doctor.key, pki.doctor.cert))
    bad = type(fragment)(**{**fragment.__dict__, part: attacks[name]})
    attrs = RowsetAttributes("eln-workstation", "0.1.0", "Иванова", "+7 000", "a@b.test")
    with pytest.raises(FssRequestError) as info:
        assemble_registry([RowInput(eln, {DOC0.suffix: bad})], eln.lpu.ogrn or "", attrs)
    assert "повреждена" in info.value.message or "Сохранённый" in info.value.message
    no_secret(info.value.message, info.value.detail)


def test_the_attacks_are_what_they_claim(tmp_path: Path) -> None:
    """Without the hardening (a permissive lxml parser) the file attacks do read the file."""
    path = tmp_path / "plain.txt"
    path.write_text(SECRET, encoding="utf-8")
    parser = etree.XMLParser(resolve_entities=True, no_network=True, load_dtd=True)
    doc = etree.fromstring(hostile("http://127.0.0.1:9", path)["xxe-file"], parser)
    assert SECRET in "".join(doc.itertext())
    included = etree.fromstring(xinclude(path))
    included.getroottree().xinclude()
    assert SECRET in "".join(included.itertext())


# --- XInclude: parsed, never processed; refused by each door's ordinary checks -------------------


def test_xinclude_is_never_processed(
    pki: Pki, emulator: Emulator, canary: tuple[Canary, Path], tmp_path: Path
) -> None:
    data = xinclude(canary[1])
    client, records = client_answered_with(pki, emulator, data)
    with pytest.raises(FssReplyError) as info:
        client.get_ln_data("900000000001", "11223344595")
    no_secret(info.value.message, info.value.detail, *(str(r.to_dict()) for r in records))
    for path in (PLAIN, CRYPTO):
        status, reply = _handle(emulator, path, data)
        assert status == 500 and emulator_texts.INTERNAL not in reply
        no_secret(reply)
    report = profile.verify(parse_xml(data))
    assert not report.valid
    file = tmp_path / "in.xml"
    file.write_bytes(data)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        assert gostsign_main(["verify-xml", str(file)]) != 0
    no_secret(out.getvalue())


# --- zeep's own call path with the FssWsse plug-in ------------------------------------------------


class Answering:
    """A loopback HTTP server answering every POST with ``body``."""

    def __init__(self) -> None:
        self.body = b""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ws"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def answering() -> Iterator[Answering]:
    server = Answering()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.mark.parametrize("name", ATTACKS)
def test_the_zeep_plugin_path_refuses_a_hostile_reply(
    pki: Pki, emulator: Emulator, answering: Answering, attacks: dict[str, bytes], name: str
) -> None:
    """zeep parses the reply itself (with its own hardening) before ``FssWsse.verify``."""
    import zeep
    from zeep.exceptions import Error as ZeepError

    from eln_tui.core.fss import FssWsse, ProtocolVersion
    from eln_tui.core.fss.service import BundledTransport

    config = FssConfig(
        ogrn=pki.mo.cert.subject.ogrn or "",
        contour=Contour.EMULATOR,
        url=answering.url,
        fund_certificates={Contour.EMULATOR: emulator.fund_cert},
    )
    wsse = FssWsse(config, SoftKey(pki.mo))
    client = zeep.Client(  # type: ignore[no-untyped-call]
        "bundle://FileOperationsLnService.wsdl",
        transport=BundledTransport(ProtocolVersion.V20),
        wsse=wsse,
        settings=zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True),
    )
    service = client.create_service(  # type: ignore[no-untyped-call]
        "{http://www.fss.ru/integration/ws/eln/mo/v01}FileOperationsLnBinding", answering.url
    )
    answering.body = attacks[name]
    with pytest.raises((FssError, ZeepError)) as info:
        service.GetNewLNNum(ogrn=config.ogrn)
    no_secret(str(info.value), repr(info.value))


@pytest.mark.parametrize("kind", ["not-security", "signs-another-element", "no-signature"])
def test_a_stored_security_block_must_sign_this_block(pki: Pki, kind: str) -> None:
    """Found here: any element with the right actor attribute was pasted into the Header as
    the block's «signature»; now it must be a wsse:Security signing exactly this block's Id."""
    eln = elns.new_eln("900000000301", pki.mo.cert.subject.ogrn or "")
    fragment = sign_block(eln, DOC0, SoftwareSigner(pki.doctor.key, pki.doctor.cert))
    security = fragment.security
    if kind == "not-security":
        security = (
            f'<x:Evil xmlns:x="urn:evil" xmlns:soapenv="{SOAP}" '
            f'soapenv:actor="{fragment.actor}"><x:Body/></x:Evil>'
        ).encode()
    elif kind == "signs-another-element":
        security = security.replace(
            f'URI="#{fragment.element_id}"'.encode(), b'URI="#OGRN_1027700000019"'
        )
    else:
        root = etree.fromstring(security)
        for sig in root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
            root.remove(sig)
        security = etree.tostring(root)
    bad = type(fragment)(**{**fragment.__dict__, "security": security})
    attrs = RowsetAttributes("eln-workstation", "0.1.0", "Иванова", "+7 000", "a@b.test")
    with pytest.raises(FssRequestError, match=r"блок подписи записи .* повреждён"):
        assemble_registry([RowInput(eln, {DOC0.suffix: bad})], eln.lpu.ogrn or "", attrs)
