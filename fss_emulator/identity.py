"""The emulator's keys and certificates in its data directory.

On first start it creates a test CA, the Fund's key and certificate (issued by that CA, with
the ОГРН of ЦА ФСС so that reply actors read ``…/fss/ca/1027739443236`` as the live ones do)
and, for testers, an МО, a doctor and a VK chairman under the same CA in ``demo/``. Later starts
load them. Given keys and certificates are used instead and never overwritten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gostsign import keys
from gostsign.curves import get_curve
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import Party, make_ca, make_mo, make_person, snils_with_check
from gostsign.x509 import Certificate, issue_certificate, load_certificates

#: ОГРН of the Fund's central office, the signer of every live reply (protocol.md §4.2).
FSS_OGRN = "1027739443236"
FUND_NAME = "Фонд пенсионного и социального страхования Российской Федерации (эмулятор)"
DEFAULT_CURVE = "cryptopro-xcha"
_FUND_USAGE = (
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
)


@dataclass
class Identity:
    """The Fund's key and certificate, the test CA, and the CAs the emulator trusts."""

    fund_key: PrivateKey
    fund_cert: Certificate
    ca_cert: Certificate
    ca_key: PrivateKey | None
    paths: dict[str, Path] = field(default_factory=dict)
    created: bool = False

    @property
    def fund_ogrn(self) -> str:
        return self.fund_cert.subject.ogrn or FSS_OGRN


def _write_key(path: Path, key: PrivateKey) -> None:
    # 0600 from the first byte (writing first and chmod-ing after leaves a window)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, keys.dump_private_key(key))
    finally:
        os.close(fd)


def make_fund_certificate(
    ca: Party, key: PrivateKey, *, ogrn: str = FSS_OGRN, days: int = 3650
) -> Certificate:
    subject = [("CN", FUND_NAME), ("O", FUND_NAME), ("C", "RU"), ("L", "Москва")]
    return issue_certificate(
        key.public_key(),
        subject,
        ca.cert,
        ca.key,
        days=days,
        ogrn=ogrn,
        key_usage=_FUND_USAGE,
        not_before=datetime.now(UTC) - timedelta(minutes=5),
        extended_key_usage=("clientAuth", "emailProtection"),
    )


def load_or_create(
    data_dir: Path,
    *,
    fund_key: PrivateKey | None = None,
    fund_cert: Certificate | None = None,
    ca_cert: Certificate | None = None,
    ca_key: PrivateKey | None = None,
    fund_ogrn: str = FSS_OGRN,
    curve: str = DEFAULT_CURVE,
) -> Identity:
    """The identity in ``data_dir`` (created on first use), or the given one."""
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "ca": data_dir / "ca.pem",
        "ca.key": data_dir / "ca.key.pem",
        "fund": data_dir / "fund.pem",
        "fund.key": data_dir / "fund.key.pem",
    }
    if (fund_key is None) != (fund_cert is None):
        raise ValueError("give both the Fund's key and its certificate, or neither")
    if fund_key is not None and fund_cert is not None:
        if fund_key.public_key() != fund_cert.public_key:
            raise ValueError("the Fund's key does not belong to the Fund's certificate")
        ca = ca_cert or _existing_ca(paths) or fund_cert
        return Identity(fund_key, fund_cert, ca, ca_key, {}, created=False)

    if paths["fund"].exists() and paths["fund.key"].exists():
        key = keys.load_private_key(paths["fund.key"].read_bytes())
        cert = Certificate.load(paths["fund"].read_bytes())
        ca = Certificate.load(paths["ca"].read_bytes()) if paths["ca"].exists() else cert
        loaded_ca_key = (
            keys.load_private_key(paths["ca.key"].read_bytes())
            if paths["ca.key"].exists()
            else None
        )
        return Identity(key, cert, ca, loaded_ca_key, paths, created=False)

    if ca_cert is not None and ca_key is not None:
        ca_party = Party(ca_key, ca_cert)
    else:
        ca_party = make_ca(
            "CN=Тестовый УЦ эмулятора ФСС,O=Эмулятор ЕИИС Соцстрах (тест),C=RU",
            curve,
            days=7300,
        )
    paths["ca"].write_bytes(ca_party.cert.pem)
    _write_key(paths["ca.key"], ca_party.key)
    key = PrivateKey.generate(get_curve(curve))
    cert = make_fund_certificate(ca_party, key, ogrn=fund_ogrn)
    paths["fund"].write_bytes(cert.pem)
    _write_key(paths["fund.key"], key)
    paths.update(_make_demo(data_dir / "demo", ca_party, curve))
    return Identity(key, cert, ca_party.cert, ca_party.key, paths, created=True)


def _existing_ca(paths: dict[str, Path]) -> Certificate | None:
    return Certificate.load(paths["ca"].read_bytes()) if paths["ca"].exists() else None


def _make_demo(directory: Path, ca: Party, curve: str) -> dict[str, Path]:
    """An МО, a doctor and a VK chairman under the emulator's CA, for testers."""
    directory.mkdir(parents=True, exist_ok=True)
    parties = {
        "mo": make_mo(ca, curve=curve),
        "doctor": make_person(
            ca,
            "Иванова",
            "Мария Петровна",
            snils_with_check("112233445"),
            "Врач-терапевт участковый",
            curve=curve,
        ),
        "chairman": make_person(
            ca,
            "Петров",
            "Сергей Николаевич",
            snils_with_check("223344556"),
            "Председатель врачебной комиссии",
            curve=curve,
        ),
    }
    out: dict[str, Path] = {}
    for name, party in parties.items():
        cert_path = directory / f"{name}.pem"
        key_path = directory / f"{name}.key.pem"
        cert_path.write_bytes(party.cert.pem)
        _write_key(key_path, party.key)
        out[f"demo/{name}"] = cert_path
        out[f"demo/{name}.key"] = key_path
    return out


def load_trusted(paths: list[Path]) -> list[Certificate]:
    """Every certificate in the given PEM/DER files (and ``*.pem`` in given directories)."""
    out: list[Certificate] = []
    for path in paths:
        files = sorted(path.glob("*.pem")) + sorted(path.glob("*.cer")) if path.is_dir() else [path]
        for f in files:
            out.extend(load_certificates(f.read_bytes()))
    return out
