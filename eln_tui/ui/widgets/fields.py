"""Form fields bound to a model path: text, date, pick list (code table), sex, mark.

Every field is one terminal line (compact widgets) so the form fits 80x24 and scrolls; marks
render as ``[X]`` / ``[ ]`` so they read the same without colour (``NO_COLOR``, 16 colours).
``model_value(base)`` turns what is on screen into the model value, returning ``base`` itself
when nothing changed in substance ('' vs None, the same date), so an untouched form is not
"changed".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.events import Key
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Checkbox, Input

from eln_tui.core.domain.codes import V20, CodeTable
from eln_tui.core.domain.model import Gender, field_title
from eln_tui.ui.formmodel import format_date, parse_date, widget_id


class ModelField:
    """What the form needs of a field widget."""

    path: str

    def model_value(self, base: Any) -> Any:
        raise NotImplementedError

    @property
    def problem(self) -> str | None:
        """A format problem of what was typed (ФЛК cannot see it: the model holds None)."""
        return None


class TextField(Input, ModelField):
    def __init__(
        self,
        path: str,
        value: str | None,
        *,
        placeholder: str = "",
        max_length: int = 0,
        restrict: str | None = None,
        disabled: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(
            value or "",
            placeholder=placeholder,
            max_length=max_length,
            restrict=restrict,
            compact=True,
            disabled=disabled,
            id=id or widget_id(path),
            select_on_focus=False,
        )
        self.path = path
        self.tooltip = field_title(path)

    def model_value(self, base: Any) -> Any:
        text = self.value.strip()
        if text == (base or "").strip():
            return base
        return text or None


class DigitsField(TextField):
    """Digits only (СНИЛС, номера, ОГРН); separators typed by habit are dropped."""

    def __init__(self, path: str, value: str | None, *, length: int, **kw: Any) -> None:
        kw.setdefault("placeholder", f"{length} цифр")
        super().__init__(path, value, max_length=length + 4, restrict=r"[0-9 \-]*", **kw)

    def model_value(self, base: Any) -> Any:
        digits = "".join(c for c in self.value if c.isdigit())
        if digits == (base or ""):
            return base
        return digits or None


class DateField(Input, ModelField):
    def __init__(
        self,
        path: str,
        value: date | None,
        *,
        disabled: bool = False,
        select_on_focus: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(
            format_date(value),
            placeholder="ДД.ММ.ГГГГ",
            max_length=10,
            restrict=r"[0-9.\-]*",
            compact=True,
            disabled=disabled,
            id=id or widget_id(path),
            select_on_focus=select_on_focus,
        )
        self.path = path
        self.tooltip = f"{field_title(path)} (ДД.ММ.ГГГГ)"

    @property
    def date(self) -> date | None:
        try:
            return parse_date(self.value)
        except ValueError:
            return None

    def model_value(self, base: Any) -> Any:
        value = self.date
        return base if value == base else value

    @property
    def problem(self) -> str | None:
        if not self.value.strip() or self.has_focus:  # judged once the user leaves the field
            return None
        try:
            parse_date(self.value)
        except ValueError:
            return (
                f"Поле «{field_title(self.path)}»: «{self.value.strip()}» не является датой "
                "(формат ДД.ММ.ГГГГ)."
            )
        return None


class PickField(Widget, ModelField, can_focus=True):
    """A pick list in one line («01 – заболевание»): Enter (or typing) opens the list.

    Lighter than Textual's Select (one widget, no overlay), and its list opens as a dialog with
    a filter, which suits long code tables at 80x24.
    """

    DEFAULT_CSS = """
    PickField {
        height: 1;
        width: 1fr;
        max-width: 60;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        background: $boost;
        border-left: outer $panel;
    }
    PickField:focus {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
        border-left: outer $accent;
    }
    PickField:disabled {
        background: $background;
        border-left: outer $background;
        text-style: italic;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space,down", "pick", "Выбрать", show=False, id="pick.open"),
        Binding("delete,backspace", "clear", "Очистить", show=False, id="pick.clear"),
    ]

    value: reactive[str | None] = reactive(None)

    class Changed(Message):
        def __init__(self, field: PickField) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> PickField:
            return self.field

    def __init__(
        self,
        path: str,
        choices: Sequence[tuple[str, str]],
        value: str | None,
        *,
        title: str | None = None,
        disabled: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id or widget_id(path), disabled=disabled)
        self.path = path
        self.title = title or field_title(path)
        self.choices = list(choices)
        if value and value not in {code for code, _ in self.choices}:
            self.choices.append((value, f"{value} – нет в справочнике"))
        self.set_reactive(PickField.value, value or None)
        self.tooltip = self.title

    def render(self) -> str:
        if not self.value:
            return "—"
        return dict(self.choices).get(self.value, self.value)

    def action_pick(self, initial: str = "") -> None:
        from eln_tui.ui.dialogs.code_picker import CodePicker

        def picked(code: str | None) -> None:
            if code is None:
                return
            self.set_value(code or None)

        self.app.push_screen(CodePicker(self.title, self.choices, self.value, initial), picked)

    def action_clear(self) -> None:
        self.set_value(None)

    def set_value(self, value: str | None) -> None:
        if value != self.value:
            self.value = value
            self.post_message(self.Changed(self))

    def on_key(self, event: Key) -> None:
        if event.is_printable and event.character and event.character.strip():
            event.stop()
            self.action_pick(event.character)

    def model_value(self, base: Any) -> Any:
        return base if self.value == (base or None) else self.value


def CodeField(
    path: str,
    table: CodeTable,
    value: str | None,
    *,
    version: str = V20,
    disabled: bool = False,
    id: str | None = None,
) -> PickField:
    """A pick list of a code table («01 – заболевание»); never free text."""
    return PickField(path, table.choices(version), value, disabled=disabled, id=id)


class GenderField(PickField):
    def __init__(self, path: str, value: Gender | None, *, disabled: bool = False) -> None:
        super().__init__(
            path,
            [(str(int(Gender.MALE)), "Мужской"), (str(int(Gender.FEMALE)), "Женский")],
            str(int(value)) if value is not None else None,
            disabled=disabled,
        )

    def model_value(self, base: Any) -> Any:
        value = Gender(int(self.value)) if self.value else None
        return base if value == base else value


class Mark(Checkbox):
    """A checkbox that reads ``[X]`` / ``[ ]`` without colour."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble("[", ("X" if self.value else " ", style), "]")


class FlagField(Mark, ModelField):
    """A yes/no field; ``optional`` fields keep None (not given) when unticked."""

    def __init__(
        self,
        path: str,
        label: str,
        value: bool | None,
        *,
        optional: bool = False,
        disabled: bool = False,
    ) -> None:
        super().__init__(label, bool(value), compact=True, disabled=disabled, id=widget_id(path))
        self.path = path
        self.optional = optional

    def model_value(self, base: Any) -> Any:
        if self.value == bool(base):
            return base
        if self.optional and not self.value:
            return None
        return self.value
