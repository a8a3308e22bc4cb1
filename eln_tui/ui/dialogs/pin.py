"""What the dialogs that ask a key's PIN share: the МО key (``mo_pin``), signing a block (``sign``)
and the test signature («Средства электронной подписи»).

Such a dialog has a password row ``#pin-row`` (label + ``#pin``), a status line ``#status``, a
button that signs and ``#cancel``. The PIN is taken out of the field as soon as it is read
(:meth:`PinDialog.take_pin`) and wrapped in :class:`providers.base.Pin` only in the worker that
uses it, which wipes it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from eln_tui.core.errors import ElnError
from eln_tui.ui.dialogs.base import Dialog
from providers.base import NO_PIN, PIN_PAD, CertificateInfo, Pin, PinMode, PinSource, Provider
from providers.errors import ProviderError, TokenNotPresent, WrongPin

ResultT = TypeVar("ResultT")

#: The token's answers after which the same PIN entry may be tried again.
RETRY_ERRORS = (WrongPin, TokenNotPresent)


@dataclass(frozen=True)
class KeyReady:
    """The certificate a dialog signs with and how its provider wants the PIN."""

    certificate: CertificateInfo
    pin_mode: PinMode


class KeyFound(Message):
    """A dialog's worker found its key (``ready``) or why it cannot be used (``error``)."""

    def __init__(self, ready: KeyReady | None, error: str | None) -> None:
        super().__init__()
        self.ready = ready
        self.error = error


def pin_source(text: str, mode: PinMode) -> PinSource:
    """The typed PIN, or how the token gets one without it (a PIN pad, or none at all)."""
    if text:
        return Pin(text)
    return PIN_PAD if mode is PinMode.PIN_PAD else NO_PIN


class PinDialog(Dialog[ResultT]):
    """A dialog with the PIN row of a key (see the module).

    A dialog that looks its key up first shows ``#certificate`` («Поиск сертификата…»), calls
    :meth:`post_key` from its worker and gets :meth:`key_ready` once the key is found; when it
    cannot be used, ``REFUSED`` stands instead of the certificate with the reason below.
    """

    #: The headline instead of the certificate when the key cannot be used.
    REFUSED: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.ready: KeyReady | None = None

    # --- finding the key ------------------------------------------------------------------

    def post_key(self, provider: Provider, find: Callable[[], CertificateInfo]) -> None:
        """In a worker: ``find()`` the certificate, ask how its PIN is given and post
        :class:`KeyFound` (a core or provider failure as its Russian text)."""
        try:
            info = find()
            mode = provider.pin_mode(info)
        except (ProviderError, ElnError) as exc:
            self.post_message(KeyFound(None, str(exc)))
            return
        self.post_message(KeyFound(KeyReady(info, mode), None))

    @on(KeyFound)
    def _key_found(self, message: KeyFound) -> None:
        if message.ready is None:
            self.query_one("#certificate", Static).update(self.REFUSED)
            self.query_one("#status", Static).update(message.error or "")
            self.query_one("#pin-row").display = False
            return
        self.ready = message.ready
        self.key_ready(message.ready)

    def key_ready(self, ready: KeyReady) -> None:
        """The key is found: show the certificate and open the way to the PIN (override)."""

    # --- the PIN --------------------------------------------------------------------------

    def pin_controls(
        self,
        label: str,
        ok: Button,
        *,
        cancel: str = "Отмена",
        status: str = "",
        disabled: bool = False,
    ) -> ComposeResult:
        """The PIN row (``label``; ``disabled`` until the key is found), the status line and
        the buttons: ``ok`` and ``#cancel``."""
        with Horizontal(classes="row", id="pin-row"):
            yield Label(label)
            yield Input(
                password=True,
                placeholder="введите PIN-код и нажмите Enter",
                compact=True,
                id="pin",
                disabled=disabled,
            )
        yield Static(status, classes="dialog-error", id="status")
        with Horizontal(classes="dialog-buttons"):
            yield ok
            yield Button(cancel, id="cancel")

    def take_pin(self, *, required: bool, missing: str = "Введите PIN-код.") -> str | None:
        """The typed PIN, cleared from the field at once; None (``missing`` said, the field
        focused) when it is ``required`` and empty."""
        pin = self.query_one("#pin", Input)
        text = pin.value
        pin.value = ""  # the PIN does not stay in the widget
        if required and not text:
            self.query_one("#status", Static).update(missing)
            pin.focus()
            return None
        return text

    def close_pin(self) -> None:
        """No more PIN entry (signed, or a locked PIN): only «Отмена»/«Закрыть» is left."""
        self.query_one("#pin-row").display = False
        self.query_one("#cancel", Button).focus()

    def pin_failed(self, error: Exception, button: Button, *, retry: bool, ask_pin: bool) -> None:
        """Say why the key did not sign. ``retry``: ``button`` works again («Повторить» when
        the token is missing) and the focus goes to the PIN (``ask_pin``) or the button."""
        self.query_one("#status", Static).update(str(error))
        if not retry:
            self.close_pin()
            return
        button.disabled = False
        if isinstance(error, TokenNotPresent):
            button.label = "Повторить"
        if ask_pin:
            pin = self.query_one("#pin", Input)
            pin.disabled = False
            pin.focus()
        else:
            button.focus()
