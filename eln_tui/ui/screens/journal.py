"""«Работа с ЕИИС Соцстрах»: the operator's journal of electronic LNs (seed 000; domain.md §4).

Six nested views (keys 1–6, or ←/→ in the list), the seed's columns (номер ЛН, ФИО пациента,
dates of the release period, состояние ЛН; «Ошибки передачи» adds the error), search by number,
SNILS or surname, and F6 filters by the end date of the release period (a day or a range; the
daily registry goes by that date) in any view. Rows come a page at a time (keyset paging, as in
«Мои ЭЛН»); the next page is fetched when the cursor nears the end, so a journal of any size opens
and filters at once. The total of the view is one COUNT query with the first page.

From here the operator opens an ELN (the editor decides what may still change), fetches an ELN
from the Fund («Получить из ЕИИС Соцстрах») and cancels one in the Fund («Прекращение ЛН»).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from eln_tui.core.domain.codes import JournalState, JournalView
from eln_tui.core.domain.lifecycle import journal_state
from eln_tui.core.domain.model import Eln
from eln_tui.core.storage import JournalRow
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.period_end import PeriodEnd
from eln_tui.ui.formmodel import format_date
from eln_tui.ui.screens.my_elns import short_fio
from eln_tui.ui.screens.paged import (
    PAGE,
    ElnListScreen,
    ListPage,
    ListTable,
    open_binding,
    refresh_binding,
    search_binding,
)

VIEWS: tuple[JournalView, ...] = (
    JournalView.ALL,
    JournalView.NOT_SENT,
    JournalView.SENT,
    JournalView.RECEIVED,
    JournalView.ERRORS,
    JournalView.DELETED,
)
#: View names for the view bar at 80 columns (the full seed names from 110 columns).
SHORT_VIEW = {
    JournalView.ALL: "Полный список",
    JournalView.NOT_SENT: "Не переданы",
    JournalView.SENT: "Переданы",
    JournalView.RECEIVED: "Получены",
    JournalView.ERRORS: "Ошибки",
    JournalView.DELETED: "Удалённые",
}
#: The Fund's lnState in a few words (the full titles are in the row detail).
SHORT_STATE = {
    "000": "новый",
    "010": "открыт",
    "020": "продлён",
    "030": "закрыт",
    "040": "направлен на МСЭ",
    "050": "дополнен МСЭ",
    "060": "у страхователя",
    "070": "реестр ПВСО",
    "080": "пособие выплачено",
    "090": "прекращён",
}
#: The journal state in a few words (the «Передача» column, from 110 columns, view «Полный список»).
SHORT_JOURNAL = {
    JournalState.DRAFT: "заполняется",
    JournalState.PENDING: "не передан",
    JournalState.SENT: "передан",
    JournalState.ERROR: "ошибка передачи",
    JournalState.RECEIVED: "получен из СФР",
    JournalState.TERMINATED: "прекращён",
}


def state_cell(row: JournalRow, *, transfer: bool = False) -> str:
    """The «Состояние ЛН» column: the Fund's state code and its short name; with ``transfer``
    («Полный список» at 80 columns, where no «Передача» column fits) also where the transfer
    stands unless it is done («010 открыт, не передан»)."""
    if row.terminated and row.ln_state != "090":
        return "ЛН прекращен"
    if transfer and row.journal_state is JournalState.DRAFT:
        return SHORT_JOURNAL[JournalState.DRAFT]
    short = SHORT_STATE.get(row.ln_state, row.state_title)
    text = f"{row.ln_state} {short}" if row.ln_state else short
    if transfer and row.journal_state in (JournalState.PENDING, JournalState.ERROR):
        text += ", " + ("ошибка" if row.journal_state is JournalState.ERROR else "не передан")
    elif transfer and row.journal_state is JournalState.RECEIVED:
        text += ", из СФР"
    return text


def view_bar(current: JournalView, *, wide: bool) -> Text:
    """«[1 Полный список] 2 Не переданы …»: the current view in brackets (reads without colour)."""
    text = Text()
    for index, view in enumerate(VIEWS, start=1):
        name = view.label if wide else SHORT_VIEW[view]
        if index > 1:
            text.append(" ")
        if view is current:
            text.append(f"[{index} {name}]", style="bold reverse")
        else:
            text.append(f"{index} {name}")
    return text


class ViewStep(Message):
    """←/→ in the list: the previous or the next view."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step


class JournalTable(ListTable):
    """The journal's list: ←/→ switch views instead of scrolling sideways."""

    def action_cursor_left(self) -> None:
        self.post_message(ViewStep(-1))

    def action_cursor_right(self) -> None:
        self.post_message(ViewStep(+1))


class JournalScreen(ElnListScreen):
    DEFAULT_CSS = """
    JournalScreen #views {
        height: 1;
        width: 100%;
        padding: 0 0 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    JournalScreen #journal {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        open_binding("journal"),
        search_binding("journal"),
        Binding(
            "f4",
            "fetch",
            "Получить",
            tooltip="Получить ЭЛН из ЕИИС Соцстрах (номер и СНИЛС)",
            id="journal.fetch",
        ),
        refresh_binding("journal"),
        # not in the footer: with it the 80-column footer overflows (F1 lists it)
        Binding(
            "f6",
            "dates",
            "Даты",
            show=False,
            tooltip="Фильтр по дате окончания периода освобождения",
            id="journal.dates",
        ),
        Binding(
            "f8",
            "disable",
            "Прекратить",
            tooltip="Прекращение ЛН в ЕИИС Соцстрах",
            id="journal.disable",
        ),
        *(
            Binding(
                str(index),
                f"view({index})",
                view.label,
                show=False,
                tooltip=f"Представление «{view.label}»",
                id=f"journal.view{index}",
            )
            for index, view in enumerate(VIEWS, start=1)
        ),
        Binding(
            "escape",
            "clear_search",
            "Сброс",
            show=False,
            tooltip="Очистить поиск, затем фильтр по дате окончания",
            id="journal.clear",
        ),
    ]

    TABLE_ID = "journal"
    TABLE_CLASS = JournalTable
    HEADING = "Работа с ЕИИС Соцстрах"

    def __init__(self) -> None:
        super().__init__()
        self.view = JournalView.ALL
        self._columns_view: JournalView | None = None
        self._short_dates = False
        self.period_end = PeriodEnd()  # the filter by the release period's end date

    def compose_top(self) -> ComposeResult:
        yield Static("", id="views")

    # --- table ----------------------------------------------------------------------------

    def _layout_key(self) -> object:
        return self.view

    def _add_columns(self, table: DataTable[Any], width: int, wide: bool) -> None:
        self._columns_view = self.view
        self.query_one("#views", Static).update(view_bar(self.view, wide=wide))
        errors = self.view is JournalView.ERRORS
        transfer = wide and self.view is JournalView.ALL
        self._short_dates = errors and not wide  # room for the error at 80 columns
        day = 8 if self._short_dates else 10
        # 2 cells of padding per column and 1 for the scroll bar
        room = width - 1 - 2 * (5 + int(errors) + int(transfer)) - 12 - 2 * day
        if errors:
            patient = 24 if wide else 12
            state = 14 if wide else 10
            error = max(10, room - patient - state)
        else:
            state = 22
            extra = 16 if transfer else 0
            patient = max(12, room - state - extra)
        table.add_column("Номер ЛН", width=12, key="number")
        table.add_column("ФИО пациента", width=patient, key="patient")
        table.add_column("С" if self._short_dates else "Освоб. с", width=day, key="dt1")
        table.add_column("По" if self._short_dates else "Освоб. по", width=day, key="dt2")
        table.add_column("Состояние ЛН", width=state, key="state")
        if transfer:
            table.add_column("Передача", width=extra, key="transfer")
        if errors:
            table.add_column("Ошибка передачи", width=error, key="error")

    def _date(self, value: date | None) -> str:
        if value is None:
            return ""
        return value.strftime("%d.%m.%y") if self._short_dates else format_date(value)

    def _add_rows(self, rows: Iterable[JournalRow]) -> None:
        table = self.table
        errors = self.view is JournalView.ERRORS
        transfer = bool(self._wide) and self.view is JournalView.ALL
        merged = not self._wide and self.view is JournalView.ALL
        for row in rows:
            style = "bold" if row.terminated else ""
            cells = [
                Text(row.ln_code or "без номера", style=style),
                Text(row.patient_fio if self._wide else short_fio(row.patient_fio), style=style),
                Text(self._date(row.first_dt1), style=style),
                Text(self._date(row.last_dt2), style=style),
                Text(state_cell(row, transfer=merged), style=style),
            ]
            if transfer:
                cells.append(Text(SHORT_JOURNAL[row.journal_state], style=style))
            if errors:
                cells.append(Text(" ".join((row.transfer_error or "").split())))
            table.add_row(*cells, key=str(row.id))

    def _request(self, after: int | None, append: bool, token: int) -> None:
        if not append:
            self.query_one("#scope", Static).update("[загрузка…]")
        self.fetch(self.view, self.search_text(), self.period_end, after, append, token)

    @work(thread=True, exit_on_error=False, group="list", description="Загрузка журнала ЭЛН")
    def fetch(
        self,
        view: JournalView,
        search: str | None,
        ends: PeriodEnd,
        after: int | None,
        append: bool,
        token: int,
    ) -> None:
        desk = self.desk
        with desk.db():
            page = desk.store.journal(
                view,
                search=search,
                ends_from=ends.start,
                ends_to=ends.end,
                after=after,
                limit=PAGE,
                count=not append,
            )
        self.post_message(
            ListPage(page.rows, page.next_after, total=page.total, append=append, token=token)
        )

    def _shown(self) -> None:
        total = self.total if self.total is not None else len(self.rows)
        scope = f"[{SHORT_VIEW[self.view]}: {total}]"
        if self.period_end.active:
            scope += " " + self.period_end.describe()
        self.query_one("#scope", Static).update(scope)

    def _detail(self) -> None:
        row = self.current_row()
        detail = self.query_one("#row-detail", Static)
        if row is None:
            searching = bool(self.query_one("#search", Input).value.strip())
            if self.period_end.active:
                detail.update(
                    f"ЭЛН не найдены ({self.period_end.describe()}). "
                    "F6 — изменить даты, Esc — сбросить поиск, затем даты."
                )
                return
            detail.update(
                "ЭЛН не найдены."
                if searching
                else f"В представлении «{self.view.label}» ЭЛН нет. F4 — получить ЭЛН из СФР."
            )
            return
        snils = f", СНИЛС {row.snils}" if row.snils else ""
        state = f"; состояние в СФР: {row.state_title}" if row.ln_state != "000" else ""
        error = f"\nОшибка передачи: {row.transfer_error}" if row.transfer_error else ""
        detail.update(
            f"№ {row.ln_code or '—'}: {row.patient_fio}{snils}. "
            f"{row.journal_state.label}{state}.{error}"
        )

    # --- views ----------------------------------------------------------------------------

    def set_view(self, view: JournalView) -> None:
        if view is self.view and self._columns_view is view:
            return
        self.view = view
        self.rows = []
        self.next_after = None
        self._columns()
        self.reload()

    def action_view(self, index: int) -> None:
        if 1 <= index <= len(VIEWS):
            self.set_view(VIEWS[index - 1])

    @on(ViewStep)
    def _step(self, message: ViewStep) -> None:
        message.stop()
        index = (VIEWS.index(self.view) + message.step) % len(VIEWS)
        self.set_view(VIEWS[index])

    # --- the release period's end date ---------------------------------------------------------

    def action_dates(self) -> None:
        from eln_tui.ui.dialogs.period_end import PeriodEndDialog

        def chosen(value: PeriodEnd | None) -> None:
            if value is not None:
                self.set_period_end(value)

        self.app.push_screen(PeriodEndDialog(self.period_end), chosen)

    def set_period_end(self, value: PeriodEnd) -> None:
        if value == self.period_end:
            return
        self.period_end = value
        row = self.current_row()
        self._restore = row.id if row is not None else None
        self.reload()

    def action_clear_search(self) -> None:
        """Esc: the search first (as in «Мои ЭЛН»), then the date filter."""
        if not self.query_one("#search", Input).value and self.period_end.active:
            self.set_period_end(PeriodEnd())
            self.table.focus()
            return
        super().action_clear_search()

    # --- the Fund -------------------------------------------------------------------------

    def action_fetch(self) -> None:
        from eln_tui.ui.dialogs.fetch import FetchDialog

        def fetched(eln: Eln | None) -> None:
            if eln is None:
                return
            self.notify(
                f"ЭЛН № {eln.ln_code} получен из ЕИИС «Соцстрах»: {eln.patient_fio}.", timeout=6
            )
            self.query_one("#search", Input).value = ""  # the loaded list follows at once
            self.period_end = PeriodEnd()  # nor may the date filter hide it
            self._restore = eln.id
            # a refreshed ELN of our own stays where it is; show it in the full list then
            received = journal_state(eln) is JournalState.RECEIVED
            self.view = JournalView.RECEIVED if received else JournalView.ALL
            self._columns()
            self.reload()

        self.app.push_screen(FetchDialog(self.desk), fetched)

    def action_disable(self) -> None:
        from eln_tui.ui.dialogs.disable import refusal, start_disable

        row = self.current_row()
        problem = refusal(row)
        if problem is not None:
            self.app.push_screen(MessageDialog("Прекращение ЛН", problem))
            return
        assert row is not None

        def done(eln: Eln) -> None:
            self.notify(
                f"ЭЛН № {eln.ln_code} прекращён в ЕИИС «Соцстрах» и перенесён в «Удаленные ЭЛН».",
                timeout=6,
            )
            self.action_refresh()

        start_disable(self, row, done)
