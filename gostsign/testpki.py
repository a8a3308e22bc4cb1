"""A throw-away GOST PKI for tests, demos and testers: never for real documents.

``create_test_pki()`` returns a test CA and certificates shaped like the real ones of the ELN
exchange: a medical organisation (МО) with ОГРН and ИНН ЮЛ, a doctor and a VK chairman with
СНИЛС and ИНН, and the Fund (for the FSS emulator). The identifiers are made-up numbers with
valid check digits. ``Pki.write(directory)`` stores everything as PEM files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gostsign import keys
from gostsign.curves import Curve, get_curve
from gostsign.errors import InvalidInput
from gostsign.gost3410 import PrivateKey
from gostsign.x509 import (
    Certificate,
    CertificateRevocationList,
    RevokedSpec,
    SubjectLike,
    issue_certificate,
    issue_crl,
)

#: The curve of the Fund's specification examples (CryptoPro-XchA = tc26-256-B).
DEFAULT_CURVE = "cryptopro-xcha"


# ----------------------------------------------------------------------------------------------
# Russian identifiers with check digits
# ----------------------------------------------------------------------------------------------


def _digits(value: str, count: int, what: str) -> list[int]:
    if len(value) != count or not (value.isascii() and value.isdigit()):
        raise InvalidInput(f"{what} needs {count} digits, got {value!r}")
    return [int(c) for c in value]


def ogrn_with_check(first12: str) -> str:
    """ОГРН: 12 digits plus the check digit (the remainder mod 11, then mod 10)."""
    _digits(first12, 12, "ОГРН")
    return first12 + str(int(first12) % 11 % 10)


def ogrnip_with_check(first14: str) -> str:
    """ОГРНИП: 14 digits plus the check digit (the remainder mod 13, then mod 10)."""
    _digits(first14, 14, "ОГРНИП")
    return first14 + str(int(first14) % 13 % 10)


def snils_with_check(first9: str) -> str:
    """СНИЛС: 9 digits plus the two check digits (11 digits, no separators)."""
    d = _digits(first9, 9, "СНИЛС")
    total = sum(x * (9 - i) for i, x in enumerate(d))
    check = total if total < 100 else 0 if total in (100, 101) else total % 101
    return first9 + f"{0 if check == 100 else check:02d}"


def inn_le_with_check(first9: str) -> str:
    """ИНН of a legal entity: 9 digits plus the check digit."""
    d = _digits(first9, 9, "ИНН ЮЛ")
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return first9 + str(sum(w * x for w, x in zip(weights, d, strict=True)) % 11 % 10)


def inn_person_with_check(first10: str) -> str:
    """ИНН of a person: 10 digits plus the two check digits."""
    d = _digits(first10, 10, "ИНН")
    w1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    d.append(sum(w * x for w, x in zip(w1, d, strict=True)) % 11 % 10)
    w2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    d.append(sum(w * x for w, x in zip(w2, d, strict=True)) % 11 % 10)
    return "".join(map(str, d))


MO_NAME = "ГБУЗ «Тестовая городская поликлиника № 1»"
MO_OGRN = ogrn_with_check("102770000001")
MO_INN_LE = inn_le_with_check("770000001")
FUND_NAME = "Фонд пенсионного и социального страхования Российской Федерации (тест)"
FUND_OGRN = ogrn_with_check("102770000002")
FUND_INN_LE = inn_le_with_check("770000002")


# ----------------------------------------------------------------------------------------------
# Parties
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """A key and its certificate."""

    key: PrivateKey
    cert: Certificate

    def key_pem(self, password: str | bytes | None = None) -> bytes:
        return keys.dump_private_key(self.key, password)


def _curve(curve: Curve | str) -> Curve:
    return curve if isinstance(curve, Curve) else get_curve(curve)


def _start(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(minutes=5)


def make_ca(
    subject: SubjectLike = "CN=Тестовый УЦ ГОСТ 2012,O=Тестовый удостоверяющий центр,C=RU",
    curve: Curve | str = DEFAULT_CURVE,
    *,
    days: int = 3650,
    now: datetime | None = None,
    key: PrivateKey | None = None,
) -> Party:
    """A self-signed test root CA."""
    key = key or PrivateKey.generate(_curve(curve))
    cert = issue_certificate(
        key.public_key(), subject, None, key, days=days, ca=True, not_before=_start(now)
    )
    return Party(key, cert)


def _issue(
    ca: Party,
    subject: SubjectLike,
    curve: Curve | str,
    days: int,
    now: datetime | None,
    **extra: str | None,
) -> Party:
    key = PrivateKey.generate(_curve(curve))
    cert = issue_certificate(
        key.public_key(),
        subject,
        ca.cert,
        ca.key,
        days=days,
        not_before=_start(now),
        extended_key_usage=("clientAuth", "emailProtection"),
        **extra,  # type: ignore[arg-type]
    )
    return Party(key, cert)


def make_mo(
    ca: Party,
    name: str = MO_NAME,
    ogrn: str = MO_OGRN,
    inn_le: str = MO_INN_LE,
    curve: Curve | str = DEFAULT_CURVE,
    *,
    days: int = 365,
    now: datetime | None = None,
) -> Party:
    """The certificate of a medical organisation (ОГРН, ИНН ЮЛ), used to sign its messages."""
    subject = [
        ("CN", name),
        ("O", name),
        ("C", "RU"),
        ("ST", "77 г. Москва"),
        ("L", "Москва"),
        ("street", "ул. Тестовая, д. 1"),
        ("E", "mo@example.test"),
    ]
    return _issue(ca, subject, curve, days, now, ogrn=ogrn, inn_le=inn_le)


def make_person(
    ca: Party,
    surname: str,
    given_name: str,
    snils: str,
    title: str,
    *,
    organization: str = MO_NAME,
    inn: str | None = None,
    curve: Curve | str = DEFAULT_CURVE,
    days: int = 365,
    now: datetime | None = None,
) -> Party:
    """A personal certificate (СНИЛС, ИНН) of an employee of ``organization``."""
    subject = [
        ("CN", f"{surname} {given_name}"),
        ("SN", surname),
        ("G", given_name),
        ("T", title),
        ("O", organization),
        ("C", "RU"),
        ("L", "Москва"),
    ]
    return _issue(ca, subject, curve, days, now, snils=snils, inn=inn)


def make_fund(
    ca: Party,
    curve: Curve | str = DEFAULT_CURVE,
    *,
    days: int = 365,
    now: datetime | None = None,
) -> Party:
    """The Fund's certificate for the FSS emulator (replies and encryption to the Fund)."""
    subject = [("CN", FUND_NAME), ("O", FUND_NAME), ("C", "RU"), ("L", "Москва")]
    return _issue(ca, subject, curve, days, now, ogrn=FUND_OGRN, inn_le=FUND_INN_LE)


@dataclass(frozen=True)
class Pki:
    """The parties of a test PKI (see :func:`create_test_pki`)."""

    ca: Party
    mo: Party
    doctor: Party
    chairman: Party
    fund: Party

    @property
    def parties(self) -> dict[str, Party]:
        return {
            "ca": self.ca,
            "mo": self.mo,
            "doctor": self.doctor,
            "chairman": self.chairman,
            "fund": self.fund,
        }

    def crl(self, revoked: list[RevokedSpec] | None = None) -> CertificateRevocationList:
        """A fresh CRL of the test CA listing ``revoked``."""
        return issue_crl(self.ca.cert, self.ca.key, revoked or ())

    def write(self, directory: str | Path, password: str | None = None) -> dict[str, Path]:
        """Write ``<name>.pem`` and ``<name>.key.pem`` for every party plus ``crl.pem``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for name, party in self.parties.items():
            cert_path = out / f"{name}.pem"
            key_path = out / f"{name}.key.pem"
            cert_path.write_bytes(party.cert.pem)
            # 0600 from the first byte (write-then-chmod would leave a window)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, party.key_pem(password))
            finally:
                os.close(fd)
            written[name] = cert_path
            written[f"{name}.key"] = key_path
        crl_path = out / "crl.pem"
        crl_path.write_bytes(self.crl().pem)
        written["crl"] = crl_path
        return written


def create_test_pki(curve: Curve | str = DEFAULT_CURVE, now: datetime | None = None) -> Pki:
    """A test CA with an МО, a doctor, a VK chairman and the Fund, all on ``curve``."""
    ca = make_ca(curve=curve, now=now)
    mo = make_mo(ca, curve=curve, now=now)
    doctor = make_person(
        ca,
        "Иванова",
        "Мария Петровна",
        snils_with_check("112233445"),
        "Врач-терапевт участковый",
        inn=inn_person_with_check("7701234567"),
        curve=curve,
        now=now,
    )
    chairman = make_person(
        ca,
        "Петров",
        "Сергей Николаевич",
        snils_with_check("223344556"),
        "Председатель врачебной комиссии",
        inn=inn_person_with_check("7707654321"),
        curve=curve,
        now=now,
    )
    fund = make_fund(ca, curve=curve, now=now)
    return Pki(ca, mo, doctor, chairman, fund)
