"""«Получить из ЕИИС Соцстрах»: an ELN issued elsewhere, by its number and the patient's SNILS.

The number and the SNILS are checked here (the core's validators, messages naming the field)
before the МО key's PIN is asked; then getLNData runs (:meth:`ExchangeService.fetch`) and the
ELN lands in «Получены из ЕИИС Соцстрах». A refusal of the Fund is shown and the dialog stays
open, so a mistyped number can be corrected and asked again.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from eln_tui.core.domain.model import Eln
from eln_tui.core.domain.validators import is_ln_code, validate_snils
from eln_tui.core.errors import ValidationError
from eln_tui.core.exchange import ExchangeService
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.dialogs.mo_pin import run_exchange

NUMBER_FIELD = "Номер ЭЛН"
SNILS_FIELD = "СНИЛС пациента"
TITLE = "Получение ЭЛН из ЕИИС «Соцстрах»"


def check_request(number: str, snils: str) -> tuple[str, str]:
    """The number and SNILS as the Fund wants them; ValidationError names the field."""
    digits = number.replace(" ", "").replace("-", "")
    if not digits:
        raise ValidationError(f"Поле «{NUMBER_FIELD}» не заполнено.", field="number")
    if not is_ln_code(digits):
        raise ValidationError(f"Поле «{NUMBER_FIELD}» должно содержать 12 цифр.", field="number")
    if not snils.strip():
        raise ValidationError(f"Поле «{SNILS_FIELD}» не заполнено.", field="snils")
    try:
        snils_digits = validate_snils(snils, SNILS_FIELD)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="snils") from exc
    return digits, snils_digits


class FetchDialog(Dialog[Eln | None]):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(TITLE, classes="dialog-title")
            yield Static(
                "ЭЛН, выданный в другой МО, запрашивается в СФР по номеру и СНИЛС пациента и "
                "попадает в представление «Получены из ЕИИС Соцстрах».",
                classes="dialog-text",
            )
            with Horizontal(classes="row"):
                yield Label(NUMBER_FIELD)
                yield Input(placeholder="12 цифр", max_length=14, compact=True, id="number")
            with Horizontal(classes="row"):
                yield Label(SNILS_FIELD)
                yield Input(placeholder="123-456-789 01", max_length=14, compact=True, id="snils")
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Получить", id="ok", variant="primary")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#number", Input).focus()

    @on(Input.Submitted, "#number")
    def _next(self) -> None:
        self.query_one("#snils", Input).focus()

    @on(Input.Submitted, "#snils")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        if self.busy:
            return
        error = self.query_one("#error", Static)
        try:
            number, snils = check_request(
                self.query_one("#number", Input).value, self.query_one("#snils", Input).value
            )
        except ValidationError as exc:
            error.update(exc.message)
            self.query_one(f"#{exc.field or 'number'}", Input).focus()
            return
        error.update("Запрос в ЕИИС «Соцстрах»…")
        self.busy = True

        def operation(service: ExchangeService) -> Eln:
            return service.fetch(number, snils)

        run_exchange(
            self,
            operation,
            title=TITLE,
            on_done=self._done,
            on_failed=self._failed,
            on_cancel=self._cancelled,
        )

    def _done(self, eln: Eln) -> None:
        self.busy = False
        self.dismiss(eln)

    def _failed(self, exc: BaseException) -> None:
        from eln_tui.ui.app import error_text

        self.busy = False
        self.query_one("#error", Static).update(error_text(exc))
        self.query_one("#number", Input).focus()

    def _cancelled(self) -> None:
        self.busy = False
        self.query_one("#error", Static).update("")

    def action_cancel(self) -> None:
        if self.busy:  # the answer would have nowhere to go
            self.query_one("#error", Static).update(
                "Дождитесь ответа ЕИИС «Соцстрах»: запрос уже отправлен."
            )
            return
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
