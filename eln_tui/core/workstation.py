"""What the admin changes in the workstation file (no UI): the Fund's certificate per contour.

The ``[fss]`` section (see :mod:`eln_tui.core.exchange.connect`) names the Fund's certificate in
two ways: ``fund_certificate`` — one file for the contour in use — and ``fund_certificates`` — a
table by contour. The admin's settings screen shows the certificate configured for the contour
chosen in the form and writes a new one into the table; a single ``fund_certificate`` moves into
the table under the contour it served, so it no longer overrides the new entry.

The file written is the system one (``/etc/eln/workstation.toml``, ``$ELN_WORKSTATION_CONFIG``):
only root may change it, and a clear sentence says so to anyone else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eln_tui.core.domain.lifecycle import Signer
from eln_tui.core.errors import ElnError
from eln_tui.core.fss import Contour
from eln_tui.core.storage import ElnStore
from gostsign.errors import GostError
from gostsign.x509 import Certificate
from providers.config import read_toml, set_provider, system_config_path, write_toml
from providers.errors import ProviderError


class WorkstationFileError(ElnError):
    """The workstation file cannot be changed, or a file it should name is unusable."""


@dataclass(frozen=True)
class CertificateSummary:
    """What a person checks of a certificate: who, which, until when."""

    path: str
    subject: str
    #: Common name of the subject and its ОГРН (the Fund's certificate carries one).
    name: str
    ogrn: str | None
    serial_hex: str
    not_before: datetime
    not_after: datetime

    def valid_at(self, at: datetime) -> bool:
        return self.not_before <= at <= self.not_after

    def describe(self, at: datetime | None = None) -> str:
        now = at or datetime.now(UTC)
        state = "" if self.valid_at(now) else " — НЕДЕЙСТВИТЕЛЕН сейчас"
        ogrn = f", ОГРН {self.ogrn}" if self.ogrn else ""
        return (
            f"«{self.name}»{ogrn}\nСерийный номер {self.serial_hex}; действителен "
            f"{self.not_before:%d.%m.%Y}–{self.not_after:%d.%m.%Y}{state}"
        )


def load_certificate_file(path: str, what: str = "Сертификат СФР") -> CertificateSummary:
    """Read a PEM or DER certificate; a Russian sentence naming the file if it is unusable."""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise WorkstationFileError(f"{what}: файл «{path}» не найден.", field="fund_file") from None
    except OSError as exc:
        raise WorkstationFileError(
            f"{what}: файл «{path}» не удаётся прочитать ({exc.strerror}).", field="fund_file"
        ) from None
    try:
        cert = Certificate.load(data)
    except (GostError, ValueError):
        raise WorkstationFileError(
            f"{what}: файл «{path}» не является сертификатом X.509 ГОСТ (DER или PEM).",
            field="fund_file",
        ) from None
    return CertificateSummary(
        path=str(file.resolve()),
        subject=str(cert.subject),
        name=cert.subject.common_name or str(cert.subject),
        ogrn=cert.subject.ogrn,
        serial_hex=f"{cert.serial:X}",
        not_before=cert.not_before,
        not_after=cert.not_after,
    )


def fund_certificate_path(
    section: Mapping[str, Any], contour: Contour, in_use: Contour | None
) -> str | None:
    """The file of the Fund's certificate for ``contour`` as the exchange would pick it:
    the single ``fund_certificate`` serves the contour in use, the table the others."""
    single = section.get("fund_certificate")
    if single and (in_use is None or contour is in_use):
        return str(single)
    table = section.get("fund_certificates")
    if isinstance(table, Mapping) and table.get(contour.value):
        return str(table[contour.value])
    return None


def with_fund_certificate(
    section: Mapping[str, Any], contour: Contour, path: str, in_use: Contour | None
) -> dict[str, Any]:
    """A copy of ``section`` whose certificate for ``contour`` is ``path``.

    A single ``fund_certificate`` moves into the table under ``in_use``, the contour it served;
    with no contour in use yet (no address saved) it served none and gives way to ``path``.
    """
    out = dict(section)
    raw_table = out.get("fund_certificates")
    table = dict(raw_table) if isinstance(raw_table, Mapping) else {}
    single = out.pop("fund_certificate", None)
    if single and in_use is not None and in_use.value not in table:
        table[in_use.value] = str(single)
    table[contour.value] = path
    out["fund_certificates"] = table
    return out


def writable_system_file() -> Path:
    """The system workstation file, if this account may rewrite it; otherwise a sentence why."""
    path = system_config_path()
    if path.exists():
        ok = path.is_file() and os.access(path, os.W_OK)
    else:
        probe = path.parent
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        ok = probe.is_dir() and os.access(probe, os.W_OK)
    if not ok:
        raise WorkstationFileError(
            f"Файл настройки рабочего места {path} может изменить только администратор системы "
            "(root): запустите программу от его имени (sudo eln-tui) или попросите его."
        )
    return path


def save_fund_certificate(
    store: ElnStore,
    actor: Signer,
    contour: Contour,
    certificate_file: str,
    in_use: Contour | None,
) -> tuple[Path, CertificateSummary]:
    """Check the certificate, write it for ``contour`` into the system file's ``[fss]`` and
    record that in the audit journal (blocking: the caller holds a database connection)."""
    summary = load_certificate_file(certificate_file)
    path = writable_system_file()
    try:
        data = read_toml(path)
        raw = data.get("fss")
        fss = raw if isinstance(raw, Mapping) else {}
        previous = fund_certificate_path(fss, contour, in_use)
        data["fss"] = with_fund_certificate(fss, contour, summary.path, in_use)
        write_toml(path, data, mode=0o644)
    except ProviderError as exc:
        raise WorkstationFileError(exc.message) from None
    store.record_action(
        actor,
        "set_fund_certificate",
        "workstation",
        details={
            "config": str(path),
            "contour": contour.value,
            "file": summary.path,
            "serial": summary.serial_hex,
            "subject": summary.subject,
            "previous": previous,
        },
    )
    return path, summary


def choose_provider(store: ElnStore, actor: Signer, name: str, settings: Mapping[str, Any]) -> Path:
    """Make ``name`` the workstation's provider in the system file, like ``eln crypto use``,
    and record it in the audit journal."""
    path = writable_system_file()
    try:
        set_provider(path, name, settings)
    except ProviderError as exc:
        raise WorkstationFileError(exc.message) from None
    store.record_action(
        actor,
        "set_provider",
        "workstation",
        details={
            "config": str(path),
            "provider": name,
            "settings": {k: str(v) for k, v in settings.items()},
        },
    )
    return path
