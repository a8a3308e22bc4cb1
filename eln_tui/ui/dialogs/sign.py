"""The key button's dialog: which certificate signs, the PIN, and the token's answer in plain words.

Everything that touches the token or the database runs in thread workers of this dialog, so the
terminal stays responsive while a token thinks. The user signs only with the certificate of his
own profile (:func:`eln_tui.core.signing.find_profile_certificate`, checked again on the open
session). A wrong PIN keeps the dialog open with the tries left; a locked PIN or a foreign
certificate closes the way to signing; a missing token can be inserted and retried.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState

from eln_tui.core import signing
from eln_tui.core.domain.model import Block, Eln
from eln_tui.core.errors import ElnError
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.pin import RETRY_ERRORS, KeyFound, KeyReady, PinDialog, pin_source
from providers.base import CertificateInfo, Pin, PinMode
from providers.errors import ProviderError


class SignDialog(PinDialog[Eln | None]):
    """Sign ``block`` of the stored ELN ``eln`` (its id and version) with the user's key."""

    REFUSED = "Подписать нельзя."

    DEFAULT_CSS = """
    SignDialog #certificate {
        width: 100%;
        margin-bottom: 1;
    }
    SignDialog #status.-ok {
        color: $text-success;
    }
    """

    class Signed(Message):
        def __init__(self, eln: Eln) -> None:
            super().__init__()
            self.eln = eln

    class Failed(Message):
        def __init__(self, error: Exception, *, retry: bool) -> None:
            super().__init__()
            self.error = error
            self.retry = retry

    def __init__(self, desk: Desk, eln: Eln, block: Block) -> None:
        super().__init__()
        self.desk = desk
        self.eln = eln
        self.block = block

    def compose(self) -> ComposeResult:
        eln = self.eln
        with Vertical(id="dialog"):
            yield Static(
                f"Подпись записи {self.block.title}: {self.block.slot.label}",
                classes="dialog-title",
            )
            yield Static(
                f"ЭЛН № {eln.ln_code or '—'}, пациент {eln.patient_fio or '—'}. "
                f"Подписывает: {self.desk.user.full_name}.",
                classes="dialog-text",
            )
            yield Static("Поиск сертификата вашего профиля…", id="certificate")
            yield from self.pin_controls(
                "PIN-код (пароль ключа)",
                Button("Подписать", id="sign", variant="primary", disabled=True),
                disabled=True,
            )

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        self.prepare()

    # --- finding the certificate (worker) -------------------------------------------------

    @work(thread=True, exclusive=True, group="sign", exit_on_error=False, description="prepare")
    def prepare(self) -> None:
        desk = self.desk
        provider = desk.provider
        if provider is None:
            self.post_message(
                KeyFound(
                    None,
                    "Средство подписи на этом рабочем месте не настроено: обратитесь к "
                    "администратору («eln crypto use»).",
                )
            )
            return

        def find() -> CertificateInfo:
            available = provider.availability()
            if not available:
                raise ProviderError(available.reason)
            info = signing.find_profile_certificate(desk.user, provider.list_certificates())
            with desk.db():
                desk.load_settings()
                current = desk.store.load(self.eln.id)  # type: ignore[arg-type]
                signing.ensure_can_sign(current, self.block, desk.user, desk.context())
            return info

        self.post_key(provider, find)

    def key_ready(self, ready: KeyReady) -> None:
        info = ready.certificate
        self.query_one("#certificate", Static).update(
            f"Сертификат: «{info.common_name}»\n"
            f"Серийный номер: {info.serial_hex}\n"
            f"Действителен до: {info.not_after:%d.%m.%Y}\n"
            f"Носитель: {info.token}"
        )
        sign = self.query_one("#sign", Button)
        sign.disabled = False
        pin = self.query_one("#pin", Input)
        if ready.pin_mode is PinMode.ASK:
            pin.disabled = False
            pin.focus()
        else:
            self.query_one("#pin-row").display = False
            if ready.pin_mode is PinMode.PIN_PAD:
                self.query_one("#status", Static).update(
                    "PIN-код вводится на считывателе после нажатия «Подписать»."
                )
            sign.focus()

    # --- signing (worker) -----------------------------------------------------------------

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#sign")
    def _sign(self) -> None:
        if self.ready is None or self.query_one("#sign", Button).disabled:
            return
        text = self.take_pin(required=self.ready.pin_mode is PinMode.ASK)
        if text is None:
            return
        self.query_one("#sign", Button).disabled = True
        self.query_one("#pin", Input).disabled = True
        self.query_one("#status", Static).update("Подписание…")
        self.sign(text)

    @work(thread=True, exclusive=True, group="sign", exit_on_error=False, description="sign")
    def sign(self, pin_text: str) -> None:
        assert self.ready is not None
        desk, provider = self.desk, self.desk.provider
        assert provider is not None
        source = pin_source(pin_text, self.ready.pin_mode)
        try:
            with desk.db(), provider.open_session(self.ready.certificate, source) as session:
                eln = signing.sign_block(
                    desk.store,
                    self.eln.id,  # type: ignore[arg-type]
                    self.block,
                    desk.user,
                    session,
                    expected_version=self.eln.version,
                    context=desk.context(),
                )
        except RETRY_ERRORS as exc:
            self.post_message(self.Failed(exc, retry=True))
        except (ProviderError, ElnError) as exc:
            self.post_message(self.Failed(exc, retry=False))
        else:
            self.post_message(self.Signed(eln))
        finally:
            if isinstance(source, Pin):
                source.wipe()

    @on(Signed)
    def _signed(self, message: Signed) -> None:
        self.dismiss(message.eln)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        ask_pin = self.ready is not None and self.ready.pin_mode is PinMode.ASK
        self.pin_failed(
            message.error, self.query_one("#sign", Button), retry=message.retry, ask_pin=ask_pin
        )

    @on(Worker.StateChanged)
    def _crashed(self, event: Worker.StateChanged) -> None:
        # An unexpected failure is reported by the app; let the user cancel or retry.
        if event.state is WorkerState.ERROR and event.worker.description == "sign":
            self.query_one("#sign", Button).disabled = False
            self.query_one("#status", Static).update("Подпись не выполнена.")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
