"""A workstation for the UI tests: SQLite file database, settings, number pool, users mapped to
the software provider's test certificates (gostsign test PKI), a fixed clock, and helpers to run
the app headless and read its screen as text."""

from __future__ import annotations

import io
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from eln_tui.core.domain.codes import NumberMode, Role
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.model import Eln, Employer, Gender, Lpu, Patient, TreatPeriod
from eln_tui.core.storage import (
    ElnStore,
    OrganisationData,
    SettingsData,
    UserInfo,
    open_database,
    upgrade,
)
from eln_tui.core.storage.db import database_proxy
from eln_tui.core.storage.repository import SYSTEM
from eln_tui.ui.app import ElnApp
from eln_tui.ui.config import UiConfig
from providers.software import DemoKeySet, SoftwareProvider, create_test_set

PIN = "1234"
NOW = datetime(2024, 3, 20, 6, 30, tzinfo=UTC)  # 09:30 in Moscow
TODAY = date(2024, 3, 20)
SNILS = "11223344595"
NUMBERS = [f"{900_000_000_001 + i:012d}" for i in range(20)]
SIZES = [(80, 24), (120, 40)]
MO_NAME = "ГБУЗ «Тестовая городская поликлиника № 1»"
MO_ADDRESS = "г. Москва, ул. Тестовая, д. 1"


def make_keyset(directory: Path) -> DemoKeySet:
    return create_test_set(directory, PIN, iterations=1000)


def only(keyset: DemoKeySet, role: str, directory: Path) -> SoftwareProvider:
    """A provider that offers just one certificate of the test set (one token inserted)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    source = Path(keyset.directory)
    for suffix in (".key", ".crt"):
        target = directory / f"{role}{suffix}"
        shutil.copyfile(source / f"{role}{suffix}", target)
        target.chmod(0o600)
    return SoftwareProvider({"key_dir": directory})


@dataclass
class World:
    store: ElnStore
    keyset: DemoKeySet
    provider: SoftwareProvider
    doctor: UserInfo
    chairman: UserInfo
    nurse: UserInfo
    stranger: UserInfo  # a doctor whose profile names doctor2's certificate
    tmp: Path
    ogrn: str

    def app(
        self,
        user: UserInfo | None,
        *,
        provider: SoftwareProvider | None = None,
        config: UiConfig | None = None,
        login: str = "",
    ) -> ElnApp:
        config = config or UiConfig(print_dir=self.tmp / "print")
        return ElnApp(
            self.store,
            provider or self.provider,
            user,
            config=config,
            login=login or (user.login if user else "nobody"),
        )

    def context(self) -> CheckContext:
        return CheckContext(today=TODAY)

    def eln(self, **kw: Any) -> Eln:
        """A saved ELN of the doctor: number from the pool, one unsigned 5-day period."""
        numbered = self.store.take_number(self.draft(**kw), self.doctor.signer)
        return self.store.save(numbered, self.doctor.signer, context=self.context())

    def draft(self, **kw: Any) -> Eln:
        """An unsaved, valid ELN of the doctor without a number."""
        start = TODAY - timedelta(days=4)
        values: dict[str, Any] = {
            "electronic": True,
            "written_agreement_flag": True,
            "patient": Patient(
                snils=SNILS,
                surname="Петров",
                name="Пётр",
                patronymic="Петрович",
                birthday=date(1980, 5, 5),
                gender=Gender.MALE,
            ),
            "employer": Employer(name="ООО «Ромашка»"),
            "lpu": self.store_lpu(),
            "ln_date": start,
            "reason1": "01",
            "diagnos": "J06.9",
            "doctor_id": self.doctor.id,
            "treat_periods": [
                TreatPeriod(
                    dt1=start,
                    dt2=TODAY,
                    doctor=self.doctor.full_name,
                    doctor_role=self.doctor.position,
                    doctor_id=self.doctor.id,
                )
            ],
        }
        values.update(kw)
        return Eln(**values)

    def store_lpu(self) -> Lpu:
        return Lpu(name=MO_NAME, address=MO_ADDRESS, ogrn=self.ogrn)


def build_world(tmp: Path, keyset: DemoKeySet) -> World:
    db = open_database(f"sqlite:///{tmp}/eln.sqlite3")
    upgrade(db)
    store = ElnStore(db, clock=lambda: NOW)
    ogrn = keyset["mo"].certificate.subject.ogrn or ""
    store.save_settings(
        SettingsData(
            enabled=True,
            server_url="http://127.0.0.1:8080/ws",
            registry_phone="+7 495 000-00-00",
            registry_email="eln@example.test",
            crypto_provider="software",
            number_mode=NumberMode.ANY_CURRENT,
        ),
        [
            OrganisationData(
                name=MO_NAME,
                address=MO_ADDRESS,
                ogrn=ogrn,
                uses_integration=True,
            )
        ],
        SYSTEM,
    )
    store.pool().add(NUMBERS, ogrn=ogrn)
    doctor = store.add_user(
        "ivanova",
        "Иванова Мария Петровна",
        [Role.DOCTOR],
        position="Врач-терапевт участковый",
        cert_serial=keyset["doctor1"].serial_hex,
    )
    chairman = store.add_user(
        "petrov",
        "Петров Сергей Николаевич",
        [Role.DOCTOR, Role.VK_CHAIRMAN],
        position="Заведующий отделением",
        cert_serial=keyset["vk-chairman"].serial_hex,
    )
    nurse = store.add_user("sestra", "Кузнецова Анна Ивановна", [Role.NURSE], position="Медсестра")
    stranger = store.add_user(
        "smirnov",
        "Смирнов Андрей Викторович",
        [Role.DOCTOR],
        position="Врач-хирург",
        cert_serial=keyset["doctor2"].serial_hex,
    )
    provider = SoftwareProvider({"key_dir": keyset.directory})
    return World(store, keyset, provider, doctor, chairman, nurse, stranger, tmp, ogrn)


def close_world() -> None:
    db = database_proxy.obj
    if db is not None:
        db.close()
    database_proxy.initialize(None)


# --- running the app ------------------------------------------------------------------------


def screen_text(app: App[Any]) -> str:
    """The screen as plain text (what a user reads; styles dropped)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    text = console.export_text(styles=False)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and the messages they posted be handled."""
    for _ in range(50):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            refresh = getattr(pilot.app.screen, "refresh_now", None)
            if callable(refresh):
                refresh()  # the ФЛК debounce after typing
            await pilot.pause()
            return


def run(
    app: App[Any], size: tuple[int, int], scenario: Callable[[Pilot[Any]], Awaitable[None]]
) -> None:
    import asyncio

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


# --- driving the form -----------------------------------------------------------------------


async def focus(pilot: Pilot[Any], path: str) -> Any:
    """Focus the field of ``path`` in the editor (opening its fold), like a user tabbing to it."""
    from eln_tui.ui.formmodel import widget_id

    screen: Any = pilot.app.screen
    await screen.reveal(path)
    await pilot.pause()
    widget = screen.query_one(f"#{widget_id(path)}")
    widget.focus()
    await pilot.pause()
    return widget


async def put(pilot: Pilot[Any], path: str, value: Any) -> None:
    """Set the field of ``path`` as if the user had typed or chosen ``value`` (fast)."""
    from textual.css.query import NoMatches
    from textual.widgets import Checkbox

    from eln_tui.ui.formmodel import widget_id
    from eln_tui.ui.widgets.fields import PickField

    screen: Any = pilot.app.screen
    try:
        widget = screen.query_one(f"#{widget_id(path)}")
    except NoMatches:
        await screen.reveal(path)
        widget = screen.query_one(f"#{widget_id(path)}")
    if isinstance(widget, PickField):
        widget.set_value(value)
    elif isinstance(widget, Checkbox):
        widget.value = bool(value)
    else:
        widget.value = value


async def fill(pilot: Pilot[Any], path: str, text: str, *, typed: bool = False) -> None:
    """Put ``text`` into the input of ``path`` (``typed``: key by key, slower) and leave it."""
    widget = await focus(pilot, path)
    if typed:
        widget.value = ""
        await pilot.press(*text)
    else:
        widget.value = text
        widget.cursor_position = len(text)
    widget.blur()
    await pilot.pause()


async def pick(pilot: Pilot[Any], path: str, query: str) -> None:
    """Choose in the pick list of ``path``: Enter, type a filter, Enter."""
    await focus(pilot, path)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*query)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def tick(pilot: Pilot[Any], path: str) -> None:
    await focus(pilot, path)
    await pilot.press("space")
    await pilot.pause()


async def keys(pilot: Pilot[Any], *names: str) -> None:
    await pilot.press(*names)
    await settle(pilot)
