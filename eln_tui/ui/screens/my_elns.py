"""«Мои ЭЛН»: the doctor's ELNs with their state and the next action, searchable.

Rows come from storage a page at a time (keyset paging, :mod:`eln_tui.ui.screens.paged`), so
the list never loads a whole journal; the next page is fetched when the cursor nears the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from eln_tui.core.domain.codes import JournalView
from eln_tui.core.storage import JournalRow
from eln_tui.ui.commands import ScreenCommand
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.pick import ReceivedDialog
from eln_tui.ui.formmodel import format_date
from eln_tui.ui.messages import ElnLoaded
from eln_tui.ui.presenters import TERMINATED, next_action, row_period
from eln_tui.ui.screens.eln_editor import (
    Continued,
    ElnEditorScreen,
    new_eln,
    prepare_continuation,
)
from eln_tui.ui.screens.paged import (
    PAGE,
    ElnListScreen,
    ListPage,
    clear_search_binding,
    open_binding,
    refresh_binding,
    search_binding,
)


def short_fio(fio: str) -> str:
    parts = fio.split()
    if len(parts) <= 1:
        return fio
    return parts[0] + " " + "".join(f"{p[0]}." for p in parts[1:])


class MyElnsScreen(ElnListScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        open_binding("my_elns"),
        Binding("f4,ctrl+n", "new", "Новый ЭЛН", tooltip="Новый листок", id="my_elns.new"),
        search_binding("my_elns"),
        refresh_binding("my_elns"),
        Binding(
            "f6",
            "toggle_scope",
            "Все/мои",
            tooltip="Показать все ЭЛН МО или только мои",
            id="my_elns.scope",
        ),
        clear_search_binding("my_elns"),
    ]

    TABLE_ID = "elns"
    HEADING = "Мои ЭЛН"

    def __init__(self) -> None:
        super().__init__()
        self.all_elns = False

    # --- table ----------------------------------------------------------------------------

    def _add_columns(self, table: DataTable[Any], width: int, wide: bool) -> None:
        patient = 34 if wide else 16
        period = 21
        action = max(16, width - 12 - patient - period - 9)
        table.add_column("Номер ЛН", width=12, key="number")
        table.add_column("Пациент", width=patient, key="patient")
        table.add_column("Период", width=period, key="period")
        table.add_column("Следующее действие", width=action, key="action")

    def _add_rows(self, rows: Iterable[JournalRow]) -> None:
        table = self.table
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

    def _request(self, after: int | None, append: bool, token: int) -> None:
        scope = "все ЭЛН МО" if self.all_elns else "мои ЭЛН"
        self.query_one("#scope", Static).update(f"[{scope}]")
        self.fetch(self.search_text(), after, append, token)

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
        self.post_message(ListPage(page.rows, page.next_after, append=append, token=token))

    def _detail(self) -> None:
        row = self.current_row()
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

    def action_toggle_scope(self) -> None:
        self.all_elns = not self.all_elns
        self.reload()

    # --- new ELN --------------------------------------------------------------------------

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
