from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from eln_tui.core.fss import Contour, ExchangeRecord, FssClient, FssConfig
from fss_emulator import Emulator
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import Party, Pki, create_test_pki, make_mo
from gostsign.vko import KeyAgreement, SoftwareKeyAgreement
from gostsign.x509 import Certificate


class SoftKey:
    """The МО key as a provider session would present it (certificate, sign, VKO)."""

    def __init__(self, party: Party) -> None:
        self._key: PrivateKey = party.key
        self._cert = party.cert
        self.signed = 0

    @property
    def certificate(self) -> Certificate:
        return self._cert

    def sign_digest(self, digest: bytes) -> bytes:
        self.signed += 1
        return self._key.sign_digest(digest)

    def key_agreement(self) -> KeyAgreement:
        return SoftwareKeyAgreement(self._key)


@pytest.fixture(scope="session")
def pki() -> Pki:
    return create_test_pki()


@pytest.fixture(scope="session")
def stranger(pki: Pki) -> Party:
    """A certificate of the same CA that is not the Fund's (signs 'stranger' replies)."""
    return make_mo(pki.ca, name="Посторонняя организация", ogrn="1027700000039")


@pytest.fixture
def mo_key(pki: Pki) -> SoftKey:
    return SoftKey(pki.mo)


@pytest.fixture
def make_config(pki: Pki) -> Callable[..., FssConfig]:
    def make(**kw: Any) -> FssConfig:
        base: dict[str, Any] = {
            "ogrn": pki.mo.cert.subject.ogrn,
            "contour": Contour.EMULATOR,
            "url": "http://127.0.0.1:9/FileOperationsLnService",
            "fund_certificates": {Contour.EMULATOR: pki.fund.cert},
            "author": "Иванова М. П.",
            "phone": "+7 495 000-00-00",
            "email": "eln@example.test",
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
            "retry_backoff": 0.0,
        }
        base.update(kw)
        return FssConfig(**base)

    return make


@pytest.fixture
def emulator(tmp_path: Path, pki: Pki) -> Iterator[Emulator]:
    """The Fund's emulator with the test PKI's Fund key (so tests can decrypt what was sent),
    trusting the test CA; faults are injected with ``emulator.inject``."""
    with Emulator(
        tmp_path / "fss",
        trust=[pki.ca.cert],
        fund_key=pki.fund.key,
        fund_cert=pki.fund.cert,
        ca_cert=pki.ca.cert,
        ca_key=pki.ca.key,
        fund_ogrn=pki.fund.cert.subject.ogrn or "",
    ) as emu:
        yield emu


class Wire:
    """Records what a client posts (address, bytes, headers) on its way to the emulator."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def attach(self, client: FssClient) -> FssClient:
        post = client.transport.post_capped

        def recording(address: str, message: bytes, headers: dict[str, str], limit: int) -> Any:
            self.sent.append((address, message, dict(headers)))
            return post(address, message, headers, limit)

        client.transport.post_capped = recording  # type: ignore[method-assign]
        return client


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def make_client(
    make_config: Callable[..., FssConfig], mo_key: SoftKey, wire: Wire, emulator: Emulator
) -> Callable[..., tuple[FssClient, list[ExchangeRecord]]]:
    """A client of the emulator (the endpoint of its dialect and encryption), its posts recorded
    by ``wire``; returns it with its audit records."""

    def make(key: Any = None, **kw: Any) -> tuple[FssClient, list[ExchangeRecord]]:
        records: list[ExchangeRecord] = []
        version = str(kw.get("version", "2.0"))
        encrypted = kw.get("encryption") is not False
        kw.setdefault("url", emulator.endpoint_url(version, encrypted=encrypted))  # type: ignore[arg-type]
        client = FssClient(make_config(**kw), key or mo_key, audit=records.append)
        return wire.attach(client), records

    return make
