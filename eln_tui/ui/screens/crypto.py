"""«Средства электронной подписи»: what is installed, why the rest does not work here, the
certificates each usable provider sees, the workstation's choice, and a test signature.

The same survey and test signature as ``eln crypto providers`` / ``eln crypto test-sign``
(:mod:`providers.inventory`); the choice is written like ``eln crypto use`` into the system
workstation file (:func:`providers.config.set_provider`), which only root may change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import DescendantFocus
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Header, Input, Static

from eln_tui.core.workstation import choose_provider
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.pin import PinDialog, pin_source
from eln_tui.ui.screens.base import DeskScreen
from providers.base import CertificateInfo, Pin, PinMode, Provider
from providers.config import load_config
from providers.errors import (
    BadConfiguration,
    PinLocked,
    ProviderError,
    TokenNotPresent,
)
from providers.inventory import ProviderStatus, SignCheck, sign_check, survey
from providers.registry import provider_class


def certificate_owner_ids(info: CertificateInfo) -> str:
    """ОГРН of an organisation's certificate, СНИЛС of a person's (both when both)."""
    subject = info.certificate.subject
    parts = []
    if subject.ogrn:
        parts.append(f"ОГРН {subject.ogrn}")
    if subject.snils:
        parts.append(f"СНИЛС {subject.snils}")
    return ", ".join(parts) or "—"


class Surveyed(Message):
    def __init__(self, rows: list[ProviderStatus], note: str | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.note = note


class CertsListed(Message):
    def __init__(self, name: str, certs: list[CertificateInfo], error: str | None) -> None:
        super().__init__()
        self.name = name
        self.certs = certs
        self.error = error


class Used(Message):
    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note


class SignCheckDialog(PinDialog[SignCheck | None]):
    """Sign a test digest with one certificate (PIN as its provider wants it) and verify it."""

    class Done(Message):
        def __init__(self, result: SignCheck | None, error: ProviderError | None) -> None:
            super().__init__()
            self.result = result
            self.error = error

    def __init__(self, desk: Desk, provider: Provider, info: CertificateInfo) -> None:
        super().__init__()
        self.desk = desk
        self.provider = provider
        self.info = info
        self.mode = PinMode.ASK
        self.result: SignCheck | None = None

    def compose(self) -> ComposeResult:
        info = self.info
        with Vertical(id="dialog"):
            yield Static("Проверка подписи", classes="dialog-title")
            yield Static(
                f"Сертификат: «{info.common_name}»\n"
                f"Серийный номер: {info.serial_hex}\n"
                f"Действителен: {info.not_before:%d.%m.%Y}–{info.not_after:%d.%m.%Y}\n"
                f"Носитель: {info.provider}: {info.token}",
                classes="dialog-text",
                id="test-cert",
            )
            yield from self.pin_controls(
                "PIN-код (пароль ключа)",
                Button("Подписать", id="sign", variant="primary"),
                cancel="Закрыть",
            )

    def on_mount(self) -> None:
        self.mode = self.provider.pin_mode(self.info)
        if self.mode is PinMode.ASK:
            self.query_one("#pin", Input).focus()
            return
        self.query_one("#pin-row").display = False
        if self.mode is PinMode.PIN_PAD:
            self.query_one("#status", Static).update(
                "PIN-код вводится на считывателе после нажатия «Подписать»."
            )
        elif self.mode is PinMode.ELSEWHERE:
            self.query_one("#status", Static).update(
                "PIN-код запросит агент подписи на тонком клиенте."
            )
        self.query_one("#sign", Button).focus()

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#sign")
    def _sign(self) -> None:
        button = self.query_one("#sign", Button)
        if button.disabled:
            return
        text = self.take_pin(required=self.mode is PinMode.ASK)
        if text is None:
            return
        button.disabled = True
        self.query_one("#status", Static).update("Подписание…")
        self.sign(text)

    @work(thread=True, exclusive=True, exit_on_error=False, description="Проверка подписи")
    def sign(self, pin_text: str) -> None:
        source = pin_source(pin_text, self.mode)
        try:
            result = sign_check(self.provider, self.info, source)
        except ProviderError as exc:
            self.post_message(self.Done(None, exc))
            return
        finally:
            if isinstance(source, Pin):
                source.wipe()
        desk = self.desk
        with desk.db():
            desk.store.record_action(
                desk.user.signer,
                "test_sign",
                "certificate",
                self.info.serial_hex,
                details={
                    "provider": self.info.provider,
                    "subject": self.info.subject,
                    "verified": result.verified,
                },
            )
        self.post_message(self.Done(result, None))

    @on(Done)
    def _done(self, message: Done) -> None:
        status = self.query_one("#status", Static)
        button = self.query_one("#sign", Button)
        if message.error is not None:
            error = message.error
            self.pin_failed(
                error,
                button,
                retry=not isinstance(error, PinLocked),
                ask_pin=self.mode is PinMode.ASK and not isinstance(error, TokenNotPresent),
            )
            return
        result = message.result
        assert result is not None
        self.result = result
        lines = [
            f"Хэш ({self.info.algorithm}): {result.digest.hex()[:32]}…",
            f"Подпись: {result.signature.hex()[:32]}…",
        ]
        if result.verified:
            lines.append("Подпись проверена gostsign: верна.")
        else:
            lines.append("Подпись НЕ проверяется сертификатом.")
        if not result.valid_now:
            lines.append("Внимание: сертификат сейчас недействителен (срок действия).")
        status.update("\n".join(lines))
        status.set_class(result.verified, "-ok")
        self.close_pin()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(self.result)


class CryptoScreen(DeskScreen):
    """Providers (top), the certificates of the highlighted one (below), details at the bottom."""

    DEFAULT_CSS = """
    CryptoScreen #providers {
        height: auto;
        max-height: 8;
    }
    CryptoScreen #certs {
        height: 1fr;
    }
    CryptoScreen .subtitle {
        text-style: bold;
        padding-left: 1;
    }
    CryptoScreen #crypto-detail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f2",
            "use",
            "Выбрать",
            tooltip="Выбрать средство подписи для рабочего места",
            id="crypto.use",
        ),
        Binding(
            "f4",
            "test_sign",
            "Проверить подпись",
            tooltip="Подписать тестовый хэш выбранным сертификатом и проверить",
            id="crypto.test_sign",
        ),
        Binding("f5", "refresh", "Обновить", tooltip="Обновить списки", id="crypto.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ProviderStatus] = []
        self.certs: list[CertificateInfo] = []
        self.certs_of: str | None = None
        self._instances: dict[str, Provider] = {}

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        yield Static("Средства подписи (* — выбрано для рабочего места)", classes="subtitle")
        yield DataTable(id="providers", cursor_type="row", zebra_stripes=False)
        yield Static("Сертификаты", classes="subtitle", id="certs-title")
        yield DataTable(id="certs", cursor_type="row", zebra_stripes=False)
        yield Static("", id="crypto-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Средства электронной подписи"
        self.sub_title = self.desk.user.full_name
        width = self.app.size.width
        wide = width >= 110
        # every column adds 2 cells of padding; 2 more for the vertical scrollbar
        providers = self.query_one("#providers", DataTable)
        title = 34 if wide else 24
        providers.add_column("", width=1, key="mark")
        providers.add_column("Имя", width=9, key="name")
        providers.add_column("Средство", width=title, key="title")
        providers.add_column("Состояние", width=max(20, width - 10 - title - 10), key="state")
        certs = self.query_one("#certs", DataTable)
        serial, owner = (32, 30) if wide else (16, 23)
        certs.add_column("Серийный номер", width=serial, key="serial")
        certs.add_column("Владелец", width=owner, key="owner")
        certs.add_column("Действует до", width=12, key="until")
        certs.add_column("ОГРН / СНИЛС", width=max(14, width - serial - owner - 12 - 10), key="ids")
        providers.focus()
        self.refresh_survey()

    def on_unmount(self) -> None:
        for provider in self._instances.values():
            if provider is not self.desk.provider:
                try:
                    provider.close()
                except ProviderError:
                    pass  # closing a provider that failed to open

    # --- providers --------------------------------------------------------------------------

    def _settings_for(self, name: str, files: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        current = self.desk.provider
        if current is not None and current.name == name:
            return dict(current.settings)  # the instance this session signs with
        return dict(files.get(name, {}))

    def _files(self) -> tuple[dict[str, dict[str, Any]], str | None]:
        try:
            cfg = load_config()
        except BadConfiguration:
            return {}, None
        return cfg.providers, cfg.provider

    def _chosen(self, from_file: str | None) -> str | None:
        return self.desk.provider.name if self.desk.provider is not None else from_file

    def action_refresh(self) -> None:
        self.refresh_survey()

    @work(thread=True, exclusive=True, group="survey", exit_on_error=False, description="Обзор")
    def refresh_survey(self, note: str | None = None) -> None:
        files, chosen = self._files()
        rows = survey(lambda name: self._settings_for(name, files), self._chosen(chosen))
        self.post_message(Surveyed(rows, note))

    @on(Surveyed)
    def _surveyed(self, message: Surveyed) -> None:
        message.stop()
        table = self.query_one("#providers", DataTable)
        keep = table.cursor_row if self.rows else None
        self.rows = message.rows
        table.clear()
        for row in self.rows:
            style = "" if row.available else "dim"
            table.add_row(
                Text("*" if row.selected else ""),
                Text(row.name, style=style),
                Text(row.title or "—", style=style),
                Text(row.state, style=style),
                key=row.name,
            )
        if keep is None:
            selected = [i for i, r in enumerate(self.rows) if r.selected]
            keep = selected[0] if selected else 0
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        if message.note:
            self.notify(message.note, timeout=6)
        self._provider_detail()
        self._list_certs()

    def _current_provider(self) -> ProviderStatus | None:
        table = self.query_one("#providers", DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _provider_detail(self) -> None:
        row = self._current_provider()
        detail = self.query_one("#crypto-detail", Static)
        if row is None:
            detail.update("Средства подписи не найдены.")
            return
        chosen = " Выбрано для этого рабочего места." if row.selected else ""
        if row.available:
            detail.update(f"«{row.title}» ({row.name}, {row.origin}): работает.{chosen}")
        else:
            detail.update(
                f"«{row.title or row.name}» ({row.name}, {row.origin}) не работает: "
                f"{row.reason}{chosen}"
            )

    @on(DataTable.RowHighlighted, "#providers")
    def _provider_highlighted(self) -> None:
        self._provider_detail()
        self._list_certs()

    @on(DataTable.RowSelected, "#providers")
    def _provider_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.query_one("#certs", DataTable).focus()

    def _list_certs(self) -> None:
        row = self._current_provider()
        if row is None or row.name == self.certs_of:
            return
        self.certs_of = row.name
        self.query_one("#certs", DataTable).clear()
        self.certs = []
        title = self.query_one("#certs-title", Static)
        if not row.available:
            title.update(f"Сертификаты ({row.name}): средство подписи не работает")
            return
        title.update(f"Сертификаты ({row.name}): поиск…")
        self.list_certs(row.name)

    def _instance(self, name: str) -> Provider:
        current = self.desk.provider
        if current is not None and current.name == name:
            return current
        if name not in self._instances:
            files, _ = self._files()
            self._instances[name] = provider_class(name)(self._settings_for(name, files))
        return self._instances[name]

    @work(thread=True, exclusive=True, group="certs", exit_on_error=False, description="Список")
    def list_certs(self, name: str) -> None:
        try:
            certs = self._instance(name).list_certificates()
        except ProviderError as exc:
            self.post_message(CertsListed(name, [], exc.message))
            return
        self.post_message(CertsListed(name, certs, None))

    @on(CertsListed)
    def _certs_listed(self, message: CertsListed) -> None:
        message.stop()
        if message.name != self.certs_of:
            return
        title = self.query_one("#certs-title", Static)
        table = self.query_one("#certs", DataTable)
        table.clear()
        self.certs = message.certs
        if message.error:
            title.update(f"Сертификаты ({message.name}): {message.error}")
            return
        title.update(
            f"Сертификаты ({message.name}): {len(self.certs)}"
            + ("" if self.certs else " — ни одного сертификата не найдено")
        )
        now = datetime.now(UTC)
        for i, info in enumerate(self.certs):
            expired = info.not_after < now
            until = f"{info.not_after:%d.%m.%Y}" + (" истёк" if expired else "")
            style = "dim" if expired else ""
            table.add_row(
                Text(info.serial_hex, style=style),
                Text(info.common_name, style=style),
                Text(until, style=style),
                Text(certificate_owner_ids(info), style=style),
                key=str(i),
            )

    def _current_cert(self) -> CertificateInfo | None:
        table = self.query_one("#certs", DataTable)
        if not self.certs or table.cursor_row is None or table.cursor_row >= len(self.certs):
            return None
        return self.certs[table.cursor_row]

    @on(DataTable.RowHighlighted, "#certs")
    def _cert_highlighted(self) -> None:
        if self.focused is self.query_one("#certs", DataTable):
            self._cert_detail()

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if event.widget.id == "certs":
            self._cert_detail()
        elif event.widget.id == "providers":
            self._provider_detail()

    def _cert_detail(self) -> None:
        info = self._current_cert()
        if info is None:
            return
        subject = info.certificate.subject
        who = info.common_name
        if subject.title:
            who += f", {subject.title}"
        if subject.organization and subject.organization != info.common_name:
            who += f" ({subject.organization})"
        mo_ref = self.desk.mo_reference()
        if mo_ref and info.matches(mo_ref):
            who = "[ключ МО для обмена с СФР] " + who
        self.query_one("#crypto-detail", Static).update(
            f"{who}; {certificate_owner_ids(info)}\n"
            f"Серийный номер {info.serial_hex}, действителен "
            f"{info.not_before:%d.%m.%Y}–{info.not_after:%d.%m.%Y}, {info.algorithm}\n"
            f"Носитель: {info.token}. Enter, F4 — проверить подпись."
        )

    @on(DataTable.RowSelected, "#certs")
    def _cert_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_test_sign()

    # --- actions ----------------------------------------------------------------------------

    def action_test_sign(self) -> None:
        info = self._current_cert()
        if info is None or self.certs_of is None:
            self.notify("Выберите сертификат в списке.", severity="warning")
            return
        self.app.push_screen(SignCheckDialog(self.desk, self._instance(self.certs_of), info))

    def action_use(self) -> None:
        row = self._current_provider()
        if row is None:
            return
        if not row.available:
            self.notify(
                f"Средство подписи «{row.name}» здесь не работает: {row.reason}",
                severity="error",
                timeout=8,
            )
            return
        self.use(row.name)

    @work(thread=True, exclusive=True, group="use", exit_on_error=False, description="Выбор")
    def use(self, name: str) -> None:
        files, _ = self._files()
        settings = self._settings_for(name, files)
        provider = provider_class(name)(settings)
        try:
            provider.check_configuration()
            with self.desk.db():
                path = choose_provider(
                    self.desk.store, self.desk.user.signer, name, provider.settings
                )
        except BaseException:
            provider.close()
            raise
        old = self.desk.provider
        if old is not None and old.name == name:
            provider.close()  # the same provider: keep the open instance
        else:
            self.desk.provider = provider
            self._instances.pop(name, None)
            if old is not None:
                self._instances[old.name] = old
        self.post_message(Used(f"Средство подписи «{name}» выбрано для рабочего места: {path}."))

    @on(Used)
    def _used(self, message: Used) -> None:
        message.stop()
        self.certs_of = None
        self.refresh_survey(message.note)
