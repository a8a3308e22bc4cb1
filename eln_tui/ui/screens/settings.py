"""«Настройки интеграции с ЕИИС Соцстрах» (seed 000, «Программа активации» and «ЦС – Настройки
интеграции»): the admin's form over ``ElnStore.load_settings/save_settings``.

«Статус» off makes the other fields inactive, as in the seed. The server address is chosen by
contour — the Fund's production or test addresses (``ENDPOINTS``, per protocol version) or the
local emulator with its own URL. Saving is refused by the core (``settings_problems``) with the
seed's messages; the cursor then goes to the field the first message names. The Fund's
certificate is shown for the contour chosen in the form and a new one (a PEM or DER file) is
written into the workstation file's ``[fss]`` section by :mod:`eln_tui.core.workstation`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.events import DescendantFocus
from textual.message import Message
from textual.widget import Widget
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

from eln_tui.core.domain.codes import V11, V20, NumberMode
from eln_tui.core.domain.validators import validate_ogrn
from eln_tui.core.errors import SettingsIncomplete, ValidationError
from eln_tui.core.exchange.connect import contour_of
from eln_tui.core.fss import ENDPOINTS, Contour, ProtocolVersion
from eln_tui.core.fss.config import MAX_EMAIL, MAX_PHONE
from eln_tui.core.storage import OrganisationData, SettingsData
from eln_tui.core.workstation import (
    CertificateSummary,
    WorkstationFileError,
    fund_certificate_path,
    load_certificate_file,
    save_fund_certificate,
    with_fund_certificate,
)
from eln_tui.ui.commands import ScreenCommand
from eln_tui.ui.dialogs.base import Dialog
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.screens.base import DeskScreen
from eln_tui.ui.widgets.eln_form import Fields
from eln_tui.ui.widgets.fields import Mark
from providers.registry import provider_names

#: Fields of the form, in order (the ids of their widgets); «Статус» switches the others.
FIELDS = (
    "contour",
    "server_url",
    "protocol_version",
    "registry_phone",
    "registry_email",
    "crypto_provider",
    "number_mode",
    "central_server",
    "server_name",
    "organisations",
    "fund_file",
    "fund_save",
)


#: What the status line says while a field has the cursor.
HINTS = {
    "enabled": "Пробел — включить или выключить интеграцию (выключенная: поля неактивны).",
    "contour": "Промышленный или тестовый контур СФР (адрес по версии протокола) или эмулятор.",
    "organisations": "Enter — изменить учреждение, пробел — отметить «использует интеграцию», "
    "F4 — добавить.",
    "fund_file": "Файл сертификата уполномоченного лица СФР (PEM или DER) для выбранного контура.",
}


def contour_choice(url: str | None, section_contour: object = None) -> Contour:
    """The contour an address belongs to; any other address is the emulator's (or the one
    ``[fss] contour`` names). No address yet: production, the seed's default."""
    if not url:
        return Contour.PRODUCTION
    contour, _ = contour_of(url)
    if contour is not None:
        return contour
    try:
        return Contour(str(section_contour)) if section_contour else Contour.EMULATOR
    except ValueError:
        return Contour.EMULATOR


def org_row(org: OrganisationData) -> tuple[Text, Text, Text, Text]:
    return (
        Text("[X]" if org.uses_integration else "[ ]"),
        Text(org.name),
        Text(org.ogrn or "—"),
        Text(org.address or "—"),
    )


class SettingsSaved(Message):
    def __init__(
        self,
        settings: SettingsData,
        organisations: list[OrganisationData],
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.organisations = organisations
        self.note = note


class SaveRefused(Message):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__()
        self.problems = problems


class FundShown(Message):
    def __init__(self, contour: Contour, text: str, ok: bool) -> None:
        super().__init__()
        self.contour = contour
        self.text = text
        self.ok = ok


class FundSaved(Message):
    def __init__(self, note: str, section: dict[str, Any]) -> None:
        super().__init__()
        self.note = note
        self.section = section


class OrganisationDialog(Dialog[OrganisationData | None]):
    """Add or edit an institution of «МО, использующие интеграцию»."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f2,ctrl+s", "ok", "Сохранить", tooltip="Сохранить учреждение", id="settings.org_save"
        ),
    ]

    def __init__(self, org: OrganisationData | None) -> None:
        super().__init__()
        self.org = org

    def compose(self) -> ComposeResult:
        org = self.org or OrganisationData(name="")
        with Vertical(id="dialog"):
            yield Static(
                "Учреждение" if self.org is None else f"Учреждение «{org.name}»",
                classes="dialog-title",
            )
            for label, widget_id, value, limit in (
                ("Наименование *", "org_name", org.name, 300),
                ("Официальный адрес", "org_address", org.address, 500),
                ("ОГРН", "org_ogrn", org.ogrn, 15),
                ("Код МО", "org_id_mo", org.id_mo, 100),
            ):
                with Horizontal(classes="row"):
                    yield Label(label)
                    yield Input(value or "", compact=True, id=widget_id, max_length=limit)
            with Horizontal(classes="row"):
                yield Label("")
                yield Mark(
                    "использует интеграцию", org.uses_integration, compact=True, id="org_uses"
                )
            yield Static("", classes="dialog-error", id="org_error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Сохранить", id="ok", variant="primary")
                yield Button("Отмена", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#org_name", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def action_ok(self) -> None:
        def value(widget_id: str) -> str | None:
            return self.query_one(f"#{widget_id}", Input).value.strip() or None

        error = self.query_one("#org_error", Static)
        name = value("org_name")
        if not name:
            error.update("Поле «Наименование» обязательно для заполнения.")
            self.query_one("#org_name", Input).focus()
            return
        ogrn = value("org_ogrn")
        if ogrn:
            try:
                validate_ogrn(ogrn, f"ОГРН учреждения «{name}»")
            except ValidationError as exc:
                error.update(exc.message)
                self.query_one("#org_ogrn", Input).focus()
                return
        org = OrganisationData(
            name=name,
            address=value("org_address"),
            ogrn=ogrn,
            id_mo=value("org_id_mo"),
            uses_integration=self.query_one("#org_uses", Checkbox).value,
            id=self.org.id if self.org else None,
        )
        self.dismiss(org)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class SettingsScreen(DeskScreen):
    """The integration settings of the МО (one row in the database) and the Fund certificate."""

    DEFAULT_CSS = """
    SettingsScreen #settings-form {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    SettingsScreen Fields {
        grid-columns: 24 1fr;
    }
    SettingsScreen Select {
        width: 1fr;
        max-width: 60;
    }
    SettingsScreen Fields Input {
        max-width: 72;
    }
    SettingsScreen #organisations {
        height: auto;
        max-height: 7;
        margin-left: 1;
    }
    SettingsScreen #fund-cert {
        padding-left: 1;
        height: auto;
    }
    SettingsScreen #fund-cert.-missing {
        color: $text-warning;
    }
    SettingsScreen #settings-status {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $boost;
    }
    SettingsScreen .subtitle {
        text-style: bold;
        padding-left: 1;
        margin-top: 1;
    }
    SettingsScreen #fund_save {
        width: auto;
        min-width: 10;
        height: 1;
        border: none;
        margin-left: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f2,ctrl+s",
            "save",
            "Сохранить",
            tooltip="Сохранить настройки интеграции",
            id="settings.save",
        ),
        Binding(
            "f4", "add_org", "Добавить МО", tooltip="Добавить учреждение", id="settings.add_org"
        ),
        Binding(
            "f5",
            "reload",
            "Перечитать",
            show=False,
            tooltip="Перечитать настройки из базы",
            id="settings.reload",
        ),
        Binding(
            "f6",
            "fund_file",
            "Сертификат СФР",
            tooltip="Выбрать файл сертификата СФР для контура",
            id="settings.fund_certificate",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.organisations: list[OrganisationData] = []
        self.in_use: Contour | None = None
        self._emulator_url = ""
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with VerticalScroll(id="settings-form", can_focus=False):
            with Fields():
                yield Label("Статус")
                yield Mark("интеграция включена", compact=True, id="enabled")
                yield Label("Контур")
                yield Select(
                    [(c.label, c) for c in Contour],
                    allow_blank=False,
                    value=Contour.PRODUCTION,
                    compact=True,
                    id="contour",
                )
                yield Label("Адрес сервера *")
                yield Input(compact=True, id="server_url", max_length=500)
                yield Label("Версия протокола")
                yield Select(
                    [("2.0 (действующая)", V20), ("1.1", V11)],
                    allow_blank=False,
                    value=V20,
                    compact=True,
                    id="protocol_version",
                )
                yield Label("Телефон составителя *")
                yield Input(
                    compact=True,
                    id="registry_phone",
                    max_length=MAX_PHONE,
                    placeholder="телефон лица, составляющего реестр",
                )
                yield Label("E-mail составителя *")
                yield Input(
                    compact=True,
                    id="registry_email",
                    max_length=MAX_EMAIL,
                    placeholder="e-mail лица, составляющего реестр",
                )
                yield Label("Криптопровайдер")
                yield Select(
                    [(name, name) for name in provider_names()],
                    prompt="не выбран",
                    compact=True,
                    id="crypto_provider",
                )
                yield Label("Получение номеров ЭЛН")
                yield Select(
                    [(m.label, m) for m in NumberMode],
                    allow_blank=False,
                    value=NumberMode.ANY_CURRENT,
                    compact=True,
                    id="number_mode",
                )
                yield Label("Центральный сервер *", id="central_server-label")
                yield Input(
                    compact=True,
                    id="central_server",
                    max_length=500,
                    placeholder="postgresql://пользователь@сервер/база",
                )
                yield Label("Имя текущего сервера *", id="server_name-label")
                yield Input(compact=True, id="server_name", max_length=100)
            yield Static("МО, использующие интеграцию *", classes="subtitle")
            yield DataTable(id="organisations", cursor_type="row", zebra_stripes=False)
            yield Static("Сертификат СФР", classes="subtitle", id="fund-title")
            yield Static("", id="fund-cert")
            with Fields():
                yield Label("Файл сертификата СФР")
                with Horizontal(classes="cell"):
                    yield Input(
                        compact=True,
                        id="fund_file",
                        placeholder="путь к файлу .pem/.cer; Enter — записать",
                    )
                    yield Button("Записать", id="fund_save", compact=True)
        yield Static("", id="settings-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Настройки интеграции с ЕИИС Соцстрах"
        self.sub_title = self.desk.user.full_name
        table = self.query_one("#organisations", DataTable)
        rest = max(30, self.app.size.width - 3 - 15 - 12)
        table.add_column("", width=3, key="uses")
        table.add_column("Учреждение", width=rest // 2, key="name")
        table.add_column("ОГРН", width=15, key="ogrn")
        table.add_column("Официальный адрес", width=rest - rest // 2, key="address")
        self.load()

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        hint = HINTS.get(event.widget.id or "", "")
        self.query_one("#settings-status", Static).update(hint)

    # --- loading ----------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, group="settings", description="Чтение настроек")
    def load(self) -> None:
        desk = self.desk
        with desk.db():
            settings = desk.load_settings()
            organisations = list(desk.organisations)
        self.post_message(SettingsSaved(settings, organisations))

    @on(SettingsSaved)
    def _loaded(self, message: SettingsSaved) -> None:
        message.stop()
        self.show(message.settings, message.organisations)
        if message.note:
            self.query_one("#settings-status", Static).update(message.note)
            self.notify(message.note, timeout=4)

    def show(self, settings: SettingsData, organisations: list[OrganisationData]) -> None:
        self._loading = True
        self.organisations = [OrganisationData(**vars(o)) for o in organisations]
        contour = contour_choice(settings.server_url, self.desk.fss.get("contour"))
        self.in_use = contour if settings.server_url else None
        if contour is Contour.EMULATOR:
            self._emulator_url = settings.server_url or ""
        self.query_one("#enabled", Checkbox).value = settings.enabled
        self.query_one("#contour", Select).value = contour
        self.query_one("#protocol_version", Select).value = settings.protocol_version or V20
        self.query_one("#server_url", Input).value = settings.server_url or ""
        self.query_one("#registry_phone", Input).value = settings.registry_phone or ""
        self.query_one("#registry_email", Input).value = settings.registry_email or ""
        provider = self.query_one("#crypto_provider", Select)
        names = provider_names()
        provider.value = (
            settings.crypto_provider if settings.crypto_provider in names else Select.NULL
        )
        self.query_one("#number_mode", Select).value = NumberMode(settings.number_mode)
        self.query_one("#central_server", Input).value = settings.central_server or ""
        self.query_one("#server_name", Input).value = settings.server_name or ""
        self._fill_organisations()
        self.call_after_refresh(self._loaded_done)

    def _loaded_done(self) -> None:
        self._loading = False
        self._sync()
        self.show_fund()

    def _fill_organisations(self, cursor: int | None = None) -> None:
        table = self.query_one("#organisations", DataTable)
        table.clear()
        for i, org in enumerate(self.organisations):
            table.add_row(*org_row(org), key=str(i))
        if cursor is not None and self.organisations:
            table.move_cursor(row=min(cursor, len(self.organisations) - 1))

    # --- the form's logic -------------------------------------------------------------------

    def contour(self) -> Contour:
        value = self.query_one("#contour", Select).value
        return value if isinstance(value, Contour) else Contour.PRODUCTION

    def version(self) -> str:
        value = self.query_one("#protocol_version", Select).value
        return value if isinstance(value, str) else V20

    def _sync(self) -> None:
        """Enable, disable and show fields after «Статус», the contour or the number mode."""
        enabled = self.query_one("#enabled", Checkbox).value
        for name in FIELDS:
            self.query_one(f"#{name}").disabled = not enabled
        contour = self.contour()
        url = self.query_one("#server_url", Input)
        if contour is Contour.EMULATOR:
            url.placeholder = "адрес эмулятора, например http://127.0.0.1:8080/ws"
        else:
            url.value = ENDPOINTS[(ProtocolVersion(self.version()), contour)]
            url.disabled = True  # the Fund's address follows the contour and version
        mode = self.query_one("#number_mode", Select).value
        for name, wanted in (
            ("central_server", NumberMode.ANY_CENTRAL),
            ("server_name", NumberMode.ONLY_CURRENT),
        ):
            self.query_one(f"#{name}-label").display = mode is wanted
            self.query_one(f"#{name}").display = mode is wanted
        title = self.query_one("#fund-title", Static)
        title.update(f"Сертификат СФР ({contour.label})")

    @on(Checkbox.Changed, "#enabled")
    @on(Select.Changed, "#number_mode")
    @on(Select.Changed, "#protocol_version")
    def _changed(self) -> None:
        if not self._loading:
            self._sync()

    @on(Select.Changed, "#contour")
    def _contour_changed(self) -> None:
        if self._loading:
            return
        url = self.query_one("#server_url", Input)
        if self.contour() is Contour.EMULATOR:
            url.value = self._emulator_url
        elif contour_of(url.value)[0] is None and url.value:
            self._emulator_url = url.value  # keep it for a switch back
        self._sync()
        self.show_fund()

    def collect(self) -> SettingsData:
        def text(name: str) -> str | None:
            return self.query_one(f"#{name}", Input).value.strip() or None

        provider = self.query_one("#crypto_provider", Select).value
        mode = self.query_one("#number_mode", Select).value
        return SettingsData(
            enabled=self.query_one("#enabled", Checkbox).value,
            server_url=text("server_url"),
            registry_phone=text("registry_phone"),
            registry_email=text("registry_email"),
            crypto_provider=provider if isinstance(provider, str) else None,
            number_mode=mode if isinstance(mode, NumberMode) else NumberMode.ANY_CURRENT,
            central_server=text("central_server"),
            server_name=text("server_name"),
            protocol_version=self.version(),
        )

    # --- saving -----------------------------------------------------------------------------

    def action_save(self) -> None:
        self.save(self.collect(), [OrganisationData(**vars(o)) for o in self.organisations])

    @work(thread=True, exit_on_error=False, group="settings", description="Сохранение настроек")
    def save(self, settings: SettingsData, organisations: list[OrganisationData]) -> None:
        desk = self.desk
        with desk.db():
            try:
                desk.store.save_settings(settings, organisations, desk.user.signer)
            except SettingsIncomplete as exc:
                self.post_message(SaveRefused(exc.problems))
                return
            saved = desk.load_settings()
            organisations = list(desk.organisations)
        self.post_message(SettingsSaved(saved, organisations, "Настройки интеграции сохранены."))

    @on(SaveRefused)
    def _refused(self, message: SaveRefused) -> None:
        message.stop()
        field = message.problems[0][0]
        text = "\n".join(p[1] for p in message.problems)
        enabled = self.query_one("#enabled", Checkbox).value
        if not enabled:
            text += "\nВключите «Статус», чтобы заполнить поля."
        self.query_one("#settings-status", Static).update("Настройки не сохранены.")

        def after(_: object) -> None:
            self.focus_path(field if enabled else "enabled")

        self.app.push_screen(MessageDialog("Настройки не сохранены", text), after)

    def focus_path(self, field: str) -> None:
        """Move the cursor to the widget of a core message's field (``settings_problems``)."""
        name, _, attr = field.partition(".")
        if name == "organisations":
            table = self.query_one("#organisations", DataTable)
            bad = [
                i
                for i, o in enumerate(self.organisations)
                if o.uses_integration and not (getattr(o, attr, None) or "").strip()
            ]
            if not bad and attr == "ogrn":
                bad = [i for i, o in enumerate(self.organisations) if o.uses_integration]
            if bad:
                table.move_cursor(row=bad[0])
            table.focus()
            table.scroll_visible()
            return
        try:
            widget = self.query_one(f"#{name}", Widget)
        except NoMatches:
            return
        if widget.disabled and name == "server_url":
            widget = self.query_one("#contour", Widget)
        widget.focus()
        widget.scroll_visible()

    # --- institutions -----------------------------------------------------------------------

    def _current_org(self) -> int | None:
        table = self.query_one("#organisations", DataTable)
        if not self.organisations or table.cursor_row is None:
            return None
        return min(table.cursor_row, len(self.organisations) - 1)

    def action_add_org(self) -> None:
        if self.query_one("#enabled", Checkbox).value:
            self._edit_org(None)

    @on(DataTable.RowSelected, "#organisations")
    def _org_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._edit_org(self._current_org())

    def _edit_org(self, index: int | None) -> None:
        def done(org: OrganisationData | None) -> None:
            if org is None:
                return
            if index is None:
                self.organisations.append(org)
                cursor = len(self.organisations) - 1
            else:
                self.organisations[index] = org
                cursor = index
            self._fill_organisations(cursor)
            self.query_one("#settings-status", Static).update(
                "Учреждение изменено; F2 — сохранить настройки."
            )

        org = self.organisations[index] if index is not None else None
        self.app.push_screen(OrganisationDialog(org), done)

    def on_key(self, event: Any) -> None:
        table = self.query_one("#organisations", DataTable)
        if event.key == "space" and self.focused is table and not table.disabled:
            index = self._current_org()
            if index is not None:
                org = self.organisations[index]
                org.uses_integration = not org.uses_integration
                self._fill_organisations(index)
                event.stop()

    # --- the Fund's certificate -------------------------------------------------------------

    def show_fund(self) -> None:
        contour = self.contour()
        path = fund_certificate_path(self.desk.fss, contour, self.in_use)
        self.read_fund(contour, path)

    @work(thread=True, exclusive=True, group="fund", exit_on_error=False, description="Сертификат")
    def read_fund(self, contour: Contour, path: str | None) -> None:
        if not path:
            text = (
                f"Для контура «{contour.label}» сертификат СФР не задан: укажите файл сертификата "
                "уполномоченного лица СФР (F6)."
            )
            self.post_message(FundShown(contour, text, False))
            return
        try:
            summary: CertificateSummary = load_certificate_file(path)
        except WorkstationFileError as exc:
            self.post_message(FundShown(contour, exc.message, False))
            return
        self.post_message(FundShown(contour, f"{summary.describe()}\nФайл: {summary.path}", True))

    @on(FundShown)
    def _fund_shown(self, message: FundShown) -> None:
        message.stop()
        if message.contour is not self.contour():
            return
        cert = self.query_one("#fund-cert", Static)
        cert.update(message.text)
        cert.set_class(not message.ok, "-missing")

    def action_fund_file(self) -> None:
        field = self.query_one("#fund_file", Input)
        if not field.disabled:
            field.focus()
            field.scroll_visible()

    @on(Input.Submitted, "#fund_file")
    @on(Button.Pressed, "#fund_save")
    def _fund_submitted(self) -> None:
        path = self.query_one("#fund_file", Input).value.strip()
        if not path:
            self.query_one("#settings-status", Static).update(
                "Укажите путь к файлу сертификата СФР (PEM или DER)."
            )
            return
        self.store_fund(self.contour(), path)

    @work(thread=True, exit_on_error=False, group="fund", description="Сертификат СФР")
    def store_fund(self, contour: Contour, path: str) -> None:
        desk = self.desk
        with desk.db():
            target, summary = save_fund_certificate(
                desk.store, desk.user.signer, contour, path, self.in_use
            )
        section = with_fund_certificate(desk.fss, contour, summary.path, self.in_use)
        note = f"Сертификат СФР для контура «{contour.label}» записан в {target}."
        self.post_message(FundSaved(note, section))

    @on(FundSaved)
    def _fund_saved(self, message: FundSaved) -> None:
        message.stop()
        self.desk.fss = message.section
        self.query_one("#fund_file", Input).value = ""
        self.query_one("#settings-status", Static).update(message.note)
        self.notify(message.note, timeout=6)
        self.show_fund()

    def extra_commands(self) -> Iterable[ScreenCommand]:
        yield ScreenCommand(
            "Изменить выбранное учреждение",
            lambda: self._edit_org(self._current_org()),
            help="Наименование, ОГРН, официальный адрес, использование интеграции",
        )
