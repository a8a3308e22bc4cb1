"""The admin's desks at 80x24 against the demo workstation (emulator, software keys): integration
settings refused with the seed's messages and saved, contour switch and the Fund certificate in
the workstation file, the providers and a test signature with a PIN, user profiles."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from eln_tui.core.domain.codes import V11, NumberMode, Role
from eln_tui.core.fss import ENDPOINTS, Contour, ProtocolVersion
from eln_tui.core.storage import ElnStore, open_database, upgrade
from eln_tui.ui.app import ElnApp
from eln_tui.ui.config import UiConfig
from eln_tui.ui.demo import DemoWorkspace
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.screens.crypto import CryptoScreen, SignCheckDialog
from eln_tui.ui.screens.my_elns import MyElnsScreen
from eln_tui.ui.screens.notice import NoticeScreen
from eln_tui.ui.screens.settings import OrganisationDialog, SettingsScreen
from eln_tui.ui.screens.users import UserDialog, UsersScreen
from tests.ui.snapshots import assert_snapshot
from tests.ui.world import World, keys, run, screen_text, settle

SIZE = (80, 24)
PHONE_MISSING = "Не заполнено обязательное поле «Телефон лица, составляющего реестр»."


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The workstation files of the test (system and user), not /etc."""
    system = tmp_path / "etc" / "eln" / "workstation.toml"
    user = tmp_path / "home" / "workstation.toml"
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(system))
    monkeypatch.setenv("ELN_USER_CONFIG", str(user))
    return system, user


def app_for(demo: DemoWorkspace, login: str | None = None) -> ElnApp:
    user = demo.store.user_by_login(login) if login else demo.user
    return ElnApp(
        demo.store,
        demo.provider,
        user,
        config=UiConfig(print_dir=demo.directory / "print"),
        login=user.login,
        fss=demo.fss,
    )


async def open_desk(pilot: Pilot[Any], name: str) -> Any:
    app: Any = pilot.app
    app.action_open_desk(name)
    await settle(pilot)
    await settle(pilot)
    return pilot.app.screen


def message(pilot: Pilot[Any]) -> str:
    """The text of the message dialog on top (what the user reads, without the frame)."""
    dialog = pilot.app.screen
    assert isinstance(dialog, MessageDialog), dialog
    return dialog.text


def status(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#settings-status", Static).render())


# --- settings ------------------------------------------------------------------------------


def test_settings_desk_from_the_palette(demo: DemoWorkspace, files: Any) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, MyElnsScreen)  # doctor + operator + admin: home
        await keys(pilot, "ctrl+p")
        assert CommandPalette.is_open(pilot.app)
        await pilot.press(*"Настройки интеграции")
        await pilot.pause(0.3)
        assert "Перейти: Настройки интеграции с ЕИИС Соцстрах" in screen_text(pilot.app)
        await keys(pilot, "enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SettingsScreen)
        text = screen_text(pilot.app)
        assert "[X] интеграция включена" in text and "локальный эмулятор СФР" in text
        assert screen.query_one("#server_url", Input).value == demo.emulator_url
        assert "Сертификат СФР (локальный эмулятор СФР)" in text
        assert "Фонд пенсионного и социального страхования" in text

    run(app_for(demo), SIZE, scenario)


def test_settings_refused_with_the_seed_message_then_saved(
    demo: DemoWorkspace, files: Any, size: tuple[int, int]
) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "settings")
        assert isinstance(screen, SettingsScreen)
        phone = screen.query_one("#registry_phone", Input)
        phone.value = ""
        await keys(pilot, "f2")
        assert message(pilot) == PHONE_MISSING
        await keys(pilot, "enter")
        assert pilot.app.screen is screen and screen.focused is phone
        assert demo.store.load_settings()[0].registry_phone  # nothing was written
        await pilot.press(*"+7 495 111-22-33")
        await keys(pilot, "f2")
        assert "Настройки интеграции сохранены." in status(pilot)
        assert demo.store.load_settings()[0].registry_phone == "+7 495 111-22-33"
        audit = demo.store.audit_trail(entity="settings", newest_first=True, limit=1)
        assert audit[0].login == demo.user.login
        assert audit[0].details["settings"]["registry_phone"] == "+7 495 111-22-33"

    run(app_for(demo), size, scenario)


def test_institution_without_ogrn_is_refused_and_named(demo: DemoWorkspace, files: Any) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "settings")
        table = screen.query_one("#organisations", DataTable)
        # a second institution, ticked, without ОГРН: F4, type, tick, save
        await keys(pilot, "f4")
        assert isinstance(pilot.app.screen, OrganisationDialog)
        await pilot.press(*"Филиал 2")
        pilot.app.screen.query_one("#org_address", Input).value = "г. Москва, ул. Вторая, д. 2"
        await keys(pilot, "tab", "tab", "tab", "tab", "space", "f2")
        assert pilot.app.screen is screen and table.row_count == 2
        assert [str(c) for c in table.get_row_at(1)][:3] == ["[X]", "Филиал 2", "—"]
        await keys(pilot, "f2")
        assert (
            "У учреждения «Филиал 2» не заполнено поле «ОГРН»: заполните его или снимите "
            "отметку в поле «МО, использующие интеграцию»." in message(pilot)
        )
        await keys(pilot, "enter")
        assert screen.focused is table and table.cursor_row == 1
        await keys(pilot, "space")  # untick: saving is allowed again
        await keys(pilot, "f2")
        assert "Настройки интеграции сохранены." in status(pilot)
        _, orgs = demo.store.load_settings()
        assert [(o.name, o.uses_integration) for o in orgs][1] == ("Филиал 2", False)
        # and an ОГРН with a wrong control digit is refused by the dialog itself
        table.move_cursor(row=1)
        await keys(pilot, "enter")
        dialog = pilot.app.screen
        assert isinstance(dialog, OrganisationDialog)
        dialog.query_one("#org_ogrn", Input).value = "1027739443237"
        await keys(pilot, "enter")
        assert pilot.app.screen is dialog
        assert "неверное контрольное число" in screen_text(pilot.app)
        await keys(pilot, "escape")

    run(app_for(demo), SIZE, scenario)


def test_first_setup_from_the_seed_defaults(tmp_path: Path, files: Any) -> None:
    """A new workstation: status off, production address; tick, fill, add the МО, save."""
    db = open_database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    upgrade(db)
    store = ElnStore(db)
    admin = store.add_user("admin", "Администратов Пётр Ильич", [Role.ADMIN])
    app = ElnApp(store, None, admin, config=UiConfig(print_dir=tmp_path), login="admin")

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "settings")
        text = screen_text(pilot.app)
        assert "[ ] интеграция включена" in text and "промышленный контур СФР" in text
        url = screen.query_one("#server_url", Input)
        assert url.value == ENDPOINTS[(ProtocolVersion.V20, Contour.PRODUCTION)]
        assert screen.query_one("#registry_phone").disabled
        screen.query_one("#enabled").focus()
        await keys(pilot, "space", "tab", "tab", "tab")  # the Fund's address is read-only
        assert screen.focused is screen.query_one("#registry_phone")
        await pilot.press(*"+7 495")
        screen.query_one("#registry_phone", Input).value = "+7 495 123-45-67"
        screen.query_one("#registry_email", Input).value = "eln@mo.example"
        await keys(pilot, "f2")
        assert message(pilot) == ("Не заполнено обязательное поле «МО, использующие интеграцию».")
        await keys(pilot, "enter")
        assert screen.focused is screen.query_one("#organisations")
        await keys(pilot, "f4")
        dialog = pilot.app.screen
        assert isinstance(dialog, OrganisationDialog)
        await pilot.press(*"GP 1")
        dialog.query_one("#org_address", Input).value = "Moscow"
        dialog.query_one("#org_ogrn", Input).value = "1027700000019"
        dialog.query_one("#org_uses").focus()
        await keys(pilot, "space", "f2")
        await keys(pilot, "f2")
        assert "Настройки интеграции сохранены." in status(pilot)

    run(app, SIZE, scenario)
    settings, orgs = store.load_settings()
    assert settings.enabled and settings.registry_email == "eln@mo.example"
    assert settings.server_url == ENDPOINTS[(ProtocolVersion.V20, Contour.PRODUCTION)]
    assert [(o.name, o.address, o.ogrn, o.uses_integration) for o in orgs] == [
        ("GP 1", "Moscow", "1027700000019", True)
    ]
    db.close()


def test_status_off_disables_the_fields(demo: DemoWorkspace, files: Any) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "settings")
        screen.query_one("#enabled").focus()
        await keys(pilot, "space")
        assert "[ ] интеграция включена" in screen_text(pilot.app)
        for name in ("contour", "registry_phone", "organisations", "fund_file"):
            assert screen.query_one(f"#{name}").disabled, name
        await keys(pilot, "f2")
        assert not demo.store.load_settings()[0].enabled

    run(app_for(demo), SIZE, scenario)


def test_contour_switch_and_fund_certificate(
    demo: DemoWorkspace, files: tuple[Path, Path], tmp_path: Path
) -> None:
    system, _ = files
    ca_file = str(Path(demo.keyset.ca_cert_file).resolve())
    junk = tmp_path / "junk.pem"
    junk.write_text("не сертификат")

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "settings")
        fund = screen.query_one("#fund-cert", Static)
        assert "эмулятор" in str(fund.render())  # the demo's Fund certificate (emulator)
        contour = screen.query_one("#contour", Select)
        url = screen.query_one("#server_url", Input)
        contour.value = Contour.TEST
        await settle(pilot)
        assert url.value == ENDPOINTS[(ProtocolVersion.V20, Contour.TEST)] and url.disabled
        assert "тестовый контур СФР" in screen_text(pilot.app)
        assert "сертификат СФР не задан" in str(fund.render())
        screen.query_one("#protocol_version", Select).value = V11
        await settle(pilot)
        assert url.value == ENDPOINTS[(ProtocolVersion.V11, Contour.TEST)]
        # a file that is no certificate: refused, the workstation file untouched
        await keys(pilot, "f6")
        assert screen.focused is screen.query_one("#fund_file")
        screen.query_one("#fund_file", Input).value = str(junk)
        await keys(pilot, "enter")
        assert "не является сертификатом X.509" in message(pilot)
        await keys(pilot, "enter")
        assert not system.exists()
        # the test contour's certificate goes into [fss] of the system file
        screen.query_one("#fund_file", Input).value = ca_file
        await keys(pilot, "enter")
        written = tomllib.loads(system.read_text(encoding="utf-8"))["fss"]
        assert written["fund_certificates"] == {"test": ca_file}
        desk_fss: Any = pilot.app.desk.fss  # type: ignore[attr-defined]
        assert desk_fss["fund_certificates"]["test"] == ca_file
        assert desk_fss["fund_certificates"]["emulator"] == demo.fss["fund_certificate"]
        assert "fund_certificate" not in desk_fss
        ca_name = str(demo.keyset.ca_certificate.subject.common_name)
        assert ca_name in " ".join(str(fund.render()).split())
        assert "записан" in status(pilot)
        (record,) = demo.store.audit_trail(entity="workstation", action="set_fund_certificate")
        assert record.login == demo.user.login and record.details["file"] == ca_file
        await keys(pilot, "f2")
        assert "Настройки интеграции сохранены." in status(pilot)
        saved = demo.store.load_settings()[0]
        assert saved.server_url == ENDPOINTS[(ProtocolVersion.V11, Contour.TEST)]
        assert saved.protocol_version == V11
        # back to the emulator: its address comes back, its certificate still shows
        contour.value = Contour.EMULATOR
        await settle(pilot)
        assert url.value == demo.emulator_url and not url.disabled
        assert "эмулятор" in str(fund.render())

    run(app_for(demo), SIZE, scenario)


def test_fund_certificate_needs_a_writable_system_file(
    demo: DemoWorkspace, files: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(blocker / "workstation.toml"))

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "settings")
        screen.query_one("#fund_file", Input).value = str(demo.keyset.ca_cert_file)
        await keys(pilot, "f6", "enter")
        assert "может изменить только администратор системы (root)" in message(pilot)

    run(app_for(demo), SIZE, scenario)


def test_number_mode_shows_its_server_field(demo: DemoWorkspace, files: Any) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "settings")
        central = screen.query_one("#central_server", Input)
        assert not central.display
        screen.query_one("#number_mode", Select).value = NumberMode.ANY_CENTRAL
        await settle(pilot)
        assert central.display and "Центральный сервер" in screen_text(pilot.app)
        await keys(pilot, "f2")
        assert "укажите имя центрального сервера" in message(pilot)
        await keys(pilot, "enter")
        assert screen.focused is central
        central.value = "eln-central"
        await keys(pilot, "f2")
        saved = demo.store.load_settings()[0]
        assert (saved.number_mode, saved.central_server) == (NumberMode.ANY_CENTRAL, "eln-central")

    run(app_for(demo), SIZE, scenario)


# --- providers -----------------------------------------------------------------------------


def test_providers_and_certificates(demo: DemoWorkspace, files: tuple[Path, Path]) -> None:
    system, _ = files

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "crypto")
        assert isinstance(screen, CryptoScreen)
        rows = {r.name: r for r in screen.rows}
        assert rows["software"].available and rows["software"].selected
        for name in ("pkcs11", "cryptopro", "vipnet", "remote"):
            assert not rows[name].available and rows[name].reason, name
        text = screen_text(pilot.app)
        assert "работает" in text and "нет: КриптоПро CSP не установлен" in text
        # the certificates of the software provider: the demo's four, with ОГРН / СНИЛС
        certs = screen.query_one("#certs", DataTable)
        assert certs.row_count == len(demo.provider.list_certificates())
        assert "ОГРН 102770" in text and "СНИЛС 112233" in text
        # the МО's key of [fss] mo_certificate is named as such
        certs.focus()
        serials = [c.serial_hex for c in screen.certs]
        certs.move_cursor(row=serials.index(demo.fss["mo_certificate"]))
        await settle(pilot)
        assert "[ключ МО для обмена с СФР]" in screen_text(pilot.app)
        # an unusable provider: its reason in full, no certificates, cannot be chosen
        table = screen.query_one("#providers", DataTable)
        table.focus()
        table.move_cursor(row=[r.name for r in screen.rows].index("pkcs11"))
        await settle(pilot)
        detail = " ".join(screen_text(pilot.app).split())
        assert "не работает: " + str(rows["pkcs11"].reason) in detail
        assert certs.row_count == 0
        await keys(pilot, "f2")
        assert not system.exists()
        # the software provider is written as the workstation's choice, like «eln crypto use»
        table.move_cursor(row=[r.name for r in screen.rows].index("software"))
        await keys(pilot, "f2")
        written = tomllib.loads(system.read_text(encoding="utf-8"))
        assert written["signing"]["provider"] == "software"
        assert written["providers"]["software"]["key_dir"] == str(demo.provider.settings["key_dir"])
        (record,) = demo.store.audit_trail(entity="workstation", action="set_provider")
        assert record.login == demo.user.login and record.details["provider"] == "software"
        await open_desk(pilot, "audit")  # «Журнал системы» names the action in Russian
        assert "Выбор средства подписи" in screen_text(pilot.app)

    run(app_for(demo), SIZE, scenario)


def test_test_signature_with_pin(demo: DemoWorkspace, files: Any) -> None:
    doctor = demo.keyset["doctor1"]

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "crypto")
        certs = screen.query_one("#certs", DataTable)
        certs.focus()
        certs.move_cursor(row=[c.serial_hex for c in screen.certs].index(doctor.serial_hex))
        await keys(pilot, "enter")
        dialog = pilot.app.screen
        assert isinstance(dialog, SignCheckDialog)
        assert doctor.serial_hex in screen_text(pilot.app)
        await keys(pilot, *"0000", "enter")
        assert pilot.app.screen is dialog
        text = screen_text(pilot.app)
        assert "Неверный пароль ключа." in text and "0000" not in text
        await keys(pilot, *demo.pin, "enter")
        text = screen_text(pilot.app)
        assert "Подпись проверена gostsign: верна." in text
        assert dialog.result is not None and dialog.result.verified
        dialog.result.certificate.certificate.public_key.verify_digest(
            dialog.result.digest, dialog.result.signature
        )
        assert dialog.query_one("#pin", Input).value == ""
        (record,) = demo.store.audit_trail(entity="certificate", action="test_sign")
        assert record.entity_id == doctor.serial_hex and record.details["verified"] is True
        await keys(pilot, "escape")
        assert pilot.app.screen is screen

    run(app_for(demo), SIZE, scenario)


# --- users ---------------------------------------------------------------------------------


async def fill_user(
    pilot: Pilot[Any], login: str, name: str, roles: list[Role], serial: str | None
) -> UserDialog:
    dialog = pilot.app.screen
    assert isinstance(dialog, UserDialog)
    await pilot.press(*login)
    dialog.query_one("#full_name", Input).value = name
    dialog.query_one("#position", Input).value = "Врач-невролог"
    for role in roles:
        dialog.query_one(f"#role-{role.value}").focus()
        await keys(pilot, "space")
    if serial:
        dialog.query_one("#cert", Select).value = serial
    return dialog


@pytest.mark.slow  # three apps: the admin's, then the new doctor's and the new admin's
def test_add_user_with_role_and_certificate_then_login(demo: DemoWorkspace, files: Any) -> None:
    serial = demo.keyset["doctor2"].serial_hex

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "users")
        assert isinstance(screen, UsersScreen)
        table = screen.query_one("#users", DataTable)
        assert table.row_count == len(demo.users)
        await keys(pilot, "f4")
        dialog = await fill_user(
            pilot, "new-doctor", "Орлова Анна Сергеевна", [Role.DOCTOR], serial
        )
        assert serial in screen_text(pilot.app)
        await keys(pilot, "f2")
        assert pilot.app.screen is screen
        assert table.row_count == len(demo.users) + 1
        assert "new-doctor" in screen_text(pilot.app)
        # the same login again: refused, the dialog stays with the reason
        await keys(pilot, "f4")
        dialog = await fill_user(pilot, "new-doctor", "Другой", [Role.NURSE], None)
        await keys(pilot, "f2")
        assert pilot.app.screen is dialog
        assert "«new-doctor» уже существует" in screen_text(pilot.app)
        await keys(pilot, "escape")
        # an admin-only profile
        await keys(pilot, "f4")
        await fill_user(pilot, "new-admin", "Админов Иван", [Role.ADMIN], None)
        await keys(pilot, "f2")

    run(app_for(demo), SIZE, scenario)
    user = demo.store.user_by_login("new-doctor")
    assert user.roles == frozenset({Role.DOCTOR}) and user.cert_serial == serial
    assert user.position == "Врач-невролог" and user.active
    audit = demo.store.audit_trail(entity="user", entity_id=user.id)
    assert [(a.action, a.login) for a in audit] == [("create", demo.user.login)]

    async def doctor_home(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, MyElnsScreen)
        assert "Орлова Анна Сергеевна" in screen_text(pilot.app)

    run(app_for(demo, "new-doctor"), SIZE, doctor_home)

    async def admin_home(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        user = app.desk.user
        available = {spec.name for spec in app.registry.available(user)}
        assert {"settings", "users", "crypto"} <= available and "my_elns" not in available
        assert app.current_mode == app.registry.home_for(user).name
        assert not isinstance(pilot.app.screen, NoticeScreen | MyElnsScreen)

    run(app_for(demo, "new-admin"), SIZE, admin_home)


def test_edit_roles_certificate_and_deactivate(demo: DemoWorkspace, files: Any) -> None:
    nurse = demo.users["demo-nurse"]
    serial = demo.keyset["doctor1"].serial_hex

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "users")
        table = screen.query_one("#users", DataTable)
        table.move_cursor(row=[u.id for u in screen.users].index(nurse.id))
        await keys(pilot, "enter")
        dialog = pilot.app.screen
        assert isinstance(dialog, UserDialog)
        assert dialog.query_one("#login", Input).disabled  # the account is the identity
        dialog.query_one(f"#role-{Role.ELN_OPERATOR.value}").focus()
        await keys(pilot, "space")
        dialog.query_one("#cert", Select).value = serial
        dialog.query_one("#position", Input).value = "Старшая медсестра"
        await keys(pilot, "tab")
        dialog.query_one("#ok").focus()
        await keys(pilot, "enter")
        assert pilot.app.screen is screen
        await keys(pilot, "f8")
        assert not demo.store.user(nurse.id).active
        assert "НЕТ" in screen_text(pilot.app).split("demo-nurse")[1].splitlines()[0]
        # one's own account cannot be switched off
        table.move_cursor(row=[u.id for u in screen.users].index(demo.user.id))
        await keys(pilot, "f8")
        assert demo.store.user(demo.user.id).active

    run(app_for(demo), SIZE, scenario)
    user = demo.store.user(nurse.id)
    assert user.roles == frozenset({Role.NURSE, Role.ELN_OPERATOR})
    assert (user.cert_serial, user.position, user.active) == (serial, "Старшая медсестра", False)
    actions = [
        (a.action, a.login) for a in demo.store.audit_trail(entity="user", entity_id=nurse.id)
    ]
    assert actions[-3:] == [
        ("update", demo.user.login),
        ("set_roles", demo.user.login),
        ("update", demo.user.login),
    ]

    async def switched_off(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, NoticeScreen)

    run(app_for(demo, "demo-nurse"), SIZE, switched_off)


def test_own_account_keeps_admin_and_stays_on(demo: DemoWorkspace, files: Any) -> None:
    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "users")
        table = screen.query_one("#users", DataTable)
        table.move_cursor(row=[u.id for u in screen.users].index(demo.user.id))
        await keys(pilot, "enter")
        dialog = pilot.app.screen
        assert isinstance(dialog, UserDialog)
        dialog.query_one(f"#role-{Role.ADMIN.value}").focus()
        await keys(pilot, "space", "f2")
        assert pilot.app.screen is dialog
        assert "нельзя отключить и лишить роли «Администратор»" in screen_text(pilot.app)
        await keys(pilot, "escape")

    run(app_for(demo), SIZE, scenario)
    assert Role.ADMIN in demo.store.user(demo.user.id).roles


def test_users_are_paged(demo: DemoWorkspace, files: Any) -> None:
    with demo.store.db.atomic():
        for i in range(150):
            demo.store.add_user(f"user{i:03d}", f"Пользователь {i:03d}", [Role.NURSE])
    total = 150 + len(demo.users)

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = await open_desk(pilot, "users")
        table = screen.query_one("#users", DataTable)
        assert table.row_count == 100 and screen.more
        await keys(pilot, "end")
        assert table.row_count == total and not screen.more
        assert len({u.id for u in screen.users}) == total

    run(app_for(demo), SIZE, scenario)


# --- snapshot ------------------------------------------------------------------------------


def test_settings_snapshot(world: World, files: Any) -> None:
    admin = world.store.add_user("admin", "Администратов Пётр Ильич", [Role.ADMIN])

    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(await open_desk(pilot, "settings"), SettingsScreen)
        # the footer's tail (other desks' global keys) is drawn late and varies
        masks = {r"(?m)(?<=F10 Выход).*$": ""}
        assert_snapshot(screen_text(pilot.app), "admin-settings-80x24", masks=masks)

    run(world.app(admin), SIZE, scenario)
