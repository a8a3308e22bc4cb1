"""The list of a pick field: type to filter (by code or words), Enter to choose."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Key
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from eln_tui.ui.dialogs.base import Dialog

EMPTY = "\x00"  # the id of «— (не заполнено)»


class CodePicker(Dialog[str | None]):
    """Returns the chosen code, '' to clear the field, or None when cancelled."""

    DEFAULT_CSS = """
    CodePicker #choices {
        height: auto;
        max-height: 14;
    }
    """

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[str, str]],
        current: str | None,
        initial: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Input(
                self.initial,
                placeholder="код или слово из названия",
                compact=True,
                id="filter",
            )
            yield OptionList(id="choices", compact=True)
            yield Static("Enter — выбрать, Esc — отмена.", classes="dialog-text")

    def on_mount(self) -> None:
        self._fill(self.initial)
        self.query_one("#filter", Input).focus()
        self.query_one("#filter", Input).cursor_position = len(self.initial)

    def _matches(self, text: str) -> list[tuple[str, str]]:
        words = text.casefold().split()
        return [
            (code, title)
            for code, title in self.choices
            if all(w in title.casefold() for w in words) or code.startswith(text.strip())
        ]

    def _fill(self, text: str) -> None:
        options = self.query_one("#choices", OptionList)
        options.clear_options()
        found = self._matches(text)
        if not text.strip():
            options.add_option(Option("— (не заполнено)", id=EMPTY))
        options.add_options(Option(title, id=code) for code, title in found)
        if options.option_count:
            index = 0
            if not text.strip() and self.current:
                ids = [EMPTY] + [code for code, _ in found]
                index = ids.index(self.current) if self.current in ids else 0
            options.highlighted = index

    @on(Input.Changed, "#filter")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_key(self, event: Key) -> None:
        options = self.query_one("#choices", OptionList)
        field = self.query_one("#filter", Input)
        if self.focused is not field and event.is_printable and event.character:
            # typed on the list, or before the filter had focus (fast typing, paste)
            event.stop()
            field.focus()
            field.insert_text_at_cursor(event.character)
            return
        if event.key in ("down", "up", "pagedown", "pageup") and self.focused is not options:
            event.stop()
            options.focus()
            if event.key == "down":
                options.action_cursor_down()
            elif event.key == "up":
                options.action_cursor_up()

    @on(Input.Submitted, "#filter")
    def _submitted(self) -> None:
        options = self.query_one("#choices", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#choices")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is None:
            return
        self.dismiss("" if option_id == EMPTY else option_id)
