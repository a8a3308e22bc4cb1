"""The gostsign command, end to end, with OpenSSL on the other side where it matters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gostsign import streebog
from gostsign.cli import main

GOOD_OGRN = "1027700132195"
GOOD_SNILS = "11223344595"


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI in a subprocess, the way people and scripts do."""
    proc = subprocess.run(
        [sys.executable, "-m", "gostsign.cli", *args], capture_output=True, text=True, timeout=60
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    pw = tmp_path / "pw.txt"
    pw.write_text("секрет\n")
    ca_key, ca = tmp_path / "ca.key", tmp_path / "ca.pem"
    mo_key, mo = tmp_path / "mo.key", tmp_path / "mo.pem"
    assert main(["keygen", "--curve", "XA", "-o", str(ca_key), "--password-file", str(pw)]) == 0
    assert (
        main(
            [
                "cert",
                "new",
                "--key",
                str(ca_key),
                "--password-file",
                str(pw),
                "--ca",
                "--subject",
                "CN=Тестовый УЦ,O=Test,C=RU",
                "--days",
                "30",
                "-o",
                str(ca),
            ]
        )
        == 0
    )
    assert main(["keygen", "--curve", "tc26-256-b", "-o", str(mo_key)]) == 0
    assert (
        main(
            [
                "cert",
                "new",
                "--key",
                str(mo_key),
                "--subject",
                "CN=ГБУЗ Больница,O=ГБУЗ Больница",
                "--ogrn",
                GOOD_OGRN,
                "--ca-key",
                str(ca_key),
                "--ca-password-file",
                str(pw),
                "--ca-cert",
                str(ca),
                "-o",
                str(mo),
            ]
        )
        == 0
    )
    return {"pw": pw, "ca_key": ca_key, "ca": ca, "mo_key": mo_key, "mo": mo}


def test_key_files_are_owner_only(pki: dict[str, Path]) -> None:
    for name in ("ca_key", "mo_key"):
        assert pki[name].stat().st_mode & 0o077 == 0


def test_encrypted_key_really_is_encrypted(pki: dict[str, Path]) -> None:
    assert b"ENCRYPTED PRIVATE KEY" in pki["ca_key"].read_bytes()


def test_digest(tmp_path: Path) -> None:
    f = tmp_path / "d.bin"
    f.write_bytes(b"abc")
    code, out, _ = run("digest", str(f))
    assert code == 0
    assert out.strip() == "4e2919cf137ed41ec4fb6270c61826cc4fffb660341e0af3688cd0626d23b481"
    code, out, _ = run("digest", "--bits", "512", str(f))
    assert bytes.fromhex(out.strip()) == streebog.streebog512(b"abc")


def test_cert_show_names_russian_attributes(pki: dict[str, Path]) -> None:
    code, out, _ = run("cert", "show", str(pki["mo"]))
    assert code == 0
    assert f"ОГРН: {GOOD_OGRN}" in out
    assert "ГБУЗ Больница" in out


def test_sign_verify_round_trip_and_tamper(pki: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "eln.xml"
    data.write_bytes("<ЭЛН/>".encode())
    sig = tmp_path / "eln.sig"
    code, _, err = run("sign", "--key", str(pki["mo_key"]), str(data), "-o", str(sig))
    assert code == 0, err
    assert len(sig.read_bytes()) == 64
    code, out, _ = run("verify", "--cert", str(pki["mo"]), "--sig", str(sig), str(data))
    assert (code, out.startswith("OK")) == (0, True)
    data.write_bytes("<ЭЛН />".encode())
    code, out, _ = run("verify", "--cert", str(pki["mo"]), "--sig", str(sig), str(data))
    assert code == 1
    assert out.startswith("INVALID")


def test_our_signature_verifies_in_openssl(openssl, pki: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "d.txt"
    data.write_bytes(os.urandom(700))
    sig = tmp_path / "d.sig"
    assert main(["sign", "--key", str(pki["mo_key"]), str(data), "-o", str(sig)]) == 0
    pub = tmp_path / "pub.pem"
    openssl.run("x509", "-in", pki["mo"], "-pubkey", "-noout", "-out", pub)
    out = openssl.run("dgst", "-md_gost12_256", "-verify", pub, "-signature", sig, data).stdout
    assert b"Verified OK" in out
    # and the CA-issued certificate chains in OpenSSL
    out = openssl.run("verify", "-CAfile", pki["ca"], pki["mo"]).stdout
    assert b"OK" in out


@pytest.mark.parametrize(
    ("alg", "paramset", "bits"), [("gost2012_256", "TCA", 256), ("gost2012_512", "C", 512)]
)
def test_openssl_key_and_signature_work_in_gostsign(
    openssl, tmp_path: Path, alg: str, paramset: str, bits: int
) -> None:
    key = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", alg, "-pkeyopt", f"paramset:{paramset}", "-out", key)
    cert = tmp_path / "c.pem"
    openssl.run(
        "req",
        "-new",
        "-x509",
        "-key",
        key,
        f"-md_gost12_{bits}",
        "-days",
        "2",
        "-subj",
        "/CN=openssl/O=lab/C=RU",
        "-out",
        cert,
    )
    data = tmp_path / "d.bin"
    data.write_bytes(os.urandom(333))
    sig = tmp_path / "d.sig"
    openssl.run("dgst", f"-md_gost12_{bits}", "-sign", key, "-out", sig, data)
    assert main(["verify", "--cert", str(cert), "--sig", str(sig), str(data)]) == 0
    ours = tmp_path / "ours.sig"
    assert main(["sign", "--key", str(key), "--bits", str(bits), str(data), "-o", str(ours)]) == 0
    assert main(["verify", "--cert", str(cert), "--sig", str(ours), str(data)]) == 0


def test_bad_input_gives_one_sentence_no_traceback(pki: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "d.bin"
    data.write_bytes(b"x")
    sig = tmp_path / "d.sig"
    assert main(["sign", "--key", str(pki["mo_key"]), str(data), "-o", str(sig)]) == 0
    truncated = tmp_path / "t.sig"
    truncated.write_bytes(sig.read_bytes()[:40])
    wrong_pw = tmp_path / "wrong.txt"
    wrong_pw.write_text("не тот\n")
    not_a_key = tmp_path / "junk.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    rsa = tmp_path / "rsa.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-out", str(rsa)],
        check=True,
        capture_output=True,
    )
    cases = [
        (["digest", str(tmp_path / "missing.bin")], 2, "not found"),
        (["sign", "--key", str(pki["ca_key"]), str(data), "-o", str(sig)], 2, "password"),
        (
            [
                "sign",
                "--key",
                str(pki["ca_key"]),
                "--password-file",
                str(wrong_pw),
                str(data),
                "-o",
                str(sig),
            ],
            2,
            "password",
        ),
        (["sign", "--key", str(not_a_key), str(data), "-o", str(sig)], 2, ""),
        (["sign", "--key", str(rsa), str(data), "-o", str(sig)], 2, ""),
        (
            ["sign", "--key", str(pki["mo_key"]), "--bits", "512", str(data), "-o", str(sig)],
            2,
            "256-bit",
        ),
        (["verify", "--cert", str(pki["mo"]), "--sig", str(truncated), str(data)], 1, ""),
        (["verify", "--cert", str(data), "--sig", str(sig), str(data)], 2, ""),
        (["keygen", "--curve", "secp256r1", "-o", str(tmp_path / "k")], 2, "curve"),
        (["cert", "show", str(tmp_path)], 2, "directory"),
    ]
    for argv, expected_code, fragment in cases:
        code, out, err = run(*argv)
        assert code == expected_code, (argv, out, err)
        assert "Traceback" not in err + out, argv
        text = (err if expected_code == 2 else out).strip()
        assert len(text.splitlines()) == 1, (argv, text)
        assert fragment.lower() in text.lower(), (argv, text)


def test_demo_runs() -> None:
    code, out, err = run("demo")
    assert code == 0, err
    assert "Подпись проверена: верна." in out
    assert "подпись не верна" in out
