"""The exchange record handed to the audit journal after every attempt.

The record holds the request as signed, in clear (before encryption), and the reply in clear
after decryption (the Fund's signature still in it), so the journal keeps evidence that can be
re-verified later. It never holds secrets: no private key, PIN, session or key-encryption key,
and not the encrypted wire form (which adds nothing but ciphertext). When a reply could not be
opened (not XML, not decryptable) ``response`` is what arrived, as is, and
``response_clear`` is False.

The sink is any callable; storage maps the record onto its ``ExchangeLog`` table (operation,
endpoint, request_id, ok, duration_ms, error, request, response). A sink that raises is logged
and otherwise ignored: losing a journal line must not lose a reply whose effect at the Fund
has already happened (numbers allotted, ELN accepted).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eln_tui.core.fss.operations import Operation

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    OK = "ok"  #: a verified reply (its status may still be 0: see the result)
    FAULT = "fault"  #: the Fund answered with a SOAP Fault
    ERROR = "error"  #: no usable reply (network, HTTP, decryption, signature, replay, format)


@dataclass(frozen=True)
class ExchangeRecord:
    operation: Operation
    endpoint: str
    contour: str
    version: str
    ogrn: str
    started_at: datetime
    duration_ms: int
    attempt: int
    outcome: Outcome
    request: bytes | None
    #: SHA-256 (first 32 hex digits) of the bytes sent: one message across its attempts.
    request_nonce: str | None = None
    response: bytes | None = None
    response_clear: bool = False
    http_status: int | None = None
    request_id: str | None = None
    status: int | None = None
    error: str | None = None
    error_type: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (XML as UTF-8 text)."""
        return {
            "operation": self.operation.value,
            "endpoint": self.endpoint,
            "contour": self.contour,
            "version": self.version,
            "ogrn": self.ogrn,
            "started_at": self.started_at.isoformat(),
            "duration_ms": self.duration_ms,
            "attempt": self.attempt,
            "request_nonce": self.request_nonce,
            "outcome": self.outcome.value,
            "http_status": self.http_status,
            "request_id": self.request_id,
            "status": self.status,
            "error": self.error,
            "error_type": self.error_type,
            "detail": self.detail,
            "request": self.request.decode("utf-8", "replace") if self.request else None,
            "response": self.response.decode("utf-8", "replace") if self.response else None,
            "response_clear": self.response_clear,
        }


AuditSink = Callable[[ExchangeRecord], None]


def deliver(sink: AuditSink | None, record: ExchangeRecord) -> None:
    if sink is None:
        return
    try:
        sink(record)
    except Exception:
        log.exception("the exchange journal did not accept a record of %s", record.operation)
