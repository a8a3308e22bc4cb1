"""The vipnet provider against the test doubles (CryptoAPI libraries and csp-gost).

Verified only against tests/doubles: ViPNet CSP cannot run on our machines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gostsign import streebog
from providers.base import NO_PIN, Pin
from providers.errors import KeyNotFound, PinLocked, PinRequired, ProviderNotInstalled, WrongPin
from providers.vipnet import VipNetProvider, parse_print_containers
from tests.doubles import DoubleKey, install_vipnet
from tests.providers.conftest import CAFixture, openssl_verify

DATA = "ЭЛН 910000000004".encode()
PIN = "87654321"


@pytest.fixture
def setup(tmp_path: Path, test_ca: CAFixture, monkeypatch: pytest.MonkeyPatch):
    k1, c1 = test_ca.new_key("CN=Врач ViPNet,SNILS=11223344595")
    k2, c2 = test_ca.new_key("CN=МО ViPNet,OGRN=1027700132195", curve="tc26-512-a")
    _, c3 = test_ca.new_key("CN=Только сертификат")
    entries = [
        DoubleKey("doctor", k1, c1, pin=PIN),
        DoubleKey("mo", k2, c2, pin=PIN, keyspec=2),
        DoubleKey("nokey", k1, c3, keyspec=0),
    ]
    base = install_vipnet(tmp_path / "itcs", entries, monkeypatch=monkeypatch)
    return VipNetProvider({"base": base}), entries


def test_listing_and_containers(setup) -> None:
    provider, entries = setup
    assert provider.availability()
    thumbs = {i.thumbprint for i in provider.list_certificates()}
    assert thumbs == {entries[0].cert.thumbprint, entries[1].cert.thumbprint}  # not "nokey"
    assert provider.containers() == ["doctor", "mo", "nokey"]


def test_sign_digest_and_data(setup, openssl, tmp_path: Path) -> None:
    provider, entries = setup
    for e in entries[:2]:
        bits = e.cert.public_key.curve.bits
        digest = streebog.digest(DATA, bits)
        with provider.open_session(e.cert.thumbprint, Pin(PIN)) as session:
            sig = session.sign_digest(digest)
            data_sig = session.sign(DATA)
        e.cert.public_key.verify_digest(digest, sig)
        openssl_verify(openssl, e.cert, DATA, data_sig, tmp_path)


def test_wrong_pin_locked_missing(setup) -> None:
    provider, entries = setup
    ref = entries[0].cert.thumbprint
    with pytest.raises(WrongPin):
        provider.open_session(ref, Pin("0"))
    with pytest.raises(WrongPin):
        provider.open_session(ref, Pin("1"))
    with pytest.raises(PinLocked):
        provider.open_session(ref, Pin("2"))
    with provider.open_session(entries[1].cert.thumbprint, NO_PIN) as session:
        with pytest.raises(PinRequired):
            session.sign(DATA)
    with pytest.raises(KeyNotFound):
        provider.open_session(entries[2].cert.thumbprint, Pin(PIN))


def test_not_installed(tmp_path: Path) -> None:
    provider = VipNetProvider({"base": tmp_path})
    avail = provider.availability()
    assert not avail and "libadvapi32.so" in (avail.reason or "")
    with pytest.raises(ProviderNotInstalled):
        provider.list_certificates()


def test_print_containers_parser() -> None:
    text = "ViPNet CSP containers:\n1. doctor\n2. Контейнер МО\n\n"
    assert parse_print_containers(text) == ["doctor", "Контейнер МО"]
