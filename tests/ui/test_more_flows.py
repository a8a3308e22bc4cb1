"""Less frequent flows of the doctor's desk, and the app shell (profile, keymap, palette)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from eln_tui.core.domain.codes import JournalState, NumberState, SignerSlot
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Block, Lpu
from eln_tui.ui.app import NO_PROFILE_TITLE, ElnApp, binding_table, main
from eln_tui.ui.config import UiConfig
from eln_tui.ui.demo import DemoWorkspace
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.pick import PatientDialog, ReceivedDialog
from eln_tui.ui.screens.eln_editor import ElnEditorScreen
from eln_tui.ui.screens.my_elns import MyElnsScreen
from eln_tui.ui.screens.notice import NoticeScreen
from tests.ui.test_doctor_desk import DOC0, editor, open_first, sign_core, sign_with
from tests.ui.world import NUMBERS, TODAY, World, keys, put, run, screen_text, settle

NARROW = (80, 24)


def test_account_without_profile_sees_only_the_message(world: World) -> None:
    app = world.app(None, login="guest")

    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, NoticeScreen)
        text = screen_text(pilot.app)
        assert NO_PROFILE_TITLE in text
        assert "Учётная запись «guest» не сопоставлена профилю пользователя ЭЛН" in text
        await keys(pilot, "ctrl+p")  # no command palette, no desks
        assert not CommandPalette.is_open(pilot.app)
        await keys(pilot, "f4")
        assert isinstance(pilot.app.screen, NoticeScreen)
        await keys(pilot, "enter")
        assert not pilot.app.is_running

    run(app, NARROW, scenario)


def test_keys_are_remapped_by_id(world: World) -> None:
    world.eln()
    config = UiConfig(keymap={"editor.save": "f12", "my_elns.new": "f7"}, print_dir=world.tmp)
    assert {
        "editor.save",
        "editor.sign",
        "my_elns.new",
        "app.quit",
        "journal.fetch",
        "numbers.request",
        "users.new",
        "desk.journal",
    } <= {row[0] for row in binding_table()}

    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f4")  # remapped away: nothing happens
        assert isinstance(pilot.app.screen, MyElnsScreen)
        await keys(pilot, "f7")
        assert isinstance(pilot.app.screen, ElnEditorScreen)
        await keys(pilot, "escape")
        await keys(pilot, "left", "enter")  # confirm: close the unsaved draft
        page = await open_first(pilot)
        await put(pilot, "diagnos", "J06.0")
        await settle(pilot)
        await keys(pilot, "f12")
        assert page.stored is not None and page.stored.diagnos == "J06.0"
        assert "F12 Сохр." in screen_text(pilot.app)

    run(world.app(world.doctor, config=config), NARROW, scenario)


def test_command_palette_lists_actions_in_russian(world: World) -> None:
    world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_first(pilot)
        await keys(pilot, "ctrl+p")
        assert CommandPalette.is_open(pilot.app)
        await pilot.press(*"Продолж")
        await pilot.pause(0.3)
        text = screen_text(pilot.app)
        assert "Продолжение ЭЛН (новый ЭЛН)" in text
        await keys(pilot, "escape")

    run(world.app(world.doctor), NARROW, scenario)


def test_empty_pool_message(world: World) -> None:
    world.store.pool().mark_returned(NUMBERS)

    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f4")
        await put(pilot, "patient.snils", "11223344595")
        await settle(pilot)
        await keys(pilot, "f3")
        dialog = pilot.app.screen
        assert isinstance(dialog, MessageDialog)
        assert (
            dialog.text
            == "Отсутствуют свободные номера для ЭЛН! обратитесь к системному администратору!"
        )

    run(world.app(world.doctor), NARROW, scenario)


def test_abandoned_new_eln_returns_its_number(world: World) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f4")
        await put(pilot, "patient.snils", "11223344595")
        await settle(pilot)
        await keys(pilot, "f3")
        assert world.store.pool().get(NUMBERS[0]).state is NumberState.RESERVED
        await keys(pilot, "escape")
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmationModal) and NUMBERS[0] in confirm.text
        await keys(pilot, "left", "enter")
        assert isinstance(pilot.app.screen, MyElnsScreen)
        assert world.store.pool().get(NUMBERS[0]).state is NumberState.FREE

    run(world.app(world.doctor), NARROW, scenario)


def test_refer_to_mse(world: World) -> None:
    eln = world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        page = await open_first(pilot)
        await keys(pilot, "f7")
        await keys(pilot, "enter")  # today
        assert page.current().mse_dt1 == TODAY
        await keys(pilot, "f2")
        assert world.store.load(eln.id).mse_dt1 == TODAY  # type: ignore[arg-type]

    run(world.app(world.doctor), NARROW, scenario)


def test_print_patient_info_to_a_file(world: World) -> None:
    eln = world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_first(pilot)
        await keys(pilot, "f9")
        await keys(pilot, "down", "enter")  # «Информация для пациента»
        files = list((world.tmp / "print").glob("patient_info-*.txt"))
        assert len(files) == 1
        text = files[0].read_text(encoding="utf-8")
        assert str(eln.ln_code) in text and "Петров Пётр Петрович" in text
        assert "ООО «Ромашка»" in text

    run(world.app(world.doctor), NARROW, scenario)


def test_continue_as_new_eln(world: World) -> None:
    eln = world.eln()
    sign_core(world, eln.id, DOC0)  # type: ignore[arg-type]

    async def scenario(pilot: Pilot[Any]) -> None:
        page = await open_first(pilot)
        page.action_continue()
        await settle(pilot)
        await keys(pilot, "left", "enter")
        new = editor(pilot)
        assert new is not page and new.stored is None
        draft = new.current()
        assert not draft.primary_flag and draft.prev_ln_code == eln.ln_code
        assert draft.ln_code == NUMBERS[1]
        assert draft.treat_periods[0].dt1 == TODAY + timedelta(days=1)
        old = world.store.load(eln.id)  # type: ignore[arg-type]
        assert old.ln_result is not None and old.ln_result.mse_result == "31"
        assert old.ln_result.next_ln_code == NUMBERS[1]

    run(world.app(world.doctor), NARROW, scenario)


@pytest.mark.parametrize("how", ["close", "continue"])
def test_eln_received_from_another_mo(world: World, how: str) -> None:
    # an ELN of another МО, as the operator received it with getLNData
    foreign = world.draft(ln_code="910000000555", ln_state="010", doctor_id=None)
    foreign.lpu = Lpu(name="ГБУЗ «Другая больница»", address="г. Тверь", ogrn="1027739443236")
    received = world.store.store_received(foreign, world.doctor.signer)
    assert journal_state(received) is JournalState.RECEIVED

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, MyElnsScreen)
        if how == "close":
            screen.action_close_received()
        else:
            screen.action_continue_received()
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReceivedDialog)
        assert str(received.ln_code) in screen_text(pilot.app)
        await keys(pilot, "enter")  # the only ELN is taken at once
        if how == "close":
            await keys(pilot, "enter")  # return to work the day after the last period
            page = editor(pilot)
            draft = page.current()
            assert draft.doctor_id == world.doctor.id
            assert draft.ln_result is not None
            assert draft.ln_result.return_date_lpu == TODAY + timedelta(days=1)
            await keys(pilot, "f4")  # saves, then signs block 2
            await sign_with(pilot)
            stored = world.store.load(received.id)  # type: ignore[arg-type]
            assert stored.ln_result is not None and stored.ln_result.signature is not None
            assert journal_state(stored) is JournalState.PENDING  # «Не переданы»
        else:
            await keys(pilot, "left", "enter")
            page = editor(pilot)
            draft = page.current()
            assert draft.prev_ln_code == received.ln_code and not draft.primary_flag
            assert draft.lpu.ogrn == world.ogrn
            old = world.store.load(received.id)  # type: ignore[arg-type]
            assert old.ln_result is not None and old.ln_result.mse_result == "31"

    run(world.app(world.doctor), NARROW, scenario)


def test_vk_chairman_signs_after_the_doctor(world: World) -> None:
    """An 18-day ELN: the doctor signs, then the VK chairman signs treatFullPeriod."""
    start = TODAY - timedelta(days=17)
    eln = world.eln(ln_date=start)
    period = eln.treat_periods[0]
    period.dt1 = start
    period.chairman = world.chairman.full_name
    period.chairman_role = "ПРЕД ВК"
    eln = world.store.save(eln, world.doctor.signer, context=world.context())
    sign_core(world, eln.id, DOC0)  # type: ignore[arg-type]

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, MyElnsScreen)
        await keys(pilot, "f6")  # all ELNs of the МО: the chairman is not the treating doctor
        page = await open_first(pilot)
        assert page.form.sign_button(Block("period", SignerSlot.VK, 0)) is not None
        await keys(pilot, "f4")
        await sign_with(pilot)
        stored = world.store.load(eln.id)  # type: ignore[arg-type]
        assert stored.treat_periods[0].chairman_signature is not None

    run(world.app(world.chairman), NARROW, scenario)


def test_main_refuses_another_users_login(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.delenv("ELN_TUI_ALLOW_USER", raising=False)
    monkeypatch.setattr("eln_tui.ui.app.os_login", lambda: "ivanova")
    assert main(["--user", "petrov", "--db", "sqlite:///:memory:"]) == 2
    assert "--user доступен только администратору" in capsys.readouterr().err


def test_main_lists_binding_ids(capsys: Any) -> None:
    assert main(["--keys"]) == 0
    out = capsys.readouterr().out
    assert "editor.sign" in out and "my_elns.new" in out


def test_app_is_built_from_its_constructor(world: World, tmp_path: Path) -> None:
    app = ElnApp(world.store, None, world.doctor, config=UiConfig(theme="ansi-dark"))
    assert app.desk is not None and app.desk.provider is None
    assert app.theme == "ansi-dark"


def test_no_color_and_sixteen_colours(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without colour every state still reads as text: marks, the terminated banner, locks."""
    eln = world.eln()
    world.store.terminate(eln.id, world.doctor.signer, "010", "Отмена оформления")  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    app = world.app(world.doctor, config=UiConfig(theme="ansi-dark", print_dir=world.tmp))

    async def scenario(pilot: Pilot[Any]) -> None:
        assert pilot.app.no_color and pilot.app.theme == "ansi-dark"
        assert "ЛН прекращен" in screen_text(pilot.app)
        await open_first(pilot)
        text = screen_text(pilot.app)
        assert "ЛН прекращен" in text and "[X] Электронный" in text
        svg = pilot.app.export_screenshot()
        assert "ЛН прекращен" in svg.replace("&#160;", " ")

    run(app, NARROW, scenario)


def test_flk_message_opens_the_folded_section(world: World) -> None:
    """«Долечивание в санатории» without voucher data: choosing the ФЛК message opens
    «Санаторий, путевка» and puts the cursor into «№ путевки»."""
    world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        page = await open_first(pilot)
        assert not page.query("#f-voucher_no")  # folded: not even composed
        await put(pilot, "reason1", "08")
        await settle(pilot)
        panel = page.flk_panel
        rule = "Данные о санатории и путевке обязательны при долечивании в санатории."
        messages = [v.message for v in panel.violations]
        assert rule in messages
        await keys(pilot, "ctrl+l")
        panel.list.highlighted = messages.index(rule)
        await keys(pilot, "enter")
        assert pilot.app.focused is not None and pilot.app.focused.id == "f-voucher_no"

    run(world.app(world.doctor), NARROW, scenario)


def test_another_desk_plugs_into_the_registry(world: World) -> None:
    """How issue 8 adds the operator's journal: a ScreenSpec with roles and a key."""
    from textual.app import ComposeResult
    from textual.widgets import Footer, Static

    from eln_tui.core.domain.codes import DOC_SIGNER_ROLES, Role
    from eln_tui.ui.registry import ScreenSpec, default_registry
    from eln_tui.ui.screens.base import DeskScreen

    class Journal(DeskScreen):
        def compose(self) -> ComposeResult:
            yield Static("Работа с ЕИИС Соцстрах")
            yield Footer()

    registry = default_registry()
    registry.register(
        ScreenSpec("example", "Пример стола", Journal, frozenset({Role.ELN_OPERATOR}))
    )
    both = world.store.add_user(
        "boss", "Главный Врач", [*DOC_SIGNER_ROLES, Role.ELN_OPERATOR], position="Главный врач"
    )
    config = UiConfig(keymap={"desk.example": "f20"}, print_dir=world.tmp)
    app = ElnApp(world.store, None, both, config=config, registry=registry)

    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, MyElnsScreen)  # home: the lower rank
        titles = [c.title for c in pilot.app.commands()]  # type: ignore[attr-defined]
        assert "Перейти: Пример стола" in titles
        await keys(pilot, "f20")
        assert isinstance(pilot.app.screen, Journal)
        assert pilot.app.current_mode == "example"

    run(app, NARROW, scenario)


def test_token_not_inserted(world: World, tmp_path: Path) -> None:
    """No key medium on this workstation: the dialog says so and offers no signing."""
    from eln_tui.ui.dialogs.sign import SignDialog
    from providers.software import SoftwareProvider

    world.eln()
    absent = SoftwareProvider({"key_dir": tmp_path / "no-token"})

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_first(pilot)
        await keys(pilot, "f4")
        dialog = pilot.app.screen
        assert isinstance(dialog, SignDialog)
        assert "Подписать нельзя." in screen_text(pilot.app)
        status = str(dialog.query_one("#status").render())
        assert "Каталог программных ключей" in status and "не существует" in status
        assert dialog.query_one("#sign").disabled

    run(world.app(world.doctor, provider=absent), NARROW, scenario)


def test_find_patient_enter_takes_the_only_match(demo: DemoWorkspace, tmp_path: Path) -> None:
    """Ctrl+F in a new ELN: Enter right after typing takes the one match (no second Enter);
    with several matches Enter goes to the list and Enter there chooses."""
    from eln_tui.core.domain.model import Patient
    from eln_tui.core.storage.repository import SYSTEM

    with demo.store.db.connection_context():
        demo.store.save_patient(Patient(surname="Петрова", name="Анна"), SYSTEM)
    app = ElnApp(
        demo.store,
        demo.provider,
        demo.user,
        config=UiConfig(print_dir=tmp_path),
        login=demo.user.login,
        fss=demo.fss,
    )

    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f4")
        assert isinstance(pilot.app.screen, ElnEditorScreen)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(pilot.app.screen, PatientDialog)
        await pilot.press(*"Сидор", "enter")  # faster than the search debounce
        await settle(pilot)
        assert isinstance(pilot.app.screen, ElnEditorScreen)
        assert "Сидорова" in screen_text(pilot.app)
        await pilot.press("ctrl+f")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, PatientDialog)
        query = dialog.query_one("#query", Input)
        query.value = "Петров"  # Петров and Петрова
        await pilot.pause(0.4)
        await settle(pilot)
        await keys(pilot, "enter")  # two: to the list, nothing chosen yet
        assert pilot.app.screen is dialog
        await keys(pilot, "down", "enter")
        assert isinstance(pilot.app.screen, ElnEditorScreen), screen_text(pilot.app)
        assert "Петрова" in screen_text(pilot.app)

    run(app, NARROW, scenario)
