"""The interface itself: PIN sources, certificate references, errors, entry points, config."""

from __future__ import annotations

import pickle
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from gostsign.signer import Signer
from gostsign.vko import KeyAgreement
from providers import registry
from providers.base import (
    NO_PIN,
    PIN_PAD,
    CertificateInfo,
    KeySession,
    Pin,
    PinPrompt,
    Provider,
    normalize_hex,
    obtain_pin,
    select_certificate,
    serial_hex,
)
from providers.config import dumps, load_config, set_profile_certificate, set_provider
from providers.errors import (
    BadConfiguration,
    KeyNotFound,
    PinLocked,
    PinRequired,
    ProviderError,
    ProviderNotInstalled,
    SessionClosed,
    SeveralKeysMatch,
    WrongPin,
    error_from_wire,
)
from providers.software import SoftwareProvider
from tests.providers.conftest import KEY_PASSWORD, CAFixture


def test_pin_is_hidden_wiped_and_not_serialisable(tmp_path: Path) -> None:
    pin = Pin("4711")
    assert "4711" not in repr(pin) and "4711" not in str(pin) and "4711" not in f"{pin}"
    assert pin.reveal() == "4711"
    buf = pin._buf
    pin.wipe()
    assert pin.wiped and buf == bytearray(4)
    with pytest.raises(PinRequired):
        pin.reveal()
    with pytest.raises(TypeError):
        pickle.dumps(Pin("1"))
    with pytest.raises(ValueError):
        Pin("")
    f = tmp_path / "pin"
    f.write_text("0000\nignored\n")
    assert Pin.from_file(f).reveal() == "0000"
    with pytest.raises(BadConfiguration):
        Pin.from_file(tmp_path / "missing")
    (tmp_path / "empty").write_text("")
    with pytest.raises(BadConfiguration):
        Pin.from_file(tmp_path / "empty")


def test_obtain_pin() -> None:
    assert obtain_pin(NO_PIN, "q") is None
    assert obtain_pin(PIN_PAD, "q") is None
    assert obtain_pin(PinPrompt(lambda q: "12"), "q").reveal() == "12"  # type: ignore[union-attr]
    with pytest.raises(PinRequired):
        obtain_pin(PinPrompt(lambda q: None), "q")


def test_certificate_references(software_set) -> None:
    infos = list(software_set.entries.values())
    mo = software_set["mo"]
    s = mo.serial_hex
    for ref in (
        s,
        s.lower(),
        "0x" + s,
        ":".join(s[i : i + 2] for i in range(0, len(s), 2)),
        mo.thumbprint,
        mo.thumbprint.upper(),
        f"serial:{s}",
        f"thumbprint:{mo.thumbprint}",
        "label:mo",
    ):
        assert select_certificate(infos, ref) is mo, ref
    with pytest.raises(KeyNotFound):
        select_certificate(infos, "DEADBEEF")
    with pytest.raises(KeyNotFound):
        select_certificate(infos, "label:nobody")
    twin = CertificateInfo("x", "elsewhere", mo.certificate, locator=(("slot", "2"),))
    with pytest.raises(SeveralKeysMatch):
        select_certificate([*infos, twin], mo.thumbprint)
    assert select_certificate([*infos, twin], twin) is twin
    assert normalize_hex("0x00:0A") == "a" and normalize_hex("zz") == ""
    assert serial_hex(0xABC) == "0ABC"
    d = mo.as_dict()
    assert d["serial"] == s and d["thumbprint"] == mo.thumbprint and "ГОСТ" in d["algorithm"]


def test_session_satisfies_the_signer_protocol(software_set) -> None:
    p = SoftwareProvider({"key_dir": software_set.directory})
    session = p.open_session("label:doctor1", Pin(KEY_PASSWORD))
    assert isinstance(session, Signer)
    assert isinstance(session.key_agreement(), KeyAgreement)
    with pytest.raises(ValueError):
        session.sign_digest(b"\x00" * 31)
    session.close()
    session.close()  # idempotent
    with pytest.raises(SessionClosed):
        session.sign_digest(b"\x00" * 32)
    with pytest.raises(SessionClosed):
        session.key_agreement()


def test_errors_carry_russian_messages_and_cross_the_wire() -> None:
    e = WrongPin(tries_left=2, detail="CKR_PIN_INCORRECT")
    assert str(e) == e.message and "Осталось попыток: 2" in e.message
    back = error_from_wire(e.to_wire())
    assert isinstance(back, WrongPin) and back.tries_left == 2 and back.message == e.message
    assert isinstance(error_from_wire({"code": "PinLocked", "message": "x"}), PinLocked)
    assert type(error_from_wire({"code": "Nonsense", "message": "m"})) is ProviderError
    assert isinstance(error_from_wire("junk"), ProviderError)
    for cls in (PinLocked, KeyNotFound, SeveralKeysMatch, ProviderNotInstalled, BadConfiguration):
        assert cls().message and cls().message[0].isupper()


def test_builtin_registry_and_unknown_provider() -> None:
    entries = registry.provider_entries()
    assert {"software", "pkcs11", "remote", "cryptopro", "vipnet"} <= set(entries)
    for name in ("software", "pkcs11", "remote", "cryptopro", "vipnet"):
        cls = entries[name].load()
        assert issubclass(cls, Provider) and cls.name == name and cls.title
    with pytest.raises(BadConfiguration) as info:
        registry.provider_class("rutoken-magic")
    assert "rutoken-magic" in info.value.message and "pkcs11" in info.value.message


class _SiteProvider(Provider):
    name = "site"
    title = "Провайдер площадки"

    def availability(self):  # type: ignore[no-untyped-def]
        from providers.base import Availability

        return Availability.no("Не подключён.")

    def list_certificates(self):  # type: ignore[no-untyped-def]
        return []

    def open_session(self, cert, pin=NO_PIN) -> KeySession:  # type: ignore[no-untyped-def]
        raise KeyNotFound()


def test_entry_point_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = metadata.EntryPoints(
        [
            metadata.EntryPoint("site", f"{__name__}:_SiteProvider", registry.GROUP),
            metadata.EntryPoint("broken", "no.such.module:X", registry.GROUP),
            metadata.EntryPoint("software", "providers.software:SoftwareProvider", registry.GROUP),
        ]
    )
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: eps)
    entries = registry.provider_entries()
    assert entries["site"].load() is _SiteProvider
    assert entries["software"].origin != "встроенный"  # the entry point wins over the fallback
    assert entries["pkcs11"].origin == "встроенный"
    with pytest.raises(ProviderNotInstalled) as info:
        entries["broken"].load()
    assert "broken" in info.value.message
    assert not registry.create_provider("site").availability()


def test_settings_are_checked() -> None:
    from providers.pkcs11 import Pkcs11Provider

    with pytest.raises(BadConfiguration) as info:
        Pkcs11Provider({})
    assert "--module" in info.value.message
    with pytest.raises(BadConfiguration):
        Pkcs11Provider({"module": "/x.so", "colour": "red"})
    from providers.cryptopro import CryptoProProvider

    assert CryptoProProvider({"pin_on_command_line": "да"}).settings["pin_on_command_line"] is True
    with pytest.raises(BadConfiguration):
        CryptoProProvider({"pin_on_command_line": "может быть"})


# -- configuration files -----------------------------------------------------------------------


def test_config_merge_and_write(tmp_path: Path) -> None:
    system = tmp_path / "etc" / "workstation.toml"
    user = tmp_path / "home" / "workstation.toml"
    set_provider(
        system, "pkcs11", {"module": "/usr/lib/librtpkcs11ecp.so", "token_label": "Рутокен"}
    )
    system.write_text(system.read_text() + '\n[fss]\nurl = "https://example.invalid/"\n')
    set_provider(system, "pkcs11", {"module": "/usr/lib/librtpkcs11ecp.so"})
    assert tomllib.loads(system.read_text())["fss"]["url"] == "https://example.invalid/"  # kept
    assert oct(system.stat().st_mode & 0o777) == "0o644"
    set_profile_certificate(user, "ABCDEF")
    assert oct(user.stat().st_mode & 0o777) == "0o600"
    cfg = load_config(system, user)
    assert cfg.provider == "pkcs11" and cfg.certificate == "ABCDEF"
    assert cfg.settings_for("pkcs11") == {"module": "/usr/lib/librtpkcs11ecp.so"}
    set_provider(user, "remote", {"socket": "/run/user/1000/eln-agent.sock"}, mode=0o600)
    cfg = load_config(system, user)
    assert cfg.provider == "remote" and cfg.certificate == "ABCDEF"
    assert cfg.settings_for("remote")["socket"] == "/run/user/1000/eln-agent.sock"
    assert cfg.sources == [system, user]


def test_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[signing\nprovider=")
    with pytest.raises(BadConfiguration) as info:
        load_config(bad, tmp_path / "none.toml")
    assert str(bad) in info.value.message
    bad.write_text("[signing]\nprovider = 3\n")
    with pytest.raises(BadConfiguration):
        load_config(bad, tmp_path / "none.toml")
    assert load_config(tmp_path / "a.toml", tmp_path / "b.toml").provider is None
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if os.getuid() != 0:  # root writes anyway
            with pytest.raises(BadConfiguration) as info:
                set_provider(locked / "w.toml", "software", {})
            assert "sudo" in info.value.message
    finally:
        locked.chmod(0o700)


def test_toml_writer_round_trips_awkward_values() -> None:
    data = {
        "signing": {"provider": 'с "кавычками"\\ и\tтабом\n'},
        "providers": {"p.x": {"a": 1, "b": True, "c": 2.5, "d": ["x", 1], "e": {"k": "v"}}},
        "top": "значение",
        "empty": {},
    }
    assert tomllib.loads(dumps(data)) == data


def test_issue_helpers_work(test_ca: CAFixture) -> None:
    key, cert = test_ca.new_key("CN=Проверка")
    assert key.public_key() == cert.public_key
