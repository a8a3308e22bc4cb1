"""The cryptopro provider against the test doubles of csptest, certmgr and CryptoAPI.

Everything here is verified only against tests/doubles (no CryptoPro CSP can run on our
machines): the doubles reproduce the documented formats (cp1251, FQCN names, ``SHA1 Hash``
lines, ``[ErrorCode: ...]``, exit codes) and sign with real keys in CryptoAPI byte order, so
parsing, byte reversal and error mapping are exercised for real.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gostsign import streebog
from providers.base import NO_PIN, PIN_PAD, Pin
from providers.cryptopro import (
    CryptoProProvider,
    StoreEntry,
    error_code,
    parse_certmgr_list,
    parse_containers,
    proc_hides_processes,
)
from providers.errors import (
    BadConfiguration,
    KeyNotFound,
    OperationNotSupported,
    PinLocked,
    PinRequired,
    ProviderNotInstalled,
    WrongPin,
)
from tests.doubles import DoubleKey, install_cryptopro
from tests.providers.conftest import CAFixture, openssl_verify

DATA = "<SignedInfo>ЭЛН 910000000003</SignedInfo>".encode()
PIN = "12345678"


@pytest.fixture
def keys_(test_ca: CAFixture) -> list[DoubleKey]:
    k1, c1 = test_ca.new_key("CN=Сидорова Анна Викторовна,SNILS=98765432183")
    k2, c2 = test_ca.new_key("CN=ГБУЗ «Поликлиника № 1»,OGRN=1027700132195", curve="tc26-512-a")
    k3, c3 = test_ca.new_key("CN=Без PIN")
    return [
        DoubleKey("sidorova", k1, c1, pin=PIN),
        DoubleKey("mo-2026", k2, c2, pin=PIN, keyspec=2, reader="Aktiv Rutoken ECP 00 00"),
        DoubleKey("nopin", k3, c3, pin=None),
    ]


@pytest.fixture
def csptest_only(tmp_path: Path, keys_, monkeypatch: pytest.MonkeyPatch) -> CryptoProProvider:
    base = install_cryptopro(tmp_path / "cprocsp", keys_, with_capi=False, monkeypatch=monkeypatch)
    return CryptoProProvider({"base": base, "pin_on_command_line": True})


@pytest.fixture
def with_capi(tmp_path: Path, keys_, monkeypatch: pytest.MonkeyPatch) -> CryptoProProvider:
    base = install_cryptopro(tmp_path / "cprocsp", keys_, with_capi=True, monkeypatch=monkeypatch)
    return CryptoProProvider({"base": base})


def test_double_speaks_cp1251(csptest_only: CryptoProProvider) -> None:
    out = subprocess.run(
        [str(csptest_only.bin_dir / "certmgr"), "-list", "-store", "uMy"],
        capture_output=True,
        check=True,
    ).stdout
    assert "Сидорова".encode("cp1251") in out
    with pytest.raises(UnicodeDecodeError):
        out.decode("utf-8")
    assert b"SHA1 Hash           : " in out and out.rstrip().endswith(b"[ErrorCode: 0x00000000]")


def test_listing(csptest_only: CryptoProProvider, keys_) -> None:
    assert csptest_only.availability()
    containers = csptest_only.containers()
    assert (
        "\\\\.\\HDIMAGE\\sidorova",
        "\\\\.\\HDIMAGE\\HDIMAGE\\\\sidorova.000\\1A2B",
    ) in containers
    infos = {i.certificate.thumbprint: i for i in csptest_only.list_certificates()}
    assert set(infos) == {k.cert.thumbprint for k in keys_}
    sid = infos[keys_[0].cert.thumbprint]
    assert sid.get("container") == "\\\\.\\HDIMAGE\\sidorova"
    assert sid.get("keyspec") == "1"
    mo = infos[keys_[1].cert.thumbprint]
    assert mo.get("container") == "\\\\.\\Aktiv Rutoken ECP 00 00\\mo-2026"
    assert mo.get("keyspec") == "2" and mo.bits == 512
    assert "Сидорова" in sid.subject


def test_csptest_signs_data_with_byte_reversal(
    csptest_only: CryptoProProvider, keys_, openssl, tmp_path: Path
) -> None:
    for k in keys_[:2]:
        with csptest_only.open_session(k.cert.thumbprint, Pin(PIN)) as session:
            sig = session.sign(DATA)
            with pytest.raises(OperationNotSupported) as info:
                session.sign_digest(streebog.digest(DATA, k.cert.public_key.curve.bits))
            assert "csptest" in info.value.message
        k.cert.public_key.verify(DATA, sig)  # s_be || r_be after the reversal
        openssl_verify(openssl, k.cert, DATA, sig, tmp_path)


def test_csptest_without_pin(csptest_only: CryptoProProvider, keys_) -> None:
    with csptest_only.open_session(keys_[2].cert.thumbprint, NO_PIN) as session:
        keys_[2].cert.public_key.verify(DATA, session.sign(DATA))
    with pytest.raises(PinRequired):
        csptest_only.open_session(keys_[0].cert.thumbprint, NO_PIN)


def test_csptest_wrong_pin_then_locked(csptest_only: CryptoProProvider, keys_) -> None:
    ref = keys_[0].cert.thumbprint
    for _ in range(2):
        with pytest.raises(WrongPin):
            csptest_only.open_session(ref, Pin("00000000"))
    with pytest.raises(PinLocked):
        csptest_only.open_session(ref, Pin("00000000"))
    with pytest.raises(PinLocked):
        csptest_only.open_session(ref, Pin(PIN))


def test_pin_is_not_put_on_a_command_line_by_default(
    tmp_path: Path, keys_, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = install_cryptopro(tmp_path / "cprocsp", keys_, with_capi=False, monkeypatch=monkeypatch)
    provider = CryptoProProvider({"base": base})
    if proc_hides_processes():
        pytest.skip("/proc is mounted with hidepid here: the command line is private")
    pin = Pin(PIN)
    with pytest.raises(BadConfiguration) as info:
        provider.open_session(keys_[0].cert.thumbprint, pin)
    assert pin.wiped
    assert "hidepid" in info.value.message and "pin_on_command_line" in info.value.message


def test_hidepid_detection() -> None:
    assert proc_hides_processes("proc /proc proc rw,nosuid,hidepid=invisible 0 0\n")
    assert proc_hides_processes("proc /proc proc rw,hidepid=2,gid=0 0 0\n")
    assert not proc_hides_processes("proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n")
    assert not proc_hides_processes("proc /proc proc rw,hidepid=0 0 0\n")


def test_capi_signs_digests_with_the_pin_in_process(
    with_capi: CryptoProProvider, keys_, openssl, tmp_path: Path
) -> None:
    assert with_capi.describe()["backend"] == "capi"
    for k in keys_[:2]:
        bits = k.cert.public_key.curve.bits
        digest = streebog.digest(DATA, bits)
        with with_capi.open_session(k.cert.thumbprint, Pin(PIN)) as session:
            sig = session.sign_digest(digest)
            sig_data = session.sign(DATA)
            with pytest.raises(OperationNotSupported):
                session.key_agreement()
        assert len(sig) == bits // 4
        k.cert.public_key.verify_digest(digest, sig)
        openssl_verify(openssl, k.cert, DATA, sig_data, tmp_path)


def test_capi_wrong_pin_locked_and_missing_pin(with_capi: CryptoProProvider, keys_) -> None:
    ref = keys_[0].cert.thumbprint
    with pytest.raises(WrongPin):
        with_capi.open_session(ref, Pin("1"))
    with pytest.raises(WrongPin):
        with_capi.open_session(ref, Pin("2"))
    with pytest.raises(PinLocked):
        with_capi.open_session(ref, Pin("3"))
    session = with_capi.open_session(keys_[1].cert.thumbprint, NO_PIN)
    with session, pytest.raises(PinRequired):
        session.sign(DATA)
    with pytest.raises(OperationNotSupported):
        with_capi.open_session(keys_[1].cert.thumbprint, PIN_PAD)


def test_missing_installation(tmp_path: Path) -> None:
    provider = CryptoProProvider({"base": tmp_path / "nothing"})
    avail = provider.availability()
    assert not avail and "csptest" in (avail.reason or "")
    with pytest.raises(ProviderNotInstalled):
        provider.list_certificates()
    with pytest.raises(BadConfiguration):
        CryptoProProvider({"base": tmp_path, "backend": "magic"}).backend  # noqa: B018


def test_unknown_certificate(csptest_only: CryptoProProvider) -> None:
    with pytest.raises(KeyNotFound):
        csptest_only.open_session("00" * 20, Pin(PIN))


# -- parsers on documented real-world samples --------------------------------------------------

CERTMGR_V4 = """\
Certmgr 1.0 (c) "CryptoPro",  2007-2010.
program for managing certificates, CRLs and stores

=============================================================================
1-------
Issuer              : C=RU, L=Moscow, O=CRYPTO-PRO LLC, CN=CRYPTO-PRO Test Center 2
Subject             : C=RU, L=Moscow, O=CRYPTO-PRO LLC, CN=CRYPTO-PRO Test Center 2
Serial              : 0x2B6E3351FD6EB2AD48200203CB5BA141
SHA1 Hash           : 0x046255290b0eb1cdd1797d9ab8c81f699e3687f3
SubjKeyID           : 15317cb08d1ade66d7159c4952971724b9017a83
Signature Algorithm : ГОСТ Р 34.11/34.10-2001
PublicKey Algorithm : ГОСТ Р 34.10-2001 (512 bits)
Not valid before    : 05/08/2014  13:44:24 UTC
Not valid after     : 05/08/2019  13:54:03 UTC
PrivateKey Link     : No
=============================================================================
2-------
Subject             : SNILS=02858267990, CN=Сидоренко Ирина Валентиновна
Serial              : 0x6F45B4E8000000024591
SHA1 Thumbprint     : 5f9be5d24244692b3f71d3503bc158127bebf0c6
PrivateKey Link     : Yes
Container           : HDIMAGE\\\\Sidorenk.000\\2A2E
Provider Name       : Crypto-Pro GOST R 34.10-2012 KC1 CSP
Provider Info       : ProvType: 80, KeySpec: 1, Flags: 0x0
=============================================================================

[ErrorCode: 0x00000000]
"""


def test_certmgr_parser_on_both_layouts() -> None:
    blocks = parse_certmgr_list(CERTMGR_V4)
    entries = [StoreEntry.from_block(b) for b in blocks]
    assert (
        entries[0] is not None
        and entries[0].thumbprint == "046255290b0eb1cdd1797d9ab8c81f699e3687f3"
    )
    assert entries[0].has_key is False
    second = entries[1]
    assert second is not None and second.has_key and second.keyspec == 1 and second.provtype == 80
    assert second.thumbprint == "5f9be5d24244692b3f71d3503bc158127bebf0c6"
    assert second.container == "HDIMAGE\\\\Sidorenk.000\\2A2E"
    assert error_code(CERTMGR_V4) == 0


def test_container_parser() -> None:
    text = (
        "CSP (Type:80) v5.0.10003 KC1 Release Ver:5.0.12000 OS:Linux CPU:AMD64 "
        "FastCode:READY:AVX.\n"
        "AcquireContext: OK. HCRYPTPROV: 6679219\n"
        "\\\\.\\HDIMAGE\\test   |\\\\.\\HDIMAGE\\HDIMAGE\\\\test.000\\7A8B\n"
        "\\\\.\\Aktiv Rutoken ECP 00 00\\te-1234\n"
        "OK.\nTotal: SYS: 0,010 sec USR: 0,000 sec UTC: 0,020 sec\n[ErrorCode: 0x00000000]\n"
    )
    assert parse_containers(text) == [
        ("\\\\.\\HDIMAGE\\test", "\\\\.\\HDIMAGE\\HDIMAGE\\\\test.000\\7A8B"),
        ("\\\\.\\Aktiv Rutoken ECP 00 00\\te-1234", "\\\\.\\Aktiv Rutoken ECP 00 00\\te-1234"),
    ]
    assert (
        error_code("Error number 0x8010006b (2148532331).\n[ErrorCode: 0x8010006b]") == 0x8010006B
    )


def test_doubles_are_executables_in_a_vendor_like_tree(csptest_only: CryptoProProvider) -> None:
    for tool in ("csptest", "certmgr"):
        path = csptest_only.bin_dir / tool
        assert os.access(path, os.X_OK) and path.parent.name == "amd64"
