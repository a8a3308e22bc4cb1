"""«Журнал системы»: who changed what and when (``ElnStore.audit_trail``), newest first.

Filters: the user's login, the action, the ELN number and a date range (local dates; «по»
includes the whole day). Rows come a page at a time (keyset paging on the entry id), the next
page when the cursor nears the end, so years of audit scroll without loading them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from eln_tui.core.domain.validators import is_ln_code
from eln_tui.core.storage.repository import AuditRecord
from eln_tui.ui.formmodel import parse_date
from eln_tui.ui.screens.paged import PAGE, ListPage, ListTable, PagedListScreen

#: Russian names of the actions the core writes (the filter's choices); unknown ones show raw.
ACTIONS: dict[str, str] = {
    "create": "Создание",
    "update": "Изменение",
    "sign": "Подпись",
    "terminate": "Прекращение ЛН",
    "terminate_duplicate": "Прекращение: выдан дубликат",
    "close_continue": "Закрытие с продолжением",
    "delete": "Удаление",
    "transfer_ok": "Передан в СФР",
    "transfer_error": "Ошибка передачи в СФР",
    "fss_received": "Получен из СФР",
    "fss_refresh": "Обновлён из СФР",
    "number_reserved": "Номер ЭЛН занят",
    "number_released": "Номер ЭЛН освобождён",
    "number_released_stale": "Зависший номер ЭЛН освобождён",
    "numbers_received": "Номера получены из СФР",
    "numbers_imported": "Номера загружены из СФР",
    "numbers_returned": "Номера возвращены в СФР",
    "set_roles": "Изменение ролей",
    "set_provider": "Выбор средства подписи",
    "set_fund_certificate": "Сертификат СФР",
    "test_sign": "Проверка подписи",
}
ENTITIES: dict[str, str] = {
    "eln": "ЭЛН",
    "eln_number": "номер",
    "user": "пользователь",
    "patient": "пациент",
    "settings": "настройки",
    "workstation": "рабочее место",
    "certificate": "сертификат",
}


#: Generic actions named together with what they touched (short enough for 80 columns).
ENTITY_ACTIONS: dict[tuple[str, str], str] = {
    ("eln", "create"): "Создание ЭЛН",
    ("eln", "update"): "Изменение ЭЛН",
    ("eln", "delete"): "Удаление ЭЛН",
    ("user", "create"): "Новый пользователь",
    ("user", "update"): "Изменение пользователя",
    ("patient", "create"): "Новый пациент",
    ("patient", "update"): "Изменение пациента",
    ("settings", "update"): "Изменение настроек",
}


def action_text(record: AuditRecord) -> str:
    """«Изменение ЭЛН», «Подпись»…: the action in words, with what it touched when generic."""
    known = ENTITY_ACTIONS.get((record.entity, record.action))
    if known is not None:
        return known
    title = ACTIONS.get(record.action, record.action)
    if record.action in ("create", "update", "delete"):
        return f"{title} ({ENTITIES.get(record.entity, record.entity)})"
    return title


def details_text(details: dict[str, Any]) -> str:
    """The entry's details in one line: changed fields by name, the rest as «ключ: значение»."""
    parts = []
    for key, value in details.items():
        if key == "changes" and isinstance(value, dict):
            if value:
                parts.append("поля: " + ", ".join(value))
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value[:3]) + (" …" if len(value) > 3 else "")
            parts.append(f"{key}: {shown} ({len(value)})")
        else:
            parts.append(f"{key}: {value if not isinstance(value, dict) else json.dumps(value)}")
    return "; ".join(parts)


class AuditFilter:
    """What the filter fields say, checked (a Russian message naming the field on bad input)."""

    def __init__(
        self,
        login: str | None = None,
        action: str | None = None,
        ln_code: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> None:
        self.login = login
        self.action = action
        self.ln_code = ln_code
        self.since = since
        self.until = until

    def query(self) -> dict[str, Any]:
        """Keyword arguments of ``audit_trail`` (local dates → aware datetimes)."""
        args: dict[str, Any] = {"login": self.login, "action": self.action}
        if self.ln_code:
            args["ln_code"] = self.ln_code
        if self.since is not None:
            args["since"] = datetime.combine(self.since, time()).astimezone()
        if self.until is not None:
            args["until"] = datetime.combine(self.until + timedelta(days=1), time()).astimezone()
        return args


class FilterError(ValueError):
    def __init__(self, message: str, widget: str) -> None:
        super().__init__(message)
        self.message = message
        self.widget = widget


def read_filter(login: str, action: object, number: str, since: str, until: str) -> AuditFilter:
    number = number.strip()
    if number and not is_ln_code(number):
        raise FilterError("Поле «№ ЭЛН» должно содержать 12 цифр.", "audit-ln")
    dates: list[date | None] = []
    for text, name, widget in ((since, "С", "audit-since"), (until, "По", "audit-until")):
        try:
            dates.append(parse_date(text.strip()) if text.strip() else None)
        except ValueError:
            raise FilterError(
                f"Поле «{name}» должно содержать дату в формате ДД.ММ.ГГГГ.", widget
            ) from None
    if dates[0] is not None and dates[1] is not None and dates[0] > dates[1]:
        raise FilterError("Дата в поле «С» не может быть позже даты в поле «По».", "audit-since")
    return AuditFilter(
        login=login.strip() or None,
        action=action if isinstance(action, str) else None,
        ln_code=number or None,
        since=dates[0],
        until=dates[1],
    )


class AuditScreen(PagedListScreen[AuditRecord]):
    DEFAULT_CSS = """
    AuditScreen .audit-filters {
        height: 1;
        width: 100%;
    }
    AuditScreen .audit-filters Label {
        width: auto;
        padding: 0 1;
    }
    AuditScreen .audit-filters Input {
        width: 1fr;
    }
    AuditScreen #audit-ln {
        width: 14;
    }
    AuditScreen #audit-since, AuditScreen #audit-until {
        width: 12;
    }
    AuditScreen #audit-action {
        width: 1fr;
    }
    AuditScreen #audit-count {
        width: 1fr;
        padding: 0 1;
        color: $text-muted;
        text-align: right;
    }
    AuditScreen #audit {
        height: 1fr;
    }
    AuditScreen #audit-detail {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f3,ctrl+f",
            "filter",
            "Фильтр",
            tooltip="К полям фильтра (пользователь, действие, ЭЛН, даты)",
            id="audit.filter",
        ),
        Binding("f5", "refresh", "Обновить", tooltip="Обновить журнал", id="audit.refresh"),
        Binding(
            "escape",
            "clear_filter",
            "Сброс",
            tooltip="Сбросить фильтр",
            id="audit.clear",
        ),
    ]

    TABLE_ID = "audit"
    HEADING = "Журнал системы"

    def __init__(self) -> None:
        super().__init__()
        self.filter = AuditFilter()
        self._time_format = "%d.%m.%Y %H:%M"

    @property
    def records(self) -> list[AuditRecord]:
        """The entries shown, newest first."""
        return self.rows

    @property
    def more(self) -> bool:
        """Older entries than the last shown exist."""
        return self.next_after is not None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(classes="audit-filters"):
            yield Label("Пользователь")
            yield Input(placeholder="логин", compact=True, id="audit-login")
            yield Label("№ ЭЛН")
            yield Input(placeholder="12 цифр", max_length=12, compact=True, id="audit-ln")
        with Horizontal(classes="audit-filters"):
            yield Label("Действие")
            yield Select(
                [(title, code) for code, title in ACTIONS.items()],
                prompt="все",
                compact=True,
                id="audit-action",
            )
            yield Label("С")
            yield Input(placeholder="ДД.ММ.ГГГГ", max_length=10, compact=True, id="audit-since")
            yield Label("по")
            yield Input(placeholder="ДД.ММ.ГГГГ", max_length=10, compact=True, id="audit-until")
        yield Static("", id="audit-count")
        yield ListTable(id="audit", cursor_type="row", zebra_stripes=False)
        yield Static("", id="audit-detail")
        yield Footer(compact=True)

    # --- table ----------------------------------------------------------------------------

    def _add_columns(self, table: DataTable[Any], width: int, wide: bool) -> None:
        self._time_format = "%d.%m.%Y %H:%M" if wide else "%d.%m.%y %H:%M"
        stamp = 16 if wide else 14
        login = 16 if wide else 10
        action = 30 if wide else 20
        details = max(10, width - 1 - 2 * 5 - stamp - login - action - 12)
        table.add_column("Время", width=stamp, key="at")
        table.add_column("Логин", width=login, key="login")
        table.add_column("Действие", width=action, key="action")
        table.add_column("ЭЛН", width=12, key="ln")
        table.add_column("Подробности", width=details, key="details")

    def _add_rows(self, records: Iterable[AuditRecord]) -> None:
        table = self.table
        for record in records:
            table.add_row(
                Text(record.at.astimezone().strftime(self._time_format)),
                Text(record.login or "—"),
                Text(action_text(record)),
                Text(record.ln_code or ""),
                Text(details_text(record.details)),
                key=str(record.id),
            )

    def reload(self) -> None:
        # A new filter shows its entries from the top at once (no "unchanged page" check).
        self.rows = []
        self.next_after = None
        self.table.clear()
        super().reload()

    def _request(self, after: int | None, append: bool, token: int) -> None:
        self.fetch(self.filter, after, append, token)

    @work(thread=True, exit_on_error=False, group="list", description="Загрузка журнала системы")
    def fetch(self, flt: AuditFilter, before: int | None, append: bool, token: int) -> None:
        desk = self.desk
        with desk.db():
            records = desk.store.audit_trail(
                newest_first=True, before=before, limit=PAGE + 1, **flt.query()
            )
        records, more = records[:PAGE], len(records) > PAGE
        after = records[-1].id if more else None  # keyset: the next page is older than this
        self.post_message(ListPage(records, after, append=append, token=token))

    def _shown(self) -> None:
        shown = len(self.rows)
        self.query_one("#audit-count", Static).update(
            f"Записей: {shown}{'+' if self.more else ''}" if shown else "Записей нет"
        )

    def _detail(self) -> None:
        record = self.current_row()
        detail = self.query_one("#audit-detail", Static)
        if record is None:
            detail.update("Записей по этому фильтру нет.")
            return
        entity = ENTITIES.get(record.entity, record.entity)
        if record.ln_code:
            what = f"{entity} № {record.ln_code}"
        elif record.entity_id:
            what = f"{entity} (запись {record.entity_id})"
        else:
            what = entity
        text = details_text(record.details)
        detail.update(
            f"{record.at.astimezone():%d.%m.%Y %H:%M:%S} · {record.login or 'система'} · "
            f"{action_text(record)} · {what}" + (f"\n{text}" if text else "")
        )

    # --- filter ---------------------------------------------------------------------------

    def _apply(self) -> FilterError | None:
        self._stop_timer()
        try:
            self.filter = read_filter(
                self.query_one("#audit-login", Input).value,
                self.query_one("#audit-action", Select).value,
                self.query_one("#audit-ln", Input).value,
                self.query_one("#audit-since", Input).value,
                self.query_one("#audit-until", Input).value,
            )
        except FilterError as exc:
            self.query_one("#audit-count", Static).update(exc.message)
            return exc
        self.reload()
        return None

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._debounce(self._apply)

    @on(Select.Changed)
    def _action_changed(self) -> None:
        if self._ready:
            self._apply()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        error = self._apply()
        if error is not None:
            self.query_one(f"#{error.widget}", Input).focus()
        else:
            self.table.focus()

    def action_filter(self) -> None:
        self.query_one("#audit-login", Input).focus()

    def action_clear_filter(self) -> None:
        for widget in self.query(".audit-filters Input").results(Input):
            widget.value = ""
        self.query_one("#audit-action", Select).clear()
        self._apply()
        self.table.focus()

    def action_refresh(self) -> None:
        self.reload()  # the newest entries, from the top
