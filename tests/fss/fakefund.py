"""A minimal stand-in for the Fund, for the client's unit tests (fault injection on demand).

It plays the contract of protocol.md from the Fund's side with gostsign's primitives: decrypts
the request with the Fund key, checks the МО's signatures as the Fund does
(``profile.verify_request``) and the payload against the XSD, answers with a reply shaped like
the spec's examples, signs it as the Fund (actor ``…/fss/ca/<ОГРН>``, Body
``OGRN_<ОГРН>``) and encrypts it to the sender's certificate. It keeps no ELN state: the real
emulator (``fss_emulator``) does, and the end-to-end tests run against it.

Faults (``FakeFund.fault``): ``delay``, ``http500``, ``fault`` (clear SOAP Fault), ``unsigned``,
``stranger`` (signed by another certificate), ``corrupt`` (ciphertext damaged), ``replay``
(the previous reply again, byte for byte), ``plain`` (unencrypted reply), ``other-op`` (the
reply of another operation), ``status0`` (WSResult status 0).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lxml import etree

from gostsign.signer import SoftwareSigner
from gostsign.testpki import Party
from gostsign.x509 import Certificate
from gostsign.xml import profile, schema, xmlenc
from gostsign.xml.parse import parse, to_bytes
from gostsign.xml.wssec import body_of, envelope_of

MO = "http://www.fss.ru/integration/types/eln/mo/v01"
COM = "http://www.fss.ru/integration/types/eln/v01"
V11 = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

FAULT_TEXT = (
    "ru.fss.integration.ws.fault.v01.InternalException: Не удалось расшифровать сообщение. "
    "Возможно сообщение зашифровано на ключе отличном от ключа уполномоченного лица ФСС."
)


class FakeFund:
    def __init__(self, fund: Party, *, stranger: Party | None = None) -> None:
        self.fund = fund
        self.stranger = stranger
        self.fault: str | None = None
        self.delay = 0.0
        self.requests: list[bytes] = []  # clear (decrypted) requests as received
        self.replies: list[bytes] = []
        self.counter = 0
        self.numbers = 900000000100
        self.lock = threading.Lock()
        self.ln_data_code: str | None = None  # getLNData answers for this lnCode (else the asked)

    @property
    def ogrn(self) -> str:
        ogrn = self.fund.cert.subject.ogrn
        assert ogrn is not None
        return ogrn

    # ------------------------------------------------------------------------------------------

    def respond(self, data: bytes) -> tuple[int, bytes]:
        if self.fault == "delay":
            time.sleep(self.delay)  # outside the lock: a slow answer holds up no other one
        with self.lock:
            return self._respond(data)

    def _respond(self, data: bytes) -> tuple[int, bytes]:
        fault = self.fault
        if fault == "http500":
            return 500, b"<html><body>Internal Server Error</body></html>"
        if fault == "replay" and self.replies:
            return 200, self.replies[-1]
        doc = parse(data)
        sender: Certificate | None = None
        if xmlenc.is_encrypted(doc):
            message = xmlenc.decrypt(doc, self.fund.key)
            doc = message.document
            sender = message.sender_certificate
        self.requests.append(to_bytes(doc))
        if fault == "fault":
            return 500, clear_fault(FAULT_TEXT)
        envelope = envelope_of(doc)
        payload = next(c for c in body_of(envelope) if isinstance(c.tag, str))
        ns = etree.QName(payload).namespace
        version = "2.0" if ns == MO else "1.1"
        problems = schema.errors(payload, version)  # type: ignore[arg-type]
        if problems:
            return 500, clear_fault("XSD: " + problems[0])
        report = profile.verify_request(doc)
        if not report.valid:
            return 500, clear_fault("ЭЦП неверна: " + str(report.all_problems()[0]))
        self.counter += 1
        ogrn = profile.request_ogrn(doc) or "0"
        request_id = f"LNNUMMO_{ogrn}_{datetime.now(UTC):%Y_%m_%d}_{self.counter:05d}"
        op = etree.QName(payload).localname
        if fault == "other-op":
            op = "getLNListBySnilsRequest" if version == "2.0" else "getLNListBySnils"
        response = self._response(version, op, payload, request_id, fault == "status0")
        reply = self._envelope(response, sign=fault != "unsigned")
        if sender is not None and fault != "plain":
            layout: xmlenc.Layout = "v2.0" if version == "2.0" else "v1.1"
            out = xmlenc.encrypt(reply, sender, sender_certificate=self.fund.cert, layout=layout)
            if fault == "corrupt":
                out = corrupt_ciphertext(out)
        else:
            out = reply
        self.replies.append(out)
        return 200, out

    def _envelope(self, response: etree._Element, *, sign: bool) -> bytes:
        env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "wsu": WSU})
        etree.SubElement(env, f"{{{SOAP}}}Header")
        body = etree.SubElement(env, f"{{{SOAP}}}Body")
        body.append(response)
        doc = etree.fromstring(etree.tostring(env)).getroottree()
        if sign:
            party = self.stranger if self.fault == "stranger" and self.stranger else self.fund
            signer = SoftwareSigner(party.key, party.cert)
            profile.sign_fund_reply(doc, signer, ogrn=self.ogrn)
        return to_bytes(doc)

    # ------------------------------------------------------------------------------------------

    def _response(
        self, version: str, op: str, payload: etree._Element, request_id: str, fail: bool
    ) -> etree._Element:
        if version == "2.0":
            return self._v20(op, payload, request_id, fail)
        return self._v11(op, payload, request_id, fail)

    def _take(self, n: int) -> list[str]:
        out = [str(self.numbers + i) for i in range(n)]
        self.numbers += n
        return out

    def _v20(self, op: str, payload: etree._Element, request_id: str, fail: bool) -> etree._Element:
        name = op.removesuffix("Request") + "Response"
        resp = etree.Element(f"{{{MO}}}{name}", nsmap={None: MO, "ns2": COM})  # type: ignore[dict-item]

        def com(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
            el = etree.SubElement(parent, f"{{{COM}}}{local}")
            if text is not None:
                el.text = text
            return el

        def mo(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
            el = etree.SubElement(parent, f"{{{MO}}}{local}")
            if text is not None:
                el.text = text
            return el

        com(resp, "requestId", request_id)
        com(resp, "status", "0" if fail else "1")
        com(resp, "mess", "Ошибка обработки" if fail else "OK")
        if fail:
            return resp

        def arg(local: str) -> str | None:
            return payload.findtext(f"{{{MO}}}{local}")

        if op == "getNewLNNumRequest":
            mo(resp, "data", self._take(1)[0])
        elif op == "getNewLNNumRangeRequest":
            data = mo(resp, "data")
            for n in self._take(int(arg("cntLnNumbers") or "1")):
                com(data, "lnCode", n)
        elif op == "getExistingLNNumRangeRequest":
            data = mo(resp, "data")
            com(data, "lnCode", "900000000001")
        elif op == "prParseFilelnlpuRequest":
            info = com(resp, "info")
            rowset = com(info, "infoRowset")
            for i, row in enumerate(payload.iter(f"{{{MO}}}row"), 1):
                r = com(rowset, "infoRow")
                com(r, "rowNo", str(i))
                com(r, "lnCode", row.findtext(f"{{{MO}}}lnCode"))
                com(r, "lnHash", "155A9139D7274BC94FB31F5644218DB2")
                com(r, "lnState", "010")
                com(r, "status", "1")
        elif op == "getLNDataRequest":
            code = self.ln_data_code or arg("lnCode") or ""
            data = mo(resp, "data")
            row = mo(mo(data, "outRowset"), "responseRow")
            for local, value in (
                ("snils", arg("snils")),
                ("surname", "ТЕСТ"),
                ("name", "ТЕСТ"),
                ("lnCode", code),
                ("primaryFlag", "true"),
                ("duplicateFlag", "false"),
                ("lnDate", "2024-01-10"),
                ("lpuName", "ГБУЗ"),
                ("lpuOgrn", "1027500716143"),
                ("birthday", "1980-01-01"),
                ("gender", "1"),
            ):
                mo(row, local, value)
            full = mo(mo(row, "treatPeriods"), "treatFullPeriod")
            tp = com(full, "treatPeriod")
            com(tp, "treatDt1", "2024-01-10")
            com(tp, "treatDt2", "2024-01-15")
            com(tp, "treatDoctorRole", "ТЕРАПЕВТ")
            com(tp, "treatDoctor", "ИВАНОВА М П")
            mo(row, "lnState", "010")
            mo(row, "lnHash", "5DE589559FB1D0F59740B60029EF941B")
        elif op == "getLNListBySnilsRequest":
            rows = mo(mo(resp, "Data"), "outRowsetLNListbySnils")
            r = mo(rows, "rowLNbySnils")
            for local, value in (
                ("lnCode", "900000014027"),
                ("lnDate", "2024-01-10"),
                ("lnState", "010"),
                ("lpuOgrn", "1027500716143"),
            ):
                mo(r, local, value)
        elif op == "getLNListByDateRequest":
            rows = mo(mo(resp, "data"), "outRowsetLNListbyDate")
            r = mo(rows, "rowLNbyDate")
            for local, value in (
                ("lnCode", "900000014912"),
                ("lnState", "010"),
                ("snils", "12345394243"),
            ):
                mo(r, local, value)
        return resp

    def _v11(self, op: str, payload: etree._Element, request_id: str, fail: bool) -> etree._Element:
        resp = etree.Element(f"{{{V11}}}{op}Response", nsmap={"ns1": V11})
        wrappers = {
            "getNewLNNum": "fileOperationsLnUserGetNewLNNumOut",
            "getNewLNNumRange": "fileOperationsLnUserGetNewLNNumRangeOut",
            "getExistingLNNumRange": "FileOperationsLnUserGetExistingLNNumRangeOut",
            "getLNData": "FileOperationsLnUserGetLNDataOut",
            "disableLn": "FileOperationsLnUserDisableLnOut",
            "getLNListBySnils": "FileOperationsLnUserGetLNListBySnilsOut",
            "getLNListByDate": "FileOperationsLnUserGetLNListByDateOut",
        }
        out = etree.SubElement(resp, f"{{{V11}}}{wrappers.get(op, 'WSResult')}")

        def el(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
            e = etree.SubElement(parent, f"{{{V11}}}{local}")
            if text is not None:
                e.text = text
            return e

        el(out, "REQUEST_ID", request_id)
        el(out, "STATUS", "0" if fail else "1")
        el(out, "MESS", "OK")
        if op == "getNewLNNum":
            el(out, "DATA", self._take(1)[0])
        elif op in ("getNewLNNumRange", "getExistingLNNumRange"):
            data = el(out, "DATA")
            cnt = payload.findtext(f"{{{V11}}}cntLnNumbers") or "1"
            for n in self._take(int(cnt)):
                el(data, "LNNum", n)
        elif op == "prParseFilelnlpu":
            rowset = el(el(out, "INFO"), "ROWSET")
            for i, row in enumerate(payload.iter(f"{{{V11}}}ROW"), 1):
                r = el(rowset, "ROW")
                el(r, "ROW_NO", str(i))
                el(r, "LN_CODE", row.findtext(f"{{{V11}}}LN_CODE"))
                el(r, "LN_HASH", "155A9139D7274BC94FB31F5644218DB2")
                el(r, "LN_STATE", "010")
                el(r, "STATUS", "1")
        elif op == "getLNListBySnils":
            r = el(el(el(out, "Data"), "OutRowsetLNListbySnils"), "RowLNbySnils")
            el(r, "LN_CODE", "900000014027")
            el(r, "LN_DATE", "2018-09-26")
            el(r, "LN_STATE", "010")
            el(r, "LPU_OGRN", "1023101681745")
        elif op == "getLNListByDate":
            r = el(el(el(out, "Data"), "OutRowsetLNListbyDate"), "RowLNbyDate")
            el(r, "LN_CODE", "900000014912")
            el(r, "LN_STATE", "010")
            el(r, "SNILS", "00000060002")
        return resp


def clear_fault(text: str) -> bytes:
    """A v2.0 Fault as the Fund sends it in clear (prefix S:, internalFault detail)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault>'
        "<faultcode>S:Server</faultcode>"
        f"<faultstring>{text}</faultstring>"
        '<detail><ns2:internalFault xmlns:ns2="http://www.fss.ru/integration/types/fault/v01">'
        "<ns2:uuid>0b7c4c0e-1111-2222-3333-444455556666</ns2:uuid><ns2:code>E_0000</ns2:code>"
        f"<ns2:message>{text}</ns2:message></ns2:internalFault></detail>"
        "</S:Fault></S:Body></S:Envelope>"
    ).encode()


def corrupt_ciphertext(message: bytes) -> bytes:
    """Flip bytes in the middle of the content ciphertext (the key transport stays intact)."""
    doc = parse(message)
    values = doc.getroot().findall(".//{http://www.w3.org/2001/04/xmlenc#}CipherValue")
    content = values[-1]
    raw = bytearray(base64.b64decode(content.text or ""))
    mid = len(raw) // 2
    for i in range(mid, mid + 16):
        raw[i] ^= 0xA5
    content.text = base64.b64encode(bytes(raw)).decode()
    return to_bytes(doc)


class FundServer:
    """The fake Fund over HTTP on 127.0.0.1 (a real socket, so timeouts are real)."""

    def __init__(self, fund: FakeFund) -> None:
        self.fund = fund
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.hits += 1
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                try:
                    status, body = outer.fund.respond(data)
                except Exception as exc:  # a bug of the double must not hang the client
                    status, body = 500, clear_fault(f"fake fund: {exc!r}")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/FileOperationsLnService"

    def __enter__(self) -> FundServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


Responder = Callable[[bytes], tuple[int, bytes]]
