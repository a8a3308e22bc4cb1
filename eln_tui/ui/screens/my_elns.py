"""«Мои ЭЛН»: the doctor's ELNs with their state and the next action, searchable.

Rows come from storage a page at a time (keyset paging), so the list never loads a whole
journal; the next page is fetched when the cursor nears the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from eln_tui.core.domain.codes import JournalView
from eln_tui.core.domain.model import Eln
from eln_tui.core.storage import JournalRow
from eln_tui.ui.commands import ScreenCommand
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.pick import ReceivedDialog
from eln_tui.ui.formmodel import format_date
from eln_tui.ui.messages import ElnLoaded, OperationFailed, PageLoaded
from eln_tui.ui.presenters import TERMINATED, next_action, row_period
from eln_tui.ui.screens.base import DeskScreen
from eln_tui.ui.screens.eln_editor import (
    Continued,
    ElnEditorScreen,
    new_eln,
    prepare_continuation,
)

PAGE = 100
SEARCH_DELAY_S = 0.3


class OpenEditor(Message):
    def __init__(self, eln: Eln, *, stored: Eln | None, start_action: str | None = None) -> None:
        super().__init__()
        self.eln = eln
        self.stored = stored
        self.start_action = start_action


def short_fio(fio: str) -> str:
    parts = fio.split()
    if len(parts) <= 1:
        return fio
    return parts[0] + " " + "".join(f"{p[0]}." for p in parts[1:])


class MyElnsScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Открыть", tooltip="Открыть выбранный ЭЛН", id="my_elns.open"),
        Binding("f4,ctrl+n", "new", "Новый ЭЛН", tooltip="Новый листок", id="my_elns.new"),
        Binding(
            "f3,ctrl+f",
            "search",
            "Поиск",
            tooltip="Поиск по номеру, СНИЛС, фамилии",
            id="my_elns.search",
        ),
        Binding("f5", "refresh", "Обновить", tooltip="Обновить список", id="my_elns.refresh"),
        Binding(
            "f6",
            "toggle_scope",
            "Все/мои",
            tooltip="Показать все ЭЛН МО или только мои",
            id="my_elns.scope",
        ),
        Binding(
            "escape",
            "clear_search",
            "Сброс",
            show=False,
            tooltip="Очистить поиск",
            id="my_elns.clear",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[JournalRow] = []
        self.next_after: int | None = None
        self.all_elns = False
        self._token = 0
        self._loading = False
        self._timer: Timer | None = None
        self._wide: bool | None = None
        self._columns_ready = False
        self._restore: int | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(id="search-bar"):
            yield Label("Поиск:", id="search-label")
            yield Input(placeholder="номер ЭЛН, СНИЛС или фамилия", compact=True, id="search")
            yield Static("", id="scope")
        yield DataTable(id="elns", cursor_type="row", zebra_stripes=False)
        yield Static("", id="row-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Мои ЭЛН"
        self.sub_title = self.desk.user.full_name
        self._columns()
        self._columns_ready = True
        self.reload()
        self.query_one("#elns", DataTable).focus()

    # --- table ----------------------------------------------------------------------------

    def _columns(self) -> None:
        width = self.app.size.width
        wide = width >= 110
        if wide == self._wide:
            return
        self._wide = wide
        table = self.query_one("#elns", DataTable)
        table.clear(columns=True)
        patient = 34 if wide else 16
        period = 21
        action = max(16, width - 12 - patient - period - 9)
        table.add_column("Номер ЛН", width=12, key="number")
        table.add_column("Пациент", width=patient, key="patient")
        table.add_column("Период", width=period, key="period")
        table.add_column("Следующее действие", width=action, key="action")
        self._add_rows(self.rows)

    def on_resize(self, event: Resize) -> None:
        if self.is_mounted:
            self._columns()

    def _add_rows(self, rows: Iterable[JournalRow]) -> None:
        table = self.query_one("#elns", DataTable)
        today = self.desk.today()
        for row in rows:
            action = next_action(row, today)
            style = "bold red" if action == TERMINATED else ""
            fio = row.patient_fio if self._wide else short_fio(row.patient_fio)
            table.add_row(
                Text(row.ln_code or "без номера", style=style),
                Text(fio, style=style),
                Text(row_period(row), style=style),
                Text(action, style=style),
                key=str(row.id),
            )

    def reload(self) -> None:
        # The rows stay until the answer comes: an unchanged first page redraws nothing (each
        # typed letter of a search would otherwise repaint the whole list over SSH).
        self._fetch(append=False)

    def _fetch(self, *, append: bool) -> None:
        self._token += 1
        self._loading = True
        search = self.query_one("#search", Input).value.strip() or None
        scope = "все ЭЛН МО" if self.all_elns else "мои ЭЛН"
        self.query_one("#scope", Static).update(f"[{scope}]")
        self.fetch(search, self.next_after if append else None, append, self._token)

    @work(thread=True, exit_on_error=False, group="list", description="Загрузка списка ЭЛН")
    def fetch(self, search: str | None, after: int | None, append: bool, token: int) -> None:
        desk = self.desk
        with desk.db():
            if self.all_elns:
                page = desk.store.journal(JournalView.ALL, search=search, after=after, limit=PAGE)
            else:
                page = desk.store.list_for_doctor(
                    desk.user.id, search=search, after=after, limit=PAGE
                )
        self.post_message(PageLoaded(page, append=append, token=token))

    @on(PageLoaded)
    def _page(self, message: PageLoaded) -> None:
        if message.token != self._token:
            return  # an answer to an older search
        self._loading = False
        if not message.append:
            if message.page.rows == self.rows and message.page.next_after == self.next_after:
                self._restore = None
                self._detail()
                return
            self.rows = []
            self.query_one("#elns", DataTable).clear()
        self.rows.extend(message.page.rows)
        self.next_after = message.page.next_after
        self._add_rows(message.page.rows)
        if self._restore is not None:
            ids = [r.id for r in self.rows]
            if self._restore in ids:
                self.query_one("#elns", DataTable).move_cursor(row=ids.index(self._restore))
            self._restore = None
        self._detail()

    @on(DataTable.RowHighlighted, "#elns")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()
        table = self.query_one("#elns", DataTable)
        near_end = event.cursor_row >= table.row_count - 10
        if near_end and self.next_after is not None and not self._loading:
            self._fetch(append=True)

    def _current_row(self) -> JournalRow | None:
        table = self.query_one("#elns", DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _detail(self) -> None:
        row = self._current_row()
        detail = self.query_one("#row-detail", Static)
        if row is None:
            detail.update(
                "ЭЛН не найдены."
                if self.query_one("#search", Input).value
                else "ЭЛН пока нет: F4 — новый ЭЛН."
            )
            return
        snils = f", СНИЛС {row.snils}" if row.snils else ""
        period = (
            f"; {format_date(row.first_dt1)}–{format_date(row.last_dt2)}" if row.first_dt1 else ""
        )
        error = f"\nОшибка передачи: {row.transfer_error}" if row.transfer_error else ""
        state, action = row.journal_state.label, next_action(row, self.desk.today())
        what = state if state == action else f"{state}. {action}"
        detail.update(f"№ {row.ln_code or '—'}: {row.patient_fio}{snils}{period}. {what}.{error}")

    # --- search ---------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DELAY_S, self.reload)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.reload()
        self.query_one("#elns", DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
            self.reload()
        self.query_one("#elns", DataTable).focus()

    def action_refresh(self) -> None:
        self.reload()

    def action_toggle_scope(self) -> None:
        self.all_elns = not self.all_elns
        self.reload()

    # --- opening --------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#elns")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        if isinstance(self.focused, Input):
            return
        row = self._current_row()
        if row is not None:
            self.load(row.id)

    @work(thread=True, exit_on_error=False, group="open", description="Открытие ЭЛН")
    def load(self, eln_id: int, start_action: str | None = None, take_over: bool = False) -> None:
        desk = self.desk
        with desk.db():
            if desk.settings is None:
                desk.load_settings()
            eln = desk.store.load(eln_id)
        shown = eln
        if take_over and eln.doctor_id is None:
            shown = eln.copy()
            shown.doctor_id = desk.user.id  # the doctor takes over an ELN of another МО
        self.post_message(OpenEditor(shown, stored=eln, start_action=start_action))

    def action_new(self) -> None:
        self.prepare_new()

    @work(thread=True, exit_on_error=False, group="open", description="Новый ЭЛН")
    def prepare_new(self) -> None:
        desk = self.desk
        with desk.db():
            desk.load_settings()
        self.post_message(ElnLoaded(new_eln(desk), saved=False))

    @on(ElnLoaded)
    def _new_ready(self, message: ElnLoaded) -> None:
        message.stop()
        self._push(ElnEditorScreen(message.eln, stored=None))

    @on(OpenEditor)
    def _open_editor(self, message: OpenEditor) -> None:
        editor = ElnEditorScreen(
            message.eln, stored=message.stored, start_action=message.start_action
        )
        self._push(editor)

    def _push(self, screen: ElnEditorScreen) -> None:
        self.app.push_screen(screen)

    def on_screen_resume(self) -> None:
        # Back from the editor (or a dialog): states may have changed.
        if self.is_mounted and self._columns_ready:
            row = self._current_row()
            self._restore = row.id if row is not None else None
            self.reload()

    # --- ELNs received from another МО ------------------------------------------------------

    def action_close_received(self) -> None:
        def picked(eln_id: int | None) -> None:
            if eln_id is not None:
                self.load(eln_id, start_action="close_eln", take_over=True)

        self.app.push_screen(ReceivedDialog(self.desk, "Закрыть ЭЛН из ЕИИС «Соцстрах»"), picked)

    def action_continue_received(self) -> None:
        def picked(eln_id: int | None) -> None:
            if eln_id is None:
                return

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.continue_received(eln_id)

            self.app.push_screen(
                ConfirmationModal(
                    "Продолжение ЭЛН из ЕИИС «Соцстрах»",
                    "Полученный ЭЛН будет закрыт с кодом «Иное» 31 (продолжает болеть), и будет "
                    "открыт новый ЭЛН-продолжение с номером из пула. Продолжить?",
                    yes="Оформить продолжение",
                    no="Отмена",
                ),
                confirmed,
            )

        self.app.push_screen(
            ReceivedDialog(self.desk, "Продолжение ЭЛН из ЕИИС «Соцстрах»"), picked
        )

    @work(thread=True, exit_on_error=False, group="open", description="Продолжение ЭЛН")
    def continue_received(self, eln_id: int) -> None:
        desk = self.desk
        with desk.db():
            desk.load_settings()
            old, new = desk.store.continue_eln(
                eln_id,
                desk.user.signer,
                ln_date=desk.today(),
                mode=desk.number_mode,
                server_tag=desk.server_tag,
                context=desk.context(),
            )
        self.post_message(Continued(old, new))

    @on(Continued)
    def _continued(self, message: Continued) -> None:
        message.stop()
        self.notify(
            f"ЭЛН № {message.old.ln_code} закрыт с кодом 31 и передаётся в ЕИИС «Соцстрах» после "
            "подписи блока «Приступить к работе / Иное». Заполните ЭЛН-продолжение.",
            timeout=8,
        )
        new = prepare_continuation(message.new, message.old, self.desk)
        self._push(ElnEditorScreen(new, stored=None))

    @on(OperationFailed)
    def _failed(self, message: OperationFailed) -> None:
        message.stop()
        self._loading = False

    def extra_commands(self) -> Iterable[ScreenCommand]:
        yield ScreenCommand(
            "Закрыть ЭЛН из ЕИИС «Соцстрах»",
            self.action_close_received,
            help="Пациент выздоровел: закрыть ЭЛН, выданный в другой МО",
        )
        yield ScreenCommand(
            "Продолжение ЭЛН из ЕИИС «Соцстрах»",
            self.action_continue_received,
            help="Пациент продолжает болеть: продолжение ЭЛН, выданного в другой МО",
        )
