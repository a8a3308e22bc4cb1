"""«Номера ЭЛН» → «Освободить зависшие» (F7) against the demo workspace at 80x24: the list of
stale reservations, cancel, a number saved while the dialog is open (refused, nothing freed),
the release itself and the empty case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable

from eln_tui.core.domain.codes import NumberState
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.model import Eln, Employer, Gender, Lpu, Patient, TreatPeriod
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import to_db_time, utcnow
from eln_tui.core.storage.numbers import StaleReservation
from eln_tui.ui.demo import DemoWorkspace
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.screens.numbers import NumbersScreen, StaleDialog, reserved_text
from tests.ui.test_operator_exchange import (
    SMALL,
    app_for,
    core_numbers,
    demo_eln,
    open_desk,
    pool_states,
)
from tests.ui.world import keys, run, screen_text, settle


def taken_draft(demo: DemoWorkspace) -> Eln:
    """A new ELN of demo.user with a number taken from the pool and never saved."""
    store, user = demo.store, demo.user
    today = store.today()
    _, orgs = store.load_settings()
    draft = Eln(
        electronic=True,
        written_agreement_flag=True,
        patient=Patient(
            snils="11223344595",
            surname="Зайцев",
            name="Олег",
            patronymic="Петрович",
            birthday=date(1980, 5, 5),
            gender=Gender.MALE,
        ),
        employer=Employer(name="ООО «Ромашка»"),
        lpu=Lpu(name=orgs[0].name, address=orgs[0].address, ogrn=orgs[0].ogrn),
        ln_date=today,
        reason1="01",
        diagnos="J06.9",
        doctor_id=user.id,
        treat_periods=[
            TreatPeriod(
                dt1=today,
                dt2=today + timedelta(days=2),
                doctor=user.full_name,
                doctor_role=user.position,
                doctor_id=user.id,
            )
        ],
    )
    return store.take_number(draft, user.signer)


def backdate(demo: DemoWorkspace, *numbers: str | None) -> None:
    with demo.store.db.connection_context():
        m.ElnNumber.update(reserved_at=to_db_time(utcnow() - timedelta(hours=3))).where(
            m.ElnNumber.number.in_(list(numbers))
        ).bind(demo.store.db).execute()


def test_release_stale_numbers(demo: DemoWorkspace, tmp_path: Path) -> None:
    core_numbers(demo, 4)
    used = demo_eln(demo, signed=False).ln_code
    with demo.store.db.connection_context():
        first, second, fresh = (taken_draft(demo) for _ in range(3))
    backdate(demo, used, first.ln_code, second.ln_code)
    assert first.ln_code and second.ln_code and fresh.ln_code and used

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "f12")
        assert isinstance(screen, NumbersScreen)
        await keys(pilot, "f7")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, StaleDialog)
        text = screen_text(pilot.app)
        assert "Освободить зависшие номера" in text and "Зависших номеров: 2." in text
        assert first.ln_code in text and second.ln_code in text
        assert used not in text and fresh.ln_code not in text
        assert demo.user.full_name in text  # who took them
        assert dialog.query_one("#stale", DataTable).row_count == 2
        await keys(pilot, "escape")  # cancel: nothing changes
        assert pilot.app.screen is screen
        assert pool_states(demo)[first.ln_code] is NumberState.RESERVED

        # the doctor saves the first ELN while the operator is looking at the list
        await keys(pilot, "f7")
        await settle(pilot)
        assert isinstance(pilot.app.screen, StaleDialog)
        with demo.store.db.connection_context():
            demo.store.save(first, demo.user.signer, context=CheckContext(demo.store.today()))
        await keys(pilot, "shift+tab", "enter")  # «Освободить»
        await settle(pilot)
        await settle(pilot)  # the failure dialog is pushed after the worker ended
        message = pilot.app.screen
        assert isinstance(message, MessageDialog)
        assert message.text == (
            f"Номер ЭЛН {first.ln_code} использован в сохранённом ЭЛН и не может быть освобождён."
        )
        assert message.title_text == "Освобождение номеров ЭЛН"
        await keys(pilot, "enter")
        await settle(pilot)
        states = pool_states(demo)
        assert states[first.ln_code] is NumberState.USED
        assert states[second.ln_code] is NumberState.RESERVED  # all or none
        assert "Зайцев О.П." in screen_text(pilot.app)  # the list was refreshed

        await keys(pilot, "f7")
        await settle(pilot)
        assert isinstance(pilot.app.screen, StaleDialog)
        assert "Зависших номеров: 1." in screen_text(pilot.app)
        await keys(pilot, "shift+tab", "enter")
        await settle(pilot)
        assert pilot.app.screen is screen
        text = screen_text(pilot.app)
        assert f"Освобождено зависших номеров: 1 ({second.ln_code})" in text
        assert pool_states(demo)[second.ln_code] is NumberState.FREE
        assert pool_states(demo)[fresh.ln_code] is NumberState.RESERVED
        assert "Свободно: 1" in text

        await keys(pilot, "f7")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert "Зависших номеров нет" in screen_text(pilot.app)
        with demo.store.db.connection_context():
            trail = demo.store.audit_trail(action="number_released_stale")
        assert [(r.ln_code, r.login) for r in trail] == [(second.ln_code, demo.user.login)]

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_reserved_text() -> None:
    at = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)
    local = at.astimezone().strftime("%d.%m.%Y %H:%M")
    stale = StaleReservation("900000000001", at, 7, "ivanov", "Иванов Иван Иванович")
    assert reserved_text(stale) == (local, "Иванов Иван Иванович")
    unknown = StaleReservation("900000000002", None, 7, None, None, central=True)
    assert reserved_text(unknown) == ("—", "пользователь 7, центральный сервер")
    assert reserved_text(StaleReservation("900000000003", None, None, None, None)) == ("—", "—")
