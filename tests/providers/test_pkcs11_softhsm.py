"""The pkcs11 provider against the GOST-enabled SoftHSM2 (crypto.md §5c): real keys on a token.

SoftHSM 2.6.1 facts these tests rely on (read in its Token.cpp and checked here):
* a wrong PIN returns CKR_PIN_INCORRECT and sets CKF_USER_PIN_COUNT_LOW, nothing more: it
  never counts tries, never sets FINAL_TRY or LOCKED and never returns CKR_PIN_LOCKED;
* it reports whatever token flags are stored in token.object, so the FINAL_TRY and LOCKED
  paths are exercised by writing those bits there (what a real token reports by itself);
* a token whose directory disappears answers CKR_GENERAL_ERROR / CKR_OBJECT_HANDLE_INVALID,
  not CKR_TOKEN_NOT_PRESENT; the provider re-probes the slots and reports TokenNotPresent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gostsign import streebog
from gostsign.errors import InvalidSignature
from providers.base import NO_PIN, PIN_PAD, Pin, PinMode, PinPrompt
from providers.errors import (
    KeyCertificateMismatch,
    KeyNotFound,
    OperationNotSupported,
    PinLocked,
    PinRequired,
    ProviderError,
    ProviderNotInstalled,
    SeveralKeysMatch,
    TokenNotPresent,
    WrongPin,
)
from providers.pkcs11 import (
    CKF_USER_PIN_COUNT_LOW,
    CKF_USER_PIN_FINAL_TRY,
    CKF_USER_PIN_LOCKED,
    derive_params,
    map_error,
    wrong_pin_from_flags,
)
from tests.providers.conftest import PIN, CAFixture, SoftHSM, make_token_key, openssl_verify

pytestmark = pytest.mark.oracle("softhsm")

DATA = "Листок нетрудоспособности № 910000000001".encode()


@pytest.fixture
def token(softhsm: SoftHSM, test_ca: CAFixture):
    softhsm.init_token("doctor")
    return make_token_key(
        softhsm, test_ca, "doctor", "Иванова М.П.", b"\x01\x02", "CN=Иванова М.П."
    )


def test_keygen_on_token_and_certificate_import(softhsm: SoftHSM, token) -> None:
    provider = token.provider
    assert provider.availability()
    [info] = provider.list_certificates()
    assert info.certificate == token.cert
    assert info.key_id == "0102"
    assert info.key_label == "Иванова М.П."
    assert info.algorithm == "ГОСТ Р 34.10-2012 256 бит"
    assert "doctor" in info.token
    assert info.get("module") == str(softhsm.module)
    # The private key is on the token and not extractable.
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    lib = pkcs11.lib(str(softhsm.module))
    tok = lib.get_token(token_label="doctor")
    with tok.open(user_pin=PIN) as session:
        [priv] = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
        assert priv[Attribute.SENSITIVE] is True
        assert priv[Attribute.EXTRACTABLE] is False


def test_sign_verified_by_gostsign_and_openssl(token, openssl, tmp_path: Path) -> None:
    [info] = token.provider.list_certificates()
    with token.provider.open_session(info, Pin(PIN)) as session:
        assert session.certificate == token.cert
        sig = session.sign(DATA)
        digest = streebog.streebog256(DATA)
        sig2 = session.sign_digest(digest)
    assert len(sig) == 64
    token.cert.public_key.verify(DATA, sig)
    token.cert.public_key.verify_digest(digest, sig2)
    with pytest.raises(InvalidSignature):
        token.cert.public_key.verify(DATA + b".", sig)
    openssl_verify(openssl, token.cert, DATA, sig, tmp_path)


@pytest.mark.parametrize("ref", ["serial", "thumbprint", "id:0102", "label:Иванова М.П."])
def test_key_selection_by_serial_thumbprint_id_label(token, ref: str) -> None:
    cert = token.cert
    text = {"serial": f"{cert.serial:X}", "thumbprint": cert.thumbprint}.get(ref, ref)
    with token.provider.open_session(text, Pin(PIN)) as session:
        session.sign(DATA)


def test_key_filter_settings(softhsm: SoftHSM, token, test_ca: CAFixture) -> None:
    second = make_token_key(softhsm, test_ca, "doctor", "second", b"\x09", "CN=Второй")
    assert len(softhsm.provider(token_label="doctor").list_certificates()) == 2
    [only] = softhsm.provider(token_label="doctor", key_id="09").list_certificates()
    assert only.certificate == second.cert
    [only] = softhsm.provider(key_label="Иванова М.П.").list_certificates()
    assert only.certificate == token.cert


def test_pin_is_wiped_after_the_session_logged_in(token) -> None:
    pin = Pin(PIN)
    with token.provider.open_session(token.cert.thumbprint, pin) as session:
        assert pin.wiped
        assert "1234" not in repr(pin) and "1234" not in repr(session)
        session.sign(DATA)
    with pytest.raises(ProviderError):
        session.sign(DATA)


def test_pin_prompt_is_asked_once(token) -> None:
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        return PIN

    with token.provider.open_session(token.cert.thumbprint, PinPrompt(ask)) as session:
        session.sign(DATA)
    assert len(questions) == 1 and "doctor" in questions[0]


def test_wrong_pin_reports_the_token_flags(softhsm: SoftHSM, token) -> None:
    with pytest.raises(WrongPin) as info:
        token.provider.open_session(token.cert.thumbprint, Pin("0000"))
    # SoftHSM sets CKF_USER_PIN_COUNT_LOW after a failure but gives no count.
    assert info.value.count_low is True
    assert info.value.tries_left is None
    assert "0000" not in str(info.value) and "0000" not in repr(info.value)
    # The right PIN still works and clears the flag.
    with token.provider.open_session(token.cert.thumbprint, Pin(PIN)) as session:
        session.sign(DATA)


def test_softhsm_never_locks_the_pin(token) -> None:
    for _ in range(12):
        with pytest.raises(WrongPin):
            token.provider.open_session(token.cert.thumbprint, Pin("9999"))
    with token.provider.open_session(token.cert.thumbprint, Pin(PIN)) as session:
        session.sign(DATA)


def test_final_try_flag_gives_one_try_left(softhsm: SoftHSM, token) -> None:
    softhsm.set_token_flags("doctor", CKF_USER_PIN_FINAL_TRY)
    provider = softhsm.provider(token_label="doctor")
    with pytest.raises(WrongPin) as info:
        provider.open_session(token.cert.thumbprint, Pin("0000"))
    assert info.value.tries_left == 1
    assert "последняя попытка" in info.value.message


def test_locked_flag_refuses_before_spending_a_try(softhsm: SoftHSM, token) -> None:
    softhsm.set_token_flags("doctor", CKF_USER_PIN_LOCKED)
    provider = softhsm.provider(token_label="doctor")
    with pytest.raises(PinLocked) as info:
        provider.open_session(token.cert.thumbprint, Pin(PIN))
    assert "заблокирован" in info.value.message


def test_pin_error_mapping() -> None:
    import pkcs11.exceptions as e

    assert isinstance(map_error(e.PinLocked()), PinLocked)
    assert isinstance(map_error(e.PinLenRange()), WrongPin)
    assert isinstance(map_error(e.TokenNotPresent()), TokenNotPresent)
    assert isinstance(map_error(e.DeviceRemoved()), TokenNotPresent)
    assert isinstance(map_error(e.NoSuchToken()), TokenNotPresent)
    assert isinstance(map_error(e.UserNotLoggedIn()), PinRequired)
    assert isinstance(map_error(e.MechanismInvalid()), OperationNotSupported)
    assert isinstance(map_error(e.MultipleObjectsReturned()), SeveralKeysMatch)
    assert isinstance(map_error(e.NoSuchKey()), KeyNotFound)
    assert isinstance(map_error(e.GeneralError()), ProviderError)
    assert wrong_pin_from_flags(0).tries_left is None
    assert wrong_pin_from_flags(CKF_USER_PIN_COUNT_LOW).count_low
    assert wrong_pin_from_flags(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY).tries_left == 1
    assert isinstance(wrong_pin_from_flags(CKF_USER_PIN_LOCKED), PinLocked)


def test_no_pin_on_a_login_token(token) -> None:
    with pytest.raises(PinRequired):
        token.provider.open_session(token.cert.thumbprint, NO_PIN)
    assert token.provider.pin_mode(token.provider.list_certificates()[0]) is PinMode.ASK


def test_pin_pad_needs_a_protected_path(token) -> None:
    with pytest.raises(OperationNotSupported):
        token.provider.open_session(token.cert.thumbprint, PIN_PAD)


def test_vko_not_offered_by_softhsm(token) -> None:
    with token.provider.open_session(token.cert.thumbprint, Pin(PIN)) as session:
        with pytest.raises(OperationNotSupported) as info:
            session.key_agreement()
    assert "VKO" in info.value.message


def test_two_sessions_share_one_login(token) -> None:
    with token.provider.open_session(token.cert.thumbprint, Pin(PIN)) as first:
        with token.provider.open_session(token.cert.thumbprint, Pin(PIN)) as second:
            second.sign(DATA)
        first.sign(DATA)  # still logged in after the second session closed
    with pytest.raises(PinRequired):  # the last close logged out
        token.provider.open_session(token.cert.thumbprint, NO_PIN)


def test_concurrent_sessions_from_threads(token) -> None:
    import threading

    errors: list[BaseException] = []
    signatures: list[bytes] = []

    def worker() -> None:
        try:
            with token.provider.open_session(token.cert.thumbprint, Pin(PIN)) as session:
                for _ in range(5):
                    signatures.append(session.sign(DATA))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(signatures) == 30
    for sig in signatures:
        token.cert.public_key.verify(DATA, sig)
    with pytest.raises(PinRequired):  # everybody closed: logged out
        token.provider.open_session(token.cert.thumbprint, NO_PIN)


def test_two_tokens(softhsm: SoftHSM, test_ca: CAFixture, openssl, tmp_path: Path) -> None:
    softhsm.init_token("alpha")
    softhsm.init_token("beta", pin="4321")
    a = make_token_key(softhsm, test_ca, "alpha", "A", b"\x01", "CN=Врач А")
    softhsm.provider(token_label="beta").generate_key(Pin("4321"), key_id=b"\x01", label="B")
    b_pub = softhsm.provider(token_label="beta").generate_key(
        Pin("4321"), key_id=b"\x02", label="B2"
    )
    b_cert = test_ca.issue(b_pub, "CN=Врач Б")
    softhsm.provider(token_label="beta").import_certificate(
        b_cert, Pin("4321"), key_id=b"\x02", label="B2"
    )

    both = softhsm.provider()
    infos = both.list_certificates()
    assert {i.certificate for i in infos} == {a.cert, b_cert}
    assert len(softhsm.provider(token_label="alpha").list_certificates()) == 1
    serial = next(i for i in infos if i.certificate == b_cert).get("token_serial")
    assert softhsm.provider(token_serial=serial).list_certificates()[0].certificate == b_cert
    with both.open_session(b_cert.thumbprint, Pin("4321")) as s:
        sig_b = s.sign(DATA)
    with both.open_session(a.cert.thumbprint, Pin(PIN)) as s:
        sig_a = s.sign(DATA)
    openssl_verify(openssl, b_cert, DATA, sig_b, tmp_path)
    openssl_verify(openssl, a.cert, DATA, sig_a, tmp_path)
    with pytest.raises(WrongPin):  # each token has its own PIN
        both.open_session(b_cert.thumbprint, Pin(PIN))
    with pytest.raises(TokenNotPresent) as info:
        softhsm.provider(token_label="gamma").open_session(b_cert.thumbprint, Pin(PIN))
    assert "gamma" in info.value.message
    assert not softhsm.provider(token_label="gamma").availability()


def test_same_certificate_on_two_tokens_is_ambiguous(softhsm: SoftHSM, test_ca: CAFixture) -> None:
    softhsm.init_token("one")
    softhsm.init_token("two")
    t = make_token_key(softhsm, test_ca, "one", "k", b"\x01", "CN=Дубликат")
    softhsm.provider(token_label="two").import_certificate(
        t.cert, Pin(PIN), key_id=b"\x01", label="k"
    )
    with pytest.raises(SeveralKeysMatch):
        softhsm.provider().open_session(t.cert.thumbprint, Pin(PIN))


def test_certificate_without_its_key(softhsm: SoftHSM, test_ca: CAFixture, token) -> None:
    _, stray = test_ca.new_key("CN=Чужой")
    token.provider.import_certificate(stray, Pin(PIN), key_id=b"\x77", label="stray")
    with pytest.raises(KeyNotFound):
        token.provider.open_session(stray.thumbprint, Pin(PIN))


def test_certificate_under_the_wrong_key_is_caught(
    softhsm: SoftHSM, test_ca: CAFixture, token
) -> None:
    _, other = test_ca.new_key("CN=Не тот ключ")
    token.provider.import_certificate(other, Pin(PIN), key_id=b"\x01\x02", label="x")
    with token.provider.open_session(other.thumbprint, Pin(PIN)) as session:
        with pytest.raises(KeyCertificateMismatch):
            session.sign(DATA)


def test_removed_token_directory(softhsm: SoftHSM, token) -> None:
    session = token.provider.open_session(token.cert.thumbprint, Pin(PIN))
    session.sign(DATA)
    shutil.rmtree(softhsm.token_dir("doctor"))
    with pytest.raises(TokenNotPresent) as info:
        session.sign(DATA)
    assert "извлеч" in info.value.message
    session.close()
    with pytest.raises(TokenNotPresent):
        token.provider.open_session(token.cert.thumbprint, Pin(PIN))
    avail = token.provider.availability()
    assert not avail and "doctor" in (avail.reason or "")


def test_module_path_made_unavailable_mid_run(softhsm: SoftHSM, token) -> None:
    session = token.provider.open_session(token.cert.thumbprint, Pin(PIN))
    moved = softhsm.module.with_name("gone.so")
    softhsm.module.rename(moved)
    try:
        # The loaded library keeps serving the open session ...
        session.sign(DATA)
        # ... but nothing new can be started: the provider says the module is missing.
        with pytest.raises(ProviderNotInstalled) as info:
            token.provider.open_session(token.cert.thumbprint, Pin(PIN))
        assert str(softhsm.module) in info.value.message
        assert not token.provider.availability()
        with pytest.raises(ProviderNotInstalled):
            token.provider.list_certificates()
    finally:
        session.close()
        moved.rename(softhsm.module)
    assert token.provider.availability()


def test_missing_module_is_reported(tmp_path: Path) -> None:
    from providers.pkcs11 import Pkcs11Provider

    p = Pkcs11Provider({"module": str(tmp_path / "librtpkcs11ecp.so")})
    avail = p.availability()
    assert not avail and "librtpkcs11ecp.so" in (avail.reason or "")
    with pytest.raises(ProviderNotInstalled):
        p.check_configuration()
    broken = tmp_path / "broken.so"
    broken.write_bytes(b"not a library")
    with pytest.raises(ProviderNotInstalled) as info:
        Pkcs11Provider({"module": str(broken)}).list_certificates()
    assert "не загружается" in info.value.message


def test_derive_params_layout() -> None:
    import ctypes

    raw, keep = derive_params(0xD4321026, b"\x01" * 64, b"\x02" * 8)
    size = ctypes.sizeof(ctypes.c_ulong)
    assert len(raw) == 5 * size
    assert int.from_bytes(raw[:size], "little") == 0xD4321026
    assert int.from_bytes(raw[2 * size : 3 * size], "little") == 64
    assert int.from_bytes(raw[4 * size :], "little") == 8
    pub_ptr = int.from_bytes(raw[size : 2 * size], "little")
    assert ctypes.string_at(pub_ptr, 64) == b"\x01" * 64
    assert keep
