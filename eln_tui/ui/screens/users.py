"""«Пользователи»: the profiles that map OS accounts to people, roles and signing certificates.

The seed's «личный профайл» (seed 000, «Настройка личных профайлов пользователей»): the
certificate's serial number is chosen from what the workstation's provider sees rather than
typed. Rows are paged by id from the database. Every change goes through the core
(``add_user``, ``update_user``, ``set_roles``), which writes it to the audit journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
)

from eln_tui.core.domain.codes import Role
from eln_tui.core.errors import ElnError
from eln_tui.core.storage import UserInfo
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.screens.base import DeskScreen
from eln_tui.ui.screens.paged import ListTable
from eln_tui.ui.widgets.fields import Mark
from providers.base import CertificateInfo, normalize_hex
from providers.errors import ProviderError

PAGE = 100
NO_CERT = "-"


def roles_text(roles: Iterable[Role]) -> str:
    return ", ".join(r.label for r in sorted(roles, key=list(Role).index)) or "нет ролей"


class UsersLoaded(Message):
    def __init__(self, users: list[UserInfo], *, append: bool, more: bool) -> None:
        super().__init__()
        self.users = users
        self.append = append
        self.more = more


class UserSaved(Message):
    def __init__(self, user: UserInfo) -> None:
        super().__init__()
        self.user = user


class UserDialog(Dialog[UserInfo | None]):
    """Add a profile (``user`` None) or edit one; saving runs in the dialog's worker so that a
    refusal (login taken, empty name) keeps it open with the reason."""

    DEFAULT_CSS = """
    UserDialog #dialog {
        width: 78;
    }
    UserDialog #user-form {
        height: auto;
        max-height: 16;
    }
    UserDialog .row > Label {
        width: 16;
    }
    UserDialog #roles {
        height: auto;
        layout: grid;
        grid-size: 2;
        grid-rows: 1;
        grid-columns: 1fr 1fr;
    }
    UserDialog #roles Checkbox {
        width: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2,ctrl+s", "ok", "Сохранить", tooltip="Сохранить профиль", id="users.save"),
    ]

    class CertsLoaded(Message):
        def __init__(self, certs: list[CertificateInfo], error: str | None) -> None:
            super().__init__()
            self.certs = certs
            self.error = error

    class Failed(Message):
        def __init__(self, error: ElnError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, desk: Desk, user: UserInfo | None) -> None:
        super().__init__()
        self.desk = desk
        self.user = user
        self.certs: list[CertificateInfo] = []

    def compose(self) -> ComposeResult:
        user = self.user
        with Vertical(id="dialog"):
            yield Static(
                "Новый пользователь" if user is None else f"Пользователь «{user.login}»",
                classes="dialog-title",
            )
            with VerticalScroll(id="user-form", can_focus=False):
                with Horizontal(classes="row"):
                    yield Label("Учётная запись*")
                    yield Input(
                        user.login if user else "",
                        compact=True,
                        id="login",
                        max_length=150,
                        disabled=user is not None,
                        placeholder="имя входа в ОС (SSH)",
                    )
                with Horizontal(classes="row"):
                    yield Label("ФИО *")
                    yield Input(user.full_name if user else "", compact=True, id="full_name")
                with Horizontal(classes="row"):
                    yield Label("Должность")
                    yield Input(
                        (user.position or "") if user else "",
                        compact=True,
                        id="position",
                        max_length=300,
                    )
                yield Static("Роли:", classes="dialog-text")
                with Vertical(id="roles"):
                    for role in Role:
                        yield Mark(
                            role.label,
                            bool(user and role in user.roles),
                            compact=True,
                            id=f"role-{role.value}",
                        )
                with Horizontal(classes="row"):
                    yield Label("Сертификат")
                    yield Select(
                        [("не задан", NO_CERT)],
                        allow_blank=False,
                        value=NO_CERT,
                        compact=True,
                        id="cert",
                    )
                with Horizontal(classes="row"):
                    yield Label("")
                    yield Mark(
                        "учётная запись действует",
                        user.active if user else True,
                        compact=True,
                        id="active",
                    )
            yield Static("", classes="dialog-error", id="user-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Сохранить", id="ok", variant="primary")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#full_name" if self.user else "#login", Input).focus()
        self.load_certs()

    @work(thread=True, exit_on_error=False, description="Сертификаты")
    def load_certs(self) -> None:
        provider = self.desk.provider
        if provider is None:
            self.post_message(self.CertsLoaded([], "Средство подписи рабочего места не выбрано."))
            return
        try:
            certs = provider.list_certificates()
        except ProviderError as exc:
            self.post_message(self.CertsLoaded([], exc.message))
            return
        self.post_message(self.CertsLoaded(certs, None))

    @on(CertsLoaded)
    def _certs(self, message: CertsLoaded) -> None:
        self.certs = message.certs
        options: list[tuple[str, str]] = [("не задан", NO_CERT)]
        seen = set()
        now = datetime.now(UTC)
        for info in self.certs:
            if info.serial_hex in seen:
                continue
            seen.add(info.serial_hex)
            expired = " (истёк)" if info.not_after < now else ""
            # one line in the 76-column dialog: the serial in full, the owner shortened
            options.append((f"{info.serial_hex} {info.common_name:.22}{expired}", info.serial_hex))
        current = self.user.cert_serial if self.user else None
        value = NO_CERT
        if current:
            match = [s for s in seen if normalize_hex(s) == normalize_hex(current)]
            if match:
                value = match[0]
            else:
                options.append((f"{current} (не найден у средства подписи)", current))
                value = current
        select = self.query_one("#cert", Select)
        select.set_options(options)
        select.value = value
        if message.error:
            self.query_one("#user-error", Static).update(
                f"Список сертификатов недоступен: {message.error}"
            )

    def _roles(self) -> frozenset[Role]:
        return frozenset(r for r in Role if self.query_one(f"#role-{r.value}", Checkbox).value)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def action_ok(self) -> None:
        error = self.query_one("#user-error", Static)
        login = self.query_one("#login", Input).value.strip()
        full_name = " ".join(self.query_one("#full_name", Input).value.split())
        roles = self._roles()
        active = self.query_one("#active", Checkbox).value
        if not login:
            error.update("Поле «Учётная запись ОС» обязательно для заполнения.")
            self.query_one("#login", Input).focus()
            return
        if not full_name:
            error.update("Поле «ФИО» обязательно для заполнения.")
            self.query_one("#full_name", Input).focus()
            return
        if not roles:
            error.update("Отметьте хотя бы одну роль пользователя.")
            self.query_one(f"#role-{Role.DOCTOR.value}", Checkbox).focus()
            return
        me = self.desk.user
        if (
            self.user is not None
            and self.user.id == me.id
            and (not active or Role.ADMIN not in roles)
        ):
            error.update(
                "Собственную учётную запись нельзя отключить и лишить роли «Администратор»: "
                "это может сделать другой администратор."
            )
            return
        cert = self.query_one("#cert", Select).value
        serial = cert if isinstance(cert, str) and cert != NO_CERT else None
        algorithm = next((c.algorithm for c in self.certs if c.serial_hex == serial), None)
        position = self.query_one("#position", Input).value.strip() or None
        self.query_one("#ok", Button).disabled = True
        error.update("Сохранение…")
        self.save(login, full_name, position, roles, serial, algorithm, active)

    @work(thread=True, exclusive=True, exit_on_error=False, description="Сохранение профиля")
    def save(
        self,
        login: str,
        full_name: str,
        position: str | None,
        roles: frozenset[Role],
        serial: str | None,
        algorithm: str | None,
        active: bool,
    ) -> None:
        desk = self.desk
        actor = desk.user.signer
        try:
            with desk.db(), desk.store.db.atomic():
                if self.user is None:
                    saved = desk.store.add_user(
                        login,
                        full_name,
                        roles,
                        actor=actor,
                        position=position,
                        cert_serial=serial,
                        cert_algorithm=algorithm,
                    )
                    if not active:
                        saved = desk.store.update_user(
                            saved.id,
                            actor=actor,
                            full_name=full_name,
                            position=position,
                            cert_serial=serial,
                            active=False,
                        )
                else:
                    saved = desk.store.update_user(
                        self.user.id,
                        actor=actor,
                        full_name=full_name,
                        position=position,
                        cert_serial=serial,
                        active=active,
                    )
                    if roles != saved.roles:
                        saved = desk.store.set_roles(saved.id, roles, actor=actor)
        except ElnError as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(UserSaved(saved))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.query_one("#user-error", Static).update(message.error.message)
        self.query_one("#ok", Button).disabled = False
        field = message.error.field or ("login" if "учётной запис" in message.error.message else "")
        if field in ("login", "full_name"):
            self.query_one(f"#{field}", Input).focus()

    @on(UserSaved)
    def _saved(self, message: UserSaved) -> None:
        message.stop()
        self.dismiss(message.user)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class UsersScreen(DeskScreen):
    DEFAULT_CSS = """
    UsersScreen #users {
        height: 1fr;
    }
    UsersScreen #user-detail {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "edit", "Изменить", tooltip="Изменить профиль", id="users.edit"),
        Binding("f4,insert", "new", "Новый", tooltip="Новый пользователь", id="users.new"),
        Binding(
            "f8",
            "toggle_active",
            "Вкл/откл",
            tooltip="Отключить или включить учётную запись",
            id="users.active",
        ),
        Binding("f5", "refresh", "Обновить", tooltip="Обновить список", id="users.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.users: list[UserInfo] = []
        self.more = False
        self._loading = False
        self._restore: int | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        yield ListTable(id="users", cursor_type="row", zebra_stripes=False)
        yield Static("", id="user-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Пользователи"
        self.sub_title = self.desk.user.full_name
        width = self.app.size.width
        table = self.query_one("#users", DataTable)
        login, name, cert = (18, 34, 20) if width >= 110 else (14, 20, 12)
        roles = max(12, width - login - name - cert - 9 - 12)  # padding and scrollbar
        table.add_column("Учётная запись", width=login, key="login")
        table.add_column("ФИО", width=name, key="name")
        table.add_column("Роли", width=roles, key="roles")
        table.add_column("Сертификат", width=cert, key="cert")
        table.add_column("Действует", width=9, key="active")
        table.focus()
        self.reload()

    def reload(self) -> None:
        row = self._current()
        self._restore = row.id if row is not None else self._restore
        self.users = []
        self.query_one("#users", DataTable).clear()
        self._loading = True
        self.fetch(None, append=False)

    def action_refresh(self) -> None:
        self.reload()

    @work(thread=True, exit_on_error=False, group="users", description="Список пользователей")
    def fetch(self, after: int | None, *, append: bool) -> None:
        desk = self.desk
        with desk.db():
            users = desk.store.list_users(after=after, limit=PAGE + 1)
        self.post_message(UsersLoaded(users[:PAGE], append=append, more=len(users) > PAGE))

    @on(UsersLoaded)
    def _loaded(self, message: UsersLoaded) -> None:
        message.stop()
        self._loading = False
        self.more = message.more
        table = self.query_one("#users", DataTable)
        for user in message.users:
            style = "" if user.active else "dim"
            cert = user.cert_serial or "—"
            table.add_row(
                Text(user.login, style=style),
                Text(user.full_name, style=style),
                Text(roles_text(user.roles), style=style),
                Text(cert, style=style),
                Text("да" if user.active else "НЕТ", style=style),
                key=str(user.id),
            )
        self.users.extend(message.users)
        if self._restore is not None:
            ids = [u.id for u in self.users]
            if self._restore in ids:
                table.move_cursor(row=ids.index(self._restore))
                self._restore = None
        self._detail()

    @on(DataTable.RowHighlighted, "#users")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()
        table = self.query_one("#users", DataTable)
        if event.cursor_row >= table.row_count - 10 and self.more and not self._loading:
            self._loading = True
            self.fetch(self.users[-1].id, append=True)

    def _current(self) -> UserInfo | None:
        if not self.is_mounted:
            return None
        table = self.query_one("#users", DataTable)
        if not self.users or table.cursor_row is None or table.cursor_row >= len(self.users):
            return None
        return self.users[table.cursor_row]

    def _detail(self) -> None:
        user = self._current()
        detail = self.query_one("#user-detail", Static)
        if user is None:
            detail.update("Пользователей нет: F4 — новый пользователь.")
            return
        state = "действует" if user.active else "ОТКЛЮЧЕНА"
        detail.update(
            f"{user.full_name} ({user.login}), {user.position or 'должность не указана'}. "
            f"Роли: {roles_text(user.roles)}. Сертификат: {user.cert_serial or 'не задан'}. "
            f"Учётная запись {state}."
        )

    # --- editing ----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#users")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_edit(self) -> None:
        user = self._current()
        if user is not None:
            self._open(user)

    def action_new(self) -> None:
        self._open(None)

    def _open(self, user: UserInfo | None) -> None:
        def done(saved: UserInfo | None) -> None:
            if saved is None:
                return
            if saved.id == self.desk.user.id:
                self.desk.user = saved
            self._restore = saved.id
            self.notify(f"Профиль «{saved.login}» сохранён.", timeout=4)
            self.reload()

        self.app.push_screen(UserDialog(self.desk, user), done)

    def action_toggle_active(self) -> None:
        user = self._current()
        if user is None:
            return
        if user.id == self.desk.user.id:
            self.notify("Собственную учётную запись отключить нельзя.", severity="error")
            return
        self.toggle_active(user)

    @work(thread=True, exit_on_error=False, group="users", description="Учётная запись")
    def toggle_active(self, user: UserInfo) -> None:
        desk = self.desk
        with desk.db():
            saved = desk.store.update_user(
                user.id,
                actor=desk.user.signer,
                full_name=user.full_name,
                position=user.position,
                cert_serial=user.cert_serial,
                active=not user.active,
            )
        self.post_message(UserSaved(saved))

    @on(UserSaved)
    def _toggled(self, message: UserSaved) -> None:
        message.stop()
        user = message.user
        state = "включена" if user.active else "отключена"
        self.notify(f"Учётная запись «{user.login}» {state}.", timeout=4)
        self._restore = user.id
        self.reload()
