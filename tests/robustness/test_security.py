"""Security properties: secrets never kept, owner-only files, an append-only audit, own
certificates only, and replies trusted only from the configured Fund certificate."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import peewee
import psycopg2
import pytest

from eln_tui.cli.main import main as eln_main
from eln_tui.core import signing
from eln_tui.core.domain.codes import Role, SignerSlot
from eln_tui.core.domain.model import Block
from eln_tui.core.errors import AppendOnlyViolation
from eln_tui.core.exchange.service import ExchangeService
from eln_tui.core.fss import Contour, FssClient, FssConfig, ReplySignatureError
from eln_tui.core.storage import ElnStore, open_database, upgrade
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import connect, database_proxy
from fss_emulator import Emulator
from gostsign.cli import main as gostsign_main
from gostsign.testpki import create_test_pki, make_ca
from providers.base import Pin
from providers.software import DemoKeySet, SoftwareProvider, create_test_set
from tests.core.conftest import CTX, Backend, People, backend, make_saved_eln, people, store
from tests.fss.conftest import SoftKey

__all__ = ["backend", "people", "store"]  # fixtures used below

DOC0 = Block("period", SignerSlot.DOC, 0)
FRAGMENT = (
    b'<ns2:treatPeriod xmlns:ns2="http://www.fss.ru/integration/types/eln/v01" '
    b'wsu:Id="ELN_900000000001_3_doc"><ns2:treatDt1>2024-03-11</ns2:treatDt1></ns2:treatPeriod>'
)

#: Distinctive enough to be found anywhere it leaks; also the software keys' password.
PIN = "Пин-Q7x!39#секрет"
WRONG_PIN = "Неверный-PIN-Z9k2"


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """Files must be private by construction, not because the umask happens to be strict."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- owner-only files ----------------------------------------------------------------------------


def test_a_new_sqlite_journal_is_owner_only(tmp_path: Path, lax_umask: None) -> None:
    path = tmp_path / "new-dir" / "eln.sqlite3"
    db = connect(f"sqlite:///{path}")
    db.connect()
    upgrade(db)
    db.execute_sql("CREATE TABLE probe (x)")  # something in the WAL
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    assert all(f.exists() for f in files)
    assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    assert mode(path.parent) == 0o700
    db.close()


def test_an_existing_journal_keeps_the_administrators_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    path.touch(mode=0o640)
    path.chmod(0o640)
    db = connect(f"sqlite:///{path}")
    db.connect()
    upgrade(db)
    db.close()
    assert mode(path) == 0o640


def test_key_files_are_owner_only(tmp_path: Path, lax_umask: None) -> None:
    # the software provider's key sets (also what `eln crypto` creates)
    kit = create_test_set(tmp_path / "keys", PIN, iterations=1000)
    private = [p for p in kit.directory.rglob("*") if p.is_file() and "key" in p.name]
    assert len(private) >= 5
    assert {p.name: oct(mode(p)) for p in private} == {p.name: "0o600" for p in private}
    assert all(mode(d) == 0o700 for d in [kit.directory, *kit.directory.rglob("*")] if d.is_dir())
    # gostsign keygen
    out = tmp_path / "k.pem"
    with contextlib.redirect_stderr(io.StringIO()):
        assert gostsign_main(["keygen", "--curve", "tc26-256-a", "-o", str(out)]) == 0
    assert mode(out) == 0o600
    # the test PKI written for the oracles and the emulator's Fund and CA keys
    written = create_test_pki().write(tmp_path / "pki", password="x")
    assert all(mode(p) == 0o600 for name, p in written.items() if name.endswith(".key"))
    with Emulator(tmp_path / "fss") as emu:
        assert mode(emu.paths["fund.key"]) == 0o600 and mode(emu.paths["ca.key"]) == 0o600


# --- PINs and passwords --------------------------------------------------------------------------

FORMS = [PIN.encode(), PIN.encode("utf-16-le"), WRONG_PIN.encode(), WRONG_PIN.encode("utf-16-le")]


def leaks_in(data: bytes) -> list[bytes]:
    return [f for f in FORMS if f in data]


def scan_files(root: Path) -> dict[str, list[bytes]]:
    found = {}
    for p in root.rglob("*"):
        if p.is_file() and "pin" not in p.name:  # the PIN files themselves
            hits = leaks_in(p.read_bytes())
            if hits:
                found[str(p)] = hits
    return found


def test_the_scanner_finds_a_planted_pin(tmp_path: Path) -> None:
    (tmp_path / "db").write_bytes(b"x" + PIN.encode("utf-16-le") + b"y")
    assert list(scan_files(tmp_path)) == [str(tmp_path / "db")]


def dump_postgres(url: str) -> bytes:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "current_schema()"
            )
            tables = [r[0] for r in cur.fetchall()]
            assert "audit_entry" in tables and "exchange_log" in tables
            out = []
            for t in tables:
                cur.execute(f'SELECT t::text FROM "{t}" t')  # noqa: S608 - names from the catalog
                out += [r[0] for r in cur.fetchall()]
        return "\n".join(out).encode()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def pin_keyset(tmp_path_factory: pytest.TempPathFactory) -> DemoKeySet:
    return create_test_set(tmp_path_factory.mktemp("keys") / "k", PIN, iterations=1000)


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_pins_are_never_stored_logged_or_shown(
    backend_name: str,
    pin_keyset: DemoKeySet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    """The whole headless day with a distinctive PIN (and a wrong one tried), then every byte
    the product wrote — journal (with WAL), exchange log, audit, logs, terminal — is searched."""
    caplog.set_level(logging.DEBUG)
    if backend_name == "sqlite":
        url = f"sqlite:///{tmp_path}/eln.sqlite3"
    else:
        url = request.getfixturevalue("pg_schema_url")
    emu = Emulator(tmp_path / "fss", trust=[pin_keyset.ca_certificate]).start()
    request.addfinalizer(emu.stop)
    (tmp_path / "fss.pem").write_bytes(emu.fund_cert.pem)
    pin_file, wrong_file = tmp_path / "pin", tmp_path / "wrong-pin"
    pin_file.write_text(PIN + "\n", encoding="utf-8")
    wrong_file.write_text(WRONG_PIN + "\n", encoding="utf-8")
    ogrn = pin_keyset["mo"].certificate.subject.ogrn or ""
    config = tmp_path / "workstation.toml"
    config.write_text(
        f"""
[signing]
provider = "software"

[providers.software]
key_dir = "{pin_keyset.directory}"

[database]
url = "{url}"

[fss]
ogrn = "{ogrn}"
version = "2.0"
contour = "emulator"
url = "{emu.url}"
fund_certificate = "{tmp_path / "fss.pem"}"
mo_certificate = "label:mo"
author = "Иванова М. П."
phone = "+7 495 000-00-00"
email = "eln@example.test"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("ELN_USER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(config))
    terminal: list[str] = []

    def run(*argv: str) -> tuple[int, Any]:
        code = eln_main(list(argv))
        database_proxy.initialize(None)
        out, err = capsys.readouterr()
        terminal.extend((out, err))
        return code, (json.loads(out) if "--json" in argv and code == 0 else err)

    init = ("init", "--ogrn", ogrn, "--name", "ГБУЗ «Тестовая поликлиника № 1»", "--address",
            "г. Москва", "--phone", "+7 495 000-00-00", "--email", "eln@example.test", "--user",
            "admin", "--full-name", "Админ Админович")  # fmt: skip
    assert run(*init)[0] == 0
    db = open_database(url)
    store_ = ElnStore(db)
    doctor = store_.add_user(
        "ivanov", "Иванова Мария Петровна", [Role.DOCTOR],
        cert_serial=pin_keyset["doctor1"].serial_hex,
    )  # fmt: skip
    store_.add_user("nurse", "Кузнецова Мария Ивановна", [Role.NURSE])
    store_.add_user("op", "Оператор Олег Олегович", [Role.ELN_OPERATOR])
    db.close()
    database_proxy.initialize(None)

    good, wrong = ("--pin-file", str(pin_file)), ("--pin-file", str(wrong_file))
    code, err = run("numbers", "request", "3", "--user", "op", *wrong)
    assert code != 0 and err.startswith("eln: "), err
    code, data = run("numbers", "request", "3", "--user", "op", "--json", *good)
    assert code == 0, data
    start = date.today() - timedelta(days=4)
    eln = {
        "written_agreement_flag": True,
        "patient": {"snils": "11223344595", "surname": "Петров", "name": "Пётр",
                    "birthday": "1980-05-05", "gender": 1},
        "employer": {"name": "ООО «Ромашка»"},
        "lpu": {"name": "ГБУЗ «Тестовая поликлиника № 1»", "address": "г. Москва", "ogrn": ogrn},
        "ln_date": start.isoformat(), "reason1": "01", "diagnos": "J06.9",
        "doctor_id": doctor.id,
        "treat_periods": [{"dt1": start.isoformat(), "dt2": (start + timedelta(4)).isoformat(),
                           "doctor": "Иванова Мария Петровна",
                           "doctor_role": "Врач-терапевт участковый", "doctor_id": doctor.id}],
    }  # fmt: skip
    path = tmp_path / "eln.json"
    path.write_text(json.dumps(eln, ensure_ascii=False), encoding="utf-8")
    code, data = run("ln", "import", str(path), "--user", "nurse", "--json")
    assert code == 0, data
    number = data["ln_code"]
    sign = ("ln", "sign", number, "--block", "period:1", "--as", "doctor", "--user", "ivanov")
    code, err = run(*sign, *wrong)
    assert code != 0, err
    assert run(*sign, *good)[0] == 0
    day = (start + timedelta(days=4)).isoformat()
    code, _ = run("registry", "send", "--date", day, "--user", "op", *good)
    assert code == 0
    code, data = run("ln", "fetch", number, "11223344595", "--user", "op", "--json", *good)
    assert code == 0 and data["ln_state"] == "010"
    code, data = run("audit", "--exchange", "--json")
    assert {"getNewLNNumRange", "prParseFilelnlpu", "getLNData"} <= {r["operation"] for r in data}

    leaks = scan_files(tmp_path)
    assert leaks == {}, leaks
    if backend_name == "postgresql":
        assert leaks_in(dump_postgres(url)) == []
    assert leaks_in("\n".join(terminal).encode()) == []
    assert leaks_in(caplog.text.encode()) == []
    assert leaks_in(repr([r.__dict__ for r in caplog.records]).encode()) == []


def test_a_key_session_never_shows_its_pin(pin_keyset: DemoKeySet) -> None:
    provider = SoftwareProvider({"key_dir": pin_keyset.directory})
    pin = Pin(PIN)
    assert PIN not in repr(pin) and PIN not in str(pin)
    with provider.open_session(pin_keyset["doctor1"], Pin(PIN)) as session:
        assert PIN not in repr(session) and PIN not in str(vars(session))
    with pytest.raises(Exception) as info:
        provider.open_session(pin_keyset["doctor1"], Pin(WRONG_PIN))
    assert WRONG_PIN not in str(info.value) and WRONG_PIN not in repr(info.value)
    assert "парол" in str(info.value).lower() or "pin" in str(info.value).lower()


# --- the audit journal is append-only ------------------------------------------------------------


def _sql_refused(backend_: Backend, sql: str, params: tuple[Any, ...] = ()) -> None:
    with pytest.raises(peewee.DatabaseError):
        with backend_.db.atomic():
            backend_.db.execute_sql(sql, params)


def test_audit_and_signed_fragments_cannot_be_replaced_or_upserted(
    store: ElnStore, people: People, backend: Backend
) -> None:
    """Beyond UPDATE/DELETE/TRUNCATE (tests/core/test_storage.py): REPLACE, upserts and
    UPDATE through a CTE, on the audit journal and on the stored signed blocks."""
    eln = make_saved_eln(store, people, ln_result=None)
    assert eln.id is not None
    store.sign(eln.id, DOC0, people.doctor.signer, FRAGMENT, context=CTX)
    first = m.AuditEntry.select().order_by(m.AuditEntry.id).bind(backend.db).first()
    frag = m.SignedFragment.select().bind(backend.db).first()
    audit_before = [(a.id, a.action, a.details) for a in m.AuditEntry.select().bind(backend.db)]
    p = "?" if backend.name == "sqlite" else "%s"
    audit_row = f"audit_entry (id, at, action, entity) VALUES ({p}, {p}, 'forged', 'eln')"
    frag_row = (
        "signed_fragment (id, eln_id, ln_code, block, signer_name, signed_at, data, sha256) "
        f"VALUES ({p}, {p}, {p}, {p}, 'forged', {p}, {p}, 'x')"
    )
    audit_args = (first.id, first.at)
    frag_args = (frag.id, eln.id, frag.ln_code, frag.block, frag.signed_at, b"<forged/>")
    if backend.name == "sqlite":
        # REPLACE deletes the old row; without recursive_triggers no DELETE trigger fires
        for verb in ("INSERT OR REPLACE INTO", "REPLACE INTO"):
            _sql_refused(backend, f"{verb} {audit_row}", audit_args)
            _sql_refused(backend, f"{verb} {frag_row}", frag_args)
        queries = (
            lambda: m.AuditEntry.replace(id=first.id, at=first.at, action="x", entity="eln"),
            lambda: m.AuditEntry.insert(
                id=first.id, at=first.at, action="x", entity="eln"
            ).on_conflict_replace(),
        )
        for query in queries:
            with pytest.raises((AppendOnlyViolation, peewee.DatabaseError)):
                with backend.db.atomic():
                    query().bind(backend.db).execute()
    _sql_refused(
        backend, f"INSERT INTO {audit_row} ON CONFLICT (id) DO UPDATE SET action = 'x'", audit_args
    )
    _sql_refused(
        backend, f"INSERT INTO {frag_row} ON CONFLICT (id) DO UPDATE SET data = NULL", frag_args
    )
    _sql_refused(
        backend,
        "WITH x AS (SELECT id FROM audit_entry) UPDATE audit_entry SET action = 'forged' "
        "WHERE id IN (SELECT id FROM x)",
    )
    after = [(a.id, a.action, a.details) for a in m.AuditEntry.select().bind(backend.db)]
    assert after == audit_before
    assert store.fragment(frag.id).data == FRAGMENT


# --- own certificate only ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyset(tmp_path_factory: pytest.TempPathFactory) -> DemoKeySet:
    return create_test_set(tmp_path_factory.mktemp("keys") / "k", "1234", iterations=1000)


@pytest.mark.parametrize("user_role", ["doctor1", "doctor2", "vk-chairman"])
def test_nobody_signs_with_another_users_certificate(
    store: ElnStore, people: People, backend: Backend, keyset: DemoKeySet, user_role: str
) -> None:
    """Every user × every key that is not his own (other doctors', the chairman's, the МО's):
    refused before anything is signed, stored or audited."""
    provider = SoftwareProvider({"key_dir": keyset.directory})
    pki_ogrn = keyset["mo"].certificate.subject.ogrn
    roles = [Role.DOCTOR, Role.VK_CHAIRMAN] if user_role == "vk-chairman" else [Role.DOCTOR]
    name = keyset[user_role].common_name or user_role
    user = store.add_user(f"u-{user_role}", name, roles, cert_serial=keyset[user_role].serial_hex)
    eln = make_saved_eln(store, people, ln_result=None)
    assert eln.id is not None and pki_ogrn
    fragments_before = m.SignedFragment.select().bind(backend.db).count()
    audit_before = m.AuditEntry.select().bind(backend.db).count()
    others = [r for r in ("doctor1", "doctor2", "vk-chairman", "mo") if r != user_role]
    for other in others:
        for slot in (SignerSlot.DOC, SignerSlot.VK):
            with provider.open_session(keyset[other], Pin("1234")) as session:
                with pytest.raises(signing.CertificateNotOwn, match="не принадлежит профилю"):
                    signing.sign_block(store, eln.id, Block("period", slot, 0), user, session)
    assert m.SignedFragment.select().bind(backend.db).count() == fragments_before
    assert m.AuditEntry.select().bind(backend.db).count() == audit_before
    nobody = store.add_user(f"n-{user_role}", "Без Сертификата", roles)
    with provider.open_session(keyset[user_role], Pin("1234")) as session:
        with pytest.raises(signing.ProfileCertificateMissing):
            signing.sign_block(store, eln.id, Block("period", SignerSlot.DOC, 0), nobody, session)


# --- replies only from the configured Fund certificate -------------------------------------


@pytest.fixture(scope="module")
def mo_pki() -> Any:
    return create_test_pki()


@pytest.mark.parametrize("impostor", ["other-fund", "same-ca-same-ogrn"])
def test_a_reply_signed_by_another_fund_key_is_refused_and_changes_nothing(
    store: ElnStore, people: People, tmp_path: Path, mo_pki: Any, impostor: str
) -> None:
    """The client trusts the configured Fund certificate; an emulator with another key replies
    (a different Fund, or a twin certificate of the same CA with the same ОГРН)."""
    real = Emulator(tmp_path / "real", trust=[mo_pki.ca.cert]).start()
    try:
        if impostor == "other-fund":
            fake = Emulator(tmp_path / "fake", trust=[mo_pki.ca.cert])
        else:
            fake = Emulator(
                tmp_path / "fake",
                trust=[mo_pki.ca.cert],
                ca_cert=real.ca_cert,
                ca_key=real.ca_key,
                fund_ogrn=real.fund_ogrn,
            )
        with fake:
            assert fake.fund_cert != real.fund_cert
            assert fake.fund_cert.subject.ogrn == real.fund_cert.subject.ogrn or (
                impostor == "other-fund"
            )
            # the impostor cannot decrypt what is encrypted to the real Fund, so the exchange
            # goes unencrypted (signed only), as on the test-plain contour
            config = FssConfig(
                ogrn=mo_pki.mo.cert.subject.ogrn or "",
                contour=Contour.EMULATOR,
                url=fake.endpoint_url("2.0", encrypted=False),
                encryption=False,
                fund_certificates={Contour.EMULATOR: real.fund_cert},
                trusted_roots=(real.ca_cert,),
                retries=0,
            )
            pool_before = store.pool().counts()
            client = FssClient(config, SoftKey(mo_pki.mo))
            service = ExchangeService(store, client, people.operator.signer)
            with pytest.raises(ReplySignatureError) as info:
                service.request_numbers(2)
            assert "СФР" in info.value.message
            assert store.pool().counts() == pool_before
            assert fake.store.numbers(), "the impostor did answer"
            # the same client against the real Fund works
            config_real = FssConfig(**{**config.__dict__, "url": real.url, "encryption": None})
            ok = ExchangeService(
                store, FssClient(config_real, SoftKey(mo_pki.mo)), people.operator.signer
            )
            ok.request_numbers(2)
            assert store.pool().counts() != pool_before
    finally:
        real.stop()


def test_a_profile_pinned_by_thumbprint_refuses_a_same_serial_certificate(mo_pki: Any) -> None:
    """A certificate with the doctor's serial number from another CA: a profile holding only
    the serial (the seed's «Серийный номер сертификата») cannot tell them apart — serials are
    unique per CA only; a thumbprint can (the limit is in docs/reliability.md)."""
    from gostsign.x509 import issue_certificate

    other_ca = make_ca()
    cert = mo_pki.doctor.cert
    twin = issue_certificate(
        mo_pki.doctor.key.public_key(),
        cert.subject,
        other_ca.cert,
        other_ca.key,
        serial=cert.serial,
    )
    assert twin.thumbprint != cert.thumbprint
    assert signing.certificate_matches_profile(store_user(cert), twin)  # the documented limit
    assert signing.certificate_matches_profile(store_user(cert, thumbprint=True), cert)
    assert not signing.certificate_matches_profile(store_user(cert, thumbprint=True), twin)


def store_user(cert: Any, *, thumbprint: bool = False) -> Any:
    from eln_tui.core.storage import UserInfo

    ref = f"thumbprint:{cert.thumbprint}" if thumbprint else None
    serial = None if thumbprint else f"{cert.serial:x}"
    return UserInfo(1, "u", "U", frozenset({Role.DOCTOR}), cert_serial=serial, cert_ref=ref)


# --- the TUI's signing dialog ------------------------------------------------------------

TUI_PIN, TUI_WRONG = "Q7xZ39kPqW", "W8yR21mNvT"  # typed key by key: ASCII only


def test_the_signing_dialog_never_shows_or_keeps_the_pin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The doctor types a wrong PIN, then the right one: after every keystroke the screen shows
    neither; afterwards the journal files and the log hold neither."""
    pytest.importorskip("textual")
    from eln_tui.ui.dialogs.sign import SignDialog
    from eln_tui.ui.screens.eln_editor import ElnEditorScreen
    from tests.ui.world import build_world, close_world, keys, run, screen_text

    caplog.set_level(logging.DEBUG)
    keyset = create_test_set(tmp_path / "keys", TUI_PIN, iterations=1000)
    world = build_world(tmp_path / "ws", keyset)
    shown: list[str] = []
    try:
        eln = world.eln()
        assert eln.id is not None

        async def scenario(pilot: Any) -> None:
            await keys(pilot, "enter")  # open the doctor's ELN
            assert isinstance(pilot.app.screen, ElnEditorScreen)
            await keys(pilot, "f4")
            for pin in (TUI_WRONG, TUI_PIN):
                assert isinstance(pilot.app.screen, SignDialog), pilot.app.screen
                for ch in pin:
                    await keys(pilot, ch)
                    shown.append(screen_text(pilot.app))
                await keys(pilot, "enter")
                shown.append(screen_text(pilot.app))
            assert isinstance(pilot.app.screen, ElnEditorScreen)

        run(world.app(world.doctor), (80, 24), scenario)
        assert world.store.load(eln.id).treat_periods[0].doctor_signature is not None
    finally:
        close_world()
    assert any("Неверный пароль ключа" in s for s in shown)  # the wrong PIN was really typed
    for text in shown:
        for pin in (TUI_PIN, TUI_WRONG):
            assert pin[:4] not in text, text
    for pin in (TUI_PIN, TUI_WRONG):
        for p in (tmp_path / "ws").rglob("*"):
            if p.is_file():
                assert pin.encode() not in p.read_bytes(), p
        assert pin not in caplog.text


# --- every text fits the journal (found with PostgreSQL: DataError instead of a message) ---------


def _text_paths(obj: Any, prefix: str = "") -> Iterator[str]:
    import dataclasses

    for f in dataclasses.fields(obj):
        value, path = getattr(obj, f.name), f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from _text_paths(value, f"{path}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    yield from _text_paths(item, f"{path}[{i}].")
        elif "str" in str(f.type) and "date" not in str(f.type):
            yield path


def _set(obj: Any, path: str, value: str) -> None:
    *parents, last = path.split(".")
    for part in parents:
        name, _, index = part.partition("[")
        obj = getattr(obj, name)
        if index:
            obj = obj[int(index[:-1])]
    setattr(obj, last, value)


def test_every_text_field_too_long_is_refused_by_name(
    store: ElnStore, people: People, backend: Backend
) -> None:
    """Each text of a fully filled ELN (care records, breach, result, periods) set to 400
    characters, saved by a nurse and stored as received from the Fund: a message naming the
    field, or saved — never a database error."""
    from dataclasses import replace as dc_replace

    from eln_tui.core.domain.model import (
        CareRecord,
        Gender,
        HospitalBreach,
        LnResult,
        field_title,
    )
    from eln_tui.core.errors import ElnError
    from tests.core import factories

    store.pool().add([f"{900_000_000_000 + i:012d}" for i in range(1, 300)], ogrn=factories.OGRN)
    start = factories.TODAY - timedelta(days=9)
    base = factories.valid_eln(
        ln_code=None,
        number_from_pool=False,
        patient=factories.patient(gender=Gender.FEMALE, name="Анна", surname="Петрова"),
        reason1=None,
        hospital_breach=HospitalBreach(code="24", dt=start + timedelta(days=1)),
        ln_result=LnResult(return_date_lpu=start + timedelta(days=5)),
        serv_data=[
            CareRecord(
                relation_code="38",
                surname="Петров",
                name="Илья",
                reason1="09",
                birthday=factories.TODAY.replace(year=2019),
                treatment_type="1",
                dt1=start,
                dt2=start + timedelta(days=4),
                snils="12345394243",
                diagnosis="J06.9",
                patronymic="Сергеевич",
            )
        ],
    )
    saved = store.save(store.take_number(base.copy(), people.nurse.signer), people.nurse.signer,
                       context=CTX)  # fmt: skip
    assert saved.serv_data and saved.hospital_breach and saved.ln_result  # the base is valid
    paths = sorted(set(_text_paths(base)) - {"ln_code"})
    assert len(paths) > 35
    crashed = []
    for path in paths:
        eln = base.copy()
        _set(eln, path, "Я" * 400)
        for how in ("save", "received"):
            try:
                if how == "save":
                    store.save(store.take_number(eln.copy(), people.nurse.signer),
                               people.nurse.signer, context=CTX)  # fmt: skip
                else:
                    number = f"9100000{len(crashed):02d}{paths.index(path):03d}"
                    store.store_received(dc_replace(eln.copy(), ln_code=number),
                                         people.operator.signer)  # fmt: skip
            except ElnError as exc:
                assert re.search("[а-я]", exc.message), exc.message
                title = field_title(path)
                if how == "received" and "длиннее" in exc.message:
                    assert title in exc.message or path.split(".")[-1] in exc.message
            except Exception as exc:  # collected and reported below
                crashed.append((path, how, type(exc).__name__, str(exc)[:80]))
    assert crashed == []
