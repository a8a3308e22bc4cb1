"""Fixtures for the provider tests: a test CA, software key sets, SoftHSM tokens."""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gostsign import keys
from gostsign.curves import get_curve
from gostsign.gost3410 import PrivateKey, PublicKey
from gostsign.x509 import Certificate, issue_certificate
from providers.pkcs11 import Pkcs11Provider, unload_module
from providers.software import DemoKeySet, create_test_set
from tests import oracles

PIN = "1234"
SO_PIN = "12345678"
KEY_PASSWORD = "пароль-ключа"


@dataclass
class CAFixture:
    key: PrivateKey
    cert: Certificate

    def issue(self, pub: PublicKey, subject: str, **kw: object) -> Certificate:
        return issue_certificate(pub, subject, self.cert, self.key, **kw)  # type: ignore[arg-type]

    def new_key(
        self, subject: str, curve: str = "cryptopro-a", **kw: object
    ) -> tuple[PrivateKey, Certificate]:
        key = PrivateKey.generate(get_curve(curve))
        return key, self.issue(key.public_key(), subject, **kw)


@pytest.fixture(scope="session")
def test_ca() -> CAFixture:
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    cert = issue_certificate(
        key.public_key(),
        "CN=Тестовый УЦ провайдеров,O=Тест,C=RU",
        None,
        key,
        ca=True,
        not_before=datetime.now(UTC) - timedelta(hours=1),
    )
    return CAFixture(key, cert)


@pytest.fixture(scope="session")
def software_set(tmp_path_factory: pytest.TempPathFactory) -> DemoKeySet:
    """A test key set (fast PBKDF2 for tests; the product default is 600 000 rounds)."""
    return create_test_set(tmp_path_factory.mktemp("keys") / "set", KEY_PASSWORD, iterations=1000)


# ----------------------------------------------------------------------------------------------
# SoftHSM
# ----------------------------------------------------------------------------------------------

#: SoftHSM keeps the token flags as attribute CKA_OS_TOKENFLAGS (vendor 0x8000534B, type
#: ULONG) in token.object: [8-byte type][8-byte kind = 2][8-byte value], big-endian.
_FLAGS_PREFIX = bytes.fromhex("000000008000534b0000000000000002")


@dataclass
class SoftHSM:
    """A private SoftHSM2 (own SOFTHSM2_CONF and token directory, own copy of the module)."""

    root: Path
    module: Path
    conf: Path
    tokens: Path
    util: oracles.Tool
    labels: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf)}

    def init_token(self, label: str, pin: str = PIN, so_pin: str = SO_PIN) -> None:
        self.util.run(
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            pin,
            "--so-pin",
            so_pin,
            env=self.env(),
        )
        self.labels.append(label)

    def token_dir(self, label: str) -> Path:
        padded = label.encode().ljust(32)
        for d in self.tokens.iterdir():
            obj = d / "token.object"
            if obj.exists() and padded in obj.read_bytes():
                return d
        raise AssertionError(f"no SoftHSM token directory for {label}")

    def set_token_flags(self, label: str, add: int) -> None:
        """OR bits into the token flags SoftHSM reports (it never sets the PIN flags itself)."""
        obj = self.token_dir(label) / "token.object"
        data = bytearray(obj.read_bytes())
        at = data.find(_FLAGS_PREFIX)
        assert at >= 0, "token flags attribute not found"
        pos = at + len(_FLAGS_PREFIX)
        (flags,) = struct.unpack(">Q", data[pos : pos + 8])
        data[pos : pos + 8] = struct.pack(">Q", flags | add)
        # Bump the generation counter so a loaded module re-reads the file.
        (gen,) = struct.unpack(">Q", data[:8])
        data[:8] = struct.pack(">Q", gen + 1)
        obj.write_bytes(bytes(data))

    def provider(self, **settings: object) -> Pkcs11Provider:
        return Pkcs11Provider({"module": str(self.module), **settings})


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SoftHSM]:
    source = oracles.softhsm_module()
    util = oracles.softhsm_util()
    root = tmp_path / "softhsm"
    tokens = root / "tokens"
    tokens.mkdir(parents=True)
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}/\nobjectstore.backend = file\nlog.level = ERROR\n"
        "slots.removable = true\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    # A copy per test: SoftHSM reads SOFTHSM2_CONF when the module is initialised, and a
    # copy is a distinct library for the dynamic loader.
    module = root / "libsofthsm2.so"
    shutil.copy2(source, module)
    hsm = SoftHSM(root, module, conf, tokens, util)
    yield hsm
    unload_module(str(module))


@dataclass
class TokenKey:
    """A key generated on a SoftHSM token plus its certificate imported next to it."""

    provider: Pkcs11Provider
    label: str
    key_id: bytes
    cert: Certificate


def make_token_key(
    hsm: SoftHSM, ca: CAFixture, token: str, label: str, key_id: bytes, subject: str
) -> TokenKey:
    from providers.base import Pin

    provider = hsm.provider(token_label=token)
    pub = provider.generate_key(Pin(PIN), key_id=key_id, label=label)
    cert = ca.issue(pub, subject, snils="11223344595")
    provider.import_certificate(cert, Pin(PIN), key_id=key_id, label=label)
    return TokenKey(provider, label, key_id, cert)


def public_pem(cert: Certificate, directory: Path) -> Path:
    path = directory / f"{cert.thumbprint}.pub.pem"
    path.write_bytes(keys.dump_public_key(cert.public_key))
    return path


def openssl_verify(
    openssl: oracles.Tool, cert: Certificate, data: bytes, sig: bytes, tmp: Path
) -> None:
    """``openssl dgst -md_gost12_<bits> -verify`` must say Verified OK."""
    bits = cert.public_key.curve.bits
    (tmp / "data.bin").write_bytes(data)
    (tmp / "data.sig").write_bytes(sig)
    pub = public_pem(cert, tmp)
    proc = openssl.run(
        "dgst",
        f"-md_gost12_{bits}",
        "-verify",
        pub,
        "-signature",
        tmp / "data.sig",
        tmp / "data.bin",
    )
    assert b"Verified OK" in proc.stdout
