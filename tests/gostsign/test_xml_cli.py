"""``gostsign sign-xml / verify-xml / encrypt-xml / decrypt-xml``: exit codes and messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gostsign import cli, testpki
from gostsign.xml.cli import EXIT_INPUT, EXIT_INVALID, EXIT_OK
from tests.gostsign import xml_messages as msgs

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "fss-examples"


@pytest.fixture(scope="module")
def pki() -> testpki.Pki:
    return testpki.create_test_pki()


@pytest.fixture
def files(tmp_path: Path, pki: testpki.Pki) -> Path:
    pki.write(tmp_path)
    ogrn = pki.mo.cert.subject.ogrn
    assert ogrn is not None
    (tmp_path / "req.xml").write_bytes(msgs.get_new_ln_num(ogrn))
    (tmp_path / "rows.xml").write_bytes(msgs.pr_parse(ogrn, 2))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sign_body(capsys: pytest.CaptureFixture[str], d: Path, pki: testpki.Pki) -> Path:
    ogrn = pki.mo.cert.subject.ogrn
    code, _, err = run(
        capsys,
        "sign-xml",
        "--key",
        d / "mo.key.pem",
        "--cert",
        d / "mo.pem",
        "--id",
        f"OGRN_{ogrn}",
        "--actor",
        f"http://eln.fss.ru/actor/mo/{ogrn}",
        d / "req.xml",
        "-o",
        d / "signed.xml",
    )
    assert code == EXIT_OK, err
    return d / "signed.xml"


def test_sign_and_verify(capsys: pytest.CaptureFixture[str], files: Path, pki: testpki.Pki) -> None:
    signed = sign_body(capsys, files, pki)
    code, out, _ = run(capsys, "verify-xml", signed, "--trust", files / "ca.pem")
    assert code == EXIT_OK
    lines = out.splitlines()
    (row,) = [line for line in lines if line.lstrip().startswith("1 ")]
    assert "OGRN_" in row and "VALID" in row and f"{pki.mo.cert.serial:x}" in row
    assert "ОГРН " + (pki.mo.cert.subject.ogrn or "") in row
    assert lines[-1] == "RESULT: every signature is valid"


def test_sign_rows_and_blocks_with_the_table_ids(
    capsys: pytest.CaptureFixture[str], files: Path, pki: testpki.Pki
) -> None:
    ogrn = pki.mo.cert.subject.ogrn
    code0 = msgs.ln_code(0)
    steps = [
        ("doctor", f"ELN_{code0}_3_doc", f"http://eln.fss.ru/actor/doc/{code0}_3_doc"),
        ("chairman", f"ELN_{code0}_3_vk", f"http://eln.fss.ru/actor/doc/{code0}_3_vk"),
        ("mo", f"ELN_{code0}", f"http://eln.fss.ru/actor/mo/{ogrn}/ELN_{code0}"),
    ]
    src = files / "rows.xml"
    for who, element_id, actor in steps:
        dst = files / f"rows-{who}.xml"
        code, _, err = run(
            capsys,
            "sign-xml",
            "--key",
            files / f"{who}.key.pem",
            "--cert",
            files / f"{who}.pem",
            "--id",
            element_id,
            "--actor",
            actor,
            src,
            "-o",
            dst,
        )
        assert code == EXIT_OK, err
        src = dst
    code, out, _ = run(capsys, "verify-xml", src, "--trust", files / "ca.pem", "--json")
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["valid"] is True
    assert [s["reference_id"] for s in data["signatures"]] == [s[1] for s in steps]
    assert data["signatures"][0]["certificate"]["snils"] == pki.doctor.cert.subject.snils


def test_verify_reports_crypto_and_certificate_problems_apart(
    capsys: pytest.CaptureFixture[str], files: Path, pki: testpki.Pki
) -> None:
    signed = sign_body(capsys, files, pki)
    tampered = files / "tampered.xml"
    ogrn = pki.mo.cert.subject.ogrn or ""
    tampered.write_bytes(
        signed.read_bytes().replace(f">{ogrn}</v01:ogrn>".encode(), b">1027700000000</v01:ogrn>")
    )
    code, out, _ = run(capsys, "verify-xml", tampered)
    assert code == EXIT_INVALID
    assert "crypto/digest-mismatch" in out and "RESULT: NOT VALID" in out
    code, out, _ = run(capsys, "verify-xml", signed, "--at", "2000-01-01")
    assert code == EXIT_INVALID
    assert "certificate/certificate-not-valid-at-time" in out and "crypto/" not in out
    rogue = testpki.make_ca(subject="CN=Other CA")
    (files / "other.pem").write_bytes(rogue.cert.pem)
    code, out, _ = run(capsys, "verify-xml", signed, "--trust", files / "other.pem")
    assert code == EXIT_INVALID and "certificate/certificate-not-trusted" in out


def test_spec_examples_need_at(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    example = tmp_path / "ex.xml"
    shutil.copy(EXAMPLES / "7.1.3_getNewLNNumRange_response.xml", example)
    code, out, _ = run(capsys, "verify-xml", example)
    assert code == EXIT_INVALID and "expired on 2021-01-01" in out
    code, out, _ = run(capsys, "verify-xml", example, "--at", "2020-09-01")
    assert code == EXIT_OK, out
    code, out, _ = run(
        capsys,
        "verify-xml",
        EXAMPLES / "8.1.3_prParseFilelnlpu_request.xml",
        "--at",
        "2020-09-01T10:00:00+03:00",
    )
    assert code == EXIT_INVALID
    assert "#ELN_900000161967 (row) does not match" in out
    code, out, _ = run(
        capsys, "verify-xml", EXAMPLES / "7.1.2_getNewLNNumRange_request.xml", "--at", "2020-09-01"
    )
    assert code == EXIT_INVALID and "GOST R 34.10-2001 is no longer accepted" in out


def test_fund_cert_option(
    capsys: pytest.CaptureFixture[str], files: Path, pki: testpki.Pki
) -> None:
    signed = sign_body(capsys, files, pki)  # an МО request is not a Fund reply
    code, out, _ = run(capsys, "verify-xml", signed, "--fund-cert", files / "fund.pem")
    assert code == EXIT_INVALID and "not signed under the Fund's actor" in out


def test_encrypt_and_decrypt(
    capsys: pytest.CaptureFixture[str], files: Path, pki: testpki.Pki
) -> None:
    signed = sign_body(capsys, files, pki)
    for layout in ("v1.1", "v2.0"):
        enc = files / f"enc-{layout}.xml"
        code, _, err = run(
            capsys,
            "encrypt-xml",
            "--to",
            files / "fund.pem",
            "--sender-cert",
            files / "mo.pem",
            "--layout",
            layout,
            signed,
            "-o",
            enc,
        )
        assert code == EXIT_OK, err
        code, _, err = run(capsys, "verify-xml", enc)
        assert code == EXIT_INPUT and "is encrypted; decrypt it first" in err
        dec = files / f"dec-{layout}.xml"
        code, _, err = run(capsys, "decrypt-xml", "--key", files / "fund.key.pem", enc, "-o", dec)
        assert code == EXIT_OK, err
        assert f"layout {layout}" in err
        code, _, _ = run(capsys, "verify-xml", dec, "--trust", files / "ca.pem")
        assert code == EXIT_OK
    code, _, err = run(capsys, "decrypt-xml", "--key", files / "mo.key.pem", enc)
    assert code == EXIT_INPUT and "encrypted for another key" in err


def test_decrypt_of_a_fault_shows_the_funds_text(
    capsys: pytest.CaptureFixture[str], files: Path
) -> None:
    fault = files / "fault.xml"
    fault.write_text(
        '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault>'
        "<faultcode>S:Server</faultcode><faultstring>Не удалось расшифровать сообщение. "
        "Некорректное значение CipherValue</faultstring></S:Fault></S:Body></S:Envelope>",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "decrypt-xml", "--key", files / "mo.key.pem", fault)
    assert code == EXIT_INPUT
    assert "Fault (S:Server): Не удалось расшифровать сообщение. Некорректное значение" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify-xml", "{d}/missing.xml"], "file not found"),
        (["verify-xml", "{d}/ca.pem"], "not well-formed XML"),
        (["verify-xml", "{d}/req.xml", "--at", "soon"], "is not a date"),
        (["verify-xml", "{d}/req.xml", "--trust", "{d}/mo.key.pem"], "holds no certificate"),
        (
            [
                "sign-xml",
                "--key",
                "{d}/mo.key.pem",
                "--cert",
                "{d}/doctor.pem",
                "--id",
                "OGRN_1",
                "--actor",
                "urn:x",
                "{d}/req.xml",
            ],
            "no element has wsu:Id",
        ),
        (
            [
                "sign-xml",
                "--key",
                "{d}/mo.pem",
                "--cert",
                "{d}/mo.pem",
                "--id",
                "x",
                "--actor",
                "urn:x",
                "{d}/req.xml",
            ],
            "mo.pem",
        ),
        (
            [
                "encrypt-xml",
                "--to",
                "{d}/fund.key.pem",
                "--sender-cert",
                "{d}/mo.pem",
                "{d}/req.xml",
            ],
            "fund.key.pem",
        ),
        (
            [
                "encrypt-xml",
                "--to",
                "{d}/fund.pem",
                "--sender-cert",
                "{d}/mo.pem",
                "--sbox",
                "x",
                "{d}/req.xml",
            ],
            "unknown GOST 28147-89 S-box",
        ),
        (["decrypt-xml", "--key", "{d}/mo.key.pem", "{d}/req.xml"], "not encrypted"),
        (["verify-xml", "{d}/deep.xml"], "too deeply|deeper"),
        (["verify-xml", "{d}/xxe.xml"], "DOCTYPE"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    capsys: pytest.CaptureFixture[str], files: Path, argv: list[str], message: str
) -> None:
    (files / "deep.xml").write_bytes(b"<a>" * 300 + b"</a>" * 300)
    (files / "xxe.xml").write_bytes(
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    )
    code, out, err = run(capsys, *[a.format(d=files) for a in argv])
    assert code == EXIT_INPUT
    assert err.startswith("gostsign: ") and err.count("\n") == 1
    assert "Traceback" not in err and out == ""
    import re

    assert re.search(message, err), err
