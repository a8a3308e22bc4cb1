"""The PIN of the МО key for an exchange with the Fund, and a runner for exchange operations.

API (two names; everything else here is private):

``MoPinDialog(desk, purpose, error=None)`` — ``Dialog[PinSource | None]``. Shows which certificate
is the МО's (``desk.provider.find_certificate(desk.mo_reference())``: common name, serial,
validity, looked up in a worker together with the integration settings, so a configuration that
can never work is said before a PIN is typed) and asks its PIN. Enter/«Продолжить» returns a
:class:`providers.base.Pin`, Esc/«Отмена» returns ``None``. A key without a PIN returns ``NO_PIN``
and a PIN-pad reader ``PIN_PAD`` without asking. ``error`` is shown above the field (the previous
attempt's wrong PIN).

``run_exchange(screen, operation, *, title, on_done, on_failed=None, on_cancel=None)`` — the usual
way a screen talks to the Fund::

    run_exchange(
        self,
        lambda service: service.request_numbers(count),     # runs in a thread worker
        title="Получение номеров ЭЛН",
        on_done=self._received,                              # UI thread, with the result
        on_failed=lambda error: ...,                          # UI thread, after the message
    )

It asks the PIN (dialog above), then runs ``operation(service)`` in a thread worker of ``screen``
inside ``desk.db()`` and ``desk.exchange(pin)``. A wrong PIN (or a token that is not inserted)
asks again with the provider's Russian message; any other failure is shown in one dialog with the
Russian text (core/provider) and then ``on_failed(error)`` runs; Esc at the PIN runs
``on_cancel()``. The PIN is wiped after the attempt and never leaves the worker. ``operation`` may
report progress to the UI with ``screen.app.call_from_thread`` or ``screen.post_message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from eln_tui.core.exchange import ExchangeService, fss_config
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.pin import RETRY_ERRORS, KeyFound, KeyReady, PinDialog
from providers.base import NO_PIN, PIN_PAD, CertificateInfo, Pin, PinMode, PinSource

T = TypeVar("T")

NO_MO_KEY = (
    "Не выбран сертификат МО для обмена с СФР: укажите mo_certificate в разделе [fss] "
    "файла настройки рабочего места («eln crypto certs» перечисляет сертификаты)."
)
NO_PROVIDER = (
    "Средство электронной подписи рабочего места не выбрано: обратитесь к администратору "
    "(«eln crypto use …»)."
)


class MoPinDialog(PinDialog[PinSource | None]):
    """Ask the PIN of the МО key before ``purpose`` (e.g. «Получение номеров ЭЛН»)."""

    REFUSED = "Обмен с СФР невозможен."

    DEFAULT_CSS = """
    MoPinDialog #certificate {
        width: 100%;
        margin-bottom: 1;
    }
    """

    def __init__(self, desk: Desk, purpose: str, error: str | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.purpose = purpose
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"{self.purpose}: ключ МО", classes="dialog-title")
            yield Static(
                "Обмен с ЕИИС «Соцстрах» подписывается ключом медицинской организации.",
                classes="dialog-text",
            )
            yield Static("Поиск сертификата МО…", id="certificate")
            yield from self.pin_controls(
                "PIN-код ключа МО",
                Button("Продолжить", id="ok", variant="primary", disabled=True),
                status=self.error or "",
                disabled=True,
            )

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        self.look_up()

    @work(thread=True, exclusive=True, group="mo_pin", exit_on_error=False, description="mo_pin")
    def look_up(self) -> None:
        desk = self.desk
        provider, reference = desk.provider, desk.mo_reference()
        if provider is None:
            self.post_message(KeyFound(None, NO_PROVIDER))
            return
        if reference is None:
            self.post_message(KeyFound(None, NO_MO_KEY))
            return

        def find() -> CertificateInfo:
            with desk.db():
                settings, organisations = desk.store.load_settings()
            fss_config(settings, organisations, desk.fss)  # refuse a hopeless setup before the PIN
            return provider.find_certificate(reference)

        self.post_key(provider, find)

    def key_ready(self, ready: KeyReady) -> None:
        if ready.pin_mode in (PinMode.NONE, PinMode.ELSEWHERE):
            self.dismiss(NO_PIN)
            return
        if ready.pin_mode is PinMode.PIN_PAD:
            self.dismiss(PIN_PAD)
            return
        info = ready.certificate
        self.query_one("#certificate", Static).update(
            f"Сертификат МО: «{info.common_name}»\n"
            f"Серийный номер: {info.serial_hex}\n"
            f"Действителен: {info.not_before:%d.%m.%Y} – {info.not_after:%d.%m.%Y}\n"
            f"Носитель: {info.token}"
        )
        self.query_one("#ok", Button).disabled = False
        pin = self.query_one("#pin", Input)
        pin.disabled = False
        pin.focus()

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        if self.ready is None:
            return
        text = self.take_pin(required=True, missing="Введите PIN-код ключа МО.")
        if text is not None:
            self.dismiss(Pin(text))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


def run_exchange(
    screen: Screen[Any],
    operation: Callable[[ExchangeService], T],
    *,
    title: str,
    on_done: Callable[[T], None],
    on_failed: Callable[[BaseException], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
) -> None:
    """Ask the МО PIN, run ``operation`` with the opened exchange in a worker (see the module)."""
    _ExchangeRun(screen, operation, title, on_done, on_failed, on_cancel).ask(None)


class _ExchangeRun:
    def __init__(
        self,
        screen: Screen[Any],
        operation: Callable[[ExchangeService], Any],
        title: str,
        on_done: Callable[[Any], None],
        on_failed: Callable[[BaseException], None] | None,
        on_cancel: Callable[[], None] | None,
    ) -> None:
        desk = getattr(screen.app, "desk", None)
        assert isinstance(desk, Desk), "exchange screens exist only for users with a profile"
        self.screen = screen
        self.desk = desk
        self.operation = operation
        self.title = title
        self.on_done = on_done
        self.on_failed = on_failed
        self.on_cancel = on_cancel

    def ask(self, error: str | None) -> None:
        self.screen.app.push_screen(MoPinDialog(self.desk, self.title, error), self._answered)

    def _answered(self, pin: PinSource | None) -> None:
        if pin is None:
            if self.on_cancel is not None:
                self.on_cancel()
            return
        if pin is PIN_PAD:
            self.screen.notify("Введите PIN-код ключа МО на считывателе.", timeout=10)
        self.screen.run_worker(
            lambda: self._work(pin),
            thread=True,
            exit_on_error=False,
            group="mo_exchange",
            description=self.title,
        )

    def _work(self, pin: PinSource) -> None:
        app = self.screen.app
        try:
            with self.desk.db(), self.desk.exchange(pin) as service:
                result = self.operation(service)
        except RETRY_ERRORS as exc:
            app.call_from_thread(self.ask, exc.message)
            return
        except Exception as exc:  # every failure gets its Russian sentence, not a traceback
            app.call_from_thread(self._failed, exc)
            return
        finally:
            if isinstance(pin, Pin):
                pin.wipe()
        app.call_from_thread(self.on_done, result)

    def _failed(self, error: BaseException) -> None:
        from eln_tui.ui.app import error_text

        def after(_: object) -> None:
            if self.on_failed is not None:
                self.on_failed(error)

        self.screen.app.push_screen(MessageDialog(self.title, error_text(error)), after)
