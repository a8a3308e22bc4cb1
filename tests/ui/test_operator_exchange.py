"""The operator's exchange desks against the emulator (demo workspace): the МО key PIN,
«Номера ЭЛН» (request, import, return) and «Передать в ЕИИС Соцстрах» (preview, send, faults)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar, Static

from eln_tui.core.domain.codes import JournalState, NumberState, SignerSlot
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Block, Eln, Employer, Gender, Lpu, Patient, TreatPeriod
from eln_tui.ui.app import ElnApp
from eln_tui.ui.config import UiConfig
from eln_tui.ui.demo import DemoWorkspace
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.mo_pin import MoPinDialog, run_exchange
from eln_tui.ui.formmodel import format_date
from eln_tui.ui.screens.numbers import CountDialog, NumbersScreen, count_error, holder_text
from eln_tui.ui.screens.registry_send import RegistrySendScreen, blocks_text
from tests.ui.snapshots import assert_snapshot, require_pinned_python
from tests.ui.world import keys, run, screen_text, settle

SMALL = (80, 24)


def app_for(demo: DemoWorkspace, tmp: Path, login: str | None = None) -> ElnApp:
    user = demo.users[login] if login else demo.user
    return ElnApp(
        demo.store,
        demo.provider,
        user,
        config=UiConfig(print_dir=tmp / "print"),
        login=user.login,
        fss=demo.fss,
    )


def test_mo_pin_wrong_then_right(demo: DemoWorkspace, tmp_path: Path) -> None:
    results: list[Any] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        run_exchange(
            pilot.app.screen,
            lambda service: service.request_numbers(3),
            title="Получение номеров ЭЛН",
            on_done=results.append,
        )
        await settle(pilot)
        assert isinstance(pilot.app.screen, MoPinDialog)
        text = screen_text(pilot.app)
        assert demo.keyset["mo"].serial_hex in text and "Сертификат МО" in text
        await keys(pilot, *"0000", "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MoPinDialog)  # asked again, with the reason
        assert "Неверный пароль ключа." in screen_text(pilot.app)
        assert not results
        await keys(pilot, *demo.pin, "enter")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, MoPinDialog)
        assert len(results) == 1 and len(results[0]) == 3
        with demo.store.db.connection_context():
            assert demo.store.pool().get(results[0][0]).state is NumberState.FREE

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_mo_pin_cancel_and_fault(demo: DemoWorkspace, tmp_path: Path) -> None:
    events: list[str] = []
    demo.emulator.inject("http500", operation="getNewLNNumRange", times=1)

    async def scenario(pilot: Pilot[Any]) -> None:
        def start() -> None:
            run_exchange(
                pilot.app.screen,
                lambda service: service.request_numbers(2),
                title="Получение номеров ЭЛН",
                on_done=lambda _: events.append("done"),
                on_failed=lambda _: events.append("failed"),
                on_cancel=lambda: events.append("cancel"),
            )

        start()
        await settle(pilot)
        await keys(pilot, "escape")
        assert events == ["cancel"]
        start()
        await settle(pilot)
        await keys(pilot, *demo.pin, "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MessageDialog)
        assert "HTTP 500" in screen_text(pilot.app)
        await keys(pilot, "enter")
        assert events == ["cancel", "failed"]

    run(app_for(demo, tmp_path), SMALL, scenario)


# --- helpers: ELNs made through the core (the doctor's UI is tested elsewhere) ----------------


def core_numbers(demo: DemoWorkspace, count: int) -> list[str]:
    with demo.store.db.connection_context(), demo_exchange(demo) as service:
        return service.request_numbers(count)


def demo_exchange(demo: DemoWorkspace) -> Any:
    from eln_tui.core.exchange import open_exchange
    from providers.base import Pin

    return open_exchange(demo.store, demo.provider, demo.user.signer, demo.fss, Pin(demo.pin))


def demo_eln(demo: DemoWorkspace, *, surname: str = "Петров", signed: bool = True) -> Eln:
    """A saved ELN of demo.user: number from the pool, one 5-day period ending today."""
    from eln_tui.core import signing
    from providers.base import Pin

    store, user = demo.store, demo.user
    today = store.today()
    _, orgs = store.load_settings()
    org = orgs[0]
    draft = Eln(
        electronic=True,
        written_agreement_flag=True,
        patient=Patient(
            snils="11223344595",
            surname=surname,
            name="Пётр",
            patronymic="Петрович",
            birthday=date(1980, 5, 5),
            gender=Gender.MALE,
        ),
        employer=Employer(name="ООО «Ромашка»"),
        lpu=Lpu(name=org.name, address=org.address, ogrn=org.ogrn),
        ln_date=today - timedelta(days=4),
        reason1="01",
        diagnos="J06.9",
        doctor_id=user.id,
        treat_periods=[
            TreatPeriod(
                dt1=today - timedelta(days=4),
                dt2=today,
                doctor=user.full_name,
                doctor_role=user.position,
                doctor_id=user.id,
            )
        ],
    )
    context = CheckContext(today=today)
    eln = store.save(store.take_number(draft, user.signer), user.signer, context=context)
    if signed:
        with demo.provider.open_session(demo.keyset["doctor1"], Pin(demo.pin)) as session:
            assert eln.id is not None
            eln = signing.sign_block(
                store, eln.id, Block("period", SignerSlot.DOC, 0), user, session, context=context
            )
    return eln


def test_mo_pin_refuses_a_hopeless_setup(demo: DemoWorkspace, tmp_path: Path) -> None:
    """No МО key named in [fss]: said before any PIN is typed; Esc cancels."""
    events: list[str] = []
    demo.fss.pop("mo_certificate")

    async def scenario(pilot: Pilot[Any]) -> None:
        run_exchange(
            pilot.app.screen,
            lambda service: service.import_existing(),
            title="Загрузка выданных ранее номеров",
            on_done=lambda _: events.append("done"),
            on_cancel=lambda: events.append("cancel"),
        )
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, MoPinDialog)
        text = screen_text(pilot.app)
        assert "Обмен с СФР невозможен." in text and "mo_certificate" in text
        assert not dialog.query_one("#pin-row").display
        assert dialog.query_one("#ok").disabled
        await keys(pilot, "escape")
        assert events == ["cancel"]

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_texts() -> None:
    assert count_error("5") is None and count_error(" 1000 ") is None
    for bad in ("0", "1001", "-1", "5.5", "пять"):
        assert (
            count_error(bad)
            == "Поле «Количество номеров» должно содержать целое число от 1 до 1000."
        )
    assert (
        count_error("")
        == "Поле «Количество номеров» обязательно: укажите целое число от 1 до 1000."
    )
    assert blocks_text(["treat_periods[1]", "ln_result"]) == (
        "период № 2, закрытие (приступить к работе / иное)"
    )
    assert (
        holder_text("Петров", "Пётр", None) == "Петров П."
        and holder_text(None, None, None) == "без ФИО"
    )


async def open_desk(pilot: Pilot[Any], key: str) -> Any:
    await keys(pilot, key)
    return pilot.app.screen


async def give_pin(pilot: Pilot[Any], pin: str) -> None:
    assert isinstance(pilot.app.screen, MoPinDialog), pilot.app.screen
    await keys(pilot, *pin, "enter")
    await settle(pilot)


# --- «Номера ЭЛН» ---------------------------------------------------------------------------


def pool_states(demo: DemoWorkspace) -> dict[str, NumberState]:
    with demo.store.db.connection_context():
        return {n.number: n.state for n in demo.store.pool().page(limit=500)}


def test_numbers_request_with_count_check_and_wrong_pin(
    demo: DemoWorkspace, tmp_path: Path, size: tuple[int, int]
) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "f12")
        assert isinstance(screen, NumbersScreen)
        text = screen_text(pilot.app)
        assert "Номера ЭЛН" in text and "Свободно: 0" in text and "F2 — получить" in text
        await keys(pilot, "f2")
        assert isinstance(pilot.app.screen, CountDialog)
        count = pilot.app.screen.query_one("#count", Input)
        for bad in ("0", "1001", "пять", ""):
            count.value = bad
            await keys(pilot, "enter")
            assert isinstance(pilot.app.screen, CountDialog)
            assert "«Количество номеров»" in screen_text(pilot.app)
            assert "от 1 до 1000" in screen_text(pilot.app)
        count.value = "7"
        await keys(pilot, "enter")
        await give_pin(pilot, "9999")
        assert isinstance(pilot.app.screen, MoPinDialog)
        assert "Неверный пароль ключа." in screen_text(pilot.app)
        assert pool_states(demo) == {}
        await give_pin(pilot, demo.pin)
        assert pilot.app.screen is screen
        states = pool_states(demo)
        assert len(states) == 7 and set(states.values()) == {NumberState.FREE}
        text = screen_text(pilot.app)
        assert "Получено номеров: 7" in text and "Свободно: 7" in text
        assert min(states) in text and "свободен" in text
        assert screen.query_one("#numbers", DataTable).row_count == 7

    run(app_for(demo, tmp_path), size, scenario)


def test_numbers_for_this_server_only(demo: DemoWorkspace, tmp_path: Path) -> None:
    """Mode «Свободный только для текущего сервера»: the operator names the server the batch is
    for (this one by default) and every number keeps it (seed 000)."""
    from eln_tui.core.domain.codes import NumberMode
    from eln_tui.core.storage.repository import SYSTEM

    with demo.store.db.connection_context():
        settings, orgs = demo.store.load_settings()
        settings.number_mode = NumberMode.ONLY_CURRENT
        settings.server_name = "ts1"
        demo.store.save_settings(settings, orgs, SYSTEM)

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_desk(pilot, "f12")
        await keys(pilot, "f2")
        dialog = pilot.app.screen
        assert isinstance(dialog, CountDialog)
        server = dialog.query_one("#server", Input)
        assert server.value == "ts1" and "Для сервера" in screen_text(pilot.app)
        server.value = ""
        await keys(pilot, "enter")
        assert isinstance(pilot.app.screen, CountDialog)
        assert "«Для сервера» обязательно" in screen_text(pilot.app)
        server.value = "ts2"
        dialog.query_one("#count", Input).value = "3"
        await keys(pilot, "enter")
        await give_pin(pilot, demo.pin)
        with demo.store.db.connection_context():
            numbers = demo.store.pool().page(limit=10)
        assert len(numbers) == 3 and {n.server_tag for n in numbers} == {"ts2"}
        assert "ts2" in screen_text(pilot.app)

    run(app_for(demo, tmp_path), SMALL, scenario)


@pytest.mark.slow
def test_numbers_import_after_lost_reply_and_return(demo: DemoWorkspace, tmp_path: Path) -> None:
    # The Fund issues the numbers but the reply is lost: a clear message, the pool stays empty,
    # and «Загрузить выданные ранее» recovers them.
    demo.emulator.inject("http500", operation="getNewLNNumRange", times=1, commit=True)
    eln_number: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "f12")
        await keys(pilot, "f2")
        pilot.app.screen.query_one("#count", Input).value = "4"
        await keys(pilot, "enter")
        await give_pin(pilot, demo.pin)
        assert isinstance(pilot.app.screen, MessageDialog)
        assert "HTTP 500" in screen_text(pilot.app)
        await keys(pilot, "enter")
        assert pool_states(demo) == {}
        assert not screen.busy
        await keys(pilot, "f3")
        await give_pin(pilot, demo.pin)
        assert "Загружено новых номеров: 4" in screen_text(pilot.app)
        assert len(pool_states(demo)) == 4
        # one number goes into an ELN: it is not returned, and the table names its patient
        eln_number.append(str(demo_eln(demo, surname="Сидоров", signed=False).ln_code))
        await keys(pilot, "f5")
        assert "Сидоров П.П." in screen_text(pilot.app)
        await keys(pilot, "f6")  # filter: free only
        assert "[свободные]" in screen_text(pilot.app)
        assert screen.query_one("#numbers", DataTable).row_count == 3
        await keys(pilot, "f4")
        assert isinstance(pilot.app.screen, ConfirmationModal)
        assert "(3)" in screen_text(pilot.app)
        await keys(pilot, "left", "enter")  # «Вернуть»
        await give_pin(pilot, demo.pin)
        assert "Возвращено в ЕИИС «Соцстрах» номеров: 3" in screen_text(pilot.app)
        states = pool_states(demo)
        assert states.pop(eln_number[0]) is NumberState.USED
        assert set(states.values()) == {NumberState.RETURNED}
        assert "Нет номеров в состоянии «свободные»" in screen_text(pilot.app)
        await keys(pilot, "f4")  # nothing left to return
        assert "Свободных номеров нет" in screen_text(pilot.app)

    run(app_for(demo, tmp_path), SMALL, scenario)


# --- «Передать в ЕИИС Соцстрах» -------------------------------------------------------------


def journal_state_of(demo: DemoWorkspace, eln_id: int | None) -> JournalState:
    assert eln_id is not None
    with demo.store.db.connection_context():
        return journal_state(demo.store.load(eln_id))


def test_send_preview_blocked_then_accepted(
    demo: DemoWorkspace, tmp_path: Path, size: tuple[int, int]
) -> None:
    core_numbers(demo, 3)
    good = demo_eln(demo, surname="Петров")
    unsigned = demo_eln(demo, surname="Орлов", signed=False)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "ctrl+t")
        assert isinstance(screen, RegistrySendScreen)
        today = format_date(demo.store.today())
        assert screen.query_one("#day", Input).value == today
        text = screen_text(pilot.app)
        assert f"Реестр за {today}: к передаче 1 ЭЛН" in text
        assert "не могут быть переданы: 1" in text.replace("\n ", " ")
        assert f"{good.ln_code}  Петров П.П." in text and "передаётся: период № 1" in text
        assert f"{unsigned.ln_code}  Орлов П.П." in text and "НЕ передаётся" in text
        await keys(pilot, "down")  # the blocked row: the full reason under the table
        assert "не подписан ЭП врача" in screen.query_one("#detail", Static).render().plain
        await keys(pilot, "f2")
        await give_pin(pilot, demo.pin)
        assert pilot.app.screen is screen
        text = screen_text(pilot.app)
        assert "передан: принято 1, не передавались 1" in text.replace("\n ", " ")
        assert "принят СФР" in text
        assert journal_state_of(demo, good.id) is JournalState.SENT
        assert journal_state_of(demo, unsigned.id) is JournalState.DRAFT
        await keys(pilot, "f5")  # nothing left for today but the unsigned one
        assert "к передаче 0 ЭЛН" in screen_text(pilot.app)

    run(app_for(demo, tmp_path), size, scenario)


def test_send_shows_progress_per_message(demo: DemoWorkspace, tmp_path: Path) -> None:
    core_numbers(demo, 1)
    eln = demo_eln(demo)
    demo.emulator.inject("delay", operation="prParseFilelnlpu", times=1, seconds=1.0)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "ctrl+t")
        await keys(pilot, "f2")
        assert isinstance(pilot.app.screen, MoPinDialog)
        await pilot.press(*demo.pin, "enter")
        for _ in range(40):  # until the message is on its way (the Fund answers in 1 s)
            await pilot.pause(0.05)
            if "отправка" in screen_text(pilot.app):
                break
        text = screen_text(pilot.app)
        assert "Сообщение 1 из 1 (1 ЭЛН): отправка…" in text
        assert screen.busy
        await keys(pilot, "f2")  # a second send is refused while the first runs
        assert not isinstance(pilot.app.screen, MoPinDialog)
        await settle(pilot)
        assert not screen.busy
        assert screen.query_one("#progress", ProgressBar).progress == 1
        assert journal_state_of(demo, eln.id) is JournalState.SENT

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_send_bad_date_and_other_day(demo: DemoWorkspace, tmp_path: Path) -> None:
    core_numbers(demo, 1)
    demo_eln(demo)  # the period ends today: not in yesterday's registry

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "ctrl+t")
        await keys(pilot, "f3")
        field = screen.query_one("#day", Input)
        assert pilot.app.focused is field
        field.value = "31.02.2024"
        await keys(pilot, "enter")
        assert "Поле «Дата реестра» должно содержать дату" in screen_text(pilot.app)
        await keys(pilot, "escape")  # back to the list: the field shows the previewed date
        assert field.value == format_date(demo.store.today())
        assert pilot.app.focused is screen.query_one("#plan", DataTable)
        await keys(pilot, "f3")
        field.value = format_date(demo.store.today() - timedelta(days=1))
        await keys(pilot, "enter")
        text = " ".join(screen_text(pilot.app).split())
        assert "передавать нечего" in text
        # …and the screen says when the waiting period is due
        assert f"ближайшая дата окончания периода — {format_date(demo.store.today())}" in text
        await keys(pilot, "f2")  # nothing to send: no PIN asked
        assert pilot.app.screen is screen

    run(app_for(demo, tmp_path), SMALL, scenario)


@pytest.mark.slow
def test_send_faults_mark_nothing_sent(demo: DemoWorkspace, tmp_path: Path) -> None:
    core_numbers(demo, 1)
    eln = demo_eln(demo)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "ctrl+t")
        # a verified refusal of the whole message: «Ошибки передачи» with the Fund's text
        demo.emulator.inject(
            "soap_fault", operation="prParseFilelnlpu", times=1, message="Сервис недоступен"
        )
        await keys(pilot, "f2")
        await give_pin(pilot, demo.pin)
        text = screen_text(pilot.app)
        assert "ОТКЛОНЁН" in text and "Сервис недоступен" in text
        assert journal_state_of(demo, eln.id) is JournalState.ERROR
        # a lost reply (HTTP 500): not marked sent, reconciled before the next send
        demo.emulator.inject("http500", operation="prParseFilelnlpu", times=1)
        await keys(pilot, "f5", "f2")
        await give_pin(pilot, demo.pin)
        text = screen_text(pilot.app)
        assert "НЕТ ОТВЕТА" in text and "без ответа 1" in text.replace("\n ", " ")
        assert journal_state_of(demo, eln.id) is not JournalState.SENT
        await keys(pilot, "f5")
        assert "не подтверждена ответом СФР" in screen_text(pilot.app)
        # the next send reconciles (the Fund did not keep it) and sends again
        await keys(pilot, "f2")
        await give_pin(pilot, demo.pin)
        assert journal_state_of(demo, eln.id) is JournalState.SENT
        assert "принят СФР" in screen_text(pilot.app)
        assert not screen.busy

    run(app_for(demo, tmp_path), SMALL, scenario)


# --- snapshots (baselines in tests/ui/snapshots/; the dates follow the real clock) ---------------

DATE_MASKS = {r"\d\d\.\d\d\.\d{4}": "ДД.ММ.ГГГГ"}


def test_snapshots_numbers_and_send(demo: DemoWorkspace, tmp_path: Path) -> None:
    require_pinned_python()
    core_numbers(demo, 4)
    demo_eln(demo, surname="Петров")
    demo_eln(demo, surname="Орлов", signed=False)

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_desk(pilot, "f12")
        assert_snapshot(screen_text(pilot.app), "numbers-80x24", masks=DATE_MASKS)
        await open_desk(pilot, "ctrl+t")
        await keys(pilot, "down")
        assert_snapshot(screen_text(pilot.app), "registry-send-80x24", masks=DATE_MASKS)

    run(app_for(demo, tmp_path), SMALL, scenario)
