"""The software provider: encrypted key files, the test set, OpenSSL gost-engine keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gostsign import keys
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import snils_with_check
from gostsign.vko import kek_for_transport
from gostsign.x509 import Certificate, verify_chain
from providers.base import NO_PIN, PIN_PAD, Pin, PinMode
from providers.errors import (
    BadConfiguration,
    KeyCertificateMismatch,
    KeyNotFound,
    OperationNotSupported,
    PinRequired,
    WrongPin,
)
from providers.software import DemoKeySet, SoftwareProvider, create_test_set
from tests.providers.conftest import KEY_PASSWORD, CAFixture, openssl_verify

DATA = "Проверка подписи".encode()


def test_test_set_contents(software_set: DemoKeySet) -> None:
    ts = software_set
    assert set(ts.entries) == {"mo", "doctor1", "doctor2", "vk-chairman"}
    mo = ts["mo"].certificate
    assert mo.subject.ogrn is not None and len(mo.subject.ogrn) == 13
    for role in ("doctor1", "doctor2", "vk-chairman"):
        snils = ts[role].certificate.subject.snils
        assert snils is not None and len(snils) == 11
        assert snils_with_check(snils[:9]) == snils
    assert "Председатель врачебной комиссии" in ts["vk-chairman"].subject
    for info in ts.entries.values():
        verify_chain(info.certificate, [], [ts.ca_certificate])


def test_test_set_is_owner_only_and_encrypted(software_set: DemoKeySet) -> None:
    d = software_set.directory
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / "ca").stat().st_mode) == 0o700
    files = list(d.glob("*")) + list((d / "ca").glob("*"))
    for f in files:
        if f.is_file():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    for key_file in [*list(d.glob("*.key")), d / "ca" / "ca.key"]:
        data = key_file.read_bytes()
        assert keys.is_encrypted(data)
        assert b"ENCRYPTED PRIVATE KEY" in data


def test_listing_excludes_the_ca(software_set: DemoKeySet) -> None:
    p = SoftwareProvider({"key_dir": software_set.directory})
    assert p.availability()
    labels = {i.key_label for i in p.list_certificates()}
    assert labels == {"mo", "doctor1", "doctor2", "vk-chairman"}


def test_sign_verified_by_gostsign_and_openssl(
    software_set: DemoKeySet, openssl, tmp_path: Path
) -> None:
    p = SoftwareProvider({"key_dir": software_set.directory})
    info = software_set["doctor1"]
    assert p.pin_mode(info) is PinMode.ASK
    pin = Pin(KEY_PASSWORD)
    with p.open_session(info.serial_hex, pin) as session:
        assert pin.wiped
        sig = session.sign(DATA)
    info.certificate.public_key.verify(DATA, sig)
    openssl_verify(openssl, info.certificate, DATA, sig, tmp_path)


def test_vko_matches_the_peer_side(software_set: DemoKeySet) -> None:
    p = SoftwareProvider({"key_dir": software_set.directory})
    with p.open_session("label:mo", Pin(KEY_PASSWORD)) as session:
        agreement = session.key_agreement()
        eph = PrivateKey.generate(session.certificate.public_key.curve)
        ukm = bytes(range(1, 9))
        assert agreement.public_key == session.certificate.public_key
        assert agreement.derive_kek(eph.public_key(), ukm) == kek_for_transport(
            eph, session.certificate.public_key, ukm
        )


def test_wrong_password_and_no_password(software_set: DemoKeySet) -> None:
    p = SoftwareProvider({"key_dir": software_set.directory})
    with pytest.raises(WrongPin) as info:
        p.open_session("label:mo", Pin("не тот"))
    assert info.value.tries_left is None
    with pytest.raises(PinRequired):
        p.open_session("label:mo", NO_PIN)
    with pytest.raises(OperationNotSupported):
        p.open_session("label:mo", PIN_PAD)
    with pytest.raises(KeyNotFound):
        p.open_session("label:nobody", Pin(KEY_PASSWORD))


def test_unprotected_key_file_is_refused(tmp_path: Path) -> None:
    ts = create_test_set(tmp_path / "k", "pw", iterations=1000)
    key_file = ts["doctor2"].get("key_file")
    assert key_file is not None
    os.chmod(key_file, 0o644)
    p = SoftwareProvider({"key_dir": ts.directory})
    with pytest.raises(BadConfiguration) as info:
        p.open_session("label:doctor2", Pin("pw"))
    assert "chmod 600" in info.value.message


def test_import_openssl_engine_key(openssl, tmp_path: Path, test_ca: CAFixture) -> None:
    key_pem = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", key_pem)
    key = keys.load_private_key(key_pem.read_bytes())
    cert = test_ca.issue(key.public_key(), "CN=Тестировщик,SNILS=12345678964")
    p = SoftwareProvider({"key_dir": tmp_path / "store"})
    info = p.import_key(key_pem.read_bytes(), cert, "новый пароль", name="tester", iterations=1000)
    stored = (tmp_path / "store" / "tester.key").read_bytes()
    assert keys.is_encrypted(stored)
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "store" / "tester.key").stat().st_mode) == 0o600
    with p.open_session(info.thumbprint, Pin("новый пароль")) as session:
        sig = session.sign(DATA)
    openssl_verify(openssl, cert, DATA, sig, tmp_path)
    with pytest.raises(BadConfiguration):  # never overwritten
        p.import_key(key_pem.read_bytes(), cert, "x", name="tester", iterations=1000)


def test_import_encrypted_engine_key_and_mismatch(
    openssl, tmp_path: Path, test_ca: CAFixture
) -> None:
    plain = tmp_path / "k.pem"
    enc = tmp_path / "k.enc.pem"
    openssl.run("genpkey", "-algorithm", "gost2012_512", "-pkeyopt", "paramset:A", "-out", plain)
    openssl.run(
        "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", plain, "-out", enc, "-passout", "pass:src"
    )
    key = keys.load_private_key(plain.read_bytes())
    cert = test_ca.issue(key.public_key(), "CN=Ключ 512")
    p = SoftwareProvider({"key_dir": tmp_path / "store"})
    with pytest.raises(WrongPin):
        p.import_key(enc.read_bytes(), cert, "pw", source_password="bad", iterations=1000)
    info = p.import_key(enc.read_bytes(), cert, "pw", source_password="src", iterations=1000)
    assert info.bits == 512
    with p.open_session(info.thumbprint, Pin("pw")) as session:
        sig = session.sign(DATA)
    assert len(sig) == 128
    openssl_verify(openssl, cert, DATA, sig, tmp_path)
    _, other = test_ca.new_key("CN=Другой")
    with pytest.raises(KeyCertificateMismatch):
        p.import_key(plain.read_bytes(), other, "pw", name="other", iterations=1000)


def test_missing_key_dir(tmp_path: Path) -> None:
    p = SoftwareProvider({"key_dir": tmp_path / "none"})
    avail = p.availability()
    assert not avail and "не существует" in (avail.reason or "")
    assert p.list_certificates() == []


def test_unencrypted_key_needs_no_pin(tmp_path: Path, test_ca: CAFixture) -> None:
    key, cert = test_ca.new_key("CN=Без пароля")
    d = tmp_path / "k"
    d.mkdir(mode=0o700)
    (d / "plain.key").write_bytes(keys.dump_private_key(key))
    os.chmod(d / "plain.key", 0o600)
    (d / "plain.crt").write_bytes(cert.pem)
    p = SoftwareProvider({"key_dir": d})
    [info] = p.list_certificates()
    assert p.pin_mode(info) is PinMode.NONE
    with p.open_session(info, NO_PIN) as session:
        session.certificate.public_key.verify(DATA, session.sign(DATA))
    assert isinstance(session.certificate, Certificate)
