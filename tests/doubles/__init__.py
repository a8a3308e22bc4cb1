"""Stand-ins for CryptoPro CSP and ViPNet CSP, installed into a temporary tree.

The doubles reproduce the documented interfaces (crypto.md §6) and sign with real GOST keys:
the command-line tools are Python scripts (``cryptopro/csptest.py``, ``cryptopro/certmgr.py``,
``vipnet/csp_gost.py``), the CryptoAPI libraries are one C file (``capi/capi_double.c``) built
with the system compiler and OpenSSL's libcrypto. :func:`install_cryptopro` and
:func:`install_vipnet` lay them out like ``/opt/cprocsp`` and ``/opt/itcs``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gostsign import keys
from gostsign.gost3410 import PrivateKey
from gostsign.x509 import Certificate

HERE = Path(__file__).resolve().parent
CAPI_SOURCE = HERE / "capi" / "capi_double.c"


def missing(what: str) -> None:
    """The oracles.py policy for a missing build tool: fail under CI, skip loudly otherwise."""
    message = f"TEST DOUBLE CANNOT BE BUILT: {what}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class DoubleKey:
    """One key container of the doubles."""

    name: str
    key: PrivateKey
    cert: Certificate
    pin: str | None = "12345678"
    keyspec: int = 1  # AT_KEYEXCHANGE
    tries: int = 3
    reader: str = "HDIMAGE"
    in_store: bool = True

    @property
    def fqcn(self) -> str:
        return f"\\\\.\\{self.reader}\\{self.name}"

    @property
    def container_field(self) -> str:
        """What certmgr prints as ``Container``."""
        return f"{self.reader}\\\\{self.name}.000\\1A2B"

    @property
    def unique(self) -> str:
        return f"\\\\.\\{self.reader}\\{self.container_field}"


def _install_script(source: Path, target: Path) -> None:
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"#!{sys.executable}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    target.chmod(0o755)


def build_capi(directory: Path) -> Path:
    """Compile the CryptoAPI double into ``directory/libcapi_double.so``."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        missing("no C compiler (Debian package build-essential)")
    if not Path("/usr/include/openssl/ec.h").exists():
        missing("no OpenSSL headers (Debian package libssl-dev)")
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "libcapi_double.so"
    proc = subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-O1",
            "-Wall",
            "-Wno-deprecated-declarations",
            "-o",
            str(out),
            str(CAPI_SOURCE),
            "-lcrypto",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        missing(f"compiling {CAPI_SOURCE.name} failed: {proc.stderr.strip()[:500]}")
    return out


def _wrapper(core: Path, target: Path) -> None:
    """A library with no code that pulls in the core (so all names share one state)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    if core.parent != target.parent:
        shutil.copy2(core, target.parent / core.name)
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-x",
            "c",
            "/dev/null",
            "-o",
            str(target),
            f"-L{target.parent}",
            "-Wl,--no-as-needed",
            "-lcapi_double",
            "-Wl,-rpath,$ORIGIN",
        ],
        check=True,
        capture_output=True,
    )


def write_capi_state(path: Path, entries: list[DoubleKey], cert_dir: Path) -> None:
    cert_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for e in entries:
        if not e.in_store:
            continue
        der = cert_dir / f"{e.name}.der"
        der.write_bytes(e.cert.der)
        c = e.key.curve
        d = f"{e.key.scalar:x}"
        lines.append(
            " ".join(
                [str(der), str(e.keyspec), e.pin or "-", str(e.tries), str(c.bits), d]
                + [f"{v:x}" for v in (c.p, c.a % c.p, c.b, c.q, c.x, c.y)]
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def install_cryptopro(
    base: Path, entries: list[DoubleKey], *, with_capi: bool, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fake ``/opt/cprocsp`` under ``base``; returns ``base``."""
    bin_dir = base / "bin" / "amd64"
    _install_script(HERE / "cryptopro" / "csptest.py", bin_dir / "csptest")
    _install_script(HERE / "cryptopro" / "certmgr.py", bin_dir / "certmgr")
    state = {
        "containers": [
            {
                "fqcn": e.fqcn,
                "unique": e.unique,
                "keyspec": e.keyspec,
                "pin": e.pin,
                "tries": e.tries,
                "key_pem": keys.dump_private_key(e.key).decode("ascii"),
            }
            for e in entries
        ],
        "store": [
            {
                "cert_der_b64": base64.b64encode(e.cert.der).decode("ascii"),
                "container_field": e.container_field,
                "keyspec": e.keyspec,
            }
            for e in entries
            if e.in_store
        ],
    }
    (base / "double-state.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    if with_capi:
        core = build_capi(base / "build")
        lib_dir = base / "lib" / "amd64"
        _wrapper(core, lib_dir / "libcapi20.so")
        write_capi_state(base / "capi-state.txt", entries, base / "certs")
        monkeypatch.setenv("CAPI_DOUBLE_STATE", str(base / "capi-state.txt"))
    return base


def install_vipnet(
    base: Path, entries: list[DoubleKey], *, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fake ``/opt/itcs`` under ``base``; returns ``base``."""
    _install_script(HERE / "vipnet" / "csp_gost.py", base / "bin" / "csp-gost")
    (base / "double-state.json").write_text(
        json.dumps({"containers": [e.name for e in entries]}, ensure_ascii=False), encoding="utf-8"
    )
    core = build_capi(base / "build")
    for name in ("libadvapi32.so", "libcrypt32.so", "libkernel32.so"):
        _wrapper(core, base / "lib" / name)
    write_capi_state(base / "capi-state.txt", entries, base / "certs")
    monkeypatch.setenv("CAPI_DOUBLE_STATE", str(base / "capi-state.txt"))
    return base
