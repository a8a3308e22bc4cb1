"""The operator's journal «Работа с ЕИИС Соцстрах» and «Журнал системы», driven by keys against
the demo workspace (embedded emulator): the six views, search, keyset paging over thousands of
rows, «Получить из ЕИИС Соцстрах», «Прекращение ЛН» in the Fund, the audit filters; one text
snapshot at 80x24 with fixed data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from eln_tui.core.domain.codes import JournalState, JournalView, Role
from eln_tui.core.storage import ElnStore
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import execute_insert, to_db_time
from eln_tui.ui.app import ElnApp
from eln_tui.ui.config import UiConfig
from eln_tui.ui.demo import DemoWorkspace
from eln_tui.ui.dialogs.code_picker import CodePicker
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.disable import DisableDialog
from eln_tui.ui.dialogs.fetch import FetchDialog
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.mo_pin import MoPinDialog
from eln_tui.ui.dialogs.period_end import PeriodEndDialog
from eln_tui.ui.registry import ScreenRegistry, default_registry
from eln_tui.ui.screens import journal as journal_module
from eln_tui.ui.screens import journal_desks
from eln_tui.ui.screens.audit import AuditScreen
from eln_tui.ui.screens.eln_editor import ElnEditorScreen
from eln_tui.ui.screens.journal import JournalScreen
from tests.ui.snapshots import assert_snapshot
from tests.ui.world import SIZES, World, keys, run, screen_text, settle

SMALL = (80, 24)
FOREIGN_LN = "910000000017"
FOREIGN_SNILS = "08765430300"  # Сидорова (a demo patient; the Fund holds her ELN of another МО)

#: (journal state, surname, ln_state, error) of the fixed rows: one or more per view.
KINDS = (
    (JournalState.PENDING, "Петров", "000", None),
    (JournalState.PENDING, "Павлова", "010", None),
    (JournalState.SENT, "Смирнова", "010", None),
    (JournalState.SENT, "Соколов", "030", None),
    (JournalState.ERROR, "Егоров", "000", "Период нетрудоспособности не подписан председателем ВК"),
    (JournalState.RECEIVED, "Рыбаков", "010", None),
    (JournalState.TERMINATED, "Тихонова", "000", None),
    (JournalState.DRAFT, "Дроздов", "000", None),
)


def bulk_elns(
    store: ElnStore,
    count: int,
    *,
    state: JournalState = JournalState.PENDING,
    surname: str = "Петров",
    ln_state: str = "000",
    error: str | None = None,
    first: int = 0,
    start: date = date(2024, 3, 1),
) -> None:
    """``count`` journal rows written straight into the table the core pages (fast)."""
    now = to_db_time(datetime(2024, 3, 20, 6, 30).astimezone())
    rows = []
    for i in range(first, first + count):
        dt1 = start + timedelta(days=i % 20)
        rows.append(
            {
                "ln_code": f"{920_000_000_000 + i:012d}",
                "electronic": True,
                "snils": f"{10_000_000_000 + i:011d}",
                "surname": surname,
                "name": "Иван",
                "patronymic": "Иванович",
                "surname_key": surname.upper(),
                "journal_state": state.value,
                "ln_state": ln_state,
                "transfer_error": error,
                "term_reason_code": "010" if state is JournalState.TERMINATED else None,
                "first_dt1": dt1,
                "last_dt2": dt1 + timedelta(days=4),
                "created_at": now,
                "updated_at": now,
            }
        )
    with store.db.connection_context():
        for at in range(0, len(rows), 400):
            execute_insert(m.Eln.insert_many(rows[at : at + 400]), store.db)


def fixed_rows(store: ElnStore) -> None:
    for index, (state, surname, ln_state, error) in enumerate(KINDS):
        bulk_elns(
            store, 1, state=state, surname=surname, ln_state=ln_state, error=error, first=index
        )


def app_for(demo: DemoWorkspace, tmp: Path) -> ElnApp:
    return ElnApp(
        demo.store,
        demo.provider,
        demo.user,
        config=UiConfig(print_dir=tmp / "print"),
        login=demo.user.login,
        fss=demo.fss,
    )


async def to_journal(pilot: Pilot[Any]) -> JournalScreen:
    await keys(pilot, "f11")
    screen = pilot.app.screen
    assert isinstance(screen, JournalScreen), screen
    return screen


def shown(screen: JournalScreen) -> list[str]:
    return [row.patient_fio.split()[0] for row in screen.rows]


async def type_into(pilot: Pilot[Any], widget: Input, text: str) -> None:
    """Put ``text`` into a filter field as if typed (one Changed event), then Enter."""
    widget.focus()
    widget.value = text
    await keys(pilot, "enter")


# --- views, search, paging -------------------------------------------------------------------


def test_views_switch_by_keys(demo: DemoWorkspace, tmp_path: Path, size: tuple[int, int]) -> None:
    fixed_rows(demo.store)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        assert screen.view is JournalView.ALL
        text = screen_text(pilot.app)
        assert "[1 Полный список]" in text and "Полный список: 8" in text
        assert "Номер ЛН" in text and "ФИО пациента" in text and "Состояние ЛН" in text
        assert set(shown(screen)) == {k[1] for k in KINDS}
        # where the transfer stands reads as text (a column of its own from 110 columns)
        assert ("010 открыт, не передан" in text) is (size[0] < 110)
        assert ("получен из СФР" in text) is (size[0] >= 110)

        expected = {
            "2": (JournalView.NOT_SENT, {"Петров", "Павлова"}),
            "3": (JournalView.SENT, {"Смирнова", "Соколов"}),
            "4": (JournalView.RECEIVED, {"Рыбаков"}),
            "5": (JournalView.ERRORS, {"Егоров"}),
            "6": (JournalView.DELETED, {"Тихонова"}),
        }
        for key, (view, names) in expected.items():
            await keys(pilot, key)
            assert screen.view is view
            assert set(shown(screen)) == names
            text = screen_text(pilot.app)
            label = view.label if size[0] >= 110 else journal_module.SHORT_VIEW[view]
            assert f"[{key} {label}]" in text  # the current view reads as text
            assert f"{journal_module.SHORT_VIEW[view]}: {len(names)}" in text
        # «Ошибки передачи» has the error column; «Удаленные ЭЛН» says «ЛН прекращен»
        await keys(pilot, "5")
        text = screen_text(pilot.app)
        assert "Ошибка передачи" in text and "Период нетрудоспособности" in text
        await keys(pilot, "6")
        assert "ЛН прекращен" in screen_text(pilot.app)
        # ←/→ in the list step through the views (and wrap around)
        await keys(pilot, "right")
        assert screen.view is JournalView.ALL
        await keys(pilot, "left", "left")
        assert screen.view is JournalView.ERRORS
        assert "Ошибка передачи" in screen_text(pilot.app)
        await keys(pilot, "right", "right", "right")
        assert screen.view is JournalView.NOT_SENT
        assert "Ошибка передачи" not in screen_text(pilot.app)

    run(app_for(demo, tmp_path), size, scenario)


def test_search_in_a_view(demo: DemoWorkspace, tmp_path: Path) -> None:
    fixed_rows(demo.store)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        await keys(pilot, "f3")
        assert isinstance(screen.focused, Input)
        await keys(pilot, *"пав", "enter")  # surname prefix, any case; Enter returns to the list
        assert shown(screen) == ["Павлова"]
        assert isinstance(screen.focused, DataTable)
        await keys(pilot, "3")  # the search stays while the view changes
        assert shown(screen) == []
        assert "ЭЛН не найдены." in screen_text(pilot.app)
        await keys(pilot, "1", "escape")
        assert len(screen.rows) == len(KINDS)
        search = screen.query_one("#search", Input)
        await type_into(pilot, search, f"{920_000_000_000 + 4:012d}")  # Егоров's number
        assert shown(screen) == ["Егоров"]
        assert "Ошибка передачи: Период" in screen_text(pilot.app)  # the row detail
        await keys(pilot, "escape")
        await type_into(pilot, search, f"{10_000_000_000 + 2:011d}")  # SNILS
        assert shown(screen) == ["Смирнова"]

    run(app_for(demo, tmp_path), SMALL, scenario)


def scope(screen: JournalScreen) -> str:
    return str(screen.query_one("#scope", Static).render())


async def period_end(
    pilot: Pilot[Any], start: str, end: str, *, typed: bool = False
) -> PeriodEndDialog:
    """F6, both dates over the shown ones, Enter in «по». ``typed``: key by key (a field selects
    its text on focus, Tab goes to «по», Backspace empties a field); else put into the fields
    (each key press costs a repaint)."""
    await keys(pilot, "f6")
    dialog = pilot.app.screen
    assert isinstance(dialog, PeriodEndDialog), dialog
    assert dialog.focused is dialog.query_one("#ends-from", Input)
    if typed:
        await keys(pilot, *(start or ["backspace"]), "tab", *(end or ["backspace"]), "enter")
    else:
        dialog.query_one("#ends-from", Input).value = start
        await type_into(pilot, dialog.query_one("#ends-to", Input), end)
    return dialog


def test_filter_by_period_end(demo: DemoWorkspace, tmp_path: Path) -> None:
    fixed_rows(demo.store)  # row i ends on 05.03.2024 + i days

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        assert len(screen.rows) == len(KINDS)
        await period_end(pilot, "06.03.2024", "08.03.2024", typed=True)
        assert isinstance(pilot.app.screen, JournalScreen)
        assert shown(screen) == ["Соколов", "Смирнова", "Павлова"]
        text = screen_text(pilot.app)
        assert "[Полный список: 3] окончание 06.03–08.03.2024" in text
        assert all(len(line) <= SMALL[0] for line in text.splitlines())
        # the filter stays in another view, and a search narrows it further
        await keys(pilot, "3")
        assert shown(screen) == ["Соколов", "Смирнова"]
        assert scope(screen) == "[Переданы: 2] окончание 06.03–08.03.2024"
        await keys(pilot, "1")
        await type_into(pilot, screen.query_one("#search", Input), "смир")
        assert shown(screen) == ["Смирнова"]
        assert scope(screen) == "[Полный список: 1] окончание 06.03–08.03.2024"
        # Esc: the search first, then the dates
        await keys(pilot, "escape")
        assert shown(screen) == ["Соколов", "Смирнова", "Павлова"]
        await keys(pilot, "escape")
        assert len(screen.rows) == len(KINDS)
        assert scope(screen) == f"[Полный список: {len(KINDS)}]"
        # one bound only; an empty pair clears the filter
        await period_end(pilot, "", "05.03.2024")
        assert shown(screen) == ["Петров"]
        assert scope(screen) == "[Полный список: 1] окончание по 05.03.2024"
        await keys(pilot, "5")  # nothing of «Ошибки передачи» ends by then
        assert shown(screen) == []
        assert "ЭЛН не найдены (окончание по 05.03.2024)" in screen_text(pilot.app)
        await keys(pilot, "1")
        await period_end(pilot, "", "", typed=True)
        assert len(screen.rows) == len(KINDS)
        assert "окончание" not in scope(screen)

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_period_end_refuses_bad_dates(demo: DemoWorkspace, tmp_path: Path) -> None:
    fixed_rows(demo.store)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        await period_end(pilot, "06.03.2024", "")
        assert scope(screen) == "[Полный список: 7] окончание с 06.03.2024"
        # a bad date and a reversed range are refused, naming the field; Esc keeps the filter
        dialog = await period_end(pilot, "32.03.2024", "")
        assert pilot.app.screen is dialog
        error = str(dialog.query_one("#error", Static).render())
        assert "«Окончание периода с»" in error and "не является датой" in error
        assert dialog.focused is dialog.query_one("#ends-from", Input)
        await keys(pilot, "escape")
        dialog = await period_end(pilot, "01.03.2024", "31.02.2024")
        assert "«Окончание периода по»" in str(dialog.query_one("#error", Static).render())
        assert dialog.focused is dialog.query_one("#ends-to", Input)
        dialog.query_one("#ends-to", Input).value = "29.02.2024"
        await keys(pilot, "enter")
        assert pilot.app.screen is dialog
        assert "позже «Окончание периода по»" in str(dialog.query_one("#error", Static).render())
        await keys(pilot, "escape")
        assert isinstance(pilot.app.screen, JournalScreen) and len(screen.rows) == 7
        # «Сбросить» (Tab to it from the first field: «по», «Применить», «Сбросить») clears it
        await keys(pilot, "f6", "tab", "tab", "tab", "enter")
        assert isinstance(pilot.app.screen, JournalScreen) and len(screen.rows) == len(KINDS)

    run(app_for(demo, tmp_path), SMALL, scenario)


@pytest.mark.slow
def test_paging_loads_a_page_at_a_time(demo: DemoWorkspace, tmp_path: Path) -> None:
    page = journal_module.PAGE
    bulk_elns(demo.store, 2500, surname="Ковалёв")
    bulk_elns(demo.store, 1500, state=JournalState.SENT, surname="Морозова", first=2500)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        table = screen.table
        assert len(screen.rows) == page and table.row_count == page
        assert "Полный список: 4000" in screen_text(pilot.app)
        assert screen.rows[0].ln_code == f"{920_000_000_000 + 3999:012d}"  # newest first
        await keys(pilot, "end")  # the cursor nears the end: exactly one more page
        assert len(screen.rows) == 2 * page and table.row_count == 2 * page
        await keys(pilot, "end")
        assert len(screen.rows) == 3 * page
        ids = [r.id for r in screen.rows]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
        # a view and a search page the same way; the total is the whole match
        await keys(pilot, "2")
        assert len(screen.rows) == page
        assert "Не переданы: 2500" in screen_text(pilot.app)
        search = screen.query_one("#search", Input)
        await type_into(pilot, search, "коваль")
        assert screen.rows == [] and "Не переданы: 0" in screen_text(pilot.app)
        await keys(pilot, "escape", "3")
        await type_into(pilot, search, "морозова")
        assert len(screen.rows) == page
        assert "Переданы: 1500" in screen_text(pilot.app)
        for _ in range(3):
            await keys(pilot, "end")
        assert len(screen.rows) == 4 * page < 1500

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_enter_opens_the_eln_in_the_editor(demo: DemoWorkspace, tmp_path: Path) -> None:
    ln = fetched_eln(demo)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        assert screen.rows[0].ln_code == ln
        await keys(pilot, "enter")
        editor = pilot.app.screen
        assert isinstance(editor, ElnEditorScreen)
        assert editor.stored is not None and editor.stored.ln_code == ln
        assert f"ЭЛН № {ln}" in screen_text(pilot.app)
        await keys(pilot, "escape")
        assert pilot.app.screen is screen

    run(app_for(demo, tmp_path), SMALL, scenario)


# --- the Fund: fetch and cancel --------------------------------------------------------------


def seed_foreign(demo: DemoWorkspace, ln: str = FOREIGN_LN) -> None:
    ogrn = demo.keyset["mo"].certificate.subject.ogrn or ""
    demo.emulator.seed_eln(ln, FOREIGN_SNILS, ogrn, surname="СИДОРОВА", name="АННА")


def fetched_eln(demo: DemoWorkspace) -> str:
    """A foreign ELN fetched through the core (the dialog is tested on its own below)."""
    from eln_tui.core.exchange import open_exchange
    from providers.base import Pin

    seed_foreign(demo)
    with (
        demo.store.db.connection_context(),
        open_exchange(
            demo.store, demo.provider, demo.user.signer, demo.fss, Pin(demo.pin)
        ) as service,
    ):
        return str(service.fetch(FOREIGN_LN, FOREIGN_SNILS).ln_code)


async def answer_pin(pilot: Pilot[Any], pin: str) -> None:
    await settle(pilot)
    assert isinstance(pilot.app.screen, MoPinDialog), pilot.app.screen
    await keys(pilot, *pin, "enter")
    await settle(pilot)


def test_fetch_from_the_fund(demo: DemoWorkspace, tmp_path: Path, size: tuple[int, int]) -> None:
    seed_foreign(demo)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        await keys(pilot, "f4")
        dialog = pilot.app.screen
        assert isinstance(dialog, FetchDialog)
        # the fields are checked before the PIN is asked, with messages naming the field
        await keys(pilot, *"12345", "enter", "enter")
        assert "«Номер ЭЛН» должно содержать 12 цифр" in screen_text(pilot.app)
        assert dialog.focused is dialog.query_one("#number")
        dialog.query_one("#number", Input).value = FOREIGN_LN
        await keys(pilot, "enter", *"08765430301", "enter")
        assert isinstance(pilot.app.screen, FetchDialog)
        assert "«СНИЛС пациента» содержит неверное контрольное число" in screen_text(pilot.app)
        dialog.query_one("#snils", Input).value = "087-654-303 00"
        await keys(pilot, "enter")
        await answer_pin(pilot, demo.pin)
        assert pilot.app.screen is screen
        assert screen.view is JournalView.RECEIVED
        assert [r.ln_code for r in screen.rows] == [FOREIGN_LN]
        text = screen_text(pilot.app)
        assert FOREIGN_LN in text and "СИДОРОВА" in text
        assert "[4 " in text
        with demo.store.db.connection_context():
            eln = demo.store.load_by_number(FOREIGN_LN)
        assert eln.patient.snils == FOREIGN_SNILS

    run(app_for(demo, tmp_path), size, scenario)


@pytest.mark.slow
def test_fetch_refused_by_the_fund_keeps_the_dialog(demo: DemoWorkspace, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        await to_journal(pilot)
        await keys(pilot, "f4")
        await keys(pilot, *FOREIGN_LN, "enter", *FOREIGN_SNILS, "enter")
        await answer_pin(pilot, demo.pin)
        assert isinstance(pilot.app.screen, MessageDialog)  # the Fund's answer, in Russian
        message = str(pilot.app.screen.text)
        assert FOREIGN_LN in message or "не найден" in message.lower()
        await keys(pilot, "enter")
        dialog = pilot.app.screen
        assert isinstance(dialog, FetchDialog)  # corrected and asked again
        assert screen_text(pilot.app).count(message.split(".")[0][:30]) >= 1
        seed_foreign(demo)
        await keys(pilot, "enter", "enter")
        await answer_pin(pilot, demo.pin)
        screen = pilot.app.screen
        assert isinstance(screen, JournalScreen) and screen.rows[0].ln_code == FOREIGN_LN

    run(app_for(demo, tmp_path), SMALL, scenario)


@pytest.mark.slow
def test_cancel_in_the_fund(demo: DemoWorkspace, tmp_path: Path, size: tuple[int, int]) -> None:
    ln = fetched_eln(demo)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        await keys(pilot, "4")
        assert [r.ln_code for r in screen.rows] == [ln]
        await keys(pilot, "f8")
        assert isinstance(pilot.app.screen, DisableDialog)
        assert "подпись ключом МО" in screen_text(pilot.app)
        await keys(pilot, "enter")  # the reasons, with their titles
        assert isinstance(pilot.app.screen, CodePicker)
        text = screen_text(pilot.app)
        assert "010 – Отмена оформления" in text and "030 – Выдан ЛН-дубликат" in text
        await pilot.press(*"Отмена", "enter")
        await settle(pilot)
        await keys(pilot, "tab")
        comment = pilot.app.screen.query_one("#comment", Input)
        comment.value = "ошибочный запрос"
        await keys(pilot, "enter")
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmationModal)
        assert "причина 010 «Отмена оформления»" in confirm.text
        await keys(pilot, "left", "enter")
        await answer_pin(pilot, demo.pin)
        assert pilot.app.screen is screen
        assert screen.rows == []  # gone from «Получены из ЕИИС Соцстрах» …
        await keys(pilot, "6")
        assert [r.ln_code for r in screen.rows] == [ln]  # … into «Удаленные ЭЛН»
        assert "ЛН прекращен" in screen_text(pilot.app)
        with demo.store.db.connection_context():
            eln = demo.store.load_by_number(ln)
        assert eln.termination is not None and eln.termination.reason_code == "010"
        assert "ошибочный запрос" in eln.termination.reason
        # a terminated ELN cannot be cancelled again: said before anything is asked
        await keys(pilot, "f8")
        assert isinstance(pilot.app.screen, MessageDialog)
        assert f"ЭЛН № {ln} уже прекращён." in screen_text(pilot.app)

    run(app_for(demo, tmp_path), size, scenario)


def test_cancel_refused_by_the_fund(demo: DemoWorkspace, tmp_path: Path) -> None:
    bulk_elns(demo.store, 1, surname="Незнакомов")  # the Fund has never heard of it

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_journal(pilot)
        await keys(pilot, "f8", "enter")
        await pilot.press(*"Отмена", "enter")
        await settle(pilot)
        await keys(pilot, "tab", "enter")
        assert isinstance(pilot.app.screen, ConfirmationModal)
        await keys(pilot, "left", "enter")
        await answer_pin(pilot, demo.pin)
        assert isinstance(pilot.app.screen, MessageDialog)
        await keys(pilot, "enter")
        assert pilot.app.screen is screen
        assert screen.rows[0].terminated is False
        with demo.store.db.connection_context():
            assert demo.store.load(screen.rows[0].id).termination is None

    run(app_for(demo, tmp_path), SMALL, scenario)


# --- audit ------------------------------------------------------------------------------------


async def to_audit(pilot: Pilot[Any]) -> AuditScreen:
    pilot.app.action_open_desk("audit")  # type: ignore[attr-defined]
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AuditScreen), screen
    return screen


@pytest.mark.slow
def test_audit_filters(demo: DemoWorkspace, tmp_path: Path) -> None:
    ln = fetched_eln(demo)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_audit(pilot)
        records = screen.records
        assert records and [r.id for r in records] == sorted((r.id for r in records), reverse=True)
        text = screen_text(pilot.app)
        assert "Получен из СФР" in text and ln in text  # the newest entry first
        login = screen.query_one("#audit-login", Input)
        number = screen.query_one("#audit-ln", Input)
        since = screen.query_one("#audit-since", Input)
        # ELN number (F3 goes to the filter, Tab to the number, Enter back to the list)
        await keys(pilot, "f3", "tab")
        assert screen.focused is number
        await type_into(pilot, number, ln)
        assert screen.records and {r.ln_code for r in screen.records} == {ln}
        assert isinstance(screen.focused, DataTable)
        # a bad number is refused with the field's name, the cursor stays in the field
        await type_into(pilot, number, ln[:-1])
        assert "«№ ЭЛН» должно содержать 12 цифр" in screen_text(pilot.app)
        assert screen.focused is number
        await keys(pilot, "escape")  # Esc clears the whole filter
        assert number.value == "" and len(screen.records) == len(records)
        # login
        await type_into(pilot, login, demo.user.login)
        assert screen.records and {r.login for r in screen.records} == {demo.user.login}
        await type_into(pilot, login, "nobody")
        assert screen.records == [] and "Записей нет" in screen_text(pilot.app)
        await keys(pilot, "escape")
        # action (the Select: Enter opens the list, type to find, Enter picks)
        select = screen.query_one("#audit-action", Select)
        select.focus()
        await keys(pilot, "enter", *"Полу", "enter")
        assert select.value == "fss_received"
        assert [r.action for r in screen.records] == ["fss_received"]
        # date range: today has it, tomorrow has nothing, a bad date names the field
        today = demo.store.today()
        await type_into(pilot, since, today.strftime("%d.%m.%Y"))
        assert [r.action for r in screen.records] == ["fss_received"]
        await type_into(pilot, since, (today + timedelta(days=1)).strftime("%d.%m.%Y"))
        assert screen.records == []
        await type_into(pilot, since, "31.02.2024")
        assert "«С» должно содержать дату в формате ДД.ММ.ГГГГ" in screen_text(pilot.app)
        assert screen.focused is since
        until = screen.query_one("#audit-until", Input)
        since.value = today.strftime("%d.%m.%Y")
        await type_into(pilot, until, (today - timedelta(days=1)).strftime("%d.%m.%Y"))
        assert "«С» не может быть позже" in screen_text(pilot.app)
        await keys(pilot, "escape")  # everything again
        assert len(screen.records) == len(records)

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_audit_pages(demo: DemoWorkspace, tmp_path: Path) -> None:
    from eln_tui.ui.screens import audit as audit_module

    now = to_db_time(datetime(2024, 3, 20, 6, 30).astimezone())
    with demo.store.db.connection_context():
        execute_insert(
            m.AuditEntry.insert_many(
                [
                    {"at": now, "login": "robot", "action": "update", "entity": "eln"}
                    for _ in range(350)
                ]
            ),
            demo.store.db,
        )

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await to_audit(pilot)
        assert len(screen.records) == audit_module.PAGE
        assert "Записей: 100+" in screen_text(pilot.app)
        await keys(pilot, "end")
        assert len(screen.records) == 2 * audit_module.PAGE
        ids = [r.id for r in screen.records]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)

    run(app_for(demo, tmp_path), SMALL, scenario)


# --- who sees it, and the snapshot --------------------------------------------------------------


def test_roles(demo: DemoWorkspace) -> None:
    registry = default_registry()
    doctor = demo.users["demo-doctor2"]
    assert "journal" not in {s.name for s in registry.available(doctor)}
    assert {"journal", "audit"} <= {s.name for s in registry.available(demo.user)}
    with demo.store.db.connection_context():
        operator = demo.store.add_user("oper", "Оператор Олег Олегович", [Role.ELN_OPERATOR])
        admin = demo.store.add_user("adm", "Админ Анна Андреевна", [Role.ADMIN])
    home = registry.home_for(operator)
    assert home is not None and home.name in {s.name for s in registry.available(operator)}
    assert {"journal", "audit"} <= {s.name for s in registry.available(operator)}
    assert {"journal", "audit"} <= {s.name for s in registry.available(admin)}


def test_snapshot_journal(world: World) -> None:
    fixed_rows(world.store)
    operator = world.store.add_user("oper", "Оператор Олег Олегович", [Role.ELN_OPERATOR])

    registry = ScreenRegistry()  # only these desks: the footer does not follow other desks' keys
    journal_desks.register(registry)
    app = ElnApp(
        world.store,
        world.provider,
        operator,
        config=UiConfig(print_dir=world.tmp / "print"),
        login=operator.login,
        registry=registry,
    )

    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, JournalScreen)  # the operator's home desk
        assert_snapshot(screen_text(pilot.app), "journal-80x24")
        await keys(pilot, "5")
        assert_snapshot(screen_text(pilot.app), "journal-errors-80x24")

    run(app, SMALL, scenario)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_journal_fits(world: World, size: tuple[int, int]) -> None:
    """Every column header and the view bar are readable at both sizes."""
    fixed_rows(world.store)
    operator = world.store.add_user("oper", "Оператор Олег Олегович", [Role.ELN_OPERATOR])

    async def scenario(pilot: Pilot[Any]) -> None:
        if not isinstance(pilot.app.screen, JournalScreen):
            await keys(pilot, "f11")
        lines = screen_text(pilot.app).splitlines()
        assert all(len(line) <= size[0] for line in lines)
        text = "\n".join(lines)
        for title in ("Номер ЛН", "ФИО пациента", "Освоб. с", "Освоб. по", "Состояние ЛН"):
            assert title in text
        assert "6 Удал" in text

    run(world.app(operator), size, scenario)
