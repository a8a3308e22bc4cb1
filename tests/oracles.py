"""Access to the independent oracles (OpenSSL gost engine, xmlsec1, SoftHSM2, certtool).

A missing oracle is never silent: locally the test is skipped with a message naming the
script that installs it; under CI (``CI=true``) the test fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

PREFIX = Path(os.environ.get("GOST_ORACLES_PREFIX", "/opt/gost-oracles"))
OPENSSL_CONF = PREFIX / "etc" / "openssl-gost.cnf"
ENGINE = Path("/usr/lib/x86_64-linux-gnu/engines-3/gost.so")
INSTALL_HINT = "run `sudo scripts/install-test-oracles.sh` to install it"


def missing(what: str) -> None:
    """Fail under CI, skip loudly otherwise."""
    message = f"ORACLE MISSING: {what}; {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class Tool:
    """A command-line oracle run with the GOST OpenSSL configuration in its environment."""

    argv0: str

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["OPENSSL_CONF"] = str(OPENSSL_CONF)
        return env

    def run(
        self,
        *args: str | os.PathLike[str],
        input: bytes | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        full_env = self.env()
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [self.argv0, *map(str, args)],
            input=input,
            capture_output=True,
            env=full_env,
            cwd=cwd,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{self.argv0} {' '.join(map(str, args))} exited {proc.returncode}:\n"
                f"{proc.stderr.decode(errors='replace')}\n{proc.stdout.decode(errors='replace')}"
            )
        return proc


def openssl() -> Tool:
    """OpenSSL with the gost engine loaded through OPENSSL_CONF."""
    exe = shutil.which("openssl")
    if exe is None or not ENGINE.exists():
        missing("OpenSSL gost engine (Debian package libengine-gost-openssl)")
    if not OPENSSL_CONF.exists():
        missing(f"OpenSSL configuration {OPENSSL_CONF}")
    tool = Tool(exe)  # type: ignore[arg-type]
    probe = tool.run("list", "-digest-algorithms", check=False)
    if b"md_gost12_256" not in probe.stdout and b"streebog256" not in probe.stdout.lower():
        missing("OpenSSL does not list the GOST digests with the engine configuration")
    return tool


def xmlsec1() -> Tool:
    """xmlsec1 rebuilt with GOST 2012 support."""
    exe = PREFIX / "bin" / "xmlsec1"
    if not exe.exists():
        missing(f"GOST-enabled xmlsec1 at {exe}")
    return Tool(str(exe))


def certtool() -> Tool:
    exe = shutil.which("certtool")
    if exe is None:
        missing("GnuTLS certtool (Debian package gnutls-bin)")
    return Tool(exe)  # type: ignore[arg-type]


def softhsm_module() -> Path:
    """Path of the GOST-enabled SoftHSM2 PKCS#11 module."""
    module = PREFIX / "lib" / "softhsm" / "libsofthsm2.so"
    if not module.exists():
        missing(f"GOST-enabled SoftHSM2 module at {module}")
    return module


def softhsm_util() -> Tool:
    exe = PREFIX / "bin" / "softhsm2-util"
    if not exe.exists():
        missing(f"softhsm2-util at {exe}")
    return Tool(str(exe))
