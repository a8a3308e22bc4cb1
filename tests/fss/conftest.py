from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from eln_tui.core.fss import Contour, ExchangeRecord, FssClient, FssConfig
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import Party, Pki, create_test_pki, make_mo
from gostsign.vko import KeyAgreement, SoftwareKeyAgreement
from gostsign.x509 import Certificate
from tests.fss.fakefund import FakeFund, FundServer


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
def fund(pki: Pki, stranger: Party) -> FakeFund:
    return FakeFund(pki.fund, stranger=stranger)


@pytest.fixture
def server(fund: FakeFund) -> Iterator[FundServer]:
    with FundServer(fund) as srv:
        yield srv


class Wire:
    """An in-process transport: what the client posts goes straight to the fake Fund."""

    def __init__(self, fund: FakeFund) -> None:
        self.fund = fund
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        self.sent.append((address, message, dict(headers)))
        status, body = self.fund.respond(message)
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        return response

    def attach(self, client: FssClient) -> FssClient:
        client.transport.post = self.post  # type: ignore[method-assign]
        return client


@pytest.fixture
def wire(fund: FakeFund) -> Wire:
    return Wire(fund)


@pytest.fixture
def make_client(
    make_config: Callable[..., FssConfig], mo_key: SoftKey, wire: Wire
) -> Callable[..., tuple[FssClient, list[ExchangeRecord]]]:
    """A client wired to the in-process fake Fund; returns it with its audit records."""

    def make(key: Any = None, **kw: Any) -> tuple[FssClient, list[ExchangeRecord]]:
        records: list[ExchangeRecord] = []
        client = FssClient(make_config(**kw), key or mo_key, audit=records.append)
        return wire.attach(client), records

    return make
