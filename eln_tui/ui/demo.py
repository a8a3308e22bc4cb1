"""Demo mode (``eln-tui --demo``): a throw-away workstation that talks to the embedded emulator.

It makes, in a private directory: software keys and test certificates (a test CA, the МО with
ОГРН, two doctors and the VK chairman; every key encrypted with the demo PIN), the local Fund
emulator on a loopback port trusting that CA, a SQLite journal with the integration settings
filled in, user profiles mapped to those certificates and a few patients. The number pool is
empty on purpose: requesting numbers from the Fund is the first thing a newcomer tries.

Nothing here is a shortcut around the product: the app then runs exactly as on a site, with the
software provider, the real client and a Fund that checks every signature.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from eln_tui.core.domain.codes import NumberMode, Role
from eln_tui.core.domain.model import Gender, Patient
from eln_tui.core.storage import (
    ElnStore,
    OrganisationData,
    SettingsData,
    UserInfo,
    open_database,
    upgrade,
)
from eln_tui.core.storage.repository import SYSTEM
from providers.software import DemoKeySet, SoftwareProvider, create_test_set

DEMO_PIN = "1234"
MO_NAME = "ГБУЗ «Демонстрационная городская поликлиника № 1»"
MO_ADDRESS = "г. Москва, ул. Демонстрационная, д. 1"
PHONE = "+7 495 000-00-00"
EMAIL = "eln@demo.test"

#: (surname, name, patronymic, birthday, gender, SNILS, workplace)
PATIENTS = (
    ("Петров", "Пётр", "Петрович", date(1980, 5, 5), Gender.MALE, "11223344595", "ООО «Ромашка»"),
    (
        "Сидорова",
        "Анна",
        "Викторовна",
        date(1991, 2, 14),
        Gender.FEMALE,
        "08765430300",
        None,
    ),
    (
        "Кузнецов",
        "Илья",
        "Сергеевич",
        date(1975, 11, 30),
        Gender.MALE,
        "13245768764",
        None,
    ),
)

#: Extra profiles of the demo (login, full name, roles, certificate of the test set).
PEOPLE = (
    ("demo-doctor2", "Смирнов Андрей Викторович", (Role.DOCTOR,), "Врач-хирург", "doctor2"),
    (
        "demo-vk",
        "Петров Сергей Николаевич",
        (Role.DOCTOR, Role.VK_CHAIRMAN),
        "Председатель врачебной комиссии",
        "vk-chairman",
    ),
    ("demo-nurse", "Кузнецова Анна Ивановна", (Role.NURSE,), "Медицинская сестра", None),
)


def banner(workspace: DemoWorkspace) -> str:
    return (
        f"Учебная база и эмулятор СФР на {workspace.emulator.host}:{workspace.emulator.port}. "
        f"PIN всех ключей: {workspace.pin}. Начните с Ctrl+P → «Номера ЭЛН»."
    )


@dataclass
class DemoWorkspace:
    directory: Path
    store: ElnStore
    provider: SoftwareProvider
    keyset: DemoKeySet
    emulator: Any  # fss_emulator.Emulator, started
    fss: dict[str, Any]
    user: UserInfo
    users: dict[str, UserInfo] = field(default_factory=dict)
    pin: str = DEMO_PIN

    @property
    def emulator_url(self) -> str:
        return str(self.emulator.url)

    def close(self) -> None:
        self.emulator.stop()
        self.store.db.close()


def _private_dir(directory: Path | None) -> Path:
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="eln-demo-"))
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    return directory


def create_demo(
    directory: Path | None = None,
    *,
    login: str,
    pin: str = DEMO_PIN,
    iterations: int = 20_000,
) -> DemoWorkspace:
    """Make (or reopen) a demo workstation in ``directory`` for the OS account ``login``.

    ``iterations``: PBKDF2 rounds of the demo key files (low: these keys protect nothing).
    Reopening keeps the journal, the keys and the emulator's state.
    """
    from fss_emulator import Emulator

    root = _private_dir(directory)
    keys_dir = root / "keys"
    fresh = not (keys_dir / "mo.crt").exists()
    if fresh:
        keyset = create_test_set(keys_dir, pin, iterations=iterations, mo_name=MO_NAME)
    else:
        keyset = _reopen_keyset(keys_dir)
    provider = SoftwareProvider({"key_dir": keys_dir})
    emulator = Emulator(root / "fss", trust=[keyset.ca_certificate])
    emulator.start()
    try:
        fund_pem = root / "fss-fund.pem"
        fund_pem.write_bytes(emulator.fund_cert.pem)
        fss = {
            "mo_certificate": keyset["mo"].serial_hex,
            "fund_certificate": str(fund_pem),
            "contour": "emulator",
            "read_timeout": 30.0,
            "retries": 0,
        }
        db = open_database(f"sqlite:///{root / 'eln.sqlite3'}")
        upgrade(db)
        store = ElnStore(db)
        ogrn = keyset["mo"].certificate.subject.ogrn or ""
        # The emulator listens on a new port each start: the address follows it.
        store.save_settings(
            SettingsData(
                enabled=True,
                server_url=emulator.url,
                registry_phone=PHONE,
                registry_email=EMAIL,
                crypto_provider="software",
                number_mode=NumberMode.ANY_CURRENT,
            ),
            [OrganisationData(MO_NAME, MO_ADDRESS, ogrn, uses_integration=True)],
            SYSTEM,
        )
        owner_file = root / "owner"
        if fresh:
            users = _users(store, keyset, login)
            owner_file.write_text(login, encoding="utf-8")
        else:  # the profile made at creation stays the main one, whoever reopens it
            login = owner_file.read_text(encoding="utf-8").strip()
            users = _known_users(store, login)
    except BaseException:
        emulator.stop()
        raise
    return DemoWorkspace(
        directory=root,
        store=store,
        provider=provider,
        keyset=keyset,
        emulator=emulator,
        fss=fss,
        user=users[login],
        users=users,
        pin=pin,
    )


def _users(store: ElnStore, keyset: DemoKeySet, login: str) -> dict[str, UserInfo]:
    users = {
        login: store.add_user(
            login,
            "Иванова Мария Петровна",
            [Role.DOCTOR, Role.ELN_OPERATOR, Role.ADMIN],
            position="Врач-терапевт участковый",
            cert_serial=keyset["doctor1"].serial_hex,
        )
    }
    for name, full_name, roles, position, cert in PEOPLE:
        users[name] = store.add_user(
            name,
            full_name,
            list(roles),
            position=position,
            cert_serial=keyset[cert].serial_hex if cert else None,
        )
    for surname, name, patronymic, birthday, gender, snils, workplace in PATIENTS:
        store.save_patient(
            Patient(
                snils=snils,
                surname=surname,
                name=name,
                patronymic=patronymic,
                birthday=birthday,
                gender=gender,
            ),
            SYSTEM,
            workplace=workplace,
        )
    return users


def _known_users(store: ElnStore, login: str) -> dict[str, UserInfo]:
    users = {}
    for name in (login, *(p[0] for p in PEOPLE)):
        users[name] = store.user_by_login(name)
    return users


def _reopen_keyset(keys_dir: Path) -> DemoKeySet:
    provider = SoftwareProvider({"key_dir": keys_dir})
    ca_file = keys_dir / "ca" / "ca.crt"
    from gostsign.x509 import Certificate

    keyset = DemoKeySet(keys_dir, Certificate.load(ca_file.read_bytes()), ca_file)
    for info in provider.list_certificates():
        keyset.entries[info.key_label or info.serial_hex] = info
    return keyset
