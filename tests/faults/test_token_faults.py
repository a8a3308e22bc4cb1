"""Tokens (SoftHSM2) failing in the product's flows: removed between the PIN and the signature
(the doctor's block; the МО's registry request), and wrong PINs until the token says «locked».

What SoftHSM 2.6.1 can and cannot show (tests/providers/test_pkcs11_softhsm.py proves each at the
provider level): it never counts wrong PINs nor locks, so "until lock" is 12 wrong PINs that
all stay WrongPin and leave nothing behind, then the token's own FINAL_TRY and LOCKED flags
(written into its token.object, what a real token reports by itself) seen through the same
product path; a removed token is its directory taken away (SoftHSM answers a general error,
the provider re-probes and reports TokenNotPresent), and put back for the retry. The software
provider has no try counter at all (a wrong password is WrongPin every time).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from eln_tui.core import signing
from eln_tui.core.domain.codes import Role, SignerSlot
from eln_tui.core.domain.model import Block
from eln_tui.core.exchange import ExchangeService, open_exchange
from eln_tui.core.storage import ElnStore, OrganisationData, SettingsData
from eln_tui.core.storage import models as m
from eln_tui.core.storage.repository import SYSTEM
from gostsign.signer import SoftwareSigner
from gostsign.testpki import create_test_pki
from providers.base import NO_PIN, Pin, PinPrompt
from providers.errors import PinLocked, PinRequired, ProviderError, TokenNotPresent, WrongPin
from providers.pkcs11 import CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED, unload_module
from tests.core.conftest import CTX, People, make_saved_eln
from tests.exchange.test_exchange import end_of, new_eln, sign
from tests.faults.helpers import assert_russian, diff, snapshot
from tests.fss.e2e import PASSWORD, Parties, make_client
from tests.fss.softhsm import LABEL, PIN, Token, TokenSignsSoftwareAgrees, softhsm_token
from tests.providers.conftest import SoftHSM

TODAY = date.today()
START = TODAY - timedelta(days=4)
DAY = START + timedelta(days=4)  # the end of the first period: sent on time


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Token, Parties]]:
    """The token, and the parties of its PKI; the МО key session is opened by each test
    (``_mo``) so that no login outlives a test."""
    pki = create_test_pki(curve="cryptopro-a")
    with softhsm_token(tmp_path_factory.mktemp("softhsm"), pki.ca) as token:
        ogrn = token.imported.subject.ogrn
        assert ogrn is not None
        yield (
            token,
            Parties(
                "pkcs11-256",
                None,  # type: ignore[arg-type]
                SoftwareSigner(pki.doctor.key, pki.doctor.cert),
                SoftwareSigner(pki.chairman.key, pki.chairman.cert),
                pki.ca.cert,
                ogrn,
                token,
            ),
        )


@contextmanager
def _mo(token: Token, parties: Parties) -> Iterator[Parties]:
    session = token.open(token.imported)
    try:
        yield dataclasses.replace(parties, mo=TokenSignsSoftwareAgrees(session, token.imported_key))
    finally:
        with contextlib.suppress(ProviderError):  # a pulled token's session is gone already
            session.close()


def _token_dir(token: Token) -> Path:
    (directory,) = [d for d in (token.module.parent / "tokens").iterdir() if d.is_dir()]
    return directory


@contextmanager
def removed(token: Token) -> Iterator[None]:
    """The token pulled out; put back (and the module re-initialised) afterwards."""
    directory = _token_dir(token)
    away = directory.parent.parent / "pulled-out"
    shutil.move(directory, away)
    try:
        yield
    finally:
        shutil.move(away, directory)
        unload_module(str(token.module))  # a real token is seen again on insertion


@pytest.mark.oracle("softhsm")
def test_a_wrong_pin_is_refused_while_the_token_is_logged_in(hsm: tuple[Token, Parties]) -> None:
    """PKCS#11 keeps one login per token and process, so the provider shares it between key
    sessions; one who shares it must still type the right PIN (here the МО key is open)."""
    token, parties = hsm
    ref = f"thumbprint:{token.on_token.thumbprint}"
    with _mo(token, parties):
        with pytest.raises(WrongPin) as info:
            token.provider.open_session(ref, Pin("0000"))
        assert_russian(info.value.message, contains="PIN")
        # no PIN at all, or a prompt answered wrongly, does not ride the open login either
        with pytest.raises(PinRequired) as required:
            token.provider.open_session(ref, NO_PIN)
        assert_russian(required.value.message, contains="PIN")
        with pytest.raises(WrongPin):
            token.provider.open_session(ref, PinPrompt(lambda question: "0000"))
        with token.provider.open_session(ref, PinPrompt(lambda question: PIN)) as session:
            session.sign_digest(b"\x01" * 32)
        with token.provider.open_session(ref, Pin(PIN)) as session:
            session.sign_digest(b"\x01" * 32)


def _snapshot_with_log(store: ElnStore) -> tuple[Any, int]:
    return snapshot(store.db), m.ExchangeLog.select().bind(store.db).count()


@pytest.mark.oracle("softhsm")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_doctor_token_removed_between_pin_and_signature(
    store: ElnStore, people: People, hsm: tuple[Token, Parties]
) -> None:
    token, _ = hsm
    doctor = store.add_user(
        "petrov",
        "Петров Пётр Петрович",
        [Role.DOCTOR],
        position="Врач-терапевт",
        cert_serial=token.on_token.serial_hex,
    )
    eln = make_saved_eln(store, people)
    eln.doctor_id = eln.treat_periods[0].doctor_id = doctor.id
    eln.treat_periods[0].doctor = doctor.full_name
    eln = store.save(eln, people.nurse.signer, context=CTX)
    assert eln.id is not None
    block = Block("period", SignerSlot.DOC, 0)
    ref = f"thumbprint:{token.on_token.thumbprint}"
    session = token.provider.open_session(ref, Pin(PIN))  # the doctor typed the PIN
    before = snapshot(store.db)
    with removed(token), pytest.raises(TokenNotPresent) as info:
        signing.sign_block(store, eln.id, block, doctor, session, context=CTX)
    assert_russian(info.value.message, contains="извлечён")
    assert PIN not in info.value.message
    assert diff(before, snapshot(store.db)) == {}  # no fragment, no mark, no audit line
    with contextlib.suppress(ProviderError):
        session.close()
    # the token back in: the key is opened again and the block signed once
    with token.provider.open_session(ref, Pin(PIN)) as again:
        signed = signing.sign_block(store, eln.id, block, doctor, again, context=CTX)
    assert signed.treat_periods[0].doctor_signature is not None
    assert (
        m.SignedFragment.select().where(m.SignedFragment.eln == eln.id).bind(store.db).count() == 1
    )


@pytest.mark.oracle("softhsm")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_mo_token_removed_during_the_registry_send(
    store: ElnStore, people: People, emu: Any, hsm: tuple[Token, Parties]
) -> None:
    """The outbox is written, then the МО's token is pulled before the request is signed:
    the user is told, the Fund got nothing, and after reinsertion the send completes."""
    token, parties = hsm
    emu.add_trusted(parties.ca)
    with _mo(token, parties) as first:
        _send_with_the_token_pulled(store, people, emu, token, first)
    with _mo(token, parties) as again:
        later = ExchangeService(store, make_client(emu, again)[0], people.operator.signer)
        report = later.send(DAY)
    (ln_code,) = report.accepted
    assert report.reconciled_abandoned == [ln_code]
    assert emu.eln(ln_code).state == "010"


def _send_with_the_token_pulled(
    store: ElnStore, people: People, emu: Any, token: Token, first: Parties
) -> None:
    svc = ExchangeService(store, make_client(emu, first)[0], people.operator.signer)
    svc.request_numbers(1)
    eln = new_eln(svc, people, first, START)
    assert eln.id is not None and eln.ln_code is not None
    sign(svc, people, first, eln.id, Block("period", SignerSlot.DOC, 0))
    day = end_of(eln.treat_periods[0])
    assert day == DAY
    pulled: list[Any] = []

    def pull(step: str) -> None:
        if step == "before_request":
            pulled.append(removed(token))
            pulled[0].__enter__()

    svc._fault = pull
    before = snapshot(store.db)
    try:
        with pytest.raises(ProviderError) as info:
            svc.send(day)
    finally:
        if pulled:
            pulled[0].__exit__(None, None, None)
    assert isinstance(info.value, TokenNotPresent)
    assert_russian(info.value.message, contains="извлеч")
    assert emu.eln(eln.ln_code) is None  # nothing reached the Fund
    assert diff(before, snapshot(store.db)) == {}
    assert svc.preview(day).blocked  # the unsent message is reconciled before anything else


def _settings(store: ElnStore, url: str, ogrn: str) -> None:
    store.save_settings(
        SettingsData(
            enabled=True,
            server_url=url,
            registry_phone="+7 495 000-00-00",
            registry_email="eln@example.test",
        ),
        [OrganisationData("ГБУЗ «Поликлиника»", "г. Москва, ул. Тестовая, 1", ogrn, None, True)],
        SYSTEM,
    )


@contextmanager
def _flags(token: Token, add: int) -> Iterator[None]:
    """The PIN flags a real token reports by itself (SoftHSM only reports what is stored)."""
    obj = _token_dir(token) / "token.object"
    saved = obj.read_bytes()
    holder = SimpleNamespace(token_dir=lambda label: _token_dir(token))
    SoftHSM.set_token_flags(holder, LABEL, add)  # type: ignore[arg-type]
    try:
        yield
    finally:
        obj.write_bytes(saved)
        unload_module(str(token.module))


@pytest.mark.oracle("softhsm")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_wrong_pin_until_the_token_locks(
    store: ElnStore, people: People, emu: Any, hsm: tuple[Token, Parties], tmp_path: Path
) -> None:
    token, parties = hsm
    emu.add_trusted(parties.ca)
    fund = tmp_path / "fund.pem"
    fund.write_bytes(emu.fund_cert.pem)
    # SoftHSM has no VKO: the token-only path is the Fund's signed-only contour
    _settings(store, emu.endpoint_url("2.0", encrypted=False), parties.ogrn)
    section = {
        "mo_certificate": f"thumbprint:{token.imported.thumbprint}",
        "fund_certificate": str(fund),
        "contour": "emulator",
        "encryption": False,
    }
    actor = people.operator.signer
    before, log = _snapshot_with_log(store)
    for _ in range(12):  # SoftHSM never counts: every try is WrongPin, none locks
        with (
            pytest.raises(WrongPin) as info,
            open_exchange(store, token.provider, actor, section, Pin("0000")),
        ):
            pass
        assert_russian(info.value.message, contains="PIN")
        assert "0000" not in info.value.message
    assert _snapshot_with_log(store) == (before, log)  # nothing written, nothing sent
    with _flags(token, CKF_USER_PIN_FINAL_TRY):  # a real token near its limit
        with (
            pytest.raises(WrongPin) as info,
            open_exchange(store, token.provider, actor, section, Pin("0000")),
        ):
            pass
        assert info.value.tries_left == 1 and "последняя попытка" in info.value.message
    with _flags(token, CKF_USER_PIN_LOCKED):  # …and locked: refused before a try is spent
        with (
            pytest.raises(PinLocked) as info,
            open_exchange(store, token.provider, actor, section, Pin(PIN)),
        ):
            pass
        assert_russian(info.value.message, contains="заблокирован")
    assert _snapshot_with_log(store) == (before, log)
    with open_exchange(store, token.provider, actor, section, Pin(PIN)) as svc:
        assert len(svc.request_numbers(1)) == 1  # the right PIN works after all that


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_wrong_key_password_of_the_software_provider(
    store: ElnStore, people: People, emu: Any, key_root: Path, tmp_path: Path
) -> None:
    """A key file has no try counter: every wrong password is WrongPin, the right one works."""
    from providers.software import SoftwareProvider

    provider = SoftwareProvider({"key_dir": key_root / "keys"})
    fund = tmp_path / "fund.pem"
    fund.write_bytes(emu.fund_cert.pem)
    mo = provider.open_session("label:mo", Pin(PASSWORD))
    ogrn = mo.certificate.subject.ogrn
    mo.close()
    assert ogrn is not None
    _settings(store, emu.url, ogrn)
    section = {"mo_certificate": "label:mo", "fund_certificate": str(fund)}
    actor = people.operator.signer
    before, log = _snapshot_with_log(store)
    for _ in range(5):
        with (
            pytest.raises(WrongPin) as info,
            open_exchange(store, provider, actor, section, Pin("не тот пароль")),
        ):
            pass
        assert_russian(info.value.message)
        assert "не тот пароль" not in info.value.message
    assert _snapshot_with_log(store) == (before, log)
    with open_exchange(store, provider, actor, section, Pin(PASSWORD)) as svc:
        assert len(svc.request_numbers(1)) == 1
