"""Dialogs that ask for a date: extend (the new period's end), МСЭ referral, closing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from eln_tui.core.domain.codes import OTHER_STATES
from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.formmodel import format_date, parse_date
from eln_tui.ui.widgets.fields import CodeField, DateField, PickField


def _parse(field: DateField, title: str, *, required: bool = True) -> date | None:
    text = field.value.strip()
    if not text:
        if required:
            raise ValueError(f"Укажите дату «{title}».")
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise ValueError(f"«{text}» не является датой: укажите её как ДД.ММ.ГГГГ.") from None


class DateDialog(Dialog[date | None]):
    """One date with a title and an explanation; Enter confirms."""

    def __init__(
        self,
        title: str,
        text: str,
        label: str,
        default: date | None,
        *,
        minimum: date | None = None,
        minimum_text: str = "",
        ok: str = "OK",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.label = label
        self.default = default
        self.minimum = minimum
        self.minimum_text = minimum_text
        self.ok = ok

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            if self.text:
                yield Static(self.text, classes="dialog-text")
            with Horizontal(classes="row"):
                yield Label(self.label)
                yield DateField("ln_date", self.default, id="date", select_on_focus=True)
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok, id="ok", variant="primary")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#date", DateField).focus()

    @on(Input.Submitted, "#date")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        try:
            value = _parse(self.query_one("#date", DateField), self.label)
        except ValueError as exc:
            self.query_one("#error", Static).update(str(exc))
            return
        assert value is not None
        if self.minimum is not None and value < self.minimum:
            self.query_one("#error", Static).update(
                self.minimum_text or f"Дата не может быть раньше {format_date(self.minimum)}."
            )
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class CloseChoice:
    """How the ELN is closed: return to work on ``return_date``, or an «Иное» code."""

    return_date: date | None = None
    other_code: str | None = None
    other_date: date | None = None


class CloseDialog(Dialog[CloseChoice | None]):
    """«Приступить к работе, учебе или службе с» — or «Иное» with its code and date."""

    def __init__(self, default: date | None) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Закрытие ЭЛН", classes="dialog-title")
            yield Static(
                "Укажите дату выхода на работу; если пациент не приступает к работе, оставьте её "
                "пустой и выберите код «Иное».",
                classes="dialog-text",
            )
            with Horizontal(classes="row"):
                yield Label("Приступить к работе с")
                yield DateField(
                    "ln_result.return_date_lpu",
                    self.default,
                    id="return-date",
                    select_on_focus=True,
                )
            with Horizontal(classes="row"):
                yield Label("Иное")
                yield CodeField("ln_result.mse_result", OTHER_STATES, None, id="other-code")
            with Horizontal(classes="row"):
                yield Label("Дата (Иное)")
                yield DateField("ln_result.other_state_dt", None, id="other-date")
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Закрыть ЭЛН", id="ok", variant="primary")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#return-date", DateField).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        error = self.query_one("#error", Static)
        code_field = self.query_one("#other-code", PickField)
        code = code_field.model_value(None)
        try:
            if code:
                other = _parse(self.query_one("#other-date", DateField), "Дата (Иное)")
                self.dismiss(CloseChoice(other_code=code, other_date=other))
                return
            returned = _parse(self.query_one("#return-date", DateField), "Приступить к работе с")
        except ValueError as exc:
            error.update(str(exc))
            return
        self.dismiss(CloseChoice(return_date=returned))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
