"""Search-and-pick dialogs: a patient card (for a new ELN) and an ELN received from ЕИИС
«Соцстрах» (to close or continue it, seed 000 «Закрыть/Продолжение ЭЛН из ЕИИС «Соцстрах»»)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from eln_tui.core.domain.codes import JournalView
from eln_tui.core.domain.model import Patient
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.formmodel import format_date
from eln_tui.ui.presenters import row_period

ItemT = TypeVar("ItemT")
PatientCard = tuple[int, Patient, str | None]


class PickDialog(Dialog[ItemT | None], Generic[ItemT]):
    """A search field over a list; Enter on an item picks it. Subclasses fetch in a thread."""

    DEFAULT_CSS = """
    PickDialog #items {
        height: auto;
        max-height: 12;
    }
    """
    TITLE_TEXT = ""
    PLACEHOLDER = ""
    EMPTY = "Ничего не найдено."

    class Found(Message):
        def __init__(self, items: list[tuple[str, Any]], token: int) -> None:
            super().__init__()
            self.items = items
            self.token = token

    def __init__(self, desk: Desk, query: str = "") -> None:
        super().__init__()
        self.desk = desk
        self.query_text = query
        self._items: list[Any] = []
        self._token = 0
        self._timer: Timer | None = None  # set while a typed query waits for its search
        self._shown = 0  # token of the answer on display
        self._enter_pending = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.TITLE_TEXT, classes="dialog-title")
            yield Input(self.query_text, placeholder=self.PLACEHOLDER, compact=True, id="query")
            yield OptionList(id="items", compact=True)
            yield Static("", classes="dialog-text", id="hint")

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self._search()

    @on(Input.Changed, "#query")
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self._search)

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        """Enter: the only match is taken at once; several go to the list to choose from."""
        if self._timer is not None:  # faster than the debounce: search what is typed now
            self._timer.stop()
            self._search()
        if self._shown != self._token:  # the answer is on its way: decide when it comes
            self._enter_pending = True
            return
        self._choose_or_list()

    def _choose_or_list(self) -> None:
        items = self.query_one("#items", OptionList)
        if items.option_count == 1:
            self.dismiss(self._items[0])
        elif items.option_count:
            items.focus()
            items.highlighted = 0

    def _search(self) -> None:
        self._timer = None
        self._token += 1
        self.fetch(self.query_one("#query", Input).value.strip(), self._token)

    def find(self, text: str) -> list[tuple[str, Any]]:
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="pick", exit_on_error=False)
    def fetch(self, text: str, token: int) -> None:
        with self.desk.db():
            items = self.find(text)
        self.post_message(self.Found(items, token))

    @on(Found)
    def _found(self, message: Found) -> None:
        if message.token != self._token:
            return
        self._shown = message.token
        self._items = [item for _, item in message.items]
        options = self.query_one("#items", OptionList)
        options.clear_options()
        options.add_options(Option(label, id=str(i)) for i, (label, _) in enumerate(message.items))
        self.query_one("#hint", Static).update(
            "Enter — выбрать, Esc — отмена." if message.items else self.EMPTY
        )
        if self._enter_pending:
            self._enter_pending = False
            self._choose_or_list()

    @on(OptionList.OptionSelected, "#items")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._items[int(event.option.id or 0)])


class PatientDialog(PickDialog[PatientCard]):
    TITLE_TEXT = "Найти пациента"
    PLACEHOLDER = "СНИЛС или фамилия"
    EMPTY = "Пациент не найден: введите данные в форму вручную."

    def find(self, text: str) -> list[tuple[str, Any]]:
        if not text:
            return []
        out = []
        for patient_id, p, workplace in self.desk.store.find_patients(text):
            fio = " ".join(x for x in (p.surname, p.name, p.patronymic) if x)
            label = f"{fio}, {format_date(p.birthday)}, СНИЛС {p.snils or '—'}"
            out.append((label, (patient_id, p, workplace)))
        return out


class ReceivedDialog(PickDialog[int]):
    """ELNs in «Получены из ЕИИС Соцстрах»; returns the picked ELN's id."""

    PLACEHOLDER = "номер ЭЛН, СНИЛС или фамилия"
    EMPTY = (
        "Нет ЭЛН, полученных из ЕИИС «Соцстрах»: оператор ЭЛН запрашивает их по номеру и СНИЛС "
        "(«Получить из ЕИИС Соцстрах»)."
    )

    def __init__(self, desk: Desk, title: str) -> None:
        super().__init__(desk)
        self.TITLE_TEXT = title

    def find(self, text: str) -> list[tuple[str, Any]]:
        page = self.desk.store.journal(JournalView.RECEIVED, search=text or None, limit=50)
        return [
            (f"№ {r.ln_code} — {r.patient_fio}, {row_period(r)}, {r.state_title}", r.id)
            for r in page.rows
        ]
