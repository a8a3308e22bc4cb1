"""The whole working cycle through the UI, against the emulator (demo workspace):

operator requests numbers → the doctor creates and signs an ELN → the operator sends the registry
→ the journal shows «Переданы» → the doctor extends with a period that needs the VK → the
chairman (demo-vk, a second app on the same journal) signs the VK slot → send → the doctor
closes the ELN → send. The journal's clock is ours (each period is sent on its end date), the
Fund's emulator checks every signature.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from eln_tui.core.domain.codes import JournalState, JournalView, SignerSlot
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Block
from eln_tui.core.storage import ElnStore, UserInfo
from eln_tui.ui.app import ElnApp
from eln_tui.ui.config import UiConfig
from eln_tui.ui.demo import DemoWorkspace
from eln_tui.ui.dialogs.mo_pin import MoPinDialog
from eln_tui.ui.dialogs.sign import SignDialog
from eln_tui.ui.formmodel import format_date
from eln_tui.ui.screens.eln_editor import ElnEditorScreen
from eln_tui.ui.screens.my_elns import MyElnsScreen
from eln_tui.ui.screens.numbers import NumbersScreen
from eln_tui.ui.screens.registry_send import RegistrySendScreen
from tests.ui.world import focus, keys, put, run, screen_text, settle

SIZE = (80, 24)


class Clock:
    """The journal's clock: the real time shifted by whole days (certificates stay valid)."""

    def __init__(self) -> None:
        self.shift = 0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self.shift)


def test_whole_day(demo: DemoWorkspace, tmp_path: Any) -> None:
    clock = Clock()
    store = ElnStore(demo.store.db, clock=clock)
    first_day = store.today()

    def day(n: int) -> date:
        return first_day + timedelta(days=n)

    def app(user: UserInfo) -> ElnApp:
        return ElnApp(
            store,
            demo.provider,
            user,
            config=UiConfig(print_dir=tmp_path / "print"),
            login=user.login,
            fss=demo.fss,
        )

    def the_eln() -> Any:
        with store.db.connection_context():
            row = store.journal(JournalView.ALL).rows[0]
            return store.load(row.id)

    async def pin(pilot: Pilot[Any], dialog: type) -> None:
        assert isinstance(pilot.app.screen, dialog), pilot.app.screen
        await keys(pilot, *demo.pin, "enter")
        await settle(pilot)

    async def send(pilot: Pilot[Any], when: date) -> str:
        """The operator sends the registry of ``when``; the result list as text."""
        await keys(pilot, "ctrl+t")
        screen = pilot.app.screen
        assert isinstance(screen, RegistrySendScreen)
        await keys(pilot, "f3")
        screen.query_one("#day", Input).value = format_date(when)
        await keys(pilot, "enter")
        assert "к передаче 1 ЭЛН" in screen_text(pilot.app)
        await keys(pilot, "f2")
        await pin(pilot, MoPinDialog)
        text = screen_text(pilot.app)
        assert "принят СФР" in text and "принято 1" in text, text
        return text

    async def open_in_my_elns(pilot: Pilot[Any], *, all_elns: bool = False) -> ElnEditorScreen:
        pilot.app.action_open_desk("my_elns")  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(pilot.app.screen, MyElnsScreen)
        if all_elns:
            await keys(pilot, "f6")
        await keys(pilot, "enter")
        editor = pilot.app.screen
        assert isinstance(editor, ElnEditorScreen), editor
        return editor

    # --- day 1: numbers, a new ELN signed by the doctor ---------------------------------------

    async def morning(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f12")
        assert isinstance(pilot.app.screen, NumbersScreen)
        await keys(pilot, "f2")
        pilot.app.screen.query_one("#count", Input).value = "3"
        await keys(pilot, "enter")
        await pin(pilot, MoPinDialog)
        assert "Получено номеров: 3" in screen_text(pilot.app)

        pilot.app.action_open_desk("my_elns")  # type: ignore[attr-defined]
        await settle(pilot)
        await keys(pilot, "f4")
        editor = pilot.app.screen
        assert isinstance(editor, ElnEditorScreen)
        for path, value in (
            ("patient.snils", "11223344595"),
            ("patient.surname", "Петров"),
            ("patient.name", "Пётр"),
            ("patient.birthday", "05.05.1980"),
            ("patient.gender", "0"),
            ("employer.name", "ООО «Ромашка»"),
            ("reason1", "01"),
            ("diagnos", "J06.9"),
            ("treat_periods[0].dt2", format_date(day(4))),
        ):
            await put(pilot, path, value)
        await settle(pilot)
        await keys(pilot, "f3")  # the number from the pool the operator has just filled
        await put(pilot, "written_agreement_flag", True)
        await keys(pilot, "f2")
        await focus(pilot, "treat_periods[0].dt2")
        await keys(pilot, "f4")
        await pin(pilot, SignDialog)
        eln = the_eln()
        assert eln.treat_periods[0].doctor_signature is not None
        assert journal_state(eln) is JournalState.PENDING
        await keys(pilot, "escape")  # back to «Мои ЭЛН»

        # --- day 5: the period ends, the operator sends it; then the doctor extends ------------
        clock.shift = 4
        await send(pilot, day(4))
        eln = the_eln()
        assert journal_state(eln) is JournalState.SENT and eln.ln_state == "010"
        with store.db.connection_context():
            sent = store.journal(JournalView.SENT).rows
        assert [r.ln_code for r in sent] == [eln.ln_code]
        pilot.app.action_open_desk("journal")  # type: ignore[attr-defined]
        await settle(pilot)
        await keys(pilot, "3")  # the view «Переданы»
        text = screen_text(pilot.app)
        assert "Переданы" in text and f"{eln.ln_code}" in text
        assert pilot.app.screen.query_one(DataTable).row_count == 1
        await keys(pilot, "2")  # «Не переданы»: empty now
        assert pilot.app.screen.query_one(DataTable).row_count == 0

        editor = await open_in_my_elns(pilot)
        await keys(pilot, "f5")
        await pilot.press(*format_date(day(19)), "enter")
        await settle(pilot)
        assert len(editor.current().treat_periods) == 2
        flk = [v.message for v in editor.flk_panel.violations]
        assert any("председателя ВК" in m for m in flk), flk
        # the doctor names the chairman who will co-sign (beyond 15 days: ФЛК 21)
        await put(pilot, "treat_periods[1].chairman", demo.users["demo-vk"].full_name)
        await settle(pilot)
        assert not [v for v in editor.flk_panel.violations if "председателя ВК" in v.message]
        await keys(pilot, "f4")  # saves, then signs the new period
        await pin(pilot, SignDialog)
        eln = the_eln()
        assert eln.treat_periods[1].doctor_signature is not None
        assert eln.treat_periods[1].chairman_signature is None
        await keys(pilot, "escape")

    # --- the VK chairman at his own terminal ----------------------------------------------------

    async def chairman(pilot: Pilot[Any]) -> None:
        editor = await open_in_my_elns(pilot, all_elns=True)
        assert editor.form.sign_button(Block("period", SignerSlot.VK, 1)) is not None
        await keys(pilot, "f4")
        await pin(pilot, SignDialog)
        assert the_eln().treat_periods[1].chairman_signature is not None

    # --- day 20: send the extension, close, send the closing ----------------------------------

    async def evening(pilot: Pilot[Any]) -> None:
        clock.shift = 19
        await send(pilot, day(19))
        eln = the_eln()
        assert journal_state(eln) is JournalState.SENT and eln.ln_state == "020"
        editor = await open_in_my_elns(pilot)
        await keys(pilot, "f6")
        await keys(pilot, "enter")  # to work from the day after the last period
        result = editor.current().ln_result
        assert result is not None and result.return_date_lpu == day(20)
        await keys(pilot, "f4")
        await pin(pilot, SignDialog)
        await keys(pilot, "escape")
        await send(pilot, day(19))
        eln = the_eln()
        assert journal_state(eln) is JournalState.SENT and eln.ln_state == "030"

    run(app(demo.user), SIZE, morning)
    run(app(demo.users["demo-vk"]), SIZE, chairman)
    run(app(demo.user), SIZE, evening)


pytestmark = pytest.mark.slow
