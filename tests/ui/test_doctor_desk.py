"""The doctor's desk, driven by keys at 80x24 and 120x40: open, fill (ФЛК), number, sign (with the
software provider and the gostsign test PKI), wrong PIN, extend, close, cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable

from eln_tui.core.domain.codes import JournalState, NumberState, SignerSlot
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Block
from eln_tui.ui.dialogs.code_picker import CodePicker
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.sign import SignDialog
from eln_tui.ui.screens.eln_editor import ElnEditorScreen
from eln_tui.ui.screens.my_elns import MyElnsScreen
from gostsign.xml.parse import parse_element
from tests.ui.world import (
    NUMBERS,
    PIN,
    SNILS,
    TODAY,
    World,
    fill,
    focus,
    keys,
    pick,
    put,
    run,
    screen_text,
    settle,
)

DOC0 = Block("period", SignerSlot.DOC, 0)


def editor(pilot: Pilot[Any]) -> ElnEditorScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ElnEditorScreen), screen
    return screen


async def open_first(pilot: Pilot[Any]) -> ElnEditorScreen:
    assert isinstance(pilot.app.screen, MyElnsScreen)
    await keys(pilot, "enter")
    return editor(pilot)


async def sign_with(pilot: Pilot[Any], pin: str = PIN) -> None:
    assert isinstance(pilot.app.screen, SignDialog), pilot.app.screen
    await keys(pilot, *pin, "enter")


def test_open_from_my_elns(world: World, size: tuple[int, int]) -> None:
    eln = world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, MyElnsScreen)
        text = screen_text(pilot.app)
        assert str(eln.ln_code) in text and "Требуется подпись" in text
        assert screen.query_one("#elns", DataTable).row_count == 1
        page = await open_first(pilot)
        assert page.stored is not None and page.stored.id == eln.id
        text = screen_text(pilot.app)
        assert f"ЭЛН № {eln.ln_code}" in text
        assert "ФЛК: ошибок нет" in text
        await keys(pilot, "escape")  # nothing changed: back without a question
        assert isinstance(pilot.app.screen, MyElnsScreen)

    run(world.app(world.doctor), size, scenario)


def test_search_by_snils_number_and_surname(world: World, size: tuple[int, int]) -> None:
    first = world.eln()
    world.eln(
        patient=first.patient.__class__(
            **{**first.patient.__dict__, "surname": "Орлова", "snils": "12345678964"}
        )
    )

    async def scenario(pilot: Pilot[Any]) -> None:
        table = pilot.app.screen.query_one("#elns", DataTable)
        assert table.row_count == 2
        await keys(pilot, "f3")
        await pilot.press(*"Орл", "enter")  # typed: the list follows
        await settle(pilot)
        assert table.row_count == 1
        for query, expected in ((SNILS, 1), (first.ln_code, 1), ("Нет", 0)):
            await keys(pilot, "f3")
            pilot.app.screen.query_one("#search").value = query  # type: ignore[attr-defined]
            await keys(pilot, "enter")
            assert table.row_count == expected, query
        await keys(pilot, "escape")
        assert table.row_count == 2

    run(world.app(world.doctor), size, scenario)


def test_fill_new_eln_with_flk(world: World, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f4")
        page = editor(pilot)
        text = screen_text(pilot.app)
        assert "Новый ЛН" in text and "ФЛК:" in text
        messages = [v.message for v in page.flk_panel.violations]
        assert "Поле «СНИЛС» обязательно для заполнения." in messages
        # a SNILS with a wrong control number: the ФЛК panel says so in Russian
        await fill(pilot, "patient.snils", "11223344596", typed=True)
        await settle(pilot)
        bad = "Поле «СНИЛС» содержит неверное контрольное число СНИЛС."
        assert bad in [v.message for v in page.flk_panel.violations]
        assert "неверное контрольное число" in screen_text(pilot.app)
        # choosing the violation moves focus to its field
        await keys(pilot, "ctrl+l")
        panel = page.flk_panel
        index = [v.message for v in panel.violations].index(bad)
        panel.list.highlighted = index
        await keys(pilot, "enter")
        assert pilot.app.focused is not None and pilot.app.focused.id == "f-patient-snils"
        await fill(pilot, "patient.snils", SNILS)
        await settle(pilot)
        assert bad not in [v.message for v in page.flk_panel.violations]
        # a pick list, not free text; a date that is not a date
        await pick(pilot, "reason1", "01")
        await fill(pilot, "patient.birthday", "31.02.1980")
        await settle(pilot)
        assert page.current().reason1 == "01"
        assert any("не является датой" in v.message for v in page.flk_panel.violations)

    run(world.app(world.doctor), size, scenario)


async def fill_patient(pilot: Pilot[Any]) -> None:
    for path, value in (
        ("patient.snils", SNILS),
        ("patient.surname", "Сидоров"),
        ("patient.name", "Иван"),
        ("patient.birthday", "01.02.1970"),
        ("patient.gender", "0"),
        ("employer.name", "ООО «Ромашка»"),
        ("reason1", "01"),
        ("diagnos", "J06.9"),
        ("treat_periods[0].dt2", "22.03.2024"),
    ):
        await put(pilot, path, value)
    await settle(pilot)


def test_take_number_save_and_sign(world: World, size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f4")
        page = editor(pilot)
        # no SNILS: the seed's message, and no number is taken
        await keys(pilot, "f3")
        assert isinstance(pilot.app.screen, MessageDialog)
        assert "У пациента отсутствует СНИЛС, выписка электронного ЛН невозможна!" in screen_text(
            pilot.app
        )
        await keys(pilot, "enter")
        assert world.store.pool().get(NUMBERS[0]).state is NumberState.FREE
        await fill_patient(pilot)
        # saving without consent: the seed's message
        await keys(pilot, "f3")
        number = page.current().ln_code
        assert number == NUMBERS[0]
        text = screen_text(pilot.app)
        assert "Номер ЭЛН получен из сервиса ЕИИС «Соцстрах»" in text
        assert not page.query("#take-number")
        assert page.query_one("#f-ln_code").disabled
        assert world.store.pool().get(number).state is NumberState.RESERVED
        await keys(pilot, "f2")
        assert "Не получено письменное согласие пациента на создание ЭЛН" in screen_text(pilot.app)
        await keys(pilot, "enter")
        await put(pilot, "written_agreement_flag", True)
        await keys(pilot, "f2")
        assert page.stored is not None and page.stored.ln_code == number
        assert world.store.pool().get(number).state is NumberState.USED
        # sign the period with the doctor's own key
        await focus(pilot, "treat_periods[0].dt2")
        await keys(pilot, "f4")
        dialog = pilot.app.screen
        assert isinstance(dialog, SignDialog)
        text = screen_text(pilot.app)
        assert world.keyset["doctor1"].serial_hex in text and "Иванова Мария Петровна" in text
        await sign_with(pilot)
        stored = world.store.load(page.stored.id)  # type: ignore[arg-type]
        signature = stored.treat_periods[0].doctor_signature
        assert signature is not None and signature.fragment_id is not None
        element = parse_element(world.store.fragment(signature.fragment_id).data, what="test")
        assert (
            element.get(
                "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
            )
            == f"ELN_{number}_3_doc"
        )
        assert "Подписано (ЭП врача)" in screen_text(pilot.app)
        assert page.query_one("#f-treat_periods-0-dt2").disabled
        assert journal_state(stored) is JournalState.PENDING

    run(world.app(world.doctor), size, scenario)


def test_wrong_pin_then_right_pin(world: World, size: tuple[int, int]) -> None:
    eln = world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_first(pilot)
        await keys(pilot, "f4")
        await sign_with(pilot, "0000")
        dialog = pilot.app.screen
        assert isinstance(dialog, SignDialog)  # still open
        assert "Неверный пароль ключа." in screen_text(pilot.app)
        assert world.store.load(eln.id).treat_periods[0].doctor_signature is None  # type: ignore[arg-type]
        await sign_with(pilot)
        assert isinstance(pilot.app.screen, ElnEditorScreen)
        assert world.store.load(eln.id).treat_periods[0].doctor_signature is not None  # type: ignore[arg-type]

    run(world.app(world.doctor), size, scenario)


def sign_core(
    world: World, eln_id: int, block: Block, role: str = "doctor1", user: Any = None
) -> Any:
    from eln_tui.core import signing
    from providers.base import Pin

    with world.provider.open_session(world.keyset[role], Pin(PIN)) as session:
        return signing.sign_block(
            world.store, eln_id, block, user or world.doctor, session, context=world.context()
        )


def test_extend(world: World, size: tuple[int, int]) -> None:
    eln = world.eln()
    sign_core(world, eln.id, DOC0)  # type: ignore[arg-type]

    async def scenario(pilot: Pilot[Any]) -> None:
        page = await open_first(pilot)
        await keys(pilot, "f5")
        assert "Новый период освобождения от работы начинается 21.03.2024" in screen_text(pilot.app)
        await pilot.press(*"25.03.2024", "enter")
        await settle(pilot)
        draft = page.current()
        assert len(draft.treat_periods) == 2
        second = draft.treat_periods[1]
        assert (second.dt1, second.dt2) == (TODAY + timedelta(days=1), TODAY + timedelta(days=5))
        assert second.doctor == world.doctor.full_name
        titles = [str(w.render()) for w in page.query(".subtitle")]
        assert "Период № 2: 21.03.2024 – 25.03.2024, 5 дн." in titles
        await keys(pilot, "f4")  # saves, then signs the new period
        await sign_with(pilot)
        stored = world.store.load(eln.id)  # type: ignore[arg-type]
        assert len(stored.treat_periods) == 2
        assert stored.treat_periods[1].doctor_signature is not None

    run(world.app(world.doctor), size, scenario)


def test_close(world: World, size: tuple[int, int]) -> None:
    eln = world.eln()
    sign_core(world, eln.id, DOC0)  # type: ignore[arg-type]

    async def scenario(pilot: Pilot[Any]) -> None:
        page = await open_first(pilot)
        await keys(pilot, "f6")
        assert "Закрытие ЭЛН" in screen_text(pilot.app)
        await keys(pilot, "enter")  # the default: the day after the last period
        draft = page.current()
        assert draft.ln_result is not None
        assert draft.ln_result.return_date_lpu == TODAY + timedelta(days=1)
        assert page.form.sign_button(Block("result")) is not None  # the key button of block 2
        await keys(pilot, "f4")
        await sign_with(pilot)
        stored = world.store.load(eln.id)  # type: ignore[arg-type]
        assert stored.ln_result is not None and stored.ln_result.signature is not None
        assert journal_state(stored) is JournalState.PENDING
        await keys(pilot, "f5")  # a closed ELN is not extended: the core's refusal
        assert isinstance(pilot.app.screen, MessageDialog)
        assert "ЭЛН закрыт" in screen_text(pilot.app)

    run(world.app(world.doctor), size, scenario)


def test_cancel(world: World, size: tuple[int, int]) -> None:
    eln = world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        page = await open_first(pilot)
        await keys(pilot, "f8")
        assert "Прекращение ЛН" in screen_text(pilot.app)
        await keys(pilot, "enter")  # open the reasons
        assert isinstance(pilot.app.screen, CodePicker)
        text = screen_text(pilot.app)
        assert "010 – Отмена оформления" in text and "030 – Выдан ЛН-дубликат" in text
        await pilot.press(*"Отмена", "enter")
        await settle(pilot)
        await keys(pilot, "tab")
        await pilot.press(*"ошибка в дате", "enter")
        await settle(pilot)
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmationModal)
        assert "Отменить это действие нельзя" in confirm.text
        await keys(pilot, "left")  # focus «Прекратить»
        await keys(pilot, "enter")
        stored = world.store.load(eln.id)  # type: ignore[arg-type]
        assert stored.termination is not None and stored.termination.reason_code == "010"
        assert "ошибка в дате" in stored.termination.reason
        assert "ЛН прекращен" in screen_text(pilot.app)
        assert page.query_one("#terminated-banner").display
        assert page.query_one("#f-patient-surname").disabled
        await keys(pilot, "escape")
        assert "ЛН прекращен" in screen_text(pilot.app)  # red row in «Мои ЭЛН»

    run(world.app(world.doctor), size, scenario)


def test_foreign_certificate_cannot_sign(
    world: World, size: tuple[int, int], tmp_path: Any
) -> None:
    """Smirnov's profile names doctor2's certificate; only doctor1's token is inserted."""
    from tests.ui.world import only

    eln = world.eln(doctor_id=world.stranger.id)
    period = eln.treat_periods[0]
    period.doctor, period.doctor_id = world.stranger.full_name, world.stranger.id
    eln = world.store.save(eln, world.stranger.signer, context=world.context())
    provider = only(world.keyset, "doctor1", tmp_path / "token")

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_first(pilot)
        await keys(pilot, "f4")
        dialog = pilot.app.screen
        assert isinstance(dialog, SignDialog)
        text = screen_text(pilot.app)
        assert "Подписать нельзя." in text
        assert "Подписывать можно только своим сертификатом" in text
        assert dialog.query_one("#sign").disabled
        await keys(pilot, "escape")
        assert world.store.load(eln.id).treat_periods[0].doctor_signature is None  # type: ignore[arg-type]

    run(world.app(world.stranger, provider=provider), size, scenario)
