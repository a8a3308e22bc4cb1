"""ViPNet CSP (Infotecs) on Linux, through its CryptoAPI libraries (crypto.md §6).

ViPNet's signing command line is undocumented ([open] in crypto.md), so certificates and
signatures go through the CryptoAPI-compatible libraries ``/opt/itcs/lib/libadvapi32.so``,
``libcrypt32.so`` and ``libkernel32.so`` (:mod:`providers.capi`): the "MY" store lists the
certificates, ``CryptAcquireCertificatePrivateKey`` opens the key, the PIN is handed over
in-process with ``CryptSetProvParam``, ``CryptSignHash`` signs the Streebog digest and the
result is byte-reversed into s_be || r_be. ``csp-gost print_containers`` is only used to show
the containers to the admin (its output format is [open]; the parser keeps every line that is
not a header). Provider types: 77 (2012-256), 78 (2012-512). VKO: not offered.

**Verified only against the test doubles** (tests/doubles/capi/capi_double.c built as the three
libraries, tests/doubles/vipnet/csp-gost); never against a real ViPNet CSP.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gostsign.errors import GostError
from gostsign.x509 import Certificate
from providers.base import (
    NO_PIN,
    Availability,
    CertificateInfo,
    KeySession,
    Option,
    PinSource,
    Provider,
    select_certificate,
)
from providers.capi import CryptoApi, open_capi_session
from providers.cryptopro import BASE_HELP
from providers.errors import ProviderError, ProviderNotInstalled

VENDOR = "ViPNet CSP"
LIBRARIES = ("libadvapi32.so", "libcrypt32.so", "libkernel32.so")


def parse_print_containers(text: str) -> list[str]:
    """Container names from ``csp-gost print_containers`` (format [open]: one per line)."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.endswith(":") or s.lower().startswith(("vipnet", "total", "всего")):
            continue
        head, dot, rest = s.partition(". ")
        if dot and head.isdigit():
            s = rest.strip()
        out.append(s)
    return out


class VipNetProvider(Provider):
    name = "vipnet"
    title = "ViPNet CSP"
    options = (Option("base", BASE_HELP, Path, metavar="DIR"),)

    @property
    def base(self) -> Path:
        return Path(self.settings.get("base") or "/opt/itcs")

    def libraries(self) -> list[Path]:
        return [self.base / "lib" / name for name in LIBRARIES]

    def check_configuration(self) -> None:
        for lib in self.libraries():
            if not lib.exists():
                raise ProviderNotInstalled(f"{VENDOR} не установлен: нет библиотеки {lib}.")

    def _api(self) -> CryptoApi:
        self.check_configuration()
        return CryptoApi(self.libraries(), VENDOR)

    def availability(self) -> Availability:
        try:
            self._api()
        except ProviderError as exc:
            return Availability.no(exc.message)
        return Availability.yes()

    def containers(self) -> list[str]:
        tool = self.base / "bin" / "csp-gost"
        if not os.access(tool, os.X_OK):
            raise ProviderNotInstalled(f"{VENDOR}: нет программы {tool}.")
        proc = subprocess.run(
            [str(tool), "print_containers"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            raise ProviderError(
                f"{VENDOR}: csp-gost print_containers завершился с кодом {proc.returncode}.",
                detail=proc.stderr.decode("utf-8", "replace")[-500:],
            )
        return parse_print_containers(proc.stdout.decode("utf-8", "replace"))

    def list_certificates(self) -> list[CertificateInfo]:
        out = []
        for item in self._api().certificates():
            if not item.has_key:
                continue
            try:
                cert = Certificate(item.der)
            except GostError:
                continue
            out.append(
                CertificateInfo(
                    provider=self.name,
                    token=f"{VENDOR}, хранилище «Личные»",
                    certificate=cert,
                    locator=(("thumbprint", item.thumbprint),),
                )
            )
        return out

    def open_session(self, cert: CertificateInfo | str, pin: PinSource = NO_PIN) -> KeySession:
        api = self._api()
        info = select_certificate(self.list_certificates(), cert)
        return open_capi_session(api, info, pin)
