"""CryptoPro CSP 4/5 on Linux, driven the way crypto.md §6 documents it.

* **Listing** with the command-line tools: ``certmgr -list -store uMy`` (blocks with
  ``SHA1 Hash``/``SHA1 Thumbprint``, ``Serial``, ``PrivateKey Link``, ``Container``,
  ``Provider Info``), ``certmgr -export -thumbprint T -dest F`` for the DER, and
  ``csptest -keyset -enum_cont -fqcn -verifyc -unique`` to turn the container names certmgr
  prints into FQCNs (``\\\\.\\HDIMAGE\\name``, ``\\\\.\\Aktiv Rutoken ECP 00 00\\name``). The
  tools write cp1251; their output is decoded as such and Cyrillic arguments are encoded so.
* **Signing**, preferably through CryptoAPI (``libcapi20.so``, see :mod:`providers.capi`):
  raw hash signing, the PIN handed over in-process. Without the library, ``csptest -keys
  -cont <fqcn> -sign GOST12_256|GOST12_512 -in F -out S -keytype exchange|signature``, which
  hashes the file itself, so such a session signs data (:meth:`KeySession.sign`) but not a
  bare digest. Either way the result is byte-reversed (CryptoAPI order) into s_be || r_be.
* **The PIN and csptest.** csptest takes the PIN only as ``-password <pin>``, which every
  local user can read in ``ps`` / ``/proc/<pid>/cmdline`` while it runs. The provider
  therefore refuses to put a PIN on a csptest command line unless ``/proc`` is mounted with
  ``hidepid`` (other users cannot see our processes) or the admin sets
  ``pin_on_command_line = true`` (single-user workstation). The CryptoAPI path has no such
  exposure and is used whenever the library is installed.
* VKO: not offered (OperationNotSupported); decrypting xmlenc keys with a CSP key is [open].

**Verified only against the test doubles** in tests/doubles/ (csptest, certmgr, and the
CryptoAPI library double), which reproduce the documented formats and sign with real keys;
never against a real CryptoPro CSP. Open points (crypto.md §6): the exact wrong-PIN codes and
texts, certmgr's full output layout across versions, other csptest PIN inputs.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gostsign.errors import GostError
from gostsign.x509 import Certificate
from providers.base import (
    NO_PIN,
    Availability,
    CertificateInfo,
    KeySession,
    Option,
    Pin,
    PinPad,
    PinSource,
    Provider,
    normalize_hex,
    obtain_pin,
    select_certificate,
)
from providers.capi import CryptoApi, error_for, open_capi_session
from providers.errors import (
    BadConfiguration,
    KeyNotFound,
    OperationNotSupported,
    PinRequired,
    ProviderError,
    ProviderNotInstalled,
    WrongPin,
)

VENDOR = "КриптоПро CSP"
#: Shared with the vipnet provider: one --base flag serves both.
BASE_HELP = "каталог установки CSP (КриптоПро: /opt/cprocsp, ViPNet: /opt/itcs)"
ENCODING = "cp1251"
_ERROR_CODE = re.compile(r"\[ErrorCode:\s*(0x[0-9a-fA-F]+)\]")
_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ]*?)\s*:\s?(.*)$")
_BLOCK = re.compile(r"^\s*\d+-{3,}\s*$")
_KEYSPEC = re.compile(r"KeySpec:\s*(\d+)")
_PROVTYPE = re.compile(r"ProvType:\s*(\d+)")


def proc_hides_processes(mounts: str | None = None) -> bool:
    """True if /proc is mounted with hidepid (other users cannot read our command lines)."""
    if mounts is None:
        try:
            with open("/proc/mounts", encoding="utf-8") as fh:
                mounts = fh.read()
        except OSError:
            return False
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "/proc" and parts[2] == "proc":
            for opt in parts[3].split(","):
                if opt.startswith("hidepid=") and opt.split("=", 1)[1] not in ("0", "off"):
                    return True
    return False


# ----------------------------------------------------------------------------------------------
# Output parsing (cp1251 text of csptest and certmgr)
# ----------------------------------------------------------------------------------------------


def error_code(text: str) -> int | None:
    """The last ``[ErrorCode: 0x...]`` of a tool's output."""
    found = _ERROR_CODE.findall(text)
    return int(found[-1], 16) if found else None


def parse_containers(text: str) -> list[tuple[str, str]]:
    """(fqcn, unique name) pairs from ``csptest -keyset -enum_cont -fqcn [-unique]``."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("\\\\"):
            continue
        name, _, unique = line.partition("|")
        out.append((name.strip(), unique.strip() or name.strip()))
    return out


def parse_certmgr_list(text: str) -> list[dict[str, str]]:
    """The ``N-------`` blocks of ``certmgr -list`` as field dicts."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if _BLOCK.match(line):
            current = {}
            blocks.append(current)
            continue
        if current is None or line.startswith("====="):
            continue
        m = _FIELD.match(line)
        if m:
            current[m.group(1).strip()] = m.group(2).strip()
    return blocks


@dataclass(frozen=True)
class StoreEntry:
    thumbprint: str
    serial: str
    has_key: bool
    container: str | None
    keyspec: int | None
    provtype: int | None

    @classmethod
    def from_block(cls, block: dict[str, str]) -> StoreEntry | None:
        thumb = block.get("SHA1 Hash") or block.get("SHA1 Thumbprint") or ""
        thumb = normalize_hex(thumb).rjust(40, "0") if normalize_hex(thumb) else ""
        if len(thumb) != 40:
            return None
        link = (block.get("PrivateKey Link") or block.get("PrivateKey") or "").lower()
        info = block.get("Provider Info", "")
        keyspec = _KEYSPEC.search(info)
        provtype = _PROVTYPE.search(info)
        return cls(
            thumbprint=thumb,
            serial=block.get("Serial", ""),
            has_key=link.startswith("yes") or link.startswith("present"),
            container=block.get("Container") or None,
            keyspec=int(keyspec.group(1)) if keyspec else None,
            provtype=int(provtype.group(1)) if provtype else None,
        )


# ----------------------------------------------------------------------------------------------
# csptest session (data signing only)
# ----------------------------------------------------------------------------------------------


class CsptestKeySession(KeySession):
    """Signs data through csptest (which hashes the input file itself)."""

    def __init__(self, provider: CryptoProProvider, info: CertificateInfo, pin: Pin | None) -> None:
        super().__init__(info)
        self._provider = provider
        self._pin = pin  # kept for the next csptest call, wiped on close

    def _sign_digest(self, digest: bytes) -> bytes:
        raise OperationNotSupported(
            "КриптоПро без библиотеки CryptoAPI (libcapi20.so) подписывает только данные: "
            "csptest сам вычисляет хэш. Установите пакет lsb-cprocsp-capilite или подписывайте "
            "данные (session.sign)."
        )

    def _sign_data(self, data: bytes) -> bytes:
        raw = self._provider._csptest_sign(self.info, data, self._pin)
        return raw[::-1]  # CryptoAPI order -> s_be || r_be

    def _close(self) -> None:
        if self._pin is not None:
            self._pin.wipe()
            self._pin = None


# ----------------------------------------------------------------------------------------------
# Provider
# ----------------------------------------------------------------------------------------------


class CryptoProProvider(Provider):
    name = "cryptopro"
    title = "КриптоПро CSP"
    options = (
        Option(
            "base",
            BASE_HELP,
            Path,
            metavar="DIR",
        ),
        Option("store", "хранилище сертификатов certmgr (по умолчанию uMy)", metavar="STORE"),
        Option(
            "backend",
            "как подписывать: auto (CryptoAPI, если установлена, иначе csptest), capi, csptest",
            metavar="MODE",
        ),
        Option(
            "pin_on_command_line",
            "разрешить передачу PIN в командной строке csptest (её видят другие пользователи)",
            bool,
        ),
    )

    @property
    def base(self) -> Path:
        return Path(self.settings.get("base") or "/opt/cprocsp")

    @property
    def bin_dir(self) -> Path:
        return self.base / "bin" / "amd64"

    @property
    def lib_dir(self) -> Path:
        return self.base / "lib" / "amd64"

    @property
    def store(self) -> str:
        return str(self.settings.get("store") or "uMy")

    @property
    def backend(self) -> str:
        value = str(self.settings.get("backend") or "auto")
        if value not in ("auto", "capi", "csptest"):
            raise BadConfiguration(
                f"Настройка backend средства подписи «cryptopro»: «{value}»; "
                "допустимы auto, capi, csptest."
            )
        return value

    def _tool(self, name: str) -> Path:
        path = self.bin_dir / name
        if not os.access(path, os.X_OK):
            raise ProviderNotInstalled(
                f"{VENDOR} не установлен: нет программы {path} (пакет lsb-cprocsp-capilite / "
                "lsb-cprocsp-base)."
            )
        return path

    def _capi_libraries(self) -> list[Path]:
        return [
            p for p in (self.lib_dir / "libcapi20.so", self.lib_dir / "libcapi10.so") if p.exists()
        ]

    def check_configuration(self) -> None:
        self._tool("csptest")
        self._tool("certmgr")
        self.backend  # noqa: B018 - validates the setting
        if self.backend == "capi" and not self._capi_libraries():
            raise ProviderNotInstalled(
                f"{VENDOR}: нет библиотеки CryptoAPI {self.lib_dir / 'libcapi20.so'}."
            )

    def availability(self) -> Availability:
        try:
            self.check_configuration()
        except ProviderError as exc:
            return Availability.no(exc.message)
        return Availability.yes()

    # -- running the tools ---------------------------------------------------------------------

    def _run(self, tool: str, *args: str | bytes, timeout: float = 120) -> tuple[int, str]:
        argv: list[str | bytes] = [str(self._tool(tool))]
        argv.extend(a.encode(ENCODING, "replace") if isinstance(a, str) else a for a in args)
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ProviderError(f"{VENDOR}: {tool} не ответил за {int(timeout)} с.") from None
        except OSError as exc:
            raise ProviderNotInstalled(
                f"{VENDOR}: не удалось запустить {tool}: {exc.strerror}."
            ) from None
        text = (proc.stdout + b"\n" + proc.stderr).decode(ENCODING, "replace")
        return proc.returncode, text

    def _tool_error(self, tool: str, status: int, text: str) -> ProviderError:
        code = error_code(text)
        if code is None:
            low = text.lower()
            if "wrong pin" in low or "неправильный pin" in low or "неверный pin" in low:
                return WrongPin(detail=f"{tool}: exit {status}")
            return ProviderError(
                f"{VENDOR}: {tool} завершился с кодом {status}.", detail=text[-500:]
            )
        return error_for(code, VENDOR, tool)

    def containers(self) -> list[tuple[str, str]]:
        status, text = self._run("csptest", "-keyset", "-enum_cont", "-fqcn", "-verifyc", "-unique")
        if status != 0 or (error_code(text) or 0) != 0:
            raise self._tool_error("csptest", status, text)
        return parse_containers(text)

    def store_entries(self) -> list[StoreEntry]:
        status, text = self._run("certmgr", "-list", "-store", self.store)
        code = error_code(text)
        if status != 0 or (code or 0) != 0:
            if code == 0x80092004:  # CRYPT_E_NOT_FOUND: an empty store
                return []
            raise self._tool_error("certmgr", status, text)
        return [e for e in map(StoreEntry.from_block, parse_certmgr_list(text)) if e is not None]

    def export_certificate(self, thumbprint: str) -> Certificate:
        with tempfile.TemporaryDirectory(prefix="eln-cpro-") as tmp:
            dest = Path(tmp) / "cert.cer"
            status, text = self._run(
                "certmgr", "-export", "-thumbprint", thumbprint, "-dest", str(dest)
            )
            if status != 0 or (error_code(text) or 0) != 0 or not dest.exists():
                raise self._tool_error("certmgr", status, text)
            try:
                return Certificate.load(dest.read_bytes())
            except GostError as exc:
                raise KeyNotFound(
                    f"{VENDOR}: сертификат {thumbprint} не ГОСТ 2012: {exc}."
                ) from None

    # -- certificates and sessions ---------------------------------------------------------------

    def list_certificates(self) -> list[CertificateInfo]:
        entries = [e for e in self.store_entries() if e.has_key]
        if not entries:
            return []
        by_unique = self.containers()
        out = []
        for entry in entries:
            try:
                cert = self.export_certificate(entry.thumbprint)
            except ProviderError:
                continue
            fqcn = _fqcn_for(entry.container, by_unique)
            out.append(
                CertificateInfo(
                    provider=self.name,
                    token=f"{VENDOR}, контейнер {fqcn or entry.container or '?'}",
                    certificate=cert,
                    key_label=fqcn,
                    locator=(
                        ("thumbprint", entry.thumbprint),
                        ("container", fqcn or ""),
                        ("keyspec", str(entry.keyspec or 1)),
                        ("provtype", str(entry.provtype or "")),
                    ),
                )
            )
        return out

    def _use_capi(self) -> bool:
        if self.backend == "csptest":
            return False
        if self._capi_libraries():
            return True
        if self.backend == "capi":
            raise ProviderNotInstalled(
                f"{VENDOR}: нет библиотеки CryptoAPI {self.lib_dir / 'libcapi20.so'}."
            )
        return False

    def open_session(self, cert: CertificateInfo | str, pin: PinSource = NO_PIN) -> KeySession:
        info = select_certificate(self.list_certificates(), cert)
        if self._use_capi():
            return open_capi_session(CryptoApi(self._capi_libraries(), VENDOR), info, pin)
        if isinstance(pin, PinPad):
            raise OperationNotSupported(
                f"{VENDOR}: режим PIN-клавиатуры через csptest не задаётся."
            )
        if not info.get("container"):
            raise KeyNotFound(f"{VENDOR}: не найден контейнер ключа для {info.describe()}.")
        given = obtain_pin(pin, f"PIN-код контейнера {info.get('container')}:")
        if given is not None and not (
            self.settings.get("pin_on_command_line") or proc_hides_processes()
        ):
            given.wipe()
            raise BadConfiguration(
                "КриптоПро без библиотеки CryptoAPI принимает PIN только в командной строке "
                "csptest, которую видят другие пользователи (ps). Установите lsb-cprocsp-capilite, "
                "смонтируйте /proc с hidepid=2 или, если других пользователей нет, разрешите это "
                "настройкой pin_on_command_line = true."
            )
        session = CsptestKeySession(self, info, given)
        try:
            session.sign(b"eln: PIN check")  # a wrong PIN shows up now, not at the first ELN
        except BaseException:
            session.close()
            raise
        return session

    def _csptest_sign(self, info: CertificateInfo, data: bytes, pin: Pin | None) -> bytes:
        container = info.get("container") or ""
        alg = "GOST12_256" if info.bits == 256 else "GOST12_512"
        keytype = "signature" if info.get("keyspec") == "2" else "exchange"
        with tempfile.TemporaryDirectory(prefix="eln-cpro-") as tmp:
            src = Path(tmp) / "data.bin"
            out = Path(tmp) / "data.sgn"
            src.write_bytes(data)
            args: list[str | bytes] = [
                "-keys",
                "-cont",
                container,
                "-sign",
                alg,
                "-in",
                str(src),
                "-out",
                str(out),
                "-keytype",
                keytype,
                "-silent",
            ]
            if pin is not None:
                # Visible in /proc/<pid>/cmdline while csptest runs: allowed only with
                # hidepid or pin_on_command_line (see the module docstring).
                args += ["-password", pin.reveal_bytes()]
            status, text = self._run("csptest", *args)
            del args
            code = error_code(text)
            if status != 0 or (code or 0) != 0 or not out.exists():
                err = self._tool_error("csptest", status, text)
                if isinstance(err, WrongPin) and pin is None:
                    raise PinRequired(f"{VENDOR}: контейнер {container} требует PIN-код.")
                raise err
            return out.read_bytes()

    def describe(self) -> dict[str, Any]:
        return {
            "base": str(self.base),
            "backend": "capi" if self._use_capi() else "csptest",
            "pin_on_command_line": bool(self.settings.get("pin_on_command_line")),
            "proc_hidepid": proc_hides_processes(),
        }


def _fqcn_for(container: str | None, pairs: list[tuple[str, str]]) -> str | None:
    """The FQCN whose unique name ends with the container certmgr printed."""
    if not container:
        return None
    want = container.replace("\\\\", "\\").lower()
    for fqcn, unique in pairs:
        u = unique.replace("\\\\", "\\").lower()
        if u.endswith("\\" + want) or u == want or fqcn.lower().endswith("\\" + want):
            return fqcn
    return None
