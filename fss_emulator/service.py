"""One request through the Fund: decrypt, validate, verify, act, reply (signed, encrypted).

Order as the Fund describes it (S20 §5, §4.2): the outer envelope is checked and decrypted with
the Fund's key; the operation element is validated against the XSD; the signatures are verified
(the Body for every operation but prParseFilelnlpu, whose rows are judged one by one); the
operation runs against the state in one transaction; the reply is signed as the Fund and
encrypted to the sender's certificate (plain endpoints: signed only). Whatever is refused as a
whole is answered by a clear-text SOAP Fault (HTTP 500, as SOAP 1.1 has it).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from lxml import etree

from fss_emulator import texts
from fss_emulator.dialects import REQUEST_ID_PREFIX, SOAP11, Endpoint, Version, find_operation
from fss_emulator.faults import Fault, FaultInjector
from fss_emulator.identity import Identity
from fss_emulator.model import child, elements, local, text
from fss_emulator.operations import HANDLERS, Context, Result
from fss_emulator.replies import Names, build, fault
from fss_emulator.security import (
    XENC,
    FundError,
    Representatives,
    check_body,
    check_reply_certificate,
    decrypt,
    is_encrypted,
)
from fss_emulator.store import Store
from gostsign.errors import GostError, InvalidInput
from gostsign.gost3410 import PrivateKey
from gostsign.signer import SoftwareSigner
from gostsign.testpki import Party
from gostsign.x509 import Certificate, CertificateRevocationList, issue_certificate
from gostsign.xml import profile, schema, wssec, xmlenc
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.parse import to_bytes

log = logging.getLogger("fss_emulator")

MSK = timezone(timedelta(hours=3))
MAX_REQUEST_BYTES = 16 * 1024 * 1024
_REPLAY_MEMORY = 64


@dataclass
class Config:
    plain: bool = False
    #: accept the actor/token-Id slips of the spec's own examples (docs/emulator.md)
    lenient_actors: bool = False
    reply_names: Names = "xsd"
    #: a new ELN's number must have been issued to the sending МО
    require_issued_numbers: bool = True
    #: the time certificates must be valid at (None: now); for the expired spec examples
    verify_at: datetime | None = None
    #: validate every reply against the XSD before sending it
    self_check: bool = True


@dataclass
class HttpReply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"


@dataclass
class Trust:
    """Roots, intermediates, CRLs and registered representatives; changeable at run time."""

    roots: list[Certificate] = field(default_factory=list)
    intermediates: list[Certificate] = field(default_factory=list)
    crls: list[CertificateRevocationList] = field(default_factory=list)
    representatives: Representatives = field(
        default_factory=lambda: Representatives(by_thumbprint={})
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(
        self,
    ) -> tuple[list[Certificate], list[Certificate], list[CertificateRevocationList]]:
        with self.lock:
            return list(self.roots), list(self.intermediates), list(self.crls)


@dataclass
class _Request:
    endpoint: Endpoint
    encrypted: bool
    document: etree._ElementTree
    operation: str
    element: etree._Element
    ogrn: str
    sender: Certificate | None


class Service:
    def __init__(
        self,
        identity: Identity,
        store: Store,
        config: Config,
        faults: FaultInjector,
        trust: Trust,
    ) -> None:
        self.identity = identity
        self.store = store
        self.config = config
        self.faults = faults
        self.trust = trust
        self._signer = SoftwareSigner(identity.fund_key, identity.fund_cert)
        self._stranger: SoftwareSigner | None = None
        self._replies: deque[tuple[Version, str, bytes]] = deque(maxlen=_REPLAY_MEMORY)
        self._replies_lock = threading.Lock()

    # -- entry ------------------------------------------------------------------------------------

    def handle(self, endpoint: Endpoint, body: bytes, soap_action: str | None) -> HttpReply:
        version = endpoint.version
        operation: str | None = None
        ogrn: str | None = None
        try:
            request = self._read(endpoint, body, soap_action)
            operation, ogrn = request.operation, request.ogrn
            reply = self._serve(request)
            self.store.log_exchange(operation, ogrn, None, f"http {reply.status}")
            log.info("%s %s ogrn=%s: HTTP %d", endpoint.path, operation, ogrn, reply.status)
            return reply
        except FundError as exc:
            self.store.log_exchange(operation, ogrn, None, f"fault {exc.code}: {exc.message}")
            log.info(
                "%s %s ogrn=%s: Fault %s %s", endpoint.path, operation, ogrn, exc.code, exc.message
            )
            return HttpReply(500, fault(exc.message, exc.code, version))
        except Exception:
            log.exception("internal error while serving %s", operation or "a request")
            self.store.log_exchange(operation, ogrn, None, "fault E_0000: internal error")
            return HttpReply(500, fault(texts.INTERNAL, texts.FAULT_SYSTEM, version))

    # -- reading the request ----------------------------------------------------------------------

    def _read(self, endpoint: Endpoint, body: bytes, soap_action: str | None) -> _Request:
        encrypted = endpoint.encrypted and not self.config.plain
        try:
            outer = parse_xml(body, max_bytes=MAX_REQUEST_BYTES, what="the request")
        except InvalidInput:
            raise FundError(texts.NOT_WELL_FORMED) from None
        if outer.getroot().tag != f"{{{SOAP11}}}Envelope":
            raise FundError(texts.NOT_SOAP)
        sender: Certificate | None = None
        if encrypted:
            dec = decrypt(outer, self.identity.fund_key, self.identity.fund_cert)
            document, sender = dec.document, dec.sender
            check_reply_certificate(sender)
        else:
            if is_encrypted(outer.getroot()):
                raise FundError(texts.ENCRYPTED_ON_PLAIN)
            document = outer
        envelope = document.getroot()
        if envelope.tag != f"{{{SOAP11}}}Envelope":
            raise FundError(texts.NOT_SOAP)
        bodies = [c for c in envelope if c.tag == f"{{{SOAP11}}}Body"]
        payload = elements(bodies[0]) if len(bodies) == 1 else []
        if len(payload) != 1:
            raise FundError(texts.UNKNOWN_OPERATION)
        element = payload[0]
        qname = etree.QName(element.tag)
        op = find_operation(endpoint.version, qname.namespace, qname.localname)
        if op is None:
            raise FundError(texts.UNKNOWN_OPERATION)
        action = (soap_action or "").strip().strip('"')
        if action and action != op.soap_action:
            raise FundError(texts.WRONG_SOAP_ACTION)
        problems = schema.errors(element, endpoint.version)
        if problems:
            raise FundError(f"{texts.BAD_FORMAT_XSD}: {problems[0]}")
        holder = element
        if endpoint.version == "1.1" and op.name in ("prParseFilelnlpu", "prParseFileNumberslpu"):
            request_el = child(element, "request")
            holder = request_el if request_el is not None else element
        ogrn = text(child(holder, "ogrn"))
        if not ogrn:
            raise FundError(texts.OGRN_REQUIRED)
        return _Request(endpoint, encrypted, document, op.name, element, ogrn, sender)

    # -- serving ----------------------------------------------------------------------------------

    def _verify(self, request: _Request) -> wssec.VerificationReport:
        roots, mids, crls = self.trust.snapshot()
        envelope = request.document.getroot()
        report = wssec.verify(
            envelope,
            at=self.config.verify_at,
            trusted=roots,
            intermediates=mids,
            crls=crls,
        )
        if request.operation != "prParseFilelnlpu":
            check_body(
                report,
                envelope,
                request.ogrn,
                self.trust.representatives,
                lenient=self.config.lenient_actors,
            )
        elif not report.signatures:
            raise FundError(texts.NO_SIGNATURE, texts.FAULT_SIGNATURE)
        return report

    def _serve(self, request: _Request) -> HttpReply:
        report = self._verify(request)
        version = request.endpoint.version
        with self._replies_lock:
            can_replay = any(v == version for v, _, _ in self._replies)
        delay, chosen = self.faults.take(request.operation, replay_possible=can_replay)
        commit = chosen is None or chosen.commits
        if chosen is not None and chosen.kind in ("http500", "soap_fault"):
            if commit:
                self._run(request, report, commit=True)
            time.sleep(delay)
            return self._injected(chosen, version)
        result, request_id = self._run(request, report, commit=commit)
        signed = self._signed_reply(result, request_id, version, chosen)
        if chosen is not None and chosen.kind == "replay":
            signed = self._earlier(version, request.operation)
        else:
            self._remember(version, request.operation, signed)
        out = signed
        if request.encrypted and (chosen is None or chosen.kind != "plain"):
            assert request.sender is not None
            try:
                out = xmlenc.encrypt(
                    signed,
                    request.sender,
                    sender_certificate=self.identity.fund_cert,
                    layout="v1.1",  # the Fund's certificate in EncryptedKey (§5.2)
                    check_validity=False,
                )
            except GostError:
                raise FundError(texts.CANNOT_ENCRYPT_REPLY) from None
        if chosen is not None and chosen.kind == "corrupt":
            out = _corrupt(out, request.encrypted)
        time.sleep(delay)
        return HttpReply(200, out)

    def _transaction(self, commit: bool) -> AbstractContextManager[Store]:
        return self.store.transaction() if commit else self.store.trial()

    def _run(
        self, request: _Request, report: wssec.VerificationReport, *, commit: bool
    ) -> tuple[Result, str]:
        version = request.endpoint.version
        ids: list[str] = []

        def request_id() -> str:
            if not ids:
                day = datetime.now(MSK)
                prefix = REQUEST_ID_PREFIX[request.operation]
                key = f"rid:{prefix}:{request.ogrn}:{day:%Y_%m_%d}"
                n = self.store.next_counter(key)
                ids.append(f"{prefix}_{request.ogrn}_{day:%Y_%m_%d}_{n:05d}")
            return ids[0]

        with self._transaction(commit):
            ctx = Context(
                store=self.store,
                version=version,
                ogrn=request.ogrn,
                report=report,
                representatives=self.trust.representatives,
                lenient=self.config.lenient_actors,
                require_issued_numbers=self.config.require_issued_numbers,
                request_id=request_id,
            )
            result = HANDLERS[request.operation](request.element, ctx)
            result.ogrn = request.ogrn
            rid = request_id()
        return result, rid

    # -- replies ----------------------------------------------------------------------------------

    def _signed_reply(
        self, result: Result, request_id: str, version: Version, chosen: Fault | None
    ) -> bytes:
        names: Names = self.config.reply_names if version == "2.0" else "xsd"
        raw = build(result, request_id, version, names)
        doc = parse_xml(raw, what="the reply")
        if self.config.self_check and names == "xsd":
            payload = elements(wssec.body_of(doc.getroot()))[0]
            schema.validate(payload, version)
        kind = chosen.kind if chosen is not None else None
        if kind == "unsigned":
            return to_bytes(doc)
        signer = self._stranger_signer() if kind == "stranger" else self._signer
        profile.sign_fund_reply(doc, signer, ogrn=self.identity.fund_ogrn, check_validity=False)
        return to_bytes(doc)

    def sign_document(self, doc: etree._ElementTree) -> bytes:
        """Sign a reply document as the Fund (for tools and tests)."""
        profile.sign_fund_reply(doc, self._signer, ogrn=self.identity.fund_ogrn)
        return to_bytes(doc)

    def _stranger_signer(self) -> SoftwareSigner:
        if self._stranger is None:
            key = PrivateKey.generate(self.identity.fund_key.curve)
            subject = [("CN", "Посторонний отправитель"), ("O", "Не ФСС"), ("C", "RU")]
            if self.identity.ca_key is not None:
                ca = Party(self.identity.ca_key, self.identity.ca_cert)
                cert = issue_certificate(
                    key.public_key(),
                    subject,
                    ca.cert,
                    ca.key,
                    ogrn=self.identity.fund_ogrn,
                    not_before=datetime.now(UTC) - timedelta(minutes=5),
                )
            else:
                cert = issue_certificate(key.public_key(), subject, None, key)
            self._stranger = SoftwareSigner(key, cert)
        return self._stranger

    def _remember(self, version: Version, operation: str, signed: bytes) -> None:
        with self._replies_lock:
            self._replies.append((version, operation, signed))

    def _earlier(self, version: Version, operation: str) -> bytes:
        with self._replies_lock:
            same = [s for v, o, s in self._replies if v == version and o == operation]
            anything = [s for v, _, s in self._replies if v == version]
        return (same or anything)[-1]

    def _injected(self, chosen: Fault, version: Version) -> HttpReply:
        if chosen.kind == "http500":
            page = (
                b"<html><head><title>Internal Server Error</title></head><body>"
                b"<h1>Internal Server Error</h1></body></html>"
            )
            return HttpReply(chosen.status, page, "text/html; charset=utf-8")
        return HttpReply(500, fault(chosen.message, chosen.code, version))

    def replies(self) -> Iterator[tuple[Version, str, bytes]]:
        with self._replies_lock:
            yield from list(self._replies)


def _corrupt(data: bytes, encrypted: bool) -> bytes:
    """Damage a reply so that a careful reader must refuse it."""
    doc = parse_xml(data, what="the reply")
    root = doc.getroot()
    if encrypted:
        data_el = next(root.iter(f"{{{XENC}}}EncryptedData"))
        value = data_el.find(f"{{{XENC}}}CipherData/{{{XENC}}}CipherValue")
        assert value is not None and value.text
        blob = bytearray(base64.b64decode("".join(value.text.split())))
        for i in range(8, min(16, len(blob))):  # the first block after the IV: the XML start
            blob[i] ^= 0x5A
        value.text = base64.b64encode(bytes(blob)).decode("ascii")
    else:
        for el in root.iter(etree.Element):
            if local(el) in ("requestId", "REQUEST_ID") and el.text:
                el.text = el.text + "0"  # changed after signing: the digest no longer holds
                break
    return to_bytes(doc)
