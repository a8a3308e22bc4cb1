"""The ELN editor: the form, the live ФЛК panel and the doctor's actions on F-keys.

Everything the core decides (may a period be added, may this user sign, what ФЛК says) is asked
of the core; the screen only collects the form, calls the core and shows its Russian answers.
Storage and signing run in thread workers; their results come back as :class:`ElnLoaded`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Footer, Header, Input, Static

from eln_tui.core import printing, signing
from eln_tui.core.domain import flk, lifecycle
from eln_tui.core.domain.codes import TERMINATION_CANCEL, TERMINATION_REASONS, Role
from eln_tui.core.domain.flk import Violation
from eln_tui.core.domain.lifecycle import NUMBER_LABEL, TERMINATED_BANNER
from eln_tui.core.domain.model import Block, CareRecord, Eln, Patient, Source
from eln_tui.core.errors import ElnError
from eln_tui.core.printing import PrintForm
from eln_tui.core.storage import UserInfo
from eln_tui.ui.commands import ScreenCommand
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.dates import CloseChoice, CloseDialog, DateDialog
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.pick import PatientCard, PatientDialog
from eln_tui.ui.dialogs.print_form import PrintDialog
from eln_tui.ui.dialogs.sign import SignDialog
from eln_tui.ui.dialogs.terminate import TerminateDialog
from eln_tui.ui.formmodel import format_date
from eln_tui.ui.messages import ElnLoaded, FocusField, OperationFailed, SignRequested
from eln_tui.ui.presenters import sign_blocks, state_text
from eln_tui.ui.screens.base import DeskScreen
from eln_tui.ui.widgets.eln_form import (
    ElnForm,
    FoldToggle,
    fold_of,
    new_period_dates,
    snils_hint,
)
from eln_tui.ui.widgets.fields import PickField
from eln_tui.ui.widgets.flk_panel import FlkPanel

FLK_DELAY_S = 0.15


class Continued(Message):
    """«Продолжение ЭЛН»: the old ELN is closed with «Иное» 31, the new one waits to be filled."""

    def __init__(self, old: Eln, new: Eln) -> None:
        super().__init__()
        self.old = old
        self.new = new


class Printed(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ElnEditorScreen(DeskScreen):
    """Edit one ELN. Dismissed with the last stored version (or None if never stored)."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (Textual's name)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2,ctrl+s", "save", "Сохр.", tooltip="Сохранить ЭЛН", id="editor.save"),
        Binding("f3", "take_number", "Номер", tooltip="Получить номер ЭЛН", id="editor.number"),
        Binding(
            "f4", "sign", "Подпись", tooltip="Подписать запись своим ключом ЭП", id="editor.sign"
        ),
        Binding("f5", "extend", "Продл.", tooltip="Продлить: новый период", id="editor.extend"),
        Binding("f6", "close_eln", "Закрыть", tooltip="Закрыть ЭЛН", id="editor.close"),
        Binding("f7", "refer_mse", "МСЭ", tooltip="Направить на МСЭ", id="editor.mse"),
        Binding(
            "f8", "terminate", "Прекр.", tooltip="Прекращение ЛН (отмена)", id="editor.terminate"
        ),
        Binding("f9", "print", "Печать", tooltip="Печать: согласие, информация", id="editor.print"),
        Binding(
            "ctrl+l,f12", "flk", "ФЛК", show=False, tooltip="К списку ошибок ФЛК", id="editor.flk"
        ),
        Binding(
            "ctrl+f",
            "find_patient",
            "Пациент",
            show=False,
            tooltip="Найти пациента",
            id="editor.find_patient",
        ),
        Binding(
            "escape", "back", "Назад", show=False, tooltip="Закрыть документ", id="editor.back"
        ),
    ]

    def __init__(self, eln: Eln, *, stored: Eln | None, start_action: str | None = None) -> None:
        """``eln`` is shown; ``stored`` is its stored version (None for a new document)."""
        super().__init__()
        self.stored: Eln | None = stored
        self.initial = eln
        self.draft = eln
        self.start_action = start_action
        self.busy = False
        self._flk_timer: Timer | None = None
        self._pending_sign: Block | None = None

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        yield Static(TERMINATED_BANNER, id="terminated-banner")
        yield Static("", id="editor-status")
        with Container(id="editor-body"):
            yield ElnForm(self.initial, user=self.desk.user, version=self.desk.version, id="form")
            yield FlkPanel(id="flk")
        yield Footer(compact=True)

    @property
    def form(self) -> ElnForm:
        return self.query_one("#form", ElnForm)

    @property
    def flk_panel(self) -> FlkPanel:
        return self.query_one("#flk", FlkPanel)

    def on_mount(self) -> None:
        self._refresh_state()
        self.call_after_refresh(self._first_focus)

    def _first_focus(self) -> None:
        if self.start_action:
            action, self.start_action = self.start_action, None
            self.run_worker(self.run_action(action), exclusive=False)
            return
        target = self.form.widget_for("patient.snils" if self.stored is None else "ln_code")
        for widget in [target, *self.form.query("*")]:
            if widget is not None and widget.focusable:
                widget.focus()
                break

    # --- state, title, ФЛК ----------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self.stored is None or self.draft != self.stored

    def _refresh_state(self) -> None:
        eln = self.draft
        number = f"ЭЛН № {eln.ln_code}" if eln.ln_code else "Новый ЛН (номер не получен)"
        self.title = number
        self.sub_title = eln.patient_fio
        marks = [state_text(eln)]
        if self.stored is None:
            marks.append("не сохранён")
        elif self.dirty:
            marks.append("изменён, не сохранён")
        if eln.number_from_pool:
            marks.append(NUMBER_LABEL)
        self.query_one("#editor-status", Static).update(" · ".join(marks))
        self.query_one("#terminated-banner").display = eln.termination is not None
        self._run_flk()

    def _run_flk(self) -> None:
        violations: list[Violation] = self.form.problems()
        violations += flk.check(self.draft, self.desk.context())
        self.flk_panel.show(violations)

    def _schedule(self) -> None:
        if self._flk_timer is not None:
            self._flk_timer.stop()
        self._flk_timer = self.set_timer(FLK_DELAY_S, self._changed_now)

    def _changed_now(self) -> None:
        self._flk_timer = None
        self.draft = self.form.collect()
        self._refresh_state()

    def refresh_now(self) -> None:
        """Run a pending ФЛК update at once (the debounce after typing)."""
        if self._flk_timer is not None:
            self._flk_timer.stop()
            self._changed_now()

    @on(Input.Changed)
    @on(PickField.Changed)
    def _field_changed(self, event: Message) -> None:
        if isinstance(event, Input.Changed) and event.input.id == "f-patient-snils":
            self.query_one("#snils-hint", Static).update(snils_hint(event.value))
        self._schedule()

    def on_descendant_blur(self) -> None:
        self._schedule()  # a date is judged when the user leaves its field

    @on(Checkbox.Changed)
    async def _mark_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "f-electronic":  # changes which fields may be typed
            await self._show(self.form.collect())
        else:
            self._schedule()

    async def _show(self, eln: Eln, *, focus: str | None = None) -> None:
        """Recompose the form from ``eln`` (a structural change) keeping focus where it was."""
        focused = self.focused.id if self.focused is not None else None
        form = self.form
        form.eln = eln
        form.version = self.desk.version
        self.draft = eln
        await form.recompose()
        self._refresh_state()
        if focus is not None:
            name = fold_of(focus)
            if name is not None and not form.is_open(name):
                form.open_folds.add(name)
                await form.recompose()
            if form.focus_path(focus):
                return
        if focused:
            try:
                widget = self.query_one(f"#{focused}")
            except Exception:
                return
            if widget.focusable:
                widget.focus()

    def current(self) -> Eln:
        self.draft = self.form.collect()
        return self.draft

    # --- messages -------------------------------------------------------------------------

    @on(ElnLoaded)
    async def _loaded(self, message: ElnLoaded) -> None:
        message.stop()
        self.busy = False
        if message.saved:
            self.stored = message.eln
        await self._show(message.eln, focus=message.focus)
        if message.note:
            self.notify(message.note, timeout=4)
        if self._pending_sign is not None and message.saved:
            block, self._pending_sign = self._pending_sign, None
            self._open_sign_dialog(block)

    @on(OperationFailed)
    def _failed(self, message: OperationFailed) -> None:
        message.stop()
        self.busy = False
        self._pending_sign = None

    @on(FocusField)
    def _focus_field(self, message: FocusField) -> None:
        message.stop()
        self.focus_path(message.path)

    def focus_path(self, path: str) -> None:
        self.run_worker(self.reveal(path), exclusive=False)

    async def reveal(self, path: str) -> None:
        """Focus the field of ``path``, opening its fold first if it is closed."""
        form = self.form
        name = fold_of(path)
        if name is not None and not form.is_open(name):
            form.open_folds.add(name)
            await self._show(self.current())
        if not form.focus_path(path):
            self.notify("Это поле сейчас нельзя изменить (запись подписана или передана).")

    @on(FoldToggle.Opened)
    async def _fold_opened(self, message: FoldToggle.Opened) -> None:
        message.stop()
        self.form.open_folds.add(message.fold)
        await self._show(self.current())
        section = {
            "lpu": "lpu",
            "previous": "prev_ln_code",
            "voucher": "voucher_no",
            "care": "serv_data",
            "hospital": "hospital_dt1",
            "breach": "hospital_breach",
            "mse": "mse_dt1",
        }[message.fold]
        self.form.focus_path(section)

    @on(SignRequested)
    def _sign_requested(self, message: SignRequested) -> None:
        message.stop()
        self.sign_block(message.block)

    @on(Button.Pressed, "#take-number")
    def _take_number_pressed(self) -> None:
        self.action_take_number()

    @on(Button.Pressed, "#find-patient")
    def _find_pressed(self) -> None:
        self.action_find_patient()

    @on(Button.Pressed, "#extend, #add-period")
    async def _extend_pressed(self) -> None:
        await self.action_extend()

    @on(Button.Pressed, "#care-add")
    async def _care_add(self) -> None:
        eln = self.current()
        eln = replace(eln, serv_data=[*eln.serv_data, CareRecord()])
        await self._show(eln, focus=f"serv_data[{len(eln.serv_data) - 1}].relation_code")

    @on(Button.Pressed, ".care-record Button")
    async def _care_delete(self, event: Button.Pressed) -> None:
        if not (event.button.id or "").startswith("care-del-"):
            return
        index = int((event.button.id or "0").rsplit("-", 1)[-1])
        eln = self.current()
        cares = [c for i, c in enumerate(eln.serv_data) if i != index]
        await self._show(replace(eln, serv_data=cares), focus="serv_data")

    # --- helpers for workers --------------------------------------------------------------

    def _start(self) -> bool:
        if self.busy:
            self.notify("Подождите: предыдущая операция ещё выполняется.")
            return False
        self.busy = True
        return True

    def _error(self, error: ElnError | str, title: str = "ЭЛН") -> None:
        text = error if isinstance(error, str) else error.message
        field = None if isinstance(error, str) else error.field

        def after(_: object) -> None:
            if field:
                self.focus_path(field)

        self.app.push_screen(MessageDialog(title, text), after)

    def _apply(self, change: Callable[[Eln], Eln], *, focus: str | None = None) -> None:
        """Apply a lifecycle transition to the form's ELN; Russian refusal on failure."""
        try:
            eln = change(self.current())
        except ElnError as exc:
            self._error(exc)
            return
        self.run_worker(self._show(eln, focus=focus), exclusive=False)

    # --- actions --------------------------------------------------------------------------

    def action_save(self) -> None:
        eln = self.current()
        problems = self.form.problems()
        if problems:
            self._error(ElnError(problems[0].message, field=problems[0].field))
            return
        if not self._start():
            return
        self.save(eln)

    @work(thread=True, exit_on_error=False, group="editor", description="Сохранение ЭЛН")
    def save(self, eln: Eln) -> None:
        desk = self.desk
        with desk.db():
            if desk.settings is None:
                desk.load_settings()
            saved = desk.store.save(eln, desk.user.signer, context=desk.context())
        self.post_message(ElnLoaded(saved, "ЭЛН сохранён."))

    def action_take_number(self) -> None:
        eln = self.current()
        try:
            lifecycle.ensure_can_take_number(eln)  # SNILS first: no number is taken for nothing
        except ElnError as exc:
            self._error(exc, "Получить номер")
            return
        if self._start():
            self.take_number(eln)

    @work(thread=True, exit_on_error=False, group="editor", description="Получение номера ЭЛН")
    def take_number(self, eln: Eln) -> None:
        desk = self.desk
        with desk.db():
            if desk.settings is None:
                desk.load_settings()
            numbered = desk.store.take_number(
                eln, desk.user.signer, mode=desk.number_mode, server_tag=desk.server_tag
            )
        self.post_message(ElnLoaded(numbered, NUMBER_LABEL, saved=False))

    def action_sign(self) -> None:
        """F4: sign the block the cursor is in, or else the first block this user may sign."""
        focused = self.form.focused_block(self.focused)
        blocks = [b for b in sign_blocks(self.current()) if self.form.can_sign(b)]
        block = focused if focused in blocks else (blocks[0] if blocks else None)
        if block is None:
            self.notify("Нет записей, которые вы можете подписать.", severity="warning")
            return
        self.sign_block(block)

    def sign_block(self, block: Block) -> None:
        eln = signing.fill_signer(self.current(), block, self.desk.user)
        try:
            signing.ensure_signer_named(eln, block, self.desk.user)
        except ElnError as exc:
            self._error(exc, "Подпись")
            return
        if self.stored is None or eln != self.stored:
            # Only a stored ELN is signed: save first (ФЛК and consent are checked), then sign.
            problems = self.form.problems()
            if problems:
                self._error(ElnError(problems[0].message, field=problems[0].field))
                return
            if not self._start():
                return
            self._pending_sign = block
            self.save(eln)
            return
        self._open_sign_dialog(block)

    def _open_sign_dialog(self, block: Block) -> None:
        assert self.stored is not None

        def done(result: Eln | None) -> None:
            if result is not None:
                self.post_message(
                    ElnLoaded(result, f"Запись {block.title} подписана.", focus=block.path)
                )

        self.app.push_screen(SignDialog(self.desk, self.stored, block), done)

    async def action_extend(self) -> None:
        eln = self.current()
        user = self.desk.user
        doctor = writes_periods(user)
        start = new_period_dates(eln, self.desk.today())
        if not eln.treat_periods:

            def first(e: Eln) -> Eln:
                return lifecycle.add_period(
                    e,
                    start,
                    start,
                    doctor=user.full_name if doctor else "",
                    doctor_role=(user.position or "") if doctor else "",
                    doctor_id=user.id if doctor else None,
                    id_doctor=user.id_doctor if doctor else None,
                )

            self._apply(first, focus="treat_periods[0].dt2")
            return

        def extended(end: date | None) -> None:
            if end is None:
                return

            def add(e: Eln) -> Eln:
                return lifecycle.add_period(
                    e,
                    start,
                    end,
                    doctor=user.full_name if doctor else "",
                    doctor_role=(user.position or "") if doctor else "",
                    doctor_id=user.id if doctor else None,
                    id_doctor=user.id_doctor if doctor else None,
                )

            self._apply(add, focus=f"treat_periods[{len(eln.treat_periods)}].doctor")

        try:  # refuse early (closed, unsigned last period, three periods) before asking a date
            lifecycle.add_period(eln, start, start, doctor="-", doctor_role="-")
        except ElnError as exc:
            self._error(exc, "Продление ЭЛН")
            return
        self.app.push_screen(
            DateDialog(
                "Продление ЭЛН",
                f"Новый период освобождения от работы начинается {format_date(start)}.",
                "По какое число",
                start,
                minimum=start,
                minimum_text="Дата окончания периода не может быть раньше его начала.",
                ok="Продлить",
            ),
            extended,
        )

    def action_close_eln(self) -> None:
        eln = self.current()
        default = new_period_dates(eln, self.desk.today()) if eln.treat_periods else None

        def chosen(choice: CloseChoice | None) -> None:
            if choice is None:
                return
            if choice.other_code:
                assert choice.other_date is not None
                code, when = choice.other_code, choice.other_date
                self._apply(
                    lambda e: lifecycle.close_other(e, code, when), focus="ln_result.mse_result"
                )
            else:
                assert choice.return_date is not None
                returned = choice.return_date
                self._apply(lambda e: lifecycle.close(e, returned), focus="ln_result")

        self.app.push_screen(CloseDialog(default), chosen)

    def action_refer_mse(self) -> None:
        def chosen(value: date | None) -> None:
            if value is not None:
                self._apply(lambda e: lifecycle.refer_to_mse(e, value), focus="mse_dt1")

        self.app.push_screen(
            DateDialog(
                "Направление на МСЭ",
                "Дату регистрации документов, освидетельствования и группу инвалидности "
                "заполняет бюро МСЭ.",
                "Дата направления в бюро МСЭ",
                self.desk.today(),
            ),
            chosen,
        )

    def action_terminate(self) -> None:
        if self.stored is None:
            self._error(
                "ЭЛН ещё не сохранён: закройте документ без сохранения (Esc), полученный номер "
                "вернётся в пул.",
                "Прекращение ЛН",
            )
            return
        stored = self.stored
        try:  # the core's refusal (no number, already terminated) before asking the reason
            lifecycle.terminate(
                stored, TERMINATION_CANCEL, "", self.desk.user.signer, datetime.now(UTC)
            )
        except ElnError as exc:
            self._error(exc, "Прекращение ЛН")
            return

        def reason(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            code, text = choice

            def confirmed(yes: bool | None) -> None:
                if yes and self._start():
                    self.terminate(stored.id, code, text)

            self.app.push_screen(
                ConfirmationModal(
                    "Прекращение ЛН",
                    f"Прекратить ЛН № {stored.ln_code} по причине "
                    f"«{TERMINATION_REASONS.title(code)}»? Отменить это действие нельзя.",
                    yes="Прекратить",
                    no="Не прекращать",
                    danger=True,
                ),
                confirmed,
            )

        self.app.push_screen(TerminateDialog(stored.ln_code), reason)

    @work(thread=True, exit_on_error=False, group="editor", description="Прекращение ЛН")
    def terminate(self, eln_id: int, code: str, reason: str) -> None:
        desk = self.desk
        with desk.db():
            eln = desk.store.terminate(eln_id, desk.user.signer, code, reason)
        self.post_message(ElnLoaded(eln, f"{TERMINATED_BANNER}."))

    def action_print(self) -> None:
        config = self.desk.config
        where = (
            f"Документ будет отправлен на принтер «{config.printer}»."
            if config.printer
            else f"Принтер не настроен: документ будет сохранён в каталог {config.print_dir}."
        )

        def chosen(form: PrintForm | None) -> None:
            if form is not None:
                self.print_form(form, self.current())

        self.app.push_screen(PrintDialog(where), chosen)

    @work(thread=True, exit_on_error=False, group="print", description="Печать")
    def print_form(self, form: PrintForm, eln: Eln) -> None:
        desk = self.desk
        text = printing.render(form, eln, today=desk.today())
        result = printing.print_document(
            text,
            title=form.label,
            name=f"{form.value}-{eln.ln_code or 'new'}",
            printer=desk.config.printer,
            output_dir=desk.config.print_dir,
        )
        self.post_message(Printed(result.message))

    @on(Printed)
    def _printed(self, message: Printed) -> None:
        self.notify(message.text, timeout=8)

    def action_continue(self) -> None:
        stored = self.stored
        if stored is None or self.dirty:
            self._error("Сначала сохраните ЭЛН (F2), затем оформляйте продолжение.", "Продолжение")
            return

        def confirmed(yes: bool | None) -> None:
            if yes and self._start():
                self.continue_eln(stored.id)

        self.app.push_screen(
            ConfirmationModal(
                "Продолжение ЭЛН",
                f"ЭЛН № {stored.ln_code} будет закрыт с кодом «Иное» 31 (продолжает болеть), "
                "и будет открыт новый ЭЛН-продолжение с новым номером. Продолжить?",
                yes="Оформить продолжение",
                no="Отмена",
            ),
            confirmed,
        )

    @work(thread=True, exit_on_error=False, group="editor", description="Продолжение ЭЛН")
    def continue_eln(self, eln_id: int) -> None:
        desk = self.desk
        with desk.db():
            if desk.settings is None:
                desk.load_settings()
            old, new = desk.store.continue_eln(
                eln_id,
                desk.user.signer,
                ln_date=desk.today(),
                mode=desk.number_mode,
                server_tag=desk.server_tag,
                context=desk.context(),
            )
        self.post_message(Continued(old, new))

    @on(Continued)
    def _continued(self, message: Continued) -> None:
        message.stop()
        self.busy = False
        self.stored = message.old
        new = prepare_continuation(message.new, message.old, self.desk)
        self.notify(
            f"ЭЛН № {message.old.ln_code} закрыт с кодом 31; подпишите в нём блок «Приступить к "
            "работе / Иное». Заполните ЭЛН-продолжение.",
            timeout=8,
        )
        self.app.switch_screen(ElnEditorScreen(new, stored=None))

    def action_find_patient(self) -> None:
        if self.draft.termination is not None:
            return

        def chosen(card: PatientCard | None) -> None:
            if card is None:
                return
            patient_id, patient, workplace = card
            eln = self.current()
            eln = replace(
                eln,
                patient=replace(patient),
                patient_id=patient_id,
                employer=replace(eln.employer, name=workplace or eln.employer.name),
            )
            self.run_worker(self._show(eln, focus="patient.snils"), exclusive=False)

        query = self.draft.patient.snils or self.draft.patient.surname or ""
        self.app.push_screen(PatientDialog(self.desk, query), chosen)

    def action_flk(self) -> None:
        options = self.flk_panel.list
        if options.option_count:
            options.focus()
            if options.highlighted is None:
                options.highlighted = 0
        else:
            self.notify("Ошибок ФЛК нет.")

    def action_back(self) -> None:
        eln = self.current()
        if not self.dirty:
            self.dismiss(self.stored)
            return
        continuation = not eln.primary_flag and bool(eln.prev_ln_code)
        release = self.stored is None and eln.number_from_pool and not continuation
        text = "Изменения не сохранены. Закрыть документ без сохранения?"
        if release:
            text += f" Номер {eln.ln_code} вернётся в пул свободных номеров."

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if release:
                self.discard(eln)
            self.dismiss(self.stored)

        self.app.push_screen(
            ConfirmationModal("Закрыть документ", text, yes="Закрыть", no="Вернуться"), confirmed
        )

    @work(thread=True, exit_on_error=False, group="discard", description="Возврат номера")
    def discard(self, eln: Eln) -> None:
        desk = self.desk
        with desk.db():
            desk.store.discard_unsaved(eln, desk.user.signer)

    def extra_commands(self) -> Iterable[ScreenCommand]:
        yield ScreenCommand(
            "Продолжение ЭЛН (новый ЭЛН)",
            self.action_continue,
            help="Закрыть этот ЭЛН кодом 31 и открыть ЭЛН-продолжение",
        )
        for form in PrintForm:
            yield ScreenCommand(
                f"Печать: {form.label}",
                lambda form=form: self.print_form(form, self.current()),  # type: ignore[misc]
            )


def writes_periods(user: UserInfo) -> bool:
    """Whether a new period row is prefilled with the user's name (not for a nurse who only
    prepares the LN; she may still sign, and :func:`signing.fill_signer` names her then)."""
    return bool(user.roles & {Role.DOCTOR, Role.FELDSHER, Role.VK_CHAIRMAN})


def prepare_continuation(new: Eln, old: Eln, desk: Desk) -> Eln:
    """The continuation is issued here, by this user: our МО, first period after the old one."""
    lpu = desk.lpu()
    if lpu.ogrn:
        new = replace(new, lpu=lpu)
    if old.source is Source.FSS or new.doctor_id is None:
        new = replace(new, doctor_id=desk.user.id)
    start = (old.last_dt2 + timedelta(days=1)) if old.last_dt2 else desk.today()
    doctor = writes_periods(desk.user)
    return lifecycle.add_period(
        new,
        start,
        start,
        doctor=desk.user.full_name if doctor else "",
        doctor_role=(desk.user.position or "") if doctor else "",
        doctor_id=desk.user.id if doctor else None,
        id_doctor=desk.user.id_doctor if doctor else None,
    )


def new_eln(desk: Desk, patient: Patient | None = None) -> Eln:
    """A blank LN of this desk (МО from the settings, today, this doctor, a first period)."""
    today = desk.today()
    eln = lifecycle.create(
        patient=patient or Patient(),
        lpu=desk.lpu(),
        ln_date=today,
        electronic=desk.config.electronic_by_default,
        doctor_id=desk.user.id,
    )
    user = desk.user
    doctor = writes_periods(user)
    return lifecycle.add_period(
        eln,
        today,
        today,
        doctor=user.full_name if doctor else "",
        doctor_role=(user.position or "") if doctor else "",
        doctor_id=user.id if doctor else None,
        id_doctor=user.id_doctor if doctor else None,
    )
