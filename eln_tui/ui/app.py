"""``eln-tui``: the workstation's terminal UI (Textual), run by doctors over SSH.

The app receives everything it works with in its constructor — the store, the signing provider,
the user (or None), the UI settings, the registry of desks — and keeps no globals. ``main()``
builds them from the command line, the workstation files and the OS account of the session.

Failures of any worker end in one place (:meth:`ElnApp._worker_failed`): a dialog with the
Russian message of the core or the provider, then focus on the field concerned.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from textual import events, on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from eln_tui.core.errors import ElnError, NotFound
from eln_tui.core.storage import ElnStore, UserInfo, default_url, open_database, upgrade
from eln_tui.ui.commands import ElnCommands, ScreenCommand
from eln_tui.ui.config import UiConfig, default_theme, in_ssh_session
from eln_tui.ui.desk import Desk
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.messages import OperationFailed
from eln_tui.ui.registry import ScreenRegistry, default_registry
from eln_tui.ui.screens.notice import NoticeScreen
from gostsign.errors import GostError
from providers.base import Provider
from providers.errors import ProviderError

NO_PROFILE_TITLE = "Доступ к рабочему месту ЭЛН не настроен"
ENV_ALLOW_USER = "ELN_TUI_ALLOW_USER"
ENV_DB = "ELN_DB_URL"
_FKEY = re.compile(r"^f\d{1,2}$")


def no_profile_text(login: str) -> str:
    return (
        f"Учётная запись «{login}» не сопоставлена профилю пользователя ЭЛН. Обратитесь к "
        "администратору: он назначит вам роль и сертификат электронной подписи."
    )


def error_text(error: BaseException) -> str:
    """One Russian sentence for any failure a worker can meet."""
    message = getattr(error, "message", None)
    if isinstance(error, ElnError | ProviderError) and isinstance(message, str) and message:
        return message
    if isinstance(error, GostError):
        return f"Ошибка криптографии: {error}."
    name = type(error).__module__
    if name.startswith(("peewee", "sqlite3", "psycopg2")):
        return (
            f"Ошибка базы данных: {error}. Повторите действие; если ошибка повторится, "
            "сообщите администратору."
        )
    return (
        f"Внутренняя ошибка ({type(error).__name__}: {error}). Повторите действие; если ошибка "
        "повторится, сообщите администратору."
    )


class ElnApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "ЭЛН"
    COMMANDS: ClassVar[set[Any]] = {ElnCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f10,ctrl+q",
            "quit",
            "Выход",
            key_display="F10",
            tooltip="Выйти из программы",
            id="app.quit",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Команды",
            show=False,
            tooltip="Все команды",
            priority=True,
            id="app.command_palette",
        ),
        Binding(
            "f1", "toggle_help", "Справка", show=False, tooltip="Клавиши и справка", id="app.help"
        ),
    ]

    def __init__(
        self,
        store: ElnStore,
        provider: Provider | None,
        user: UserInfo | None,
        *,
        config: UiConfig | None = None,
        login: str = "",
        registry: ScreenRegistry | None = None,
        banner: str | None = None,
        startup_warnings: Sequence[str] = (),
        fss: Mapping[str, Any] | None = None,
    ) -> None:
        """``user`` None: the account has no profile — the app shows that and nothing else."""
        super().__init__()
        self.config = config or UiConfig()
        self.store = store
        self.login = login or (user.login if user else "")
        self.desk = (
            Desk(store, provider, user, self.config, fss=dict(fss or {}))
            if user and user.active
            else None
        )
        self.registry = registry or default_registry()
        self.banner = banner
        self.startup_warnings = list(startup_warnings)
        #: Off over SSH (see :func:`_run`): a blinking cursor sends bytes twice a second forever.
        self.cursor_blink = True
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        if self.config.theme and self.config.theme in self.available_themes:
            self.theme = self.config.theme
        if self.desk is None:
            self.use_command_palette = False

    def on_mount(self) -> None:
        if self.desk is None:
            self.push_screen(NoticeScreen(NO_PROFILE_TITLE, no_profile_text(self.login)))
            return
        user = self.desk.user
        home = self.registry.home_for(user)
        if home is None:
            roles = ", ".join(sorted(r.label for r in user.roles)) or "нет ролей"
            self.push_screen(
                NoticeScreen(
                    "Нет доступных экранов",
                    f"Для ваших ролей ({roles}) на этом рабочем месте нет экранов. Обратитесь к "
                    "администратору.",
                )
            )
            return
        for spec in self.registry.available(user):
            self.add_mode(spec.name, spec.factory)
            keys = self.config.keymap.get(f"desk.{spec.name}", spec.key)  # remappable by id
            if keys:
                # not in the footer (its 80 columns are the desk's): F1 and Ctrl+P list them
                self.bind(keys, f"open_desk('{spec.name}')", description=spec.title, show=False)
        self.switch_mode(home.name)
        if self.banner:
            self.notify(self.banner, title="Демонстрационный режим", timeout=15)
        for warning in self.startup_warnings:
            self.notify(warning, severity="warning", timeout=15)

    @on(events.DescendantFocus)
    def _cursor_blink(self, event: events.DescendantFocus) -> None:
        if not self.cursor_blink and isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    # --- keys and the command palette ------------------------------------------------------

    def get_key_display(self, binding: Binding) -> str:
        """F-keys as «F5», «Esc», «Ctrl+S»: what the keyboard of a thin client says."""
        key = binding.key
        if binding.key_display:
            return binding.key_display
        if _FKEY.match(key):
            return key.upper()
        if key == "escape":
            return "Esc"
        if re.fullmatch(r"ctrl\+[a-z]", key):
            return "Ctrl+" + key[-1].upper()
        return super().get_key_display(binding)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(
                CommandPalette(placeholder="Команда или экран…", id="--command-palette")
            )

    def action_toggle_help(self) -> None:
        from eln_tui.ui.dialogs.help import KeysHelp

        if not isinstance(self.screen, KeysHelp):
            self.push_screen(KeysHelp(self.screen))

    def action_open_desk(self, name: str) -> None:
        if name in self.registry and self.current_mode != name:
            self.switch_mode(name)

    def commands(self) -> Iterable[ScreenCommand]:
        """Desks to go to, and the app's own commands, for the palette."""
        if self.desk is not None:
            for spec in self.registry.available(self.desk.user):
                if spec.name != self.current_mode:
                    yield ScreenCommand(
                        f"Перейти: {spec.title}",
                        lambda name=spec.name: self.action_open_desk(name),  # type: ignore[misc]
                        help=spec.help,
                    )
        yield ScreenCommand("Клавиши и справка", self.action_toggle_help, key="F1")
        yield ScreenCommand("Сменить тему оформления", self.action_change_theme)
        yield ScreenCommand("Выход из программы", self.action_quit, key="F10")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[Any]:
        return ()  # ours are Russian, see commands()

    # --- one place for every worker failure -----------------------------------------------

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.report_worker_error(event.worker)

    def report_worker_error(self, worker: Worker[Any]) -> None:
        """Show the failure of ``worker`` and tell its screen (focus goes to the field).

        Worker.StateChanged does not bubble: screens and dialogs forward their workers'
        failures here (``DeskScreen`` and ``Dialog`` do it for every subclass).
        """
        error = worker.error
        if error is None:
            return
        node = worker.node
        screen = node if isinstance(node, Screen) else getattr(node, "screen", None)
        field = getattr(error, "field", None)

        def after(_: object) -> None:
            focus = getattr(screen, "focus_path", None)
            if field and callable(focus) and screen is self.screen:
                focus(field)

        title = worker.description or "Ошибка"
        self.push_screen(MessageDialog(title, error_text(error)), after)
        if isinstance(node, Widget | Screen) and node.is_attached:
            node.post_message(OperationFailed(error, worker.name))


# --- command line ---------------------------------------------------------------------------


def os_login() -> str:
    """The account of this session (SSH login)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "")


def _may_choose_user() -> bool:
    return os.geteuid() == 0 or os.environ.get(ENV_ALLOW_USER) == "1"


def _subclasses(cls: type[Any]) -> list[type[Any]]:
    found: list[type[Any]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def binding_table() -> list[tuple[str, str, str]]:
    """(id, keys, description) of every binding, for ``--keys`` and the docs: the app, every
    screen and dialog of the package and the desk keys of the registry."""
    import importlib
    import pkgutil

    from textual.screen import Screen as TextualScreen

    from eln_tui.ui import dialogs, screens, widgets

    for package in (screens, dialogs, widgets):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    ours = [
        c
        for c in (*_subclasses(TextualScreen), *_subclasses(Widget))
        if c.__module__.startswith("eln_tui.")
    ]
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    classes: list[type[Any]] = [
        ElnApp,
        *sorted(set(ours), key=lambda c: (c.__module__, c.__name__)),
    ]
    for cls in classes:
        for binding in cls.BINDINGS:
            if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                seen.add(binding.id)
                rows.append((binding.id, binding.key, binding.tooltip or binding.description))
    for spec in default_registry():
        if spec.key:
            rows.append((f"desk.{spec.name}", spec.key, spec.title))
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eln-tui", description="Рабочее место ЭЛН: выписка электронных листков."
    )
    parser.add_argument(
        "--db", metavar="URL", help=f"база данных (sqlite:///путь или postgresql://…); ${ENV_DB}"
    )
    parser.add_argument(
        "--user",
        metavar="LOGIN",
        help=f"учётная запись вместо текущей (только root или при {ENV_ALLOW_USER}=1)",
    )
    parser.add_argument("--keys", action="store_true", help="показать идентификаторы клавиш")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="демонстрационный режим: учебная база, программные ключи и встроенный эмулятор СФР",
    )
    parser.add_argument(
        "--demo-dir",
        metavar="DIR",
        help="каталог демонстрационного режима (сохраняется между запусками; подразумевает --demo)",
    )
    mouse = parser.add_mutually_exclusive_group()
    mouse.add_argument("--mouse", dest="mouse", action="store_true", default=None)
    mouse.add_argument("--no-mouse", dest="mouse", action="store_false")
    return parser


def _load_provider(raw_provider: str | None, settings: dict[str, Any]) -> Provider | None:
    if not raw_provider:
        return None
    from providers.registry import create_provider

    return create_provider(raw_provider, settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.keys:
        for binding_id, keys, description in binding_table():
            print(f"{binding_id:28} {keys:16} {description}")
        return 0
    if args.demo or args.demo_dir:
        return run_demo(args)
    login = os_login()
    if args.user and args.user != login:
        if not _may_choose_user():
            print(
                "eln-tui: параметр --user доступен только администратору: пользователь "
                "определяется учётной записью сеанса.",
                file=sys.stderr,
            )
            return 2
        login = args.user
    warnings: list[str] = []
    try:
        from providers.config import load_config

        workstation = load_config()
        config = UiConfig.from_mapping(workstation.raw)
    except ProviderError as exc:
        print(f"eln-tui: {exc.message}", file=sys.stderr)
        return 2
    try:
        provider = _load_provider(
            workstation.provider, workstation.settings_for(workstation.provider or "")
        )
    except ProviderError as exc:
        provider = None
        warnings.append(f"Средство подписи недоступно: {exc.message}")
    try:
        section = workstation.raw.get("database", {})
        configured = section.get("url") if isinstance(section, dict) else None
        db = open_database(args.db or os.environ.get(ENV_DB) or configured or default_url())
        upgrade(db)
        store = ElnStore(db)
        try:
            user: UserInfo | None = store.user_by_login(login)
        except NotFound:
            user = None
    except ElnError as exc:
        print(f"eln-tui: {exc.message}", file=sys.stderr)
        return 2
    fss = workstation.raw.get("fss", {})
    config.theme = config.theme or default_theme()
    app = ElnApp(
        store,
        provider,
        user,
        config=config,
        login=login,
        startup_warnings=warnings,
        fss=fss if isinstance(fss, dict) else {},
    )
    _run(app, args.mouse, config)
    return 0


def _run(app: ElnApp, mouse: bool | None, config: UiConfig) -> None:
    if mouse is None:
        mouse = config.mouse
    if mouse is None:
        mouse = not in_ssh_session()
    if in_ssh_session():
        app.animation_level = "none"
        app.cursor_blink = False
    app.run(mouse=mouse)


def run_demo(args: argparse.Namespace) -> int:
    """``--demo``: a throw-away workstation (or ``--demo-dir``, kept) against the emulator."""
    import shutil
    from pathlib import Path

    from eln_tui.ui.demo import banner, create_demo

    keep = Path(args.demo_dir).expanduser() if args.demo_dir else None
    try:
        workspace = create_demo(keep, login=os_login())
    except (ElnError, ProviderError) as exc:
        print(f"eln-tui: {exc.message}", file=sys.stderr)
        return 2
    try:
        user = workspace.user
        if args.user:
            if args.user not in workspace.users:
                known = ", ".join(sorted(workspace.users))
                print(
                    f"eln-tui: в демонстрационной базе нет пользователя «{args.user}» "
                    f"(есть: {known}).",
                    file=sys.stderr,
                )
                return 2
            user = workspace.users[args.user]
        config = UiConfig(print_dir=workspace.directory / "print")
        config.theme = default_theme()
        app = ElnApp(
            workspace.store,
            workspace.provider,
            user,
            config=config,
            login=user.login,
            banner=banner(workspace),
            fss=workspace.fss,
        )
        _run(app, args.mouse, config)
    finally:
        workspace.close()
        if keep is None:
            shutil.rmtree(workspace.directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
