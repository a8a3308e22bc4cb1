"""Software keys: encrypted PKCS#8 files and their certificates in a key directory.

For testers (the Fund's test contour), demos and development. Production keys belong on tokens:
gostsign's arithmetic is not constant-time (see gostsign/curves.py).

Layout of the key directory (``0700``)::

    <name>.key   PKCS#8 "ENCRYPTED PRIVATE KEY" (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC), 0600
    <name>.crt   the certificate (PEM), 0600
    ca/          the test CA of create_test_set (not offered for signing)

The PIN of a session is the key file's password. A key file readable by others is refused,
the way ssh refuses an unprotected private key.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gostsign import keys, testpki
from gostsign.errors import GostError, InvalidInput, WrongPassword
from gostsign.gost3410 import PrivateKey
from gostsign.vko import KeyAgreement, SoftwareKeyAgreement
from gostsign.x509 import Certificate
from providers.base import (
    NO_PIN,
    Availability,
    CertificateInfo,
    KeySession,
    Option,
    PinMode,
    PinPad,
    PinSource,
    Provider,
    obtain_pin,
    select_certificate,
)
from providers.errors import (
    BadConfiguration,
    KeyCertificateMismatch,
    KeyNotFound,
    OperationNotSupported,
    PinRequired,
    WrongPin,
)

KEY_SUFFIX = ".key"
CERT_SUFFIXES = (".crt", ".cer", ".pem")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_key_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "eln" / "keys"


# ----------------------------------------------------------------------------------------------
# Owner-only files
# ----------------------------------------------------------------------------------------------


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write a file that is 0600 from its first byte (O_EXCL unless ``overwrite``)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise BadConfiguration(f"Файл {path} уже существует; он не будет перезаписан.") from None
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _check_private(path: Path) -> None:
    st = path.stat()
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        raise BadConfiguration(
            f"Файл ключа {path} доступен другим пользователям (права "
            f"{stat.S_IMODE(st.st_mode):04o}); выполните «chmod 600 {path}»."
        )


# ----------------------------------------------------------------------------------------------
# Provider
# ----------------------------------------------------------------------------------------------


class SoftwareKeySession(KeySession):
    def __init__(self, info: CertificateInfo, key: PrivateKey) -> None:
        super().__init__(info)
        self._key: PrivateKey | None = key

    def _sign_digest(self, digest: bytes) -> bytes:
        assert self._key is not None
        return self._key.sign_digest(digest)

    def _key_agreement(self) -> KeyAgreement:
        assert self._key is not None
        return SoftwareKeyAgreement(self._key)

    def _close(self) -> None:
        # Python integers cannot be wiped; dropping the only reference is what we can do.
        self._key = None


class SoftwareProvider(Provider):
    """Encrypted key files in a directory."""

    name = "software"
    title = "Программные ключи (файлы)"
    options = (
        Option(
            "key_dir",
            "каталог с файлами ключей (*.key) и сертификатов (*.crt)",
            Path,
            metavar="DIR",
        ),
    )

    @property
    def key_dir(self) -> Path:
        value = self.settings.get("key_dir")
        return Path(value) if value is not None else default_key_dir()

    def availability(self) -> Availability:
        d = self.key_dir
        if not d.is_dir():
            return Availability.no(
                f"Каталог программных ключей {d} не существует: создайте тестовый набор "
                "(«eln crypto test-set») или импортируйте ключ."
            )
        if not os.access(d, os.R_OK | os.X_OK):
            return Availability.no(f"Нет прав на чтение каталога программных ключей {d}.")
        return Availability.yes()

    def _pairs(self) -> Iterable[tuple[Path, Path]]:
        d = self.key_dir
        if not d.is_dir():
            return
        for key_path in sorted(d.glob("*" + KEY_SUFFIX)):
            for suffix in CERT_SUFFIXES:
                cert_path = key_path.with_suffix(suffix)
                if cert_path.is_file():
                    yield key_path, cert_path
                    break

    def list_certificates(self) -> list[CertificateInfo]:
        out = []
        for key_path, cert_path in self._pairs():
            try:
                cert = Certificate.load(cert_path.read_bytes())
            except (OSError, GostError):
                continue  # not ours to judge here; `eln crypto certs` shows what is usable
            out.append(
                CertificateInfo(
                    provider=self.name,
                    token=str(self.key_dir),
                    certificate=cert,
                    key_label=key_path.stem,
                    locator=(("key_file", str(key_path)), ("cert_file", str(cert_path))),
                )
            )
        return out

    def pin_mode(self, cert: CertificateInfo) -> PinMode:
        path = cert.get("key_file")
        try:
            if path and not keys.is_encrypted(Path(path).read_bytes()):
                return PinMode.NONE
        except (OSError, GostError):
            pass
        return PinMode.ASK

    def open_session(self, cert: CertificateInfo | str, pin: PinSource = NO_PIN) -> KeySession:
        if isinstance(pin, PinPad):
            raise OperationNotSupported(
                "У программного ключа нет считывателя с PIN-клавиатурой; введите пароль ключа."
            )
        info = select_certificate(self.list_certificates(), cert)
        key_path = Path(info.get("key_file") or "")
        try:
            _check_private(key_path)
            data = key_path.read_bytes()
        except FileNotFoundError:
            raise KeyNotFound(f"Файл ключа {key_path} исчез.") from None
        except OSError as exc:
            raise BadConfiguration(
                f"Не удалось прочитать файл ключа {key_path}: {exc.strerror}."
            ) from None
        given = None
        try:
            if keys.is_encrypted(data):
                given = obtain_pin(pin, f"Пароль ключа {info.describe()}:")
                if given is None:
                    raise PinRequired(f"Ключ {key_path.name} зашифрован: нужен пароль (PIN) ключа.")
                key = keys.load_private_key(data, given.reveal_bytes())
            else:
                key = keys.load_private_key(data)
        except WrongPassword:
            raise WrongPin("Неверный пароль ключа.") from None
        except GostError as exc:
            raise BadConfiguration(f"Файл ключа {key_path} не читается: {exc}.") from None
        finally:
            if given is not None:
                given.wipe()
        if key.public_key() != info.certificate.public_key:
            raise KeyCertificateMismatch(
                f"Ключ {key_path.name} не соответствует сертификату {info.describe()}."
            )
        return SoftwareKeySession(info, key)

    # -- administration ----------------------------------------------------------------------

    def import_key(
        self,
        key_data: bytes,
        certificate: Certificate | bytes,
        password: str | bytes,
        *,
        source_password: str | bytes | None = None,
        name: str | None = None,
        iterations: int = keys.DEFAULT_ITERATIONS,
    ) -> CertificateInfo:
        """Add a key (e.g. ``openssl genpkey -engine gost`` output, plain or encrypted PKCS#8)
        with its certificate; the key is stored encrypted with ``password``."""
        cert = (
            certificate if isinstance(certificate, Certificate) else Certificate.load(certificate)
        )
        try:
            key = keys.load_private_key(key_data, source_password)
        except WrongPassword:
            raise WrongPin("Неверный пароль импортируемого ключа.") from None
        except GostError as exc:
            raise BadConfiguration(f"Импортируемый ключ не читается: {exc}.") from None
        if key.public_key() != cert.public_key:
            raise KeyCertificateMismatch("Импортируемый ключ не соответствует сертификату.")
        stem = name or cert.thumbprint[:16]
        return self._store(stem, key, cert, password, iterations=iterations)

    def _store(
        self,
        stem: str,
        key: PrivateKey,
        cert: Certificate,
        password: str | bytes,
        *,
        iterations: int,
        directory: Path | None = None,
    ) -> CertificateInfo:
        if not _NAME_RE.match(stem):
            raise BadConfiguration(
                f"Имя ключа «{stem}» недопустимо: латинские буквы, цифры, точка, дефис, "
                "подчёркивание."
            )
        d = ensure_private_dir(directory or self.key_dir)
        key_path = d / (stem + KEY_SUFFIX)
        cert_path = d / (stem + ".crt")
        for p in (key_path, cert_path):
            if p.exists():
                raise BadConfiguration(f"Файл {p} уже существует; выберите другое имя ключа.")
        try:
            encrypted = keys.dump_private_key(key, password, iterations=iterations)
        except InvalidInput as exc:
            raise BadConfiguration(f"Пароль ключа не подходит: {exc}.") from None
        write_private_file(key_path, encrypted)
        write_private_file(cert_path, cert.pem)
        return CertificateInfo(
            provider=self.name,
            token=str(d),
            certificate=cert,
            key_label=stem,
            locator=(("key_file", str(key_path)), ("cert_file", str(cert_path))),
        )


# ----------------------------------------------------------------------------------------------
# Test key set
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    role: str
    surname: str
    given: str
    title: str
    snils: str
    inn: str | None = None


TEST_PEOPLE = (
    DemoPerson(
        "doctor1",
        "Иванова",
        "Мария Петровна",
        "Врач-терапевт участковый",
        testpki.snils_with_check("112233445"),
        testpki.inn_person_with_check("7701234567"),
    ),
    DemoPerson(
        "doctor2",
        "Смирнов",
        "Андрей Викторович",
        "Врач-хирург",
        testpki.snils_with_check("334455667"),
        testpki.inn_person_with_check("7709876543"),
    ),
    DemoPerson(
        "vk-chairman",
        "Петров",
        "Сергей Николаевич",
        "Председатель врачебной комиссии",
        testpki.snils_with_check("223344556"),
        testpki.inn_person_with_check("7707654321"),
    ),
)


@dataclass
class DemoKeySet:
    """What :func:`create_test_set` made."""

    directory: Path
    ca_certificate: Certificate
    ca_cert_file: Path
    entries: dict[str, CertificateInfo] = field(default_factory=dict)

    def __getitem__(self, role: str) -> CertificateInfo:
        return self.entries[role]


def create_test_set(
    directory: str | os.PathLike[str],
    password: str | bytes,
    *,
    curve: str = testpki.DEFAULT_CURVE,
    days: int = 365,
    mo_name: str = testpki.MO_NAME,
    ogrn: str = testpki.MO_OGRN,
    people: Iterable[DemoPerson] = TEST_PEOPLE,
    iterations: int = keys.DEFAULT_ITERATIONS,
    now: datetime | None = None,
) -> DemoKeySet:
    """A test CA, the МО's key and certificate (with ОГРН) and personal keys with СНИЛС
    (two doctors and the chairman of the medical commission), for demos and testers.

    Built with :mod:`gostsign.testpki`. Every private key is written encrypted with
    ``password`` (files 0600, directory 0700). The CA goes to ``ca/`` and is not offered for
    signing. Not for production: these certificates chain to a CA nobody trusts.
    """
    d = ensure_private_dir(Path(directory))
    provider = SoftwareProvider({"key_dir": d})
    ca = testpki.make_ca(curve=curve, days=days + 30, now=now)
    ca_dir = ensure_private_dir(d / "ca")
    provider._store("ca", ca.key, ca.cert, password, iterations=iterations, directory=ca_dir)
    result = DemoKeySet(directory=d, ca_certificate=ca.cert, ca_cert_file=ca_dir / "ca.crt")

    mo = testpki.make_mo(ca, name=mo_name, ogrn=ogrn, curve=curve, days=days, now=now)
    result.entries["mo"] = provider._store("mo", mo.key, mo.cert, password, iterations=iterations)
    for person in people:
        party = testpki.make_person(
            ca,
            person.surname,
            person.given,
            person.snils,
            person.title,
            organization=mo_name,
            inn=person.inn,
            curve=curve,
            days=days,
            now=now,
        )
        result.entries[person.role] = provider._store(
            person.role, party.key, party.cert, password, iterations=iterations
        )
    return result


def describe_test_set(ts: DemoKeySet) -> list[dict[str, Any]]:
    return [{"role": role, **info.as_dict()} for role, info in ts.entries.items()]
