"""«Номера ЭЛН» (seed 000; domain.md §3): the number pool and its exchange with the Fund.

The pool is paged from the database (keyset on the number, ``NumberPool.page``) and can be
filtered by state; the counts on top come from one grouped query. The three exchanges —
«Получить номера ЛН» (getNewLNNumRange), «Загрузить выданные ранее» (getExistingLNNumRange) and
«Вернуть неиспользованные» (PrParseFileNumberslpu) — ask the МО key PIN and run in a worker
(:func:`eln_tui.ui.dialogs.mo_pin.run_exchange`), with an indicator while the Fund answers.

«Освободить зависшие» (F7) lists the numbers «Занят» for longer than ``STALE_AFTER`` with no
saved ELN (the doctor's program died between taking and saving) and, once confirmed, frees them
in one transaction (``ElnStore.release_stale_numbers``; a number saved meanwhile is refused).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, ProgressBar, Static

from eln_tui.core.domain.codes import NumberMode, NumberState
from eln_tui.core.fss import MAX_NUMBERS_PER_REQUEST
from eln_tui.core.storage.numbers import STALE_AFTER, PoolNumber, StaleReservation
from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.mo_pin import run_exchange
from eln_tui.ui.screens.base import DeskScreen

PAGE = 100
STALE_PAGE = 200  # stale reservations shown (and released) at once
DEFAULT_COUNT = 5  # what SAMSON offers (domain.md §3)

#: The filter cycle of F6: None = every number.
FILTERS: tuple[NumberState | None, ...] = (
    None,
    NumberState.FREE,
    NumberState.RESERVED,
    NumberState.USED,
    NumberState.RETURNED,
)
FILTER_TITLES = {
    None: "все номера",
    NumberState.FREE: "свободные",
    NumberState.RESERVED: "занятые",
    NumberState.USED: "использованные",
    NumberState.RETURNED: "возвращённые",
}
#: Short state texts for the table (every state reads as text, not only as a colour).
STATE_TEXT = {
    NumberState.FREE: "свободен",
    NumberState.RESERVED: "занят",
    NumberState.USED: "занят",
    NumberState.RETURNED: "возвращён",
}


def count_error(text: str) -> str | None:
    """The Russian refusal of a count of numbers to request, or None when it is valid."""
    text = text.strip()
    rule = f"целое число от 1 до {MAX_NUMBERS_PER_REQUEST}"
    if not text:
        return f"Поле «Количество номеров» обязательно: укажите {rule}."
    if not text.isdigit() or not 1 <= int(text) <= MAX_NUMBERS_PER_REQUEST:
        return f"Поле «Количество номеров» должно содержать {rule}."
    return None


def count_line(counts: dict[NumberState, int]) -> str:
    free = counts.get(NumberState.FREE, 0)
    taken = counts.get(NumberState.RESERVED, 0) + counts.get(NumberState.USED, 0)
    returned = counts.get(NumberState.RETURNED, 0)
    return f"Свободно: {free}   Занято: {taken}   Возвращено в СФР: {returned}"


@dataclass(frozen=True)
class NumberRow:
    number: PoolNumber
    eln: str  # who holds the number: «ЭЛН: Петров П.П.» or ""


class NumbersLoaded(Message):
    def __init__(
        self, rows: list[NumberRow], counts: dict[NumberState, int] | None, append: bool, token: int
    ) -> None:
        super().__init__()
        self.rows = rows
        self.counts = counts
        self.append = append
        self.token = token


@dataclass(frozen=True)
class NumberRequest:
    count: int
    server_tag: str | None  # the server the batch is for (mode ONLY_CURRENT), else None


class CountDialog(Dialog[NumberRequest | None]):
    """«Получить номера ЛН»: how many numbers to ask the Fund for and, in the mode «Свободный
    только для текущего сервера», for which server (seed 000: each number keeps that name)."""

    def __init__(self, server_tag: str | None = None) -> None:
        super().__init__()
        self.server_tag = server_tag

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Получить номера ЛН", classes="dialog-title")
            yield Static(
                "Номера ЭЛН запрашиваются в ЕИИС «Соцстрах» и попадают в пул со статусом "
                f"«свободен». За один запрос — не более {MAX_NUMBERS_PER_REQUEST}.",
                classes="dialog-text",
            )
            with Horizontal(classes="row"):
                yield Label("Количество номеров")
                yield Input(str(DEFAULT_COUNT), compact=True, id="count", max_length=5)
            if self.server_tag is not None:
                with Horizontal(classes="row"):
                    yield Label("Для сервера")
                    yield Input(self.server_tag, compact=True, id="server", max_length=100)
            yield Static("", classes="dialog-error", id="status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Запросить", id="ok", variant="primary")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#count", Input).focus()

    @on(Input.Submitted, "#count")
    @on(Input.Submitted, "#server")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        field = self.query_one("#count", Input)
        error = count_error(field.value)
        if error is not None:
            self.query_one("#status", Static).update(error)
            field.focus()
            return
        server: str | None = None
        if self.server_tag is not None:
            server_field = self.query_one("#server", Input)
            server = server_field.value.strip()
            if not server:
                self.query_one("#status", Static).update(
                    "Поле «Для сервера» обязательно: при способе «Свободный только для текущего "
                    "сервера» каждый номер закрепляется за сервером."
                )
                server_field.focus()
                return
        self.dismiss(NumberRequest(int(field.value.strip()), server))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


def stale_minutes() -> int:
    return int(STALE_AFTER.total_seconds() // 60)


def reserved_text(stale: StaleReservation) -> tuple[str, str]:
    """(when, who) of a stale reservation, in local time."""
    when = stale.reserved_at.astimezone().strftime("%d.%m.%Y %H:%M") if stale.reserved_at else "—"
    if stale.reserved_by_name:
        who = stale.reserved_by_name
    elif stale.reserved_by is not None:
        who = f"пользователь {stale.reserved_by}"
    else:
        who = "—"
    if stale.central:  # handed to us by the central server but never recorded here
        who = f"{who}, центральный сервер"
    return when, who


class StaleDialog(Dialog[bool]):
    """«Освободить зависшие»: the stale reservations and a confirmation."""

    DEFAULT_CSS = """
    StaleDialog #stale {
        height: auto;
        max-height: 10;
        margin-bottom: 1;
    }
    """

    def __init__(self, stale: list[StaleReservation], more: bool) -> None:
        super().__init__()
        self.stale = stale
        self.more = more

    def compose(self) -> ComposeResult:
        more = f" Показаны первые {len(self.stale)}." if self.more else ""
        with Vertical(id="dialog"):
            yield Static("Освободить зависшие номера", classes="dialog-title")
            yield Static(
                f"Номера заняты более {stale_minutes()} мин. назад, а ЭЛН с ними не сохранён "
                "(программа врача была прервана). Освобождённые номера снова станут "
                f"свободными. Зависших номеров: {len(self.stale)}.{more}",
                classes="dialog-text",
            )
            yield DataTable(id="stale", cursor_type="row", zebra_stripes=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Освободить", id="yes", variant="error")
                yield Button("Отмена", id="no")

    def on_mount(self) -> None:
        table = self.query_one("#stale", DataTable)
        table.add_column("Номер ЛН", width=12, key="number")
        table.add_column("Занят", width=16, key="at")
        table.add_column("Кем", width=36, key="who")
        for stale in self.stale:
            when, who = reserved_text(stale)
            table.add_row(stale.number, when, who, key=stale.number)
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)


def holder_text(surname: str | None, name: str | None, patronymic: str | None) -> str:
    initials = "".join(f"{p[0]}." for p in (name, patronymic) if p)
    fio = f"{surname or ''} {initials}".strip()
    return fio or "без ФИО"


class NumbersScreen(DeskScreen):
    REPAINT_ON_FOCUS = False  # a list: focus moves repaint only the widgets concerned
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f2",
            "request",
            "Получить",
            tooltip="Получить номера ЛН из ЕИИС «Соцстрах»",
            id="numbers.request",
        ),
        Binding(
            "f3",
            "import_existing",
            "Выданные",
            tooltip="Загрузить номера, выданные МО ранее",
            id="numbers.import",
        ),
        Binding(
            "f4",
            "return_free",
            "Вернуть",
            tooltip="Вернуть неиспользованные номера в ЕИИС «Соцстрах»",
            id="numbers.return",
        ),
        # not in the 80-column footer (F1 and Ctrl+P list it): it holds five keys
        Binding(
            "f5",
            "refresh",
            "Обновить",
            show=False,
            tooltip="Обновить список",
            id="numbers.refresh",
        ),
        Binding(
            "f6",
            "next_filter",
            "Фильтр",
            tooltip="Показать все / свободные / занятые / использованные / возвращённые",
            id="numbers.filter",
        ),
        Binding(
            "f7",
            "release_stale",
            "Зависшие",
            show=False,  # a rare repair: F1 and Ctrl+P list it
            tooltip="Освободить зависшие номера: заняты давно, ЭЛН не сохранён",
            id="numbers.release_stale",
        ),
    ]

    DEFAULT_CSS = """
    NumbersScreen #numbers-top {
        height: 1;
        width: 100%;
        padding: 0 1;
    }
    NumbersScreen #counts {
        width: 1fr;
    }
    NumbersScreen #filter {
        width: auto;
        color: $text-muted;
    }
    NumbersScreen #numbers {
        height: 1fr;
    }
    NumbersScreen #progress-row {
        height: 1;
        width: 100%;
        padding: 0 1;
        display: none;
    }
    NumbersScreen #progress-row.-busy {
        display: block;
    }
    NumbersScreen #progress-row ProgressBar {
        width: 24;
    }
    NumbersScreen #status {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $boost;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[NumberRow] = []
        self.counts: dict[NumberState, int] = {}
        self.state_filter: NumberState | None = None
        self.next_after: str | None = None
        self.busy = False
        self._opened = False
        self._wide: bool | None = None
        self.note = ""  # the outcome of the last exchange, kept across reloads
        self._token = 0
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(id="numbers-top"):
            yield Static("", id="counts")
            yield Static("", id="filter")
        yield DataTable(id="numbers", cursor_type="row", zebra_stripes=False)
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=None, show_eta=False, show_percentage=False)
            yield Static("", id="progress-text")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Номера ЭЛН"
        self.sub_title = self.desk.user.full_name
        self._columns()
        self.reload()
        self.query_one("#numbers", DataTable).focus()

    def _columns(self) -> None:
        wide = self.app.size.width >= 110
        if wide == self._wide:
            return
        self._wide = wide
        table = self.query_one("#numbers", DataTable)
        table.clear(columns=True)
        table.add_column("Номер ЛН", width=12, key="number")
        table.add_column("Состояние", width=11, key="state")
        table.add_column("ЭЛН (пациент)", width=40 if wide else 20, key="eln")
        table.add_column("Сервер", width=20 if wide else 12, key="server")
        self._add_rows(self.rows)

    def on_resize(self, event: Resize) -> None:
        if self.is_mounted:
            self._columns()

    # --- list -----------------------------------------------------------------------------

    def reload(self) -> None:
        self.rows = []
        self.next_after = None
        self.query_one("#numbers", DataTable).clear()
        self.query_one("#filter", Static).update(f"[{FILTER_TITLES[self.state_filter]}]")
        self._fetch(append=False)

    def _fetch(self, *, append: bool) -> None:
        self._token += 1
        self._loading = True
        self.fetch(self.state_filter, self.next_after if append else None, append, self._token)

    @work(thread=True, exit_on_error=False, group="list", description="Загрузка номеров ЭЛН")
    def fetch(self, state: NumberState | None, after: str | None, append: bool, token: int) -> None:
        store = self.desk.store
        with self.desk.db():
            if not append:  # the number mode decides how requested numbers are tagged
                self.desk.load_settings()
            pool = store.pool()
            numbers = pool.page(after=after, limit=PAGE, state=state)
            counts = None if append else pool.counts()
            holders = self._holders([n.eln_id for n in numbers if n.eln_id is not None])
        rows = [NumberRow(n, holders.get(n.eln_id, "") if n.eln_id else "") for n in numbers]
        self.post_message(NumbersLoaded(rows, counts, append, token))

    def _holders(self, ids: Sequence[int]) -> dict[int | None, str]:
        """Patients of the ELNs holding the page's numbers (one query per page)."""
        names = self.desk.store.patient_names(ids)
        return {eln_id: holder_text(*name) for eln_id, name in names.items()}

    @on(NumbersLoaded)
    def _loaded(self, message: NumbersLoaded) -> None:
        if message.token != self._token:
            return
        self._loading = False
        if message.counts is not None:
            self.counts = message.counts
            self.query_one("#counts", Static).update(count_line(message.counts))
        self.rows.extend(message.rows)
        self.next_after = message.rows[-1].number.number if len(message.rows) == PAGE else None
        self._add_rows(message.rows)
        if not self.rows and not self.busy:
            hint = (
                "Номеров нет: F2 — получить номера ЛН из ЕИИС «Соцстрах»."
                if self.state_filter is None
                else f"Нет номеров в состоянии «{FILTER_TITLES[self.state_filter]}»."
            )
            text = f"{self.note}\n{hint}" if self.note else hint
            self.query_one("#status", Static).update(text)

    def _add_rows(self, rows: Iterable[NumberRow]) -> None:
        table = self.query_one("#numbers", DataTable)
        for row in rows:
            n = row.number
            free = n.state is NumberState.FREE
            table.add_row(
                n.number,
                Text(STATE_TEXT[n.state], style="bold" if free else ""),
                row.eln or ("оформляется" if n.state is NumberState.RESERVED else "—"),
                n.server_tag or "—",
                key=n.number,
            )

    @on(DataTable.RowHighlighted, "#numbers")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one("#numbers", DataTable)
        near_end = event.cursor_row >= table.row_count - 10
        if near_end and self.next_after is not None and not self._loading:
            self._fetch(append=True)

    def on_screen_resume(self) -> None:
        # Back at this desk: doctors may have taken numbers meanwhile (the first resume is the
        # opening itself; dialogs of a running exchange do not reload).
        if self._opened and not self.busy:
            self.reload()
        self._opened = True

    def action_refresh(self) -> None:
        self._status("")
        self.reload()

    def action_next_filter(self) -> None:
        self._status("")
        index = FILTERS.index(self.state_filter)
        self.state_filter = FILTERS[(index + 1) % len(FILTERS)]
        self.reload()

    # --- exchanges with the Fund ------------------------------------------------------------

    def _status(self, text: str) -> None:
        self.note = text
        self.query_one("#status", Static).update(text)

    def _busy(self, text: str | None) -> None:
        self.busy = text is not None
        self.query_one("#progress-row").set_class(self.busy, "-busy")
        self.query_one("#progress-text", Static).update(text or "")
        if text:
            self._status("")

    def _idle(self, *_: object) -> None:
        self._busy(None)

    def _refuse_when_busy(self) -> bool:
        if self.busy:
            self.notify("Дождитесь окончания обмена с ЕИИС «Соцстрах».", severity="warning")
        return self.busy

    def action_request(self) -> None:
        if self._refuse_when_busy():
            return

        def counted(request: NumberRequest | None) -> None:
            if request is None:
                return
            self._busy(f"Запрос {request.count} номеров в ЕИИС «Соцстрах»…")
            run_exchange(
                self,
                lambda service: service.request_numbers(
                    request.count, server_tag=request.server_tag
                ),
                title="Получение номеров ЭЛН",
                on_done=self._received,
                on_failed=self._idle,
                on_cancel=self._idle,
            )

        self.app.push_screen(CountDialog(self._server_for_batch()), counted)

    def _server_for_batch(self) -> str | None:
        """This server's name in the mode that tags numbers per server, else None."""
        if self.desk.number_mode is NumberMode.ONLY_CURRENT:
            return self.desk.server_tag or ""
        return None

    def _received(self, numbers: list[str]) -> None:
        self._busy(None)
        if numbers:
            self._status(
                f"Получено номеров: {len(numbers)} ({numbers[0]} – {numbers[-1]}). "
                "Они свободны для новых ЭЛН."
            )
        else:
            self._status("ЕИИС «Соцстрах» не выдал номеров.")
        self.reload()

    def action_import_existing(self) -> None:
        if self._refuse_when_busy():
            return
        self._busy("Загрузка номеров, выданных МО ранее…")
        server = self._server_for_batch() or None
        run_exchange(
            self,
            lambda service: service.import_existing(server_tag=server),
            title="Загрузка выданных ранее номеров",
            on_done=self._imported,
            on_failed=self._idle,
            on_cancel=self._idle,
        )

    def _imported(self, numbers: list[str]) -> None:
        self._busy(None)
        self._status(
            f"Загружено новых номеров: {len(numbers)}."
            if numbers
            else "Новых номеров нет: все выданные ранее номера уже в пуле."
        )
        self.reload()

    def action_return_free(self) -> None:
        if self._refuse_when_busy():
            return
        free = self.counts.get(NumberState.FREE, 0)
        if not free:
            self._status("Свободных номеров нет: возвращать нечего.")
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self._busy(f"Возврат {free} номеров в ЕИИС «Соцстрах»…")
            run_exchange(
                self,
                lambda service: service.return_numbers(),
                title="Возврат неиспользованных номеров",
                on_done=self._returned,
                on_failed=self._idle,
                on_cancel=self._idle,
            )

        self.app.push_screen(
            ConfirmationModal(
                "Вернуть неиспользованные номера",
                f"Все свободные номера ЭЛН ({free}) будут возвращены в ЕИИС «Соцстрах» и больше "
                "не смогут быть выданы. Продолжить?",
                yes="Вернуть",
                no="Отмена",
                danger=True,
            ),
            confirmed,
        )

    def _returned(self, numbers: list[str]) -> None:
        self._busy(None)
        self._status(f"Возвращено в ЕИИС «Соцстрах» номеров: {len(numbers)}.")
        self.reload()

    # --- stale reservations -----------------------------------------------------------------

    def action_release_stale(self) -> None:
        if self._refuse_when_busy():
            return
        self._status("")
        self.find_stale()

    @work(thread=True, exit_on_error=False, group="stale", description="Зависшие номера ЭЛН")
    def find_stale(self) -> None:
        with self.desk.db():
            stale = self.desk.store.stale_numbers(
                limit=STALE_PAGE + 1, server_tag=self.desk.server_tag
            )
        self.app.call_from_thread(self._confirm_stale, stale)

    def _confirm_stale(self, stale: list[StaleReservation]) -> None:
        if not stale:
            self._status(
                f"Зависших номеров нет: каждый занятый номер либо сохранён в ЭЛН, либо занят "
                f"менее {stale_minutes()} мин. назад."
            )
            return
        shown = stale[:STALE_PAGE]

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.release_stale([s.number for s in shown])

        self.app.push_screen(StaleDialog(shown, len(stale) > STALE_PAGE), confirmed)

    @work(thread=True, exit_on_error=False, group="stale", description="Освобождение номеров ЭЛН")
    def release_stale(self, numbers: list[str]) -> None:
        try:
            with self.desk.db():
                released = self.desk.store.release_stale_numbers(
                    numbers, self.desk.user.signer, server_tag=self.desk.server_tag
                )
        finally:  # refused or not, the list shows the pool as it is now
            self.app.call_from_thread(self.reload)
        self.app.call_from_thread(
            self._status,
            f"Освобождено зависших номеров: {len(released)} ({', '.join(released[:5])}"
            f"{', …' if len(released) > 5 else ''}). Они снова свободны.",
        )
