"""The WS-Security plug-in: signs with the МО's key session, encrypts to the Fund, and opens,
checks and verifies the Fund's replies (protocol.md §4–§6).

Outgoing (:meth:`FssWsse.secure`):

1. the МО signs: every ``row`` (``ELN_<n>``, actor ``…/mo/<ОГРН>/ELN_<n>``) for
   prParseFilelnlpu, the Body (``OGRN_<ОГРН>``, actor ``…/mo/<ОГРН>``) otherwise; with the МЧД
   reference when the МО certificate has no ОГРН;
2. v2.0 layout: the МО certificate goes into the Header as ``ds:X509Certificate``;
3. the signed envelope is serialised once (never pretty-printed): that is the clear form the
   journal keeps;
4. with encryption, those exact bytes are encrypted to the configured Fund certificate (v2.0:
   the Fund's certificate in EncryptedKey; v1.1: the МО's own).

Incoming (:meth:`FssWsse.open_reply`), in this order, each failure a precise error and nothing
of the reply used:

1. a SOAP Fault sent in clear is recognised first → :class:`FssFault` with the Fund's text;
2. any other HTTP status than 200 → :class:`FssTransportError`;
3. the reply is decrypted with the МО key session's key agreement (an unencrypted reply where
   encryption was agreed, or one that does not decrypt → :class:`ReplyDecryptError`); a Fault
   inside is again a :class:`FssFault`;
4. the Body must be covered by a valid signature of the Fund's actor made with exactly the
   configured Fund certificate, valid at the time (and chaining to ``trusted_roots`` when
   given) → otherwise :class:`ReplySignatureError` saying what is wrong;
5. the reply must belong to this request and be new (:class:`ReplayError`): see below;
6. only then is the verified Body element handed to the parser (or, as a zeep ``wsse``
   plug-in, put in place of the encrypted document for zeep).

Replays. The Fund's reply echoes nothing of the request (no nonce, no timestamp, no message
id), so a reply recorded earlier would decrypt and verify again. What we rely on:

* the reply's element must be the response of the operation we called (a reply to another
  operation is refused);
* the Fund's ``requestId`` is unique per reply (``LNNUMMO_<ОГРН>_<yyyy_mm_dd>_<n>`` and the
  like) and GOST signatures are randomised, so the SignatureValue of a fresh reply never
  repeats: both are remembered (:class:`ReplayGuard`; give every client of the workstation
  the same, ideally persistent, :class:`ReplayStore`) and a repeated one is refused;
* when the requestId has the Fund's ``<PREFIX>_<ОГРН>_<yyyy>_<mm>_<dd>_<n>`` shape, its ОГРН
  must be ours and its day within ``reply_max_age`` of now: an old recorded reply is refused
  even by a process that has not seen it;
* the client keeps its own per-request nonce in the exchange record only: the protocol gives
  the Fund no place to echo it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, runtime_checkable

from lxml import etree

from eln_tui.core.fss.config import FssConfig, ProtocolVersion
from eln_tui.core.fss.envelope import envelope_for
from eln_tui.core.fss.errors import (
    FssConfigError,
    FssError,
    FssFault,
    FssRequestError,
    FssTransportError,
    ReplayError,
    ReplyDecryptError,
    ReplyFormatError,
    ReplySignatureError,
)
from eln_tui.core.fss.operations import Operation
from eln_tui.core.fss.parse import local, norm, request_id_of
from eln_tui.core.fss.service import operation_info
from gostsign.errors import (
    CertificateError,
    CertificateExpired,
    DecryptionError,
    GostError,
    InvalidInput,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from gostsign.vko import KeyAgreement
from gostsign.x509 import Certificate
from gostsign.xml import profile, xmlenc
from gostsign.xml.errors import FundFault, SignatureNotCovering
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.parse import to_bytes
from gostsign.xml.soap import find_fault
from gostsign.xml.wssec import (
    SIGNATURE_VALUE,
    Reason,
    SignatureResult,
    VerificationReport,
    body_of,
    envelope_of,
)
from providers.errors import OperationNotSupported, ProviderError

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@runtime_checkable
class MoKey(Protocol):
    """The МО's key: a :class:`providers.base.KeySession` (or anything alike)."""

    @property
    def certificate(self) -> bytes | Certificate: ...

    def sign_digest(self, digest: bytes) -> bytes: ...

    def key_agreement(self) -> KeyAgreement: ...


# ----------------------------------------------------------------------------------------------
# Replay guard
# ----------------------------------------------------------------------------------------------


class ReplayStore(Protocol):
    """Where seen reply identifiers are kept (a table, to remember across restarts)."""

    def seen(self, key: str) -> bool: ...

    def add(self, key: str) -> None: ...


class MemoryReplayStore:
    """The default store: the last ``capacity`` identifiers of this process."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def seen(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)


class ReplayGuard:
    """Remembers the requestIds and signature values of accepted replies."""

    def __init__(self, store: ReplayStore | None = None) -> None:
        self.store: ReplayStore = store if store is not None else MemoryReplayStore()
        self._lock = threading.Lock()

    def admit(self, keys: Iterable[tuple[str, str]]) -> None:
        """Refuse if any key was seen; otherwise remember all of them (atomically)."""
        items = list(keys)
        with self._lock:
            for key, what in items:
                if self.store.seen(key):
                    raise ReplayError(
                        f"Ответ СФР повторяет ранее полученный ответ ({what}); он не принят. "
                        "Повторите запрос; если ошибка повторится, сообщите администратору.",
                        detail=key,
                    )
            for key, _ in items:
                self.store.add(key)


# The Fund's requestId shape: LNNUMMO_1027500716143_2020_08_28_00003.
_REQUEST_ID = re.compile(r"^[A-Za-z]+_(\d{13}|\d{15})_(\d{4})_(\d{2})_(\d{2})_\d+$")


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecuredRequest:
    """A request ready to go: its clear signed form and what goes on the wire."""

    operation: Operation
    clear: bytes
    wire: bytes
    encrypted: bool
    nonce: str


@dataclass(frozen=True)
class VerifiedReply:
    """A reply that passed every check; ``response`` is the verified Body's child."""

    operation: Operation | None
    document: etree._ElementTree
    response: etree._Element
    clear: bytes
    encrypted: bool
    request_id: str | None
    report: VerificationReport
    signer: SignatureResult


def _now() -> datetime:
    return datetime.now(UTC)


def _mo_certificate(key: MoKey) -> Certificate:
    cert = key.certificate
    return cert if isinstance(cert, Certificate) else Certificate.load(cert)


class FssWsse:
    """The WS-Security plug-in of the client (and a zeep ``wsse=`` object).

    ``key`` is the МО's key session; it may be None when only replies in clear are read (e.g.
    the spec's examples). ``clock`` gives "now" for certificate validity and replay windows.
    """

    def __init__(
        self,
        config: FssConfig,
        key: MoKey | None,
        *,
        guard: ReplayGuard | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.config = config
        self.key = key
        self.guard = guard or ReplayGuard()
        self.clock = clock
        self._local = threading.local()

    # ------------------------------------------------------------------------------------------
    # Outgoing
    # ------------------------------------------------------------------------------------------

    def _key(self) -> MoKey:
        if self.key is None:
            raise FssConfigError(
                "Не выбран ключ МО: откройте ключ организации, чтобы подписывать запросы в СФР."
            )
        return self.key

    def mo_certificate(self) -> Certificate:
        return _mo_certificate(self._key())

    def _mchd(self, cert: Certificate) -> str | None:
        """The МЧД uuid to put into the signature, checking the МО certificate's ОГРН."""
        cert_ogrn = cert.subject.ogrn or cert.subject.ogrnip
        if cert_ogrn is not None:
            if cert_ogrn != self.config.ogrn:
                raise FssConfigError(
                    f"Сертификат МО выдан на ОГРН {cert_ogrn}, а в настройках указан ОГРН "
                    f"{self.config.ogrn}; СФР такой запрос не примет.",
                )
            return None
        if not self.config.mchd_uuid:
            raise FssConfigError(
                "В сертификате, которым подписываются запросы МО, нет ОГРН; укажите в настройках "
                "идентификатор машиночитаемой доверенности (МЧД) этого сотрудника."
            )
        return self.config.mchd_uuid.strip()

    def secure(
        self,
        document: etree._ElementTree,
        operation: Operation,
        *,
        rows: Iterable[str] = (),
    ) -> SecuredRequest:
        """Sign (rows or Body), add the sender certificate, serialise, encrypt. In place."""
        key = self._key()
        cert = _mo_certificate(key)
        mchd = self._mchd(cert)
        ogrn = self.config.ogrn
        row_codes = list(rows)
        if operation.signs_rows and not row_codes:
            raise FssRequestError("Реестр ЭЛН пуст: нечего подписывать и передавать.")
        try:
            if operation.signs_rows:
                for ln_code in row_codes:
                    profile.sign_row(document, ogrn, ln_code, key, mchd_uuid=mchd)
            else:
                profile.sign_body(document, ogrn, key, mchd_uuid=mchd)
        except CertificateExpired as exc:
            raise FssConfigError(
                "Срок действия сертификата МО истёк или ещё не начался; запрос не подписан.",
                detail=str(exc),
            ) from None
        except CertificateError as exc:
            raise FssConfigError(
                "Сертификат МО не позволяет подписывать документы.", detail=str(exc)
            ) from None
        except InvalidSignature as exc:
            raise FssConfigError(
                "Подпись ключом МО не проверяется его сертификатом: ключ и сертификат не "
                "соответствуют друг другу.",
                detail=str(exc),
            ) from None
        encrypts = self.config.encrypts
        version = self.config.version
        if encrypts:
            # The Fund encrypts its reply to the МО certificate: without VKO on this key the
            # reply could not be read, so such a request is not sent at all.
            try:
                key.key_agreement()
            except OperationNotSupported as exc:
                raise FssConfigError(
                    "Ключ МО не умеет вырабатывать общий ключ (VKO), поэтому зашифрованный ответ "
                    "СФР нельзя будет расшифровать; запрос не отправлен. Используйте носитель с "
                    "поддержкой VKO или обмен без шифрования (тестовый контур).",
                    detail=exc.message,
                ) from None
        if encrypts and version is ProtocolVersion.V20:
            xmlenc.add_sender_certificate(document, cert)
        clear = to_bytes(document)
        wire = clear
        if encrypts:
            fund = self.config.fund_certificate
            now = self.clock()
            for c, who in ((fund, "уполномоченного лица СФР"), (cert, "МО")):
                try:
                    c.check_validity(now)
                except CertificateExpired as exc:
                    raise FssConfigError(
                        f"Сертификат {who} недействителен на текущую дату (действует с "
                        f"{c.not_before:%d.%m.%Y} по {c.not_after:%d.%m.%Y}); запрос не "
                        "зашифрован.",
                        detail=str(exc),
                    ) from None
            try:
                wire = xmlenc.encrypt(
                    clear,
                    fund,
                    sender_certificate=cert,
                    layout="v2.0" if version is ProtocolVersion.V20 else "v1.1",
                    sbox=self.config.content_sbox,
                    key_meshing=self.config.key_meshing,
                    check_validity=False,
                )
            except CertificateError as exc:
                raise FssConfigError(
                    "Сертификат не позволяет шифрование: СФР шифрует ответ на сертификат МО, а "
                    "запрос шифруется на сертификат СФР; в обоих должно быть «Шифрование данных».",
                    detail=str(exc),
                ) from None
        return SecuredRequest(
            operation=operation,
            clear=clear,
            wire=wire,
            encrypted=encrypts,
            nonce=hashlib.sha256(wire).hexdigest()[:32],
        )

    # ------------------------------------------------------------------------------------------
    # Incoming
    # ------------------------------------------------------------------------------------------

    def open_reply(
        self,
        data: bytes,
        *,
        operation: Operation | None,
        http_status: int = 200,
        at: datetime | date | None = None,
    ) -> VerifiedReply:
        """Fault check, decryption, signature verification and replay checks, in this order."""
        try:
            outer = parse_xml(data, what="the reply")
            envelope = envelope_of(outer)
        except InvalidInput as exc:
            if http_status != 200:
                raise FssTransportError(
                    f"Сервис СФР ответил ошибкой HTTP {http_status} без пояснения.",
                    detail=str(exc),
                    http_status=http_status,
                ) from None
            raise ReplyFormatError(
                "Ответ СФР не является SOAP-сообщением.", detail=str(exc)
            ) from None
        _raise_fault(envelope, http_status)
        if http_status != 200:
            raise FssTransportError(
                f"Сервис СФР ответил ошибкой HTTP {http_status}.", http_status=http_status
            )
        encrypted = _is_encrypted(envelope)
        if encrypted:
            inner, clear = self._decrypt(envelope)
            _raise_fault(envelope_of(inner), http_status)
        else:
            if self.config.encrypts:
                raise ReplyDecryptError(
                    "Ответ СФР пришёл незашифрованным, хотя обмен идёт с шифрованием; ответ не "
                    "принят."
                )
            inner, clear = outer, bytes(data)
        when = at if at is not None else self.clock()
        report, signer = self._verify(inner, when)
        body = body_of(envelope_of(inner))
        responses = [c for c in body if isinstance(c.tag, str)]
        if len(responses) != 1:
            raise ReplyFormatError(
                "Тело ответа СФР должно содержать ровно один элемент ответа.",
                detail=f"{len(responses)} elements in the Body",
            )
        response = responses[0]
        if operation is not None:
            expected = operation_info(self.config.version, operation).output_local_name
            if norm(local(response)) != norm(expected):
                raise ReplayError(
                    f"Ответ СФР относится к другой операции ({local(response)}), а не к "
                    f"операции «{operation.label}»; он не принят.",
                    detail=f"expected {expected}",
                )
        request_id = request_id_of(response)
        self._admit(request_id, signer, when)
        return VerifiedReply(
            operation=operation,
            document=inner,
            response=response,
            clear=clear,
            encrypted=encrypted,
            request_id=request_id,
            report=report,
            signer=signer,
        )

    def _decrypt(self, envelope: etree._Element) -> tuple[etree._ElementTree, bytes]:
        key = self._key()
        try:
            agreement = key.key_agreement()
        except ProviderError as exc:
            raise ReplyDecryptError(
                f"Ответ СФР не удалось расшифровать: {exc.message}", detail=exc.detail
            ) from None
        try:
            message = xmlenc.decrypt(envelope, agreement, key_meshing=self.config.key_meshing)
        except FundFault as fault:  # pragma: no cover - checked before
            raise _fss_fault(fault, 200) from None
        except (DecryptionError, UnsupportedAlgorithm, InvalidInput) as exc:
            raise ReplyDecryptError(
                "Ответ СФР не удалось расшифровать ключом МО: он повреждён или зашифрован не на "
                "сертификат МО.",
                detail=str(exc),
            ) from None
        except GostError as exc:
            raise ReplyDecryptError("Ответ СФР не удалось расшифровать.", detail=str(exc)) from None
        return message.document, message.plaintext

    def _verify(
        self, document: etree._ElementTree, when: datetime | date
    ) -> tuple[VerificationReport, SignatureResult]:
        fund = self.config.fund_certificate
        envelope = envelope_of(document)
        try:
            report = profile.verify(
                envelope,
                at=when,
                trusted=self.config.trusted_roots or None,
                intermediates=self.config.intermediates,
                fund_certificate=fund,
            )
        except GostError as exc:
            raise ReplySignatureError(
                "Подпись СФР под ответом не удалось проверить: ответ повреждён.",
                detail=str(exc),
            ) from None
        body = body_of(envelope)
        try:
            signer = report.require(body, accept=_is_fund)
        except SignatureNotCovering as exc:
            raise _signature_error(report, body, fund, exc) from None
        return report, signer

    def _admit(
        self, request_id: str | None, signer: SignatureResult, when: datetime | date
    ) -> None:
        keys: list[tuple[str, str]] = []
        if request_id:
            m = _REQUEST_ID.match(request_id)
            if m:
                if m[1] != self.config.ogrn:
                    raise ReplayError(
                        f"Ответ СФР адресован другой организации (ОГРН {m[1]}); он не принят.",
                        detail=request_id,
                    )
                if self.config.reply_max_age is not None:
                    try:
                        day = date(int(m[2]), int(m[3]), int(m[4]))
                    except ValueError:
                        day = None
                    today = when.date() if isinstance(when, datetime) else when
                    if day is not None and abs(day - today) > self.config.reply_max_age:
                        raise ReplayError(
                            f"Ответ СФР сформирован {day:%d.%m.%Y}, а не сегодня; это повтор "
                            "старого ответа, он не принят.",
                            detail=request_id,
                        )
            scope = f"{self.config.contour.value}:{self.config.ogrn}"
            keys.append((f"requestId:{scope}:{request_id}", f"requestId {request_id}"))
        value = _signature_value(signer)
        if value is not None:
            keys.append(("signature:" + hashlib.sha256(value).hexdigest(), "та же подпись СФР"))
        self.guard.admit(keys)

    # ------------------------------------------------------------------------------------------
    # zeep's wsse interface
    # ------------------------------------------------------------------------------------------

    def apply(self, envelope: etree._Element, headers: dict[str, Any]) -> tuple[Any, Any]:
        """zeep: sign and encrypt the envelope zeep built; returns the envelope to send."""
        body = envelope.find(f"{{{SOAP11}}}Body")
        if body is None or not len(body):
            raise FssError("Пустой запрос к СФР.")  # pragma: no cover
        payload = etree.fromstring(etree.tostring(body[0]))
        etree.cleanup_namespaces(payload)
        operation = _operation_of(self.config.version, payload)
        secured = self.secure(envelope_for(payload), operation)
        self._local.operation = operation
        self._local.secured = secured
        return etree.fromstring(secured.wire), headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        """zeep: check, decrypt and verify the reply, then put the clear verified document in
        place of the received one (zeep parses what ``envelope`` holds afterwards)."""
        data = etree.tostring(envelope)
        operation = getattr(self._local, "operation", None)
        reply = self.open_reply(data, operation=operation)
        self._local.reply = reply
        new_root = reply.document.getroot()
        for c in list(envelope):
            envelope.remove(c)
        for c in new_root:
            envelope.append(_copy(c))
        return envelope

    @property
    def last_reply(self) -> VerifiedReply | None:
        """The last verified reply of this thread (zeep path)."""
        return getattr(self._local, "reply", None)


def _copy(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el))


def _operation_of(version: ProtocolVersion, payload: etree._Element) -> Operation:
    for op in Operation:
        if operation_info(version, op).input_element == payload.tag:
            return op
    raise FssError(  # pragma: no cover - zeep only builds the WSDL's operations
        "Запрос к СФР неизвестного вида.", detail=str(payload.tag)
    )


def _is_encrypted(envelope: etree._Element) -> bool:
    try:
        return xmlenc.is_encrypted(envelope)
    except InvalidInput as exc:
        raise ReplyFormatError("Ответ СФР не является SOAP-сообщением.", detail=str(exc)) from None


def _is_fund(res: SignatureResult) -> bool:
    act = profile.parse_actor(res.actor or "")
    return act is not None and act.kind == "fund"


def _signature_value(res: SignatureResult) -> bytes | None:
    sig = res.signature_element
    if sig is None:
        return None
    el = sig.find(SIGNATURE_VALUE)
    if el is None or not el.text:
        return None
    try:
        return base64.b64decode("".join(el.text.split()))
    except (binascii.Error, ValueError):
        return None


def _fss_fault(fault: FundFault, http_status: int) -> FssFault:
    return FssFault(
        fault.code,
        fault.message,
        faultcode=fault.faultcode,
        uuid=fault.detail_uuid,
        http_status=http_status,
    )


def _raise_fault(envelope: etree._Element, http_status: int) -> None:
    fault = find_fault(envelope)
    if fault is not None:
        raise _fss_fault(fault, http_status)


def _signature_error(
    report: VerificationReport,
    body: etree._Element,
    fund: Certificate,
    exc: SignatureNotCovering,
) -> ReplySignatureError:
    problems = [str(p) for p in report.all_problems()]
    detail = f"{exc}; " + "; ".join(problems)
    covering = report.covering(body)
    fund_sigs = [s for s in covering if _is_fund(s)]
    if not report.signatures:
        return ReplySignatureError(
            "Ответ СФР не подписан; он не принят.", detail=detail, problems=problems
        )
    if not fund_sigs:
        who = ", ".join(sorted({str(s.actor) for s in covering})) or "никем"
        return ReplySignatureError(
            f"Ответ не подписан СФР (тело ответа подписано: {who}); он не принят.",
            detail=detail,
            problems=problems,
        )
    s = fund_sigs[0]
    reasons = set(s.reasons)
    if Reason.ALGORITHM_REFUSED in reasons:
        message = (
            "Ответ подписан по ГОСТ Р 34.10-2001, который СФР с 01.01.2020 не применяет; ответ "
            "не принят."
        )
    elif s.certificate is None:
        message = "Сертификат в подписи ответа СФР не читается; ответ не принят."
    elif Reason.NOT_FUND_CERTIFICATE in reasons:
        message = (
            f"Ответ подписан сертификатом «{s.certificate.subject}», а не сертификатом "
            f"уполномоченного лица СФР из настроек («{fund.subject}», серийный номер "
            f"{fund.serial:x}); ответ не принят."
        )
    elif reasons & {Reason.DIGEST_MISMATCH, Reason.SIGNATURE_INVALID, Reason.SIGNATURE_MALFORMED}:
        message = "Подпись СФР под ответом недействительна: ответ изменён после подписания."
    elif Reason.CERT_NOT_VALID_AT in reasons:
        message = (
            f"Сертификат СФР, которым подписан ответ, недействителен на дату проверки "
            f"(действует с {fund.not_before:%d.%m.%Y} по {fund.not_after:%d.%m.%Y})."
        )
    elif reasons & {Reason.CERT_NOT_TRUSTED, Reason.CERT_REVOKED}:
        message = "Сертификат СФР, которым подписан ответ, не прошёл проверку цепочки доверия."
    else:
        message = "Подпись СФР под ответом не прошла проверку; ответ не принят."
    return ReplySignatureError(message, detail=detail, problems=problems)
