"""The ELN form, laid out like the paper form, section by section (seed 000 figures 49–55).

The form is composed from one :class:`Eln`; :meth:`ElnForm.collect` reads the widgets back into a
new ELN (signatures and bookkeeping come from the composed one). Structural changes (a new period,
a family member, a loaded ELN, an opened fold) recompose it. Tab order is the order of the form.

Sections that are empty on most ELNs (МО, previous LN, voucher, care, hospital stay, breach, МСЭ)
are *folds*: one line until opened (Enter), open by themselves when they hold data, and opened
when a ФЛК message points into them. That keeps the screen short at 80x24 and the widget count
low, so the form opens quickly over a slow link.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Label, Static

from eln_tui.core.domain import codes
from eln_tui.core.domain.codes import CHAIRMAN_ROLE, SignerSlot
from eln_tui.core.domain.flk import Severity, Violation
from eln_tui.core.domain.lifecycle import NUMBER_LABEL
from eln_tui.core.domain.model import Block, CareRecord, Eln
from eln_tui.core.domain.validators import is_valid_snils
from eln_tui.core.signing import may_sign_slot
from eln_tui.core.storage import UserInfo
from eln_tui.ui.formmodel import format_date, get_path, parents, set_path, tidy, widget_id
from eln_tui.ui.presenters import signature_text, vk_needed
from eln_tui.ui.widgets.fields import (
    CodeField,
    DateField,
    DigitsField,
    FlagField,
    GenderField,
    ModelField,
    TextField,
)
from eln_tui.ui.widgets.sign_slot import SignSlot, sign_button_id

# Paths whose violations are best shown at another widget.
_ALIASES = {"chairman_role": "chairman"}

# Folds: name → (title, paths that open it).
FOLDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lpu": ("Медицинская организация", ("lpu",)),
    "previous": (
        "Продолжение / дубликат",
        ("prev_ln_code", "prev_ln_issuer", "previously_issued_code"),
    ),
    "voucher": ("Санаторий, путевка", ("date2", "voucher_no", "voucher_ogrn")),
    "care": ("Уход за больными членами семьи", ("serv_data",)),
    "hospital": ("Находился в стационаре", ("hospital_dt1", "hospital_dt2")),
    "breach": ("Отметки о нарушении режима", ("hospital_breach",)),
    "mse": (
        "Медико-социальная экспертиза (МСЭ)",
        ("mse_dt1", "mse_dt2", "mse_dt3", "mse_invalid_group"),
    ),
}


def fold_of(path: str) -> str | None:
    for name, (_, prefixes) in FOLDS.items():
        if any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes):
            return name
    return None


def section_id(path: str) -> str:
    return "s" + widget_id(path)[1:]


def snils_hint(value: str | None) -> str:
    digits = "".join(c for c in (value or "") if c.isdigit())
    if not digits:
        return ""
    if len(digits) != 11:
        return f"{len(digits)} из 11 цифр"
    return "контрольное число верно" if is_valid_snils(digits) else "неверное контрольное число"


def new_period_dates(eln: Eln, today: date) -> date:
    """Where the next period starts: the day after the last one, or the issue date."""
    if eln.treat_periods and eln.treat_periods[-1].dt2 is not None:
        return eln.treat_periods[-1].dt2 + timedelta(days=1)
    return eln.ln_date or today


class FoldToggle(Static, can_focus=True):
    """The one line of a closed fold; Enter opens it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "open", "Открыть", show=False, id="fold.open"),
    ]

    class Opened(Message):
        def __init__(self, fold: str) -> None:
            super().__init__()
            self.fold = fold

    def __init__(self, name: str, title: str, summary: str = "не заполнено") -> None:
        super().__init__(f"+ {title}: {summary} (Enter — открыть)", id=f"fold-{name}")
        self.fold = name

    def action_open(self) -> None:
        self.post_message(self.Opened(self.fold))

    def on_click(self) -> None:
        self.action_open()


class Section(Vertical):
    """A titled part of the form; its fields sit in a two-column grid (label, field)."""

    def __init__(self, title: str, path: str | None = None, *, classes: str = "") -> None:
        super().__init__(
            classes=f"form-section {classes}".strip(), id=section_id(path) if path else None
        )
        self.border_title = title


class Fields(Grid):
    """Label and field cells; a row with several widgets is one Horizontal cell."""


def cell(*widgets: Widget) -> Widget:
    return widgets[0] if len(widgets) == 1 else Horizontal(*widgets, classes="cell")


class ElnForm(VerticalScroll, can_focus=False):
    """The editable ELN; read-only after «Прекращение ЛН»."""

    def __init__(
        self,
        eln: Eln,
        *,
        user: UserInfo,
        version: str = codes.V20,
        open_folds: Iterable[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.eln = eln
        self.user = user
        self.version = version
        self.open_folds: set[str] = set(open_folds)

    # --- building -------------------------------------------------------------------------

    @property
    def readonly(self) -> bool:
        return self.eln.termination is not None

    def is_open(self, name: str) -> bool:
        if name in self.open_folds:
            return True
        _, prefixes = FOLDS[name]
        return any(self._filled(p) for p in prefixes)

    def _filled(self, path: str) -> bool:
        value = get_path(self.eln, path)
        if path == "lpu":
            lpu = self.eln.lpu
            return not (lpu.name and lpu.address and lpu.ogrn)  # open until filled
        if isinstance(value, list):
            return bool(value)
        if path == "hospital_breach":
            return value is not None
        return value not in (None, "")

    def compose(self) -> ComposeResult:
        yield from self._identity()
        yield from self._patient()
        yield from self._reason()
        yield from self._fold("previous", self._previous)
        yield from self._fold("lpu", self._lpu)
        yield from self._fold("voucher", self._voucher)
        yield from self._fold("care", self._care)
        yield from self._fold("hospital", self._hospital)
        yield from self._fold("breach", self._breach)
        yield from self._fold("mse", self._mse)
        yield from self._periods()
        yield from self._result()

    def _fold(self, name: str, build: Any) -> ComposeResult:
        if self.is_open(name):
            yield from build()
        elif not self.readonly:
            summary = "не заполнено"
            if name == "lpu":
                summary = f"{self.eln.lpu.name}, ОГРН {self.eln.lpu.ogrn}"
            yield FoldToggle(name, FOLDS[name][0], summary)

    def _identity(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Листок нетрудоспособности", classes="identity"), Fields():
            number = DigitsField("ln_code", e.ln_code, length=12, disabled=ro or e.electronic)
            extra: list[Widget] = []
            if e.number_from_pool:
                extra.append(Static(NUMBER_LABEL, id="number-label", classes="note"))
            elif e.electronic and not ro:
                extra.append(Button("Получить номер (F3)", id="take-number", compact=True))
            yield Label("Номер ЛН")
            yield cell(number, *extra)
            yield Label("")
            yield FlagField(
                "electronic", "Электронный", e.electronic, disabled=ro or e.number_from_pool
            )
            yield Label("")
            yield FlagField(
                "written_agreement_flag",
                "Согласие на формирование ЭЛН получено",
                e.written_agreement_flag,
                disabled=ro,
            )
            yield Label("Дата выдачи")
            yield DateField("ln_date", e.ln_date, disabled=ro)
            yield Label("")
            yield FlagField("primary_flag", "Первичный", e.primary_flag, disabled=ro)

    def _previous(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Продолжение / дубликат", "prev_ln_code"), Fields():
            yield Label("Номер предыдущего листка")
            yield DigitsField("prev_ln_code", e.prev_ln_code, length=12, disabled=ro)
            yield Label("Кем выдан предыдущий ЛН")
            yield TextField("prev_ln_issuer", e.prev_ln_issuer, max_length=255, disabled=ro)
            if e.duplicate_flag:
                yield Label("Взамен ранее сформ. ЭЛН №")
                yield DigitsField(
                    "previously_issued_code", e.previously_issued_code, length=12, disabled=True
                )

    def _lpu(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Медицинская организация", "lpu"), Fields():
            yield Label("Наименование МО")
            yield TextField("lpu.name", e.lpu.name, max_length=90, disabled=ro)
            yield Label("Адрес МО")
            yield TextField("lpu.address", e.lpu.address, max_length=2000, disabled=ro)
            yield Label("ОГРН МО")
            yield DigitsField("lpu.ogrn", e.lpu.ogrn, length=15, disabled=ro)

    def _patient(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        p = e.patient
        with Section("Пациент", "patient"), Fields():
            if not ro:
                yield Label("")
                yield Button("Найти пациента (Ctrl+F)", id="find-patient", compact=True)
            yield Label("СНИЛС")
            yield cell(
                DigitsField("patient.snils", p.snils, length=11, disabled=ro),
                Static(snils_hint(p.snils), id="snils-hint", classes="note"),
            )
            yield Label("Фамилия")
            yield TextField("patient.surname", p.surname, max_length=60, disabled=ro)
            yield Label("Имя")
            yield TextField("patient.name", p.name, max_length=60, disabled=ro)
            yield Label("Отчество")
            yield TextField("patient.patronymic", p.patronymic, max_length=60, disabled=ro)
            yield Label("Дата рождения")
            yield DateField("patient.birthday", p.birthday, disabled=ro)
            yield Label("Пол")
            yield GenderField("patient.gender", p.gender, disabled=ro)
            yield Label("Место работы")
            yield TextField("employer.name", e.employer.name, max_length=255, disabled=ro)
            yield Label("")
            yield FlagField(
                "employer.main_job", "Основное место работы", e.employer.main_job, disabled=ro
            )
            yield Label("")
            yield FlagField(
                "patient.employment_service_flag",
                "Состоит на учете в службе занятости",
                p.employment_service_flag,
                disabled=ro,
            )

    def _reason(self) -> ComposeResult:
        e, ro, v = self.eln, self.readonly, self.version
        with Section("Причина нетрудоспособности", "reason1"), Fields():
            yield Label("Код причины")
            yield CodeField("reason1", codes.REASONS, e.reason1, version=v, disabled=ro)
            yield Label("Дополнительный код")
            yield CodeField("reason2", codes.ADDITIONAL_CODES, e.reason2, version=v, disabled=ro)
            yield Label("Диагноз по МКБ-10")
            yield TextField("diagnos", e.diagnos, max_length=10, disabled=ro)
            yield Label("Дата родов / нач. путевки")
            yield DateField("date1", e.date1, disabled=ro)
            yield Label("")
            yield FlagField(
                "pregn12w_flag",
                "Поставлена на учет в ранние сроки беременности",
                e.pregn12w_flag,
                optional=True,
                disabled=ro,
            )
            yield Label("")
            yield FlagField(
                "intermittent_method_flag",
                "Прерывистый метод",
                e.intermittent_method_flag,
                optional=True,
                disabled=ro,
            )

    def _voucher(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Санаторий, путевка", "voucher_no"), Fields():
            yield Label("Дата окончания путевки")
            yield DateField("date2", e.date2, disabled=ro)
            yield Label("№ путевки")
            yield TextField("voucher_no", e.voucher_no, max_length=10, disabled=ro)
            yield Label("ОГРН санатория/клиники")
            yield DigitsField("voucher_ogrn", e.voucher_ogrn, length=15, disabled=ro)

    def _care(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Уход за больными членами семьи", "serv_data"):
            for i, care in enumerate(e.serv_data):
                yield from self._care_record(i, care, ro, self.version)
            if not ro and len(e.serv_data) < 2:
                yield Button("Добавить члена семьи", id="care-add", compact=True)

    def _care_record(self, i: int, c: CareRecord, ro: bool, v: str) -> ComposeResult:
        base = f"serv_data[{i}]"
        with Vertical(classes="care-record", id=widget_id(base)):
            yield Static(f"Член семьи № {i + 1}", classes="subtitle")
            with Fields():
                yield Label("Родственная связь")
                yield CodeField(
                    f"{base}.relation_code",
                    codes.RELATIONS,
                    c.relation_code,
                    version=v,
                    disabled=ro,
                )
                yield Label("Фамилия")
                yield TextField(f"{base}.surname", c.surname, max_length=60, disabled=ro)
                yield Label("Имя")
                yield TextField(f"{base}.name", c.name, max_length=60, disabled=ro)
                yield Label("Отчество")
                yield TextField(f"{base}.patronymic", c.patronymic, max_length=60, disabled=ro)
                yield Label("Дата рождения")
                yield DateField(f"{base}.birthday", c.birthday, disabled=ro)
                yield Label("СНИЛС")
                yield DigitsField(f"{base}.snils", c.snils, length=11, disabled=ro)
                yield Label("Код причины")
                yield CodeField(f"{base}.reason1", codes.REASONS, c.reason1, version=v, disabled=ro)
                yield Label("Диагноз по МКБ-10")
                yield TextField(f"{base}.diagnosis", c.diagnosis, max_length=10, disabled=ro)
                yield Label("Условия оказания помощи")
                yield CodeField(
                    f"{base}.treatment_type",
                    codes.TREATMENT_TYPES,
                    c.treatment_type,
                    version=v,
                    disabled=ro,
                )
                yield Label("Уход с")
                yield DateField(f"{base}.dt1", c.dt1, disabled=ro)
                yield Label("Уход по")
                yield DateField(f"{base}.dt2", c.dt2, disabled=ro)
                if not ro:
                    yield Label("")
                    yield Button("Удалить члена семьи", id=f"care-del-{i}", compact=True)

    def _hospital(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Находился в стационаре", "hospital_dt1"), Fields():
            yield Label("с")
            yield DateField("hospital_dt1", e.hospital_dt1, disabled=ro)
            yield Label("по")
            yield DateField("hospital_dt2", e.hospital_dt2, disabled=ro)

    def _breach(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        b = e.hospital_breach
        locked = ro or (b is not None and (b.signature is not None or b.sent))
        with Section("Отметки о нарушении режима", "hospital_breach"):
            with Fields():
                yield Label("Код нарушения")
                yield CodeField(
                    "hospital_breach.code",
                    codes.BREACHES,
                    b.code if b else None,
                    version=self.version,
                    disabled=locked,
                )
                yield Label("Дата нарушения")
                yield DateField("hospital_breach.dt", b.dt if b else None, disabled=locked)
            if b is not None and (b.code or b.dt or b.signature):
                yield self._slot(Block("breach"), sent=b.sent)

    def _mse(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Медико-социальная экспертиза (МСЭ)", "mse_dt1"), Fields():
            yield Label("Направлен в бюро МСЭ")
            yield DateField("mse_dt1", e.mse_dt1, disabled=ro or e.mse_sent)
            yield Label("Документы зарегистрированы")
            yield DateField("mse_dt2", e.mse_dt2, disabled=ro)
            yield Label("Освидетельствован")
            yield DateField("mse_dt3", e.mse_dt3, disabled=ro)
            yield Label("Группа инвалидности")
            yield CodeField(
                "mse_invalid_group",
                codes.INVALID_GROUPS,
                e.mse_invalid_group,
                version=self.version,
                disabled=ro,
            )

    def _periods(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        with Section("Освобождение от работы", "treat_periods"):
            for i in range(len(e.treat_periods)):
                yield from self._period(i)
            if not ro:
                if not e.treat_periods:
                    yield Button("Добавить период (F5)", id="add-period", compact=True)
                elif len(e.treat_periods) < 3 and (e.ln_result is None or e.ln_result.is_empty()):
                    yield Button("Продлить (F5)", id="extend", compact=True)

    def _period(self, i: int) -> ComposeResult:
        e = self.eln
        p = e.treat_periods[i]
        base = f"treat_periods[{i}]"
        doc_locked = self.readonly or p.doctor_signature is not None or p.sent
        vk_locked = self.readonly or p.chairman_signature is not None or p.sent
        days = f", {p.days} дн." if p.days else ""
        sent = " — передан в ЕИИС «Соцстрах»" if p.sent else ""
        span = f"{format_date(p.dt1) or '…'} – {format_date(p.dt2) or '…'}"
        with Vertical(classes="period", id=widget_id(base)):
            yield Static(f"Период № {i + 1}: {span}{days}{sent}", classes="subtitle")
            with Fields():
                yield Label("С какого числа")
                yield DateField(f"{base}.dt1", p.dt1, disabled=doc_locked)
                yield Label("По какое число")
                yield DateField(f"{base}.dt2", p.dt2, disabled=doc_locked)
                yield Label("Должность врача")
                yield TextField(
                    f"{base}.doctor_role", p.doctor_role, max_length=300, disabled=doc_locked
                )
                yield Label("ФИО врача")
                yield TextField(f"{base}.doctor", p.doctor, max_length=90, disabled=doc_locked)
            yield self._slot(Block("period", SignerSlot.DOC, i), sent=p.sent)
            reasons = vk_needed(e, i)
            if reasons or p.chairman or p.chairman_signature:
                with Fields():
                    yield Label("ФИО председателя ВК")
                    yield TextField(
                        f"{base}.chairman", p.chairman, max_length=90, disabled=vk_locked
                    )
                note = (
                    ("Нужна подпись председателя ВК: " + "; ".join(reasons) + ".")
                    if reasons
                    else ""
                )
                yield self._slot(Block("period", SignerSlot.VK, i), sent=p.sent, note=note)

    def _result(self) -> ComposeResult:
        e, ro = self.eln, self.readonly
        r = e.ln_result
        locked = ro or (r is not None and (r.signature is not None or r.sent))
        with Section("Приступить к работе / Иное", "ln_result"):
            with Fields():
                yield Label("Приступить к работе с")
                yield DateField(
                    "ln_result.return_date_lpu", r.return_date_lpu if r else None, disabled=locked
                )
                yield Label("Иное")
                yield CodeField(
                    "ln_result.mse_result",
                    codes.OTHER_STATES,
                    r.mse_result if r else None,
                    version=self.version,
                    disabled=locked,
                )
                yield Label("Дата (Иное)")
                yield DateField(
                    "ln_result.other_state_dt", r.other_state_dt if r else None, disabled=locked
                )
                yield Label("Выдан ЛН (продолжение) №")
                yield DigitsField(
                    "ln_result.next_ln_code",
                    r.next_ln_code if r else None,
                    length=12,
                    disabled=locked,
                )
            if r is not None and (not r.is_empty() or r.signature):
                yield self._slot(Block("result"), sent=r.sent)

    def can_sign(self, block: Block) -> bool:
        """Whether a key button belongs on this block for this user now."""
        e = self.eln
        if self.readonly or not e.electronic or not may_sign_slot(self.user, block.slot):
            return False
        if block.kind == "period":
            assert block.index is not None
            if block.index >= len(e.treat_periods):
                return False
            p = e.treat_periods[block.index]
            if p.sent:
                return False
            if block.slot is SignerSlot.VK:
                return p.chairman_signature is None and p.doctor_signature is not None
            return p.doctor_signature is None
        if block.kind == "breach":
            b = e.hospital_breach
            return b is not None and b.signature is None and not b.sent
        r = e.ln_result
        return r is not None and r.signature is None and not r.sent

    def _slot(self, block: Block, *, sent: bool = False, note: str = "") -> SignSlot:
        text = signature_text(self.eln, block)
        if text is None and sent:
            text = "Принято ЕИИС «Соцстрах» (подписано в другой МО)"
        return SignSlot(block, signed_text=text, can_sign=self.can_sign(block), note=note)

    # --- reading back ---------------------------------------------------------------------

    def fields(self) -> Iterator[Any]:
        for widget in self.query("*"):
            if isinstance(widget, ModelField):
                yield widget

    def collect(self) -> Eln:
        """The ELN as the form shows it now."""
        base = self.eln
        draft = base.copy()
        for field in self.fields():
            set_path(draft, field.path, field.model_value(get_path(base, field.path)))
        for period, before in zip(draft.treat_periods, base.treat_periods, strict=True):
            if period.chairman_signature is not None:
                continue
            if (period.chairman or "").strip():
                period.chairman_role = period.chairman_role or CHAIRMAN_ROLE
            elif before.chairman_role == CHAIRMAN_ROLE or period.chairman_role == CHAIRMAN_ROLE:
                period.chairman_role = None
        return tidy(draft)

    def problems(self) -> list[Violation]:
        """Format problems the model cannot hold (a date that is not a date)."""
        found = []
        for field in self.fields():
            text = field.problem
            if text:
                found.append(Violation("UI-FORMAT", field.path, text, Severity.ERROR))
        return found

    # --- focus ----------------------------------------------------------------------------

    def widget_for(self, path: str) -> Widget | None:
        """The widget to focus for ``path``: the field itself or the first field of its block."""
        tail = path.rsplit(".", 1)[-1]
        candidates = [path]
        if tail in _ALIASES:
            candidates.insert(0, path[: -len(tail)] + _ALIASES[tail])
        for candidate in candidates + parents(path)[1:]:
            try:
                widget = self.query_one(f"#{widget_id(candidate)}")
            except NoMatches:
                try:
                    widget = self.query_one(f"#{section_id(candidate)}")
                except NoMatches:
                    continue
            if widget.focusable:
                return widget
            inner = [w for w in widget.query("*") if w.focusable]
            return inner[0] if inner else widget
        name = fold_of(path)
        if name is not None and name not in self.open_folds:
            try:
                return self.query_one(f"#fold-{name}")
            except NoMatches:
                return None
        return None

    def focus_path(self, path: str) -> bool:
        widget = self.widget_for(path)
        if widget is None:
            return False
        if widget.focusable:
            widget.focus()
        self.scroll_to_widget(widget, animate=False)
        return widget.focusable

    def focused_block(self, focused: Widget | None) -> Block | None:
        """The signable block the focused widget belongs to, if any."""
        if focused is None:
            return None
        for node in [focused, *focused.ancestors]:
            if isinstance(node, SignSlot):
                return node.block
        path = getattr(focused, "path", None)
        if not isinstance(path, str):
            return None
        if path.startswith("treat_periods["):
            index = int(path[len("treat_periods[") : path.index("]")])
            slot = SignerSlot.VK if path.endswith(".chairman") else SignerSlot.DOC
            return Block("period", slot, index)
        if path.startswith("hospital_breach"):
            return Block("breach")
        if path.startswith("ln_result"):
            return Block("result")
        return None

    def sign_button(self, block: Block) -> Button | None:
        try:
            return self.query_one(f"#{sign_button_id(block)}", Button)
        except NoMatches:
            return None
