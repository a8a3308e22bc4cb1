"""The live ФЛК panel: every violation of the ELN on screen, in Russian; Enter on one moves focus
to its field."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from eln_tui.core.domain.flk import Violation
from eln_tui.ui.messages import FocusField


def _plural(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "ошибка"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "ошибки"
    return "ошибок"


class FlkPanel(Vertical):
    """Title line («ФЛК: 3 ошибки») and the list of violations (focusable, Ctrl+L)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._violations: list[Violation] = []
        self._shown = False

    def compose(self) -> ComposeResult:
        yield Static("ФЛК", id="flk-title")
        yield OptionList(id="flk-list", compact=True)

    @property
    def violations(self) -> list[Violation]:
        return list(self._violations)

    @property
    def list(self) -> OptionList:
        return self.query_one("#flk-list", OptionList)

    def show(self, violations: Sequence[Violation]) -> None:
        if self._shown and list(violations) == self._violations:
            return
        self._shown = True
        self._violations = list(violations)
        errors = [v for v in violations if v.is_error]
        warnings = len(violations) - len(errors)
        if not errors:
            title = "ФЛК: ошибок нет"
        else:
            title = f"ФЛК: {len(errors)} {_plural(len(errors))}"
        if warnings:
            title += f", предупреждений: {warnings}"
        title += "  (Ctrl+L — к списку, Enter — к полю)" if violations else ""
        self.query_one("#flk-title", Static).update(title)
        self.set_class(bool(errors), "-errors")
        options = self.list
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            Option(("" if v.is_error else "Предупреждение: ") + v.message, id=str(i))
            for i, v in enumerate(self._violations)
        )
        options.display = bool(self._violations)
        if highlighted is not None and self._violations:
            options.highlighted = min(highlighted, len(self._violations) - 1)

    @on(OptionList.OptionSelected, "#flk-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int(event.option.id or 0)
        if index < len(self._violations):
            self.post_message(FocusField(self._violations[index].field))
