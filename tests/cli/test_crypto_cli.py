"""``eln crypto``: commands, configuration files, and one-sentence errors."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from eln_tui.cli.main import main
from gostsign.x509 import Certificate
from providers.agent import SigningAgent
from providers.software import SoftwareProvider
from tests.providers.conftest import (
    KEY_PASSWORD,
    PIN,
    CAFixture,
    SoftHSM,
    make_token_key,
    openssl_verify,
)


@pytest.fixture(autouse=True)
def config_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    system = tmp_path / "etc" / "eln" / "workstation.toml"
    user = tmp_path / "home" / ".config" / "eln" / "workstation.toml"
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(system))
    monkeypatch.setenv("ELN_USER_CONFIG", str(user))
    monkeypatch.setenv("ELN_SIGN_AGENT", str(tmp_path / "no-agent.sock"))
    return system, user


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["crypto", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("eln: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture
def pin_file(tmp_path: Path) -> Path:
    f = tmp_path / "pin.txt"
    f.write_text(PIN + "\n")
    return f


@pytest.fixture
def key_pin_file(tmp_path: Path) -> Path:
    f = tmp_path / "key-pin.txt"
    f.write_text(KEY_PASSWORD + "\n")
    return f


def test_providers_without_configuration(capsys) -> None:
    code, out, _ = run(capsys, "providers")
    assert code == 0
    for name in ("software", "pkcs11", "remote", "cryptopro", "vipnet"):
        assert name in out
    assert "не выбрано" in out
    code, out, _ = run(capsys, "providers", "--json")
    assert code == 0 and '"name": "pkcs11"' in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["certs", "--provider", "rutoken"], "Неизвестное средство подписи «rutoken»"),
        (
            ["certs", "--provider", "pkcs11", "--module", "/nonexistent/librtpkcs11ecp.so"],
            "Модуль PKCS#11 /nonexistent/librtpkcs11ecp.so не найден",
        ),
        (["test-sign"], "Средство подписи не выбрано"),
        (["use", "pkcs11"], "нужна настройка «module»"),
        (["use", "software", "--module", "/x.so"], "Параметры --module не относятся"),
        (["use", "pkcs11", "--module", "/nonexistent.so"], "/nonexistent.so не найден"),
        (["use", "cryptopro", "--base", "/nonexistent"], "КриптоПро CSP не установлен"),
    ],
)
def test_bad_configuration_is_one_sentence(capsys, argv: list[str], needle: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert needle in one_sentence(err)


def test_broken_config_file_is_one_sentence(capsys, config_paths) -> None:
    system, _ = config_paths
    system.parent.mkdir(parents=True)
    system.write_text("[signing\n")
    code, _, err = run(capsys, "certs")
    assert code == 2 and str(system) in one_sentence(err)


# -- PKCS#11 without any configuration file ----------------------------------------------------


@pytest.fixture
def token(softhsm: SoftHSM, test_ca: CAFixture):
    softhsm.init_token("doctor")
    return make_token_key(
        softhsm, test_ca, "doctor", "doc", b"\x01", "CN=Иванова М.П.,SNILS=11223344595"
    )


def test_pkcs11_commands_without_configuration(
    capsys, softhsm: SoftHSM, token, pin_file: Path, tmp_path: Path, openssl, config_paths
) -> None:
    opts = ["--provider", "pkcs11", "--module", str(softhsm.module), "--token-label", "doctor"]
    code, out, _ = run(capsys, "certs", *opts)
    assert code == 0 and f"{token.cert.serial:X}" in out and "Иванова" in out
    code, out, err = run(capsys, "test-sign", *opts, "--pin-file", str(pin_file))
    assert code == 0, err
    assert "верна" in out
    data = tmp_path / "eln.xml"
    data.write_bytes("<ЭЛН>910000000005</ЭЛН>".encode())
    sig = tmp_path / "eln.sig"
    code, _, err = run(
        capsys,
        "sign",
        *opts,
        "--pin-file",
        str(pin_file),
        "--cert",
        f"{token.cert.serial:X}",
        str(data),
        "-o",
        str(sig),
    )
    assert code == 0, err
    token.cert.public_key.verify(data.read_bytes(), sig.read_bytes())
    openssl_verify(openssl, token.cert, data.read_bytes(), sig.read_bytes(), tmp_path)
    assert not config_paths[0].exists() and not config_paths[1].exists()

    bad_pin = tmp_path / "bad.txt"
    bad_pin.write_text("0000\n")
    code, _, err = run(capsys, "test-sign", *opts, "--pin-file", str(bad_pin))
    assert code == 2 and "Неверный PIN-код" in one_sentence(err) and "0000" not in err
    code, _, err = run(
        capsys, "test-sign", *opts, "--pin-file", str(pin_file), "--cert", "ABCDEF01"
    )
    assert code == 2 and "«ABCDEF01» не найден" in one_sentence(err)
    code, _, err = run(
        capsys,
        "certs",
        "--provider",
        "pkcs11",
        "--module",
        str(softhsm.module),
        "--token-label",
        "nope",
    )
    assert code == 2 and "«nope»" in one_sentence(err)


def test_use_then_profile_then_test_sign(
    capsys, softhsm: SoftHSM, token, test_ca: CAFixture, pin_file: Path, config_paths
) -> None:
    system, user = config_paths
    make_token_key(softhsm, test_ca, "doctor", "second", b"\x02", "CN=Второй врач")
    code, out, err = run(
        capsys, "use", "pkcs11", "--module", str(softhsm.module), "--token-label", "doctor"
    )
    assert code == 0, err
    cfg = tomllib.loads(system.read_text())
    assert cfg["signing"]["provider"] == "pkcs11"
    assert cfg["providers"]["pkcs11"] == {"module": str(softhsm.module), "token_label": "doctor"}
    code, out, _ = run(capsys, "providers")
    pkcs11_line = next(line for line in out.splitlines() if "pkcs11" in line)
    assert code == 0 and pkcs11_line.startswith("*")
    code, _, err = run(capsys, "test-sign", "--pin-file", str(pin_file))
    assert code == 2 and "несколько" in one_sentence(err)
    code, out, err = run(capsys, "profile", "--cert", f"{token.cert.serial:x}")
    assert code == 0, err
    assert tomllib.loads(user.read_text())["profile"]["certificate"] == token.cert.thumbprint
    code, out, err = run(capsys, "test-sign", "--pin-file", str(pin_file))
    assert code == 0, err
    assert token.cert.thumbprint in out
    code, out, _ = run(capsys, "profile")
    assert token.cert.thumbprint in out


# -- the remote provider with every command ----------------------------------------------------


@pytest.fixture
def agent_socket(software_set, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "agent" / "agent.sock"
    agent = SigningAgent(
        SoftwareProvider({"key_dir": software_set.directory}),
        path,
        pin_entry="client",
        log=lambda line: None,
    )
    agent.start()
    yield path
    agent.stop()


def test_remote_with_every_command(
    capsys,
    agent_socket: Path,
    software_set,
    key_pin_file: Path,
    tmp_path: Path,
    openssl,
    config_paths,
) -> None:
    opts = ["--provider", "remote", "--socket", str(agent_socket)]
    code, out, _ = run(capsys, "providers", *opts)
    remote_line = next(line for line in out.splitlines() if " remote " in f" {line} ")
    assert code == 0 and "работает" in remote_line
    code, out, _ = run(capsys, "certs", *opts, "--json")
    assert code == 0 and software_set["mo"].thumbprint in out
    mo = software_set["mo"]
    code, out, err = run(
        capsys, "test-sign", *opts, "--cert", mo.serial_hex, "--pin-file", str(key_pin_file)
    )
    assert code == 0, err
    data = tmp_path / "d.bin"
    data.write_bytes(b"registry")
    code, _, err = run(
        capsys,
        "sign",
        *opts,
        "--cert",
        "label:doctor2",
        "--pin-file",
        str(key_pin_file),
        str(data),
        "-o",
        str(tmp_path / "d.sig"),
    )
    assert code == 0, err
    openssl_verify(
        openssl,
        software_set["doctor2"].certificate,
        b"registry",
        (tmp_path / "d.sig").read_bytes(),
        tmp_path,
    )
    code, _, err = run(capsys, "use", "remote", "--socket", str(agent_socket), "--user")
    assert code == 0, err
    user_cfg = tomllib.loads(config_paths[1].read_text())
    assert user_cfg["providers"]["remote"]["socket"] == str(agent_socket)
    code, _, err = run(capsys, "profile", "--cert", mo.thumbprint)
    assert code == 0, err
    code, out, err = run(capsys, "test-sign", "--pin-file", str(key_pin_file))
    assert code == 0 and mo.thumbprint in out, err


def test_test_set_command(capsys, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("секрет\n")
    target = tmp_path / "demo"
    code, out, err = run(capsys, "test-set", str(target), "--password-file", str(pw))
    assert code == 0, err
    assert "vk-chairman" in out and (target / "mo.key").exists()
    Certificate.load((target / "ca" / "ca.crt").read_bytes())
    code, _, err = run(capsys, "test-set", str(target), "--password-file", str(pw))
    assert code == 2 and "не пуст" in one_sentence(err)


def test_eln_does_not_import_textual() -> None:
    code = (
        "import sys; from eln_tui.cli.main import build_parser; build_parser(); "
        "assert 'textual' not in sys.modules, 'textual imported'; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_eln_command_line_never_shows_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "eln_tui.cli.main",
            "crypto",
            "certs",
            "--provider",
            "pkcs11",
            "--module",
            str(tmp_path / "nothing.so"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "nothing.so" in proc.stderr
