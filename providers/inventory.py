"""What the workstation's providers can do, for ``eln crypto`` and the admin's screen alike.

:func:`survey` tries every registered provider (entry points and built-ins) with its settings and
says whether it works here and, if not, why (one Russian sentence); :func:`sign_check` signs a
fresh test digest with one certificate and checks the signature with gostsign. No printing, no
prompts: the command line and the terminal UI present the results their own way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gostsign import streebog
from gostsign.errors import InvalidSignature
from providers.base import CertificateInfo, PinSource, Provider
from providers.errors import ProviderError
from providers.registry import provider_entries


@dataclass(frozen=True)
class ProviderStatus:
    """One registered provider on this machine."""

    name: str
    title: str
    origin: str
    available: bool
    #: Why it does not work here (Russian), None when it does.
    reason: str | None
    selected: bool

    @property
    def state(self) -> str:
        return "работает" if self.available else f"нет: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "selected": self.selected,
            "title": self.title,
            "available": self.available,
            "reason": self.reason,
        }


def survey(
    settings_for: Callable[[str], Mapping[str, Any]], chosen: str | None
) -> list[ProviderStatus]:
    """Every provider by name with its state; ``settings_for(name)`` gives its settings."""
    rows = []
    for name, entry in sorted(provider_entries().items()):
        title = ""
        try:
            cls = entry.load()
            title = cls.title
            provider = cls(dict(settings_for(name)))
            try:
                avail = provider.availability()
            finally:
                provider.close()
            ok, reason = avail.ok, avail.reason
        except ProviderError as exc:
            ok, reason = False, exc.message
        rows.append(ProviderStatus(name, title, entry.origin, ok, reason, name == chosen))
    return rows


@dataclass(frozen=True)
class SignCheck:
    """The outcome of :func:`sign_check`."""

    certificate: CertificateInfo
    digest: bytes
    signature: bytes
    #: The signature verifies against the certificate's public key.
    verified: bool
    #: The certificate is within its validity period now.
    valid_now: bool


def probe_message() -> bytes:
    """A message that differs each time (a signature of it proves a live key, not a replay)."""
    return f"Проверка подписи ЭЛН {datetime.now(UTC).isoformat()} {os.getpid()}".encode()


def sign_check(provider: Provider, info: CertificateInfo, pin: PinSource) -> SignCheck:
    """Sign a fresh Streebog digest with ``info``'s key and verify it with gostsign.

    Provider errors (wrong PIN, no token) propagate; a signature that does not verify is
    reported as ``verified=False``.
    """
    digest = streebog.digest(probe_message(), info.bits)
    with provider.open_session(info, pin) as session:
        signature = session.sign_digest(digest)
    try:
        info.certificate.public_key.verify_digest(digest, signature)
        verified = True
    except InvalidSignature:
        verified = False
    return SignCheck(
        info, digest, signature, verified, info.certificate.is_valid_at(datetime.now(UTC))
    )
