"""The journal's filter by the end date of the release period («Дата окончания периода
освобождения от работы»): the daily registry goes by that date, so the operator picks a day or a
range. Either bound may stay empty; both empty clear the filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.formmodel import format_date, parse_date

FROM_TITLE = "Окончание периода с"
TO_TITLE = "по"
#: The second field's name in messages (its label is just «по»).
TO_FIELD = "Окончание периода по"


@dataclass(frozen=True)
class PeriodEnd:
    """The filter: ELNs whose release period ends from ``start`` to ``end`` (inclusive)."""

    start: date | None = None
    end: date | None = None

    @property
    def active(self) -> bool:
        return self.start is not None or self.end is not None

    def describe(self) -> str:
        """«окончание 01.03–05.03.2024», «окончание с 01.03.2024», «окончание по …»; '' if off."""
        start, end = self.start, self.end
        if start is not None and end is not None:
            if start == end:
                return f"окончание {format_date(end)}"
            head = start.strftime("%d.%m") if start.year == end.year else format_date(start)
            return f"окончание {head}–{format_date(end)}"
        if start is not None:
            return f"окончание с {format_date(start)}"
        if end is not None:
            return f"окончание по {format_date(end)}"
        return ""


def _date_input(value: date | None, field_id: str, title: str) -> Input:
    field = Input(
        format_date(value),
        placeholder="ДД.ММ.ГГГГ",
        max_length=10,
        restrict=r"[0-9.\-]*",
        compact=True,
        select_on_focus=True,
        id=field_id,
    )
    field.tooltip = f"{title} (ДД.ММ.ГГГГ; пусто — без ограничения)"
    return field


class PeriodEndDialog(Dialog[PeriodEnd | None]):
    """Two dates; Enter applies, an empty pair (or «Сбросить») clears, Esc leaves it as is."""

    def __init__(self, current: PeriodEnd) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Фильтр по дате окончания периода освобождения", classes="dialog-title")
            yield Static(
                "Показать ЭЛН, период освобождения от работы которых заканчивается в эти дни "
                "(включительно). Пустое поле — без ограничения, оба пустых — без фильтра.",
                classes="dialog-text",
            )
            with Horizontal(classes="row"):
                yield Label(FROM_TITLE)
                yield _date_input(self.current.start, "ends-from", FROM_TITLE)
            with Horizontal(classes="row"):
                yield Label(TO_TITLE)
                yield _date_input(self.current.end, "ends-to", TO_FIELD)
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Применить", id="ok", variant="primary")
                yield Button("Сбросить", id="clear")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#ends-from", Input).focus()

    def _read(self, field_id: str, title: str) -> date | None:
        field = self.query_one(f"#{field_id}", Input)
        text = field.value.strip()
        try:
            return parse_date(text)
        except ValueError:
            field.focus()
            raise ValueError(
                f"«{title}»: «{text}» не является датой — укажите её как ДД.ММ.ГГГГ."
            ) from None

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        error = self.query_one("#error", Static)
        try:
            start = self._read("ends-from", FROM_TITLE)
            end = self._read("ends-to", TO_FIELD)
        except ValueError as exc:
            error.update(str(exc))
            return
        if start is not None and end is not None and start > end:
            self.query_one("#ends-from", Input).focus()
            error.update(
                f"«{FROM_TITLE}» ({format_date(start)}) позже «{TO_FIELD}» "
                f"({format_date(end)}): начало диапазона не может быть позже конца."
            )
            return
        self.dismiss(PeriodEnd(start, end))

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self.dismiss(PeriodEnd())

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
