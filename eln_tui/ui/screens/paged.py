"""Paged lists of the desks: «Мои ЭЛН», «Работа с ЕИИС Соцстрах», «Журнал системы».

Rows come from storage a page at a time (keyset paging): the next page is fetched when the
cursor nears the end, so a list of any size opens and filters at once. Every request carries a
token and an answer to an older search, view or filter is dropped. A reload keeps the rows until
the answer comes, and an unchanged first page redraws nothing: each typed letter of a search
would otherwise repaint the whole list over SSH (bench/bench_tui.py).

:class:`PagedListScreen` holds these mechanics; a subclass names its table (``TABLE_ID``), builds
the columns, renders rows, shows the current row and starts the worker that posts a
:class:`ListPage`. :class:`ElnListScreen` adds what the two ELN lists share: the search field
and opening the chosen ELN in the editor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import Resize
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from eln_tui.core.domain.model import Eln
from eln_tui.core.storage import JournalRow
from eln_tui.ui.messages import OperationFailed
from eln_tui.ui.screens.base import DeskScreen
from eln_tui.ui.screens.eln_editor import ElnEditorScreen

PAGE = 100
#: Fetch the next page when the cursor is this close to the last loaded row.
PREFETCH = 10
#: A search or filter applies after this pause in typing.
SEARCH_DELAY_S = 0.3
#: From this many columns a list shows its wide layout.
WIDE = 110


class Keyed(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=Keyed)


class ListPage(Message, Generic[RowT]):
    """A page of a list arrived; ``token`` tells stale answers from the current one."""

    def __init__(
        self,
        rows: list[RowT],
        next_after: int | None,
        *,
        total: int | None = None,
        append: bool,
        token: int,
    ) -> None:
        super().__init__()
        self.rows = rows
        self.next_after = next_after  # the key of the next page; None at the end
        self.total = total  # the whole list's size, when counted with the first page
        self.append = append
        self.token = token


class ListTable(DataTable[Text]):
    """A list of rows that fit the width: Home/End go to the first/last loaded row (the last
    one pulls the next page), as a thin client's keyboard expects."""

    def action_scroll_home(self) -> None:
        self.action_scroll_top()

    def action_scroll_end(self) -> None:
        self.action_scroll_bottom()


class PagedListScreen(DeskScreen, Generic[RowT]):
    """A desk whose main widget is a paged DataTable (``#TABLE_ID``) of ``rows``."""

    REPAINT_ON_FOCUS = False  # a list: focus moves repaint only the widgets concerned

    #: The id of the DataTable.
    TABLE_ID: ClassVar[str]
    #: The screen's title in the header.
    HEADING: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RowT] = []
        self.next_after: int | None = None
        self.total: int | None = None
        self._token = 0
        self._loading = False
        self._timer: Timer | None = None
        self._wide: bool | None = None
        self._layout: tuple[bool, object] | None = None
        self._ready = False
        self._restore: int | None = None  # the row id to put the cursor on after a reload

    def on_mount(self) -> None:
        self.title = self.HEADING
        self.sub_title = self.desk.user.full_name
        self._columns()
        self._ready = True
        self.reload()
        self.table.focus()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(f"#{self.TABLE_ID}", DataTable)

    # --- columns and rows (the subclass) ----------------------------------------------------

    def _layout_key(self) -> object:
        """Besides the width, what the columns depend on (the journal's view)."""
        return None

    def _add_columns(self, table: DataTable[Any], width: int, wide: bool) -> None:
        raise NotImplementedError

    def _add_rows(self, rows: Iterable[RowT]) -> None:
        raise NotImplementedError

    def _request(self, after: int | None, append: bool, token: int) -> None:
        """Start the worker that posts a :class:`ListPage` (``after`` is None: the first page)."""
        raise NotImplementedError

    def _detail(self) -> None:
        """Describe the current row (or why there is none) under the table."""
        raise NotImplementedError

    def _shown(self) -> None:
        """A page arrived (or failed): counts and labels may follow (override)."""

    # --- table ----------------------------------------------------------------------------

    def _columns(self) -> None:
        width = self.app.size.width
        wide = width >= WIDE
        layout = (wide, self._layout_key())
        if layout == self._layout:
            return
        self._layout, self._wide = layout, wide
        table = self.table
        table.clear(columns=True)
        self._add_columns(table, width, wide)
        self._add_rows(self.rows)

    def on_resize(self, event: Resize) -> None:
        if self.is_mounted and self._ready:
            self._columns()

    # --- paging ---------------------------------------------------------------------------

    def reload(self) -> None:
        # The rows stay until the answer comes: an unchanged first page redraws nothing.
        self._fetch(append=False)

    def _fetch(self, *, append: bool) -> None:
        self._token += 1
        self._loading = True
        self._request(self.next_after if append else None, append, self._token)

    @on(ListPage)
    def _page(self, message: ListPage[RowT]) -> None:
        if message.token != self._token:
            return  # an answer to an older search, view or filter
        self._loading = False
        if not message.append:
            self.total = message.total
            if message.rows == self.rows and message.next_after == self.next_after:
                self._restore = None
                self._shown()
                self._detail()
                return
            self.rows = []
            self.table.clear()
        self.rows.extend(message.rows)
        self.next_after = message.next_after
        self._add_rows(message.rows)
        self._shown()
        if self._restore is not None:
            ids = [r.id for r in self.rows]
            if self._restore in ids:
                self.table.move_cursor(row=ids.index(self._restore))
            self._restore = None
        self._detail()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != self.TABLE_ID:
            return
        self._detail()
        near_end = event.cursor_row >= self.table.row_count - PREFETCH
        if near_end and self.next_after is not None and not self._loading:
            self._fetch(append=True)

    def current_row(self) -> RowT | None:
        table = self.table
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_refresh(self) -> None:
        row = self.current_row()
        self._restore = row.id if row is not None else None
        self.reload()

    def on_screen_resume(self) -> None:
        # Back from the editor or a dialog: states may have changed.
        if self.is_mounted and self._ready:
            self.action_refresh()

    @on(OperationFailed)
    def _failed(self, message: OperationFailed) -> None:
        message.stop()
        self._loading = False
        self._shown()

    # --- typing pause ---------------------------------------------------------------------

    def _debounce(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once typing pauses for :data:`SEARCH_DELAY_S`."""
        self._stop_timer()
        self._timer = self.set_timer(SEARCH_DELAY_S, callback)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None


# The ELN lists' common keys, in each screen's own order and with its ids ("journal.search").


def open_binding(screen: str) -> Binding:
    return Binding("enter", "open", "Открыть", tooltip="Открыть выбранный ЭЛН", id=f"{screen}.open")


def search_binding(screen: str) -> Binding:
    return Binding(
        "f3,ctrl+f",
        "search",
        "Поиск",
        tooltip="Поиск по номеру, СНИЛС, фамилии",
        id=f"{screen}.search",
    )


def refresh_binding(screen: str) -> Binding:
    return Binding("f5", "refresh", "Обновить", tooltip="Обновить список", id=f"{screen}.refresh")


def clear_search_binding(screen: str) -> Binding:
    return Binding(
        "escape",
        "clear_search",
        "Сброс",
        show=False,
        tooltip="Очистить поиск",
        id=f"{screen}.clear",
    )


class OpenEditor(Message):
    def __init__(self, eln: Eln, *, stored: Eln | None, start_action: str | None = None) -> None:
        super().__init__()
        self.eln = eln
        self.stored = stored
        self.start_action = start_action


class ElnListScreen(PagedListScreen[JournalRow]):
    """A list of ELNs: the search field (``#search``, by number, SNILS or surname; Esc clears
    it) and Enter opening the chosen ELN in the editor. The bindings come from
    :func:`open_binding`, :func:`search_binding`, :func:`refresh_binding` and
    :func:`clear_search_binding` (in the subclass's order, with its ids)."""

    #: The DataTable's class (``TABLE_ID`` is its id).
    TABLE_CLASS: ClassVar[type[DataTable[Any]]] = DataTable

    def __init__(self) -> None:
        super().__init__()
        self._search: str | None = None  # the search of the rows shown

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        yield from self.compose_top()
        with Horizontal(id="search-bar"):
            yield Label("Поиск:", id="search-label")
            yield Input(placeholder="номер ЭЛН, СНИЛС или фамилия", compact=True, id="search")
            yield Static("", id="scope")
        yield self.TABLE_CLASS(id=self.TABLE_ID, cursor_type="row", zebra_stripes=False)
        yield Static("", id="row-detail")
        yield Footer(compact=True)

    def compose_top(self) -> ComposeResult:
        """What stands between the header and the search field (override)."""
        return ()

    def search_text(self) -> str | None:
        """What the search field asks for; remembered as the search of the rows shown."""
        self._search = self.query_one("#search", Input).value.strip() or None
        return self._search

    # --- search ---------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._stop_timer()
        if (event.value.strip() or None) != self._search:
            self._debounce(self.reload)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self._stop_timer()
        self.reload()
        self.table.focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
            self._stop_timer()
            self.reload()
        self.table.focus()

    # --- opening --------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != self.TABLE_ID:
            return
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        if isinstance(self.focused, Input):
            return
        row = self.current_row()
        if row is not None:
            self.load(row.id)

    @work(thread=True, exit_on_error=False, group="open", description="Открытие ЭЛН")
    def load(self, eln_id: int, start_action: str | None = None, take_over: bool = False) -> None:
        """Open the ELN in the editor; ``take_over``: a doctor takes over an ELN of another МО
        (received from the Fund, no doctor of ours yet)."""
        desk = self.desk
        with desk.db():
            if desk.settings is None:
                desk.load_settings()
            eln = desk.store.load(eln_id)
        shown = eln
        if take_over and eln.doctor_id is None:
            shown = eln.copy()
            shown.doctor_id = desk.user.id
        self.post_message(OpenEditor(shown, stored=eln, start_action=start_action))

    @on(OpenEditor)
    def _open_editor(self, message: OpenEditor) -> None:
        message.stop()
        editor = ElnEditorScreen(
            message.eln, stored=message.stored, start_action=message.start_action
        )
        self._push(editor)

    def _push(self, screen: ElnEditorScreen) -> None:
        self.app.push_screen(screen)
