"""«Передать в ЕИИС Соцстрах»: the daily registry — preview, send, result per ELN.

The preview needs no key: :func:`eln_tui.core.exchange.service.preview` says exactly which
period (or closing block) of which ELN goes for the chosen date and which ELNs are blocked and
why (the core's Russian reasons: unsigned blocks, ФЛК, late without VK, an unconfirmed earlier
send). Sending asks the МО key PIN (:func:`eln_tui.ui.dialogs.mo_pin.run_exchange`) and runs
``ExchangeService.send`` in a worker; its per-message progress is posted to the UI thread. Then
the table lists each ELN's outcome: accepted, rejected with the Fund's text (the core moves it to
«Ошибки передачи»), or sent without a verified reply (reconciled before the next send).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Static

from eln_tui.core.exchange import MessageProgress, Planned, Preview, SendReport
from eln_tui.core.exchange.service import preview as registry_preview
from eln_tui.ui.dialogs.mo_pin import run_exchange
from eln_tui.ui.formmodel import format_date, parse_date
from eln_tui.ui.screens.base import DeskScreen
from eln_tui.ui.screens.numbers import holder_text

UNRESOLVED_PREFIX = "Предыдущая отправка ЭЛН не подтверждена"
ACCEPTED = "принят СФР"
UNKNOWN = "ответ СФР не получен: ЭЛН будет сверен с СФР перед следующей передачей"


def block_text(path: str) -> str:
    """A block path of the registry in words («treat_periods[1]» → «период № 2»)."""
    if path.startswith("treat_periods["):
        return f"период № {int(path[len('treat_periods[') : -1]) + 1}"
    return {
        "ln_result": "закрытие (приступить к работе / иное)",
        "hospital_breach": "нарушение режима",
    }.get(path, path)


def blocks_text(paths: Sequence[str]) -> str:
    return ", ".join(block_text(p) for p in paths)


@dataclass(frozen=True)
class PlanRow:
    """One line of the table: what happens (or happened) to one ELN."""

    key: str
    ln_code: str | None
    patient: str
    what: str  # short text of the table cell
    detail: str  # the full text under the table
    style: str = ""


class PreviewLoaded(Message):
    def __init__(self, preview: Preview, patients: dict[int, str], token: int) -> None:
        super().__init__()
        self.preview = preview
        self.patients = patients
        self.token = token


class SendProgress(Message):
    def __init__(self, progress: MessageProgress) -> None:
        super().__init__()
        self.progress = progress


class RegistrySendScreen(DeskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f2",
            "send",
            "Передать",
            tooltip="Передать реестр за выбранную дату (ключ МО)",
            id="registry_send.send",
        ),
        Binding(
            "f3",
            "pick_day",
            "Дата",
            tooltip="Выбрать дату реестра",
            id="registry_send.day",
        ),
        Binding(
            "f5",
            "refresh",
            "Обновить",
            tooltip="Заново показать, что будет передано",
            id="registry_send.refresh",
        ),
        Binding(
            "escape",
            "back_to_list",
            "К списку",
            show=False,
            tooltip="Из поля даты — к списку",
            id="registry_send.back",
        ),
    ]

    DEFAULT_CSS = """
    RegistrySendScreen #day-bar {
        height: 1;
        width: 100%;
    }
    RegistrySendScreen #day-label {
        width: auto;
        padding: 0 1;
    }
    RegistrySendScreen #day {
        width: 12;
    }
    RegistrySendScreen #day-hint {
        width: 1fr;
        padding: 0 1;
        color: $text-muted;
    }
    RegistrySendScreen #summary {
        height: auto;
        max-height: 2;
        padding: 0 1;
        text-style: bold;
    }
    RegistrySendScreen #plan {
        height: 1fr;
    }
    RegistrySendScreen #progress-row {
        height: 1;
        width: 100%;
        padding: 0 1;
        display: none;
    }
    RegistrySendScreen #progress-row.-busy {
        display: block;
    }
    RegistrySendScreen #progress-row ProgressBar {
        width: 30;
    }
    RegistrySendScreen #progress-text {
        width: 1fr;
    }
    RegistrySendScreen #detail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $boost;
    }
    """

    def __init__(self, day: date | None = None) -> None:
        super().__init__()
        self.initial_day = day
        self.day: date | None = None
        self.preview: Preview | None = None
        self.report: SendReport | None = None
        self.patients: dict[int, str] = {}
        self.rows: list[PlanRow] = []
        self.busy = False
        self._opened = False
        self._sending: Preview | None = None  # the preview a running send started from
        self._token = 0
        self._wide: bool | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(id="day-bar"):
            yield Label("Дата реестра:", id="day-label")
            yield Input(compact=True, id="day", max_length=10, placeholder="ДД.ММ.ГГГГ")
            yield Static("Enter — показать, F2 — передать", id="day-hint")
        yield Static("", id="summary")
        yield DataTable(id="plan", cursor_type="row", zebra_stripes=False)
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=1, show_eta=False, id="progress")
            yield Static("", id="progress-text")
        yield Static("", id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Передать в ЕИИС Соцстрах"
        self.sub_title = self.desk.user.full_name
        self.day = self.initial_day or self.desk.today()
        self.query_one("#day", Input).value = format_date(self.day)
        self._columns()
        self.load_preview()
        self.query_one("#plan", DataTable).focus()

    # --- table ----------------------------------------------------------------------------

    def _columns(self) -> None:
        width = self.app.size.width
        wide = width >= 110
        if wide == self._wide:
            return
        self._wide = wide
        table = self.query_one("#plan", DataTable)
        table.clear(columns=True)
        patient = 30 if wide else 16
        table.add_column("Номер ЛН", width=12, key="number")
        table.add_column("Пациент", width=patient, key="patient")
        table.add_column("Что передаётся / результат", width=max(20, width - 12 - patient - 8))
        self._show(self.rows)

    def on_resize(self, event: Resize) -> None:
        if self.is_mounted:
            self._columns()

    def _show(self, rows: list[PlanRow]) -> None:
        self.rows = rows
        table = self.query_one("#plan", DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                row.ln_code or "без номера",
                row.patient,
                Text(row.what, style=row.style),
                key=row.key,
            )
        self._detail()

    @on(DataTable.RowHighlighted, "#plan")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        table = self.query_one("#plan", DataTable)
        row = table.cursor_row
        detail = self.query_one("#detail", Static)
        if not self.rows or row is None or row >= len(self.rows):
            detail.update("")
            return
        chosen = self.rows[row]
        detail.update(f"№ {chosen.ln_code or '—'}, {chosen.patient}: {chosen.detail}")

    def on_screen_resume(self) -> None:
        # Back at this desk (or a dialog closed): ELNs may have been signed meanwhile. A shown
        # send result stays until F5; the first resume is the opening itself.
        if self._opened and not self.busy and self.report is None and self.day is not None:
            self.load_preview()
        self._opened = True

    # --- the date and the preview -----------------------------------------------------------

    def action_pick_day(self) -> None:
        self.query_one("#day", Input).focus()

    def action_back_to_list(self) -> None:
        field = self.query_one("#day", Input)
        if self.focused is field and self.day is not None:
            field.value = format_date(self.day)  # the date shown stays the one previewed
        self.query_one("#plan", DataTable).focus()

    @on(Input.Submitted, "#day")
    def _day_submitted(self) -> None:
        if self.busy:
            return
        field = self.query_one("#day", Input)
        try:
            day = parse_date(field.value)
        except ValueError:
            day = None
        if day is None:
            self.query_one("#summary", Static).update(
                "Поле «Дата реестра» должно содержать дату в формате ДД.ММ.ГГГГ, "
                "например 20.03.2024."
            )
            field.focus()
            return
        self.day = day
        field.value = format_date(day)
        self.load_preview()
        self.query_one("#plan", DataTable).focus()

    def action_refresh(self) -> None:
        if not self.busy:
            self.load_preview()

    def load_preview(self) -> None:
        assert self.day is not None
        self._token += 1
        self.report = None
        self.query_one("#summary", Static).update(f"Подготовка реестра за {format_date(self.day)}…")
        self.fetch_preview(self.day, self._token)

    @work(thread=True, exit_on_error=False, group="preview", description="Подготовка реестра")
    def fetch_preview(self, day: date, token: int) -> None:
        with self.desk.db():
            result = registry_preview(self.desk.store, day)
            ids = [p.eln_id for p in result.ready] + [b.eln_id for b in result.blocked]
            patients = self._patients(ids)
        self.post_message(PreviewLoaded(result, patients, token))

    def _patients(self, ids: Sequence[int]) -> dict[int, str]:
        names = self.desk.store.patient_names(ids)
        return {eln_id: holder_text(*name) for eln_id, name in names.items()}

    @on(PreviewLoaded)
    def _preview_loaded(self, message: PreviewLoaded) -> None:
        if message.token != self._token:
            return
        preview = self.preview = message.preview
        self.patients.update(message.patients)
        rows = [
            PlanRow(
                key=f"ready-{p.eln_id}",
                ln_code=p.ln_code,
                patient=message.patients.get(p.eln_id, ""),
                what=f"передаётся: {blocks_text(p.blocks)}",
                detail=f"будет передан: {blocks_text(p.blocks)}.",
            )
            for p in preview.ready
        ]
        rows += [
            PlanRow(
                key=f"blocked-{b.eln_id}",
                ln_code=b.ln_code,
                patient=message.patients.get(b.eln_id, ""),
                what="НЕ передаётся: " + " ".join(b.reasons),
                detail="не может быть передан:\n" + "\n".join(f"– {r}" for r in b.reasons),
                style="bold",
            )
            for b in preview.blocked
        ]
        self._show(rows)
        day = format_date(preview.day)
        if not rows:
            summary = f"За {day} передавать нечего: нет периодов, готовых к передаче."
        else:
            summary = (
                f"Реестр за {day}: к передаче {len(preview.ready)} ЭЛН "
                f"(сообщений: {preview.messages}); не могут быть переданы: {len(preview.blocked)}."
            )
        if preview.later:
            # a period goes in the registry of its end date (seed 000): say when the next is due
            summary += (
                f" Позже: {len(preview.later)} ЭЛН, ближайшая дата окончания периода — "
                f"{format_date(preview.later[0])} (F3 — другая дата)."
            )
        self.query_one("#summary", Static).update(summary)

    # --- sending ------------------------------------------------------------------------------

    def _unresolved(self) -> bool:
        assert self.preview is not None
        return any(r.startswith(UNRESOLVED_PREFIX) for b in self.preview.blocked for r in b.reasons)

    def action_send(self) -> None:
        if self.busy:
            self.notify("Передача уже выполняется.", severity="warning")
            return
        preview, day = self.preview, self.day
        if preview is None or day is None or preview.day != day:
            self.notify("Дождитесь подготовки реестра.", severity="warning")
            return
        if not preview.ready and not self._unresolved():
            self.query_one("#summary", Static).update(
                f"За {format_date(day)} передавать нечего: нет периодов, готовых к передаче."
            )
            return
        self._busy(True, preview.messages)

        def progress(step: MessageProgress) -> None:  # runs in the worker thread
            self.post_message(SendProgress(step))

        self._sending = preview
        run_exchange(
            self,
            lambda service: service.send(day, progress=progress),
            title="Передача реестра в ЕИИС «Соцстрах»",
            on_done=self.sent,
            on_failed=self.send_failed,
            on_cancel=lambda: self._busy(False),
        )

    def _busy(self, busy: bool, messages: int = 0) -> None:
        self.busy = busy
        self.query_one("#progress-row").set_class(busy, "-busy")
        if busy:
            bar = self.query_one("#progress", ProgressBar)
            bar.update(total=max(messages, 1), progress=0)
            self.query_one("#progress-text", Static).update("Открытие ключа МО…")

    @on(SendProgress)
    def _progress(self, message: SendProgress) -> None:
        step = message.progress
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=step.total)
        words = {
            "sending": "отправка…",
            "sent": "ответ СФР получен",
            "error": "отклонено СФР",
            "unknown": "ответ не получен",
        }
        if step.status != "sending":
            bar.advance(1)
        self.query_one("#progress-text", Static).update(
            f"Сообщение {step.index} из {step.total} ({step.rows} ЭЛН): "
            f"{words.get(step.status, step.status)}"
        )

    def sent(self, report: SendReport) -> None:
        self.busy = False
        self.query_one("#progress-row").set_class(False, "-busy")
        self.report = report
        self.preview = None  # stale now: F5 prepares the next one
        by_code = {p.ln_code: p for p in self._planned()}
        rows: list[PlanRow] = []

        def add(code: str, what: str, detail: str, style: str = "") -> None:
            planned = by_code.get(code)
            patient = self.patients.get(planned.eln_id, "") if planned else ""
            rows.append(PlanRow(f"result-{len(rows)}", code, patient, what, detail, style))

        for code in report.accepted:
            planned = by_code.get(code)
            blocks = f" ({blocks_text(planned.blocks)})" if planned else ""
            add(code, ACCEPTED, f"принят ЕИИС «Соцстрах»{blocks}; ЭЛН в представлении «Переданы».")
        for code, text in report.rejected.items():
            add(
                code,
                f"ОТКЛОНЁН: {text}",
                f"отклонён ЕИИС «Соцстрах»: {text}\nЭЛН в представлении «Ошибки передачи».",
                "bold",
            )
        for code in report.unknown:
            add(code, "НЕТ ОТВЕТА: " + UNKNOWN, UNKNOWN + ".", "bold")
        for code in report.reconciled_accepted:
            add(code, "сверен: принят СФР ранее", "сверен с СФР: предыдущая отправка принята.")
        for code in report.reconciled_abandoned:
            add(
                code,
                "сверен: СФР не получил, будет передан снова",
                "сверен с СФР: предыдущая отправка не дошла, ЭЛН будет передан повторно.",
            )
        for b in report.blocked:
            rows.append(
                PlanRow(
                    f"result-{len(rows)}",
                    b.ln_code,
                    self.patients.get(b.eln_id, ""),
                    "не передавался: " + " ".join(b.reasons),
                    "не передавался:\n" + "\n".join(f"– {r}" for r in b.reasons),
                )
            )
        self._show(rows)
        day = format_date(report.day)
        parts = [f"принято {len(report.accepted)}"]
        if report.rejected:
            parts.append(f"отклонено {len(report.rejected)} (см. «Ошибки передачи»)")
        if report.unknown:
            parts.append(f"без ответа {len(report.unknown)}")
        if report.blocked:
            parts.append(f"не передавались {len(report.blocked)}")
        self.query_one("#summary", Static).update(
            f"Реестр за {day} передан: {', '.join(parts)}. F5 — следующий просмотр."
        )

    def _planned(self) -> list[Planned]:
        return list(self._sending.ready) if self._sending is not None else []

    def send_failed(self, *_: object) -> None:
        self.busy = False
        self.query_one("#progress-row").set_class(False, "-busy")
        self.query_one("#summary", Static).update(
            "Реестр не передан: ни один ЭЛН не отмечен как переданный. F5 — обновить просмотр."
        )
