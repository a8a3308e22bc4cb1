"""PKCS#11 tokens (Rutoken, JaCarta, SoftHSM, ...) through python-pkcs11.

The digest is computed in software (Streebog); the token signs it with ``CKM_GOSTR3410``
(256-bit keys) or the TC26 vendor mechanism ``CKM_GOSTR3410_512`` (512-bit keys) and returns
``s_be || r_be`` (crypto.md §3). VKO runs on the token with ``CKM_GOSTR3410_12_DERIVE``
(2012 keys) or ``CKM_GOSTR3410_DERIVE`` (legacy 2001 transport) when the token lists them.

What was verified where:

* SoftHSM 2.6.1 built with GOST (crypto.md §5c): token and key selection, key generation,
  certificate import, signing (checked by gostsign and OpenSSL), wrong PIN, the PIN flags,
  removed tokens, several tokens. SoftHSM offers only the 2001-era mechanisms, so on it only
  256-bit keys on the CryptoPro-A curve sign, and ``key_agreement()`` answers
  OperationNotSupported (no derive mechanism in its list).
* The TC26 vendor paths (512-bit signing and keygen, both VKO derivations, the
  ``CK_GOSTR3410_DERIVE_PARAMS`` layout, ``CKD_KDF_GOSTR3411_2012_256``) follow PKCS#11 2.40
  §2.39 and the TC26 PKCS#11 extensions; **they have not run against a real token** here.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import pkcs11
from pkcs11 import (
    PROTECTED_AUTH,
    Attribute,
    CertificateType,
    KeyType,
    Mechanism,
    MechanismFlag,
    ObjectClass,
    TokenFlag,
)
from pkcs11 import exceptions as p11e
from pkcs11.attributes import AttributeMapper, handle_ulong
from pkcs11.constants import DEFAULT

from gostsign import asn1
from gostsign.curves import get_curve
from gostsign.errors import GostError
from gostsign.gost3410 import PublicKey
from gostsign.vko import KeyAgreement
from gostsign.x509 import Certificate
from providers.base import (
    NO_PIN,
    Availability,
    CertificateInfo,
    KeySession,
    Option,
    Pin,
    PinMode,
    PinPad,
    PinPrompt,
    PinSource,
    Provider,
    obtain_pin,
    select_certificate,
)
from providers.errors import (
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

# ----------------------------------------------------------------------------------------------
# TC26 vendor constants (crypto.md §5c) and pseudo-members of python-pkcs11's enums
# ----------------------------------------------------------------------------------------------

CK_VENDOR_PKCS11_RU_TEAM_TC26 = 0xD4321000
CKK_GOSTR3410_512 = CK_VENDOR_PKCS11_RU_TEAM_TC26 + 0x003
CKM_GOSTR3410_512_KEY_PAIR_GEN = CK_VENDOR_PKCS11_RU_TEAM_TC26 + 0x005
CKM_GOSTR3410_512 = CK_VENDOR_PKCS11_RU_TEAM_TC26 + 0x006
CKM_GOSTR3410_12_DERIVE = CK_VENDOR_PKCS11_RU_TEAM_TC26 + 0x007
CKD_KDF_GOSTR3411_2012_256 = CK_VENDOR_PKCS11_RU_TEAM_TC26 + 0x026
CKD_NULL = 0x00000001

CKF_USER_PIN_COUNT_LOW = 0x00010000
CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000


def _pseudo_member(enum_cls: Any, name: str, value: int) -> Any:
    """An instance of an IntEnum class that is not one of its members (a vendor value).

    python-pkcs11 insists on ``isinstance(mechanism, Mechanism)``; this passes the check and
    hands the vendor number to the module (crypto.md §5c).
    """
    member = int.__new__(enum_cls, value)
    member._name_ = name
    member._value_ = value
    return member


MECH_GOSTR3410_512 = _pseudo_member(Mechanism, "GOSTR3410_512", CKM_GOSTR3410_512)
MECH_GOSTR3410_512_KEY_PAIR_GEN = _pseudo_member(
    Mechanism, "GOSTR3410_512_KEY_PAIR_GEN", CKM_GOSTR3410_512_KEY_PAIR_GEN
)
MECH_GOSTR3410_12_DERIVE = _pseudo_member(Mechanism, "GOSTR3410_12_DERIVE", CKM_GOSTR3410_12_DERIVE)
KEYTYPE_GOSTR3410_512 = _pseudo_member(KeyType, "GOSTR3410_512", CKK_GOSTR3410_512)


class _LenientMapper(AttributeMapper):
    """Reads vendor key types (CKK_GOSTR3410_512) instead of failing on them."""

    def __init__(self) -> None:
        super().__init__()
        pack, unpack = handle_ulong

        def unpack_key_type(raw: bytes) -> Any:
            value = unpack(raw)
            try:
                return KeyType(value)
            except ValueError:
                return _pseudo_member(KeyType, f"VENDOR_{value:#x}", value)

        self.register_handler(Attribute.KEY_TYPE, lambda v: pack(int(v)), unpack_key_type)


class _DeriveParams(ctypes.Structure):
    """CK_GOSTR3410_DERIVE_PARAMS (PKCS#11 2.40 §2.39.6), native layout."""

    _fields_ = (
        ("kdf", ctypes.c_ulong),
        ("pPublicData", ctypes.c_void_p),
        ("ulPublicDataLen", ctypes.c_ulong),
        ("pUKM", ctypes.c_void_p),
        ("ulUKMLen", ctypes.c_ulong),
    )


def derive_params(kdf: int, public: bytes, ukm: bytes) -> tuple[bytes, tuple[Any, ...]]:
    """The raw mechanism parameter and the buffers it points into (keep them alive)."""
    pub_buf = ctypes.create_string_buffer(public, len(public))
    ukm_buf = ctypes.create_string_buffer(ukm, len(ukm))
    params = _DeriveParams(
        kdf,
        ctypes.cast(pub_buf, ctypes.c_void_p),
        len(public),
        ctypes.cast(ukm_buf, ctypes.c_void_p),
        len(ukm),
    )
    return bytes(params), (pub_buf, ukm_buf, params)


def _oid_der(oid: str) -> bytes:
    return asn1.oid(oid)


def _text_serial(serial: bytes | str) -> str:
    if isinstance(serial, bytes):
        serial = serial.decode("ascii", "replace")
    return serial.strip().strip("\x00")


def _raw_public_value(raw: bytes, size: int) -> bytes:
    """CKA_VALUE of a GOST public key: raw X_le||Y_le, or wrapped in an OCTET STRING."""
    if len(raw) == 2 * size:
        return raw
    try:
        return asn1.decode(raw, "CKA_VALUE").as_octet_string("public key")
    except GostError:
        return raw


# ----------------------------------------------------------------------------------------------
# Libraries and logins shared by every provider instance of the process
# ----------------------------------------------------------------------------------------------

#: python-pkcs11 initialises modules with C_Initialize(NULL), which tells the module that
#: the application will not call it from several threads at once (PKCS#11 §5.4). Every call
#: into a module therefore goes through this lock; SoftHSM crashes without it.
_P11_LOCK = threading.RLock()
_LIB_LOCK = _P11_LOCK

_F = TypeVar("_F", bound=Callable[..., Any])


def _serialized(func: _F) -> _F:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _P11_LOCK:
            return func(*args, **kwargs)

    return cast(_F, run)


def load_module(path: str) -> Any:
    """Load (or reuse) a PKCS#11 module."""
    with _LIB_LOCK:
        # One library object per file: a second C_Initialize through another path (a
        # symlink) would fail with CKR_CRYPTOKI_ALREADY_INITIALIZED.
        return pkcs11.lib(os.path.realpath(path))


def unload_module(path: str | os.PathLike[str]) -> None:
    """Finalize and unload a module (tests, the agent at exit). Open sessions die with it."""
    key = os.path.realpath(path)
    with _LIB_LOCK:
        with _LOGINS_LOCK:
            for login_key in [k for k in _LOGINS if k[0] == key]:
                _LOGINS.pop(login_key, None)
            _GENERATIONS[key] = _GENERATIONS.get(key, 0) + 1
        try:
            pkcs11.unload(key)
        except p11e.PKCS11Error:
            pass


@dataclass
class _Login:
    """One logged-in PKCS#11 session per token, shared by the KeySessions of the process.

    PKCS#11 keeps login state per application and token: a second C_Login fails with
    USER_ALREADY_LOGGED_IN and one C_Logout logs every session out. So KeySessions of the
    same token share this session and the last one to close logs out.
    """

    session: Any
    users: int = 0
    #: Registered for sharing (a logged-in session); unauthenticated sessions are private.
    shared: bool = True
    #: Keyed digest of the PIN that logged in: a later caller sharing the login must type the
    #: same PIN (the token cannot check it again while logged in). Memory only, per process.
    pin_digest: bytes | None = None
    #: The module's load generation (see :func:`unload_module`): a session of an unloaded module
    #: must not be closed through it (its library is finalized; the call may crash the process).
    generation: int = 0


#: Per module path, how many times it was unloaded.
_GENERATIONS: dict[str, int] = {}


_LOGINS: dict[tuple[str, int, str], _Login] = {}
_LOGINS_LOCK = _P11_LOCK
_PIN_KEY = secrets.token_bytes(32)


def _pin_digest(pin: Pin) -> bytes:
    return hmac.new(_PIN_KEY, pin.reveal_bytes(), hashlib.sha256).digest()


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------

_REMOVED = (
    p11e.NoSuchToken,
    p11e.TokenNotPresent,
    p11e.TokenNotRecognised,
    p11e.DeviceRemoved,
    p11e.SlotIDInvalid,
    p11e.SessionClosed,
    p11e.SessionHandleInvalid,
    p11e.DeviceError,
)


def wrong_pin_from_flags(flags: int, *, detail: str | None = None) -> ProviderError:
    """The error for a PinIncorrect, refined by the token's USER_PIN_* flags."""
    if flags & CKF_USER_PIN_LOCKED:
        return PinLocked(detail=detail)
    if flags & CKF_USER_PIN_FINAL_TRY:
        return WrongPin(tries_left=1, detail=detail)
    if flags & CKF_USER_PIN_COUNT_LOW:
        return WrongPin(count_low=True, detail=detail)
    return WrongPin(detail=detail)


def map_error(exc: BaseException, *, where: str = "", flags: int | None = None) -> ProviderError:
    """Translate a python-pkcs11 exception into the provider family."""
    if isinstance(exc, ProviderError):
        return exc
    name = type(exc).__name__
    detail = f"{name}: {exc}" if str(exc) else name
    place = f" ({where})" if where else ""
    if isinstance(exc, p11e.PinIncorrect):
        return wrong_pin_from_flags(flags or 0, detail=detail)
    if isinstance(exc, p11e.PinLocked):
        return PinLocked(detail=detail)
    if isinstance(exc, (p11e.PinLenRange, p11e.PinInvalid)):
        return WrongPin("Неверный PIN-код: недопустимая длина или символы.", detail=detail)
    if isinstance(exc, p11e.PinExpired):
        return ProviderError(
            f"Срок действия PIN-кода истёк{place}: смените PIN средствами токена.", detail=detail
        )
    if isinstance(exc, _REMOVED):
        return TokenNotPresent(
            f"Токен недоступен{place}: он извлечён или не вставлен.", detail=detail
        )
    if isinstance(exc, p11e.UserNotLoggedIn):
        return PinRequired(f"Токен{place} требует входа по PIN-коду.", detail=detail)
    if isinstance(exc, p11e.FunctionCancelled):
        return PinRequired("Ввод PIN-кода на считывателе отменён.", detail=detail)
    if isinstance(exc, p11e.NoSuchKey):
        return KeyNotFound(f"Ключ не найден на токене{place}.", detail=detail)
    if isinstance(exc, p11e.MultipleObjectsReturned):
        return SeveralKeysMatch(detail=detail)
    if isinstance(
        exc,
        (
            p11e.MechanismInvalid,
            p11e.MechanismParamInvalid,
            p11e.FunctionNotSupported,
            p11e.KeyTypeInconsistent,
        ),
    ):
        return OperationNotSupported(f"Токен{place} не поддерживает эту операцию.", detail=detail)
    return ProviderError(f"Ошибка токена{place}: {name}.", detail=detail)


# ----------------------------------------------------------------------------------------------
# Sessions
# ----------------------------------------------------------------------------------------------


class Pkcs11KeyAgreement:
    """VKO on the token (the key never leaves it)."""

    def __init__(self, session: Pkcs11KeySession, public_key: PublicKey) -> None:
        self._session = session
        self._public = public_key

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def derive_kek(self, peer: PublicKey, ukm: bytes, *, legacy_2001: bool = False) -> bytes:
        return self._session._derive(peer, ukm, legacy_2001=legacy_2001)


class Pkcs11KeySession(KeySession):
    def __init__(
        self,
        provider: Pkcs11Provider,
        info: CertificateInfo,
        login_key: tuple[str, int, str],
        login: _Login,
        key: Any,
        mechanisms: set[int],
    ) -> None:
        super().__init__(info)
        self._provider = provider
        self._login_key = login_key
        self._login: _Login | None = login
        self._key: Any = key
        self._mechanisms = mechanisms

    def _token_error(self, exc: BaseException) -> ProviderError:
        err = map_error(exc, where=self.info.token)
        if not isinstance(
            err, (TokenNotPresent, WrongPin, PinLocked)
        ) and not self._provider.token_present(self.info):
            return TokenNotPresent(
                f"Токен {self.info.token} извлечён: вставьте его и откройте ключ заново.",
                detail=err.detail,
            )
        return err

    def _sign_digest(self, digest: bytes) -> bytes:
        assert self._login is not None
        if self.info.bits == 256:
            mech = Mechanism.GOSTR3410
        else:
            mech = MECH_GOSTR3410_512
        if int(mech) not in self._mechanisms:
            raise OperationNotSupported(
                f"Токен {self.info.token} не умеет подписывать ключом {self.info.bits} бит "
                f"(нет механизма {mech.name} в его списке)."
            )
        try:
            with _P11_LOCK:
                signature: bytes = self._key.sign(digest, mechanism=mech)
        except p11e.PKCS11Error as exc:
            raise self._token_error(exc) from None
        return bytes(signature)

    def _key_agreement(self) -> KeyAgreement:
        want = CKM_GOSTR3410_12_DERIVE, int(Mechanism.GOSTR3410_DERIVE)
        if not any(m in self._mechanisms for m in want):
            raise OperationNotSupported(
                f"Токен {self.info.token} не предлагает выработку общего ключа VKO "
                "(CKM_GOSTR3410_12_DERIVE / CKM_GOSTR3410_DERIVE); расшифровать ответ им нельзя."
            )
        return Pkcs11KeyAgreement(self, self.info.certificate.public_key)

    def _derive(self, peer: PublicKey, ukm: bytes, *, legacy_2001: bool) -> bytes:
        """VKO on the token. [source] — not run against a token (SoftHSM has no derive)."""
        with self._lock:
            self._check_open()
            if legacy_2001:
                mech_value, kdf = int(Mechanism.GOSTR3410_DERIVE), CKD_NULL
                mech: Any = Mechanism.GOSTR3410_DERIVE
            else:
                mech_value, kdf = CKM_GOSTR3410_12_DERIVE, CKD_KDF_GOSTR3411_2012_256
                mech = MECH_GOSTR3410_12_DERIVE
            if mech_value not in self._mechanisms:
                raise OperationNotSupported(
                    f"Токен {self.info.token} не предлагает механизм {mech.name}."
                )
            raw, keep = derive_params(kdf, peer.to_le(), ukm)
            assert self._login is not None
            try:
                with _P11_LOCK:
                    secret = self._key.derive_key(
                        KeyType.GOST28147,
                        256,
                        mechanism=mech,
                        mechanism_param=raw,
                        template={
                            Attribute.VALUE_LEN: DEFAULT,
                            Attribute.TOKEN: False,
                            Attribute.SENSITIVE: False,
                            Attribute.EXTRACTABLE: True,
                        },
                    )
                    try:
                        value = bytes(secret[Attribute.VALUE])
                    finally:
                        secret.destroy()  # the KEK object must not outlive this call
                    del keep
            except p11e.PKCS11Error as exc:
                raise self._token_error(exc) from None
            if len(value) != 32:
                raise ProviderError(
                    f"Токен вернул ключ VKO длиной {len(value)} байт вместо 32.",
                    detail="unexpected derived key length",
                )
            return value

    def _close(self) -> None:
        self._key = None
        login, self._login = self._login, None
        if login is not None:
            _release_login(self._login_key, login)


def _release_login(key: tuple[str, int, str], login: _Login) -> None:
    with _LOGINS_LOCK:
        login.users -= 1
        if login.users > 0:
            return
        if _LOGINS.get(key) is login:
            del _LOGINS[key]
        if login.generation != _GENERATIONS.get(key[0], 0):
            return  # the module was unloaded: its sessions died with it
        try:
            login.session.close()  # C_Logout (if logged in) + C_CloseSession
        except p11e.PKCS11Error:
            pass  # the token is gone; its sessions are gone with it


# ----------------------------------------------------------------------------------------------
# Provider
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRef:
    slot_id: int
    label: str
    serial: str
    flags: int
    slot: Any = field(compare=False, repr=False)
    token: Any = field(compare=False, repr=False)

    @property
    def display(self) -> str:
        return (
            f"«{self.label}» (серийный номер {self.serial})" if self.serial else f"«{self.label}»"
        )


class Pkcs11Provider(Provider):
    """A PKCS#11 module: Rutoken (librtpkcs11ecp.so), JaCarta (libjcPKCS11-2.so), SoftHSM..."""

    name = "pkcs11"
    title = "Токен PKCS#11"
    options = (
        Option("module", "путь к библиотеке PKCS#11 токена", Path, required=True, metavar="LIB"),
        Option("token_label", "метка токена (если токенов несколько)", metavar="LABEL"),
        Option("token_serial", "серийный номер токена", metavar="SERIAL"),
        Option("key_id", "CKA_ID ключа (hex), чтобы показывать только его", metavar="HEX"),
        Option("key_label", "метка ключа, чтобы показывать только его", metavar="LABEL"),
    )

    @property
    def module(self) -> str:
        return str(self.settings["module"])

    # -- module and tokens -------------------------------------------------------------------

    def _lib(self) -> Any:
        path = self.module
        if not os.path.isfile(path):
            raise ProviderNotInstalled(
                f"Модуль PKCS#11 {path} не найден: установите драйвер токена или исправьте путь "
                "(параметр --module)."
            )
        try:
            return load_module(path)
        except (OSError, RuntimeError) as exc:
            raise ProviderNotInstalled(
                f"Модуль PKCS#11 {path} не загружается: {exc}.", detail=repr(exc)
            ) from None

    def check_configuration(self) -> None:
        self._lib()

    @_serialized
    def tokens(self, *, filtered: bool = True) -> list[TokenRef]:
        """Initialized tokens of the module (filtered by token_label / token_serial)."""
        lib = self._lib()
        try:
            slots = lib.get_slots(token_present=True)
        except p11e.PKCS11Error as exc:
            raise map_error(exc, where=self.module) from None
        out = []
        for slot in slots:
            try:
                token = slot.get_token()
                flags = int(token.flags)
            except p11e.PKCS11Error:
                continue  # removed, unrecognised or broken (SoftHSM: GeneralError)
            if not flags & TokenFlag.TOKEN_INITIALIZED:
                continue
            ref = TokenRef(
                slot.slot_id, token.label.strip(), _text_serial(token.serial), flags, slot, token
            )
            if filtered:
                want_label = self.settings.get("token_label")
                want_serial = self.settings.get("token_serial")
                if want_label is not None and ref.label != want_label:
                    continue
                if want_serial is not None and ref.serial != str(want_serial).strip():
                    continue
            out.append(ref)
        return out

    def _no_token_error(self) -> TokenNotPresent:
        want = []
        if "token_label" in self.settings:
            want.append(f"с меткой «{self.settings['token_label']}»")
        if "token_serial" in self.settings:
            want.append(f"с серийным номером {self.settings['token_serial']}")
        what = ("Токен " + " и ".join(want)) if want else "Ни один токен"
        return TokenNotPresent(f"{what} не найден в модуле {self.module}: вставьте токен.")

    @_serialized
    def token_present(self, info: CertificateInfo) -> bool:
        serial = info.get("token_serial")
        slot = info.get("slot")
        try:
            for ref in self.tokens(filtered=False):
                if ref.serial == serial and str(ref.slot_id) == slot:
                    return True
        except ProviderError:
            return False
        return False

    def availability(self) -> Availability:
        try:
            tokens = self.tokens()
        except ProviderError as exc:
            return Availability.no(exc.message)
        if not tokens:
            return Availability.no(self._no_token_error().message)
        return Availability.yes()

    @_serialized
    def mechanisms(self, ref: TokenRef) -> set[int]:
        try:
            return {int(m) for m in ref.slot.get_mechanisms()}
        except p11e.PKCS11Error as exc:
            raise map_error(exc, where=ref.display) from None

    # -- certificates --------------------------------------------------------------------------

    def list_certificates(self) -> list[CertificateInfo]:
        tokens = self.tokens()
        if not tokens:
            raise self._no_token_error()
        out: list[CertificateInfo] = []
        for ref in tokens:
            out.extend(self._token_certificates(ref))
        return out

    @_serialized
    def _token_certificates(self, ref: TokenRef) -> list[CertificateInfo]:
        out = []
        try:
            with ref.token.open(attribute_mapper=_LenientMapper()) as session:
                for obj in session.get_objects(
                    {
                        Attribute.CLASS: ObjectClass.CERTIFICATE,
                        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    }
                ):
                    attrs = obj.get_attributes([Attribute.VALUE, Attribute.ID, Attribute.LABEL])
                    try:
                        cert = Certificate(bytes(attrs[Attribute.VALUE]))
                    except GostError:
                        continue  # RSA and other non-GOST certificates on the same token
                    cka_id = bytes(attrs.get(Attribute.ID) or b"")
                    label = attrs.get(Attribute.LABEL) or None
                    if not self._key_filter(cka_id, label):
                        continue
                    out.append(
                        CertificateInfo(
                            provider=self.name,
                            token=ref.display,
                            certificate=cert,
                            key_label=label,
                            key_id=cka_id.hex() or None,
                            locator=(
                                ("module", self.module),
                                ("slot", str(ref.slot_id)),
                                ("token_serial", ref.serial),
                                ("token_label", ref.label),
                            ),
                        )
                    )
        except p11e.PKCS11Error as exc:
            raise map_error(exc, where=ref.display) from None
        return out

    def _key_filter(self, cka_id: bytes, label: str | None) -> bool:
        want_id = self.settings.get("key_id")
        if want_id is not None and cka_id.hex() != str(want_id).lower().replace(":", ""):
            return False
        want_label = self.settings.get("key_label")
        return not (want_label is not None and label != want_label)

    def pin_mode(self, cert: CertificateInfo) -> PinMode:
        for ref in self.tokens(filtered=False):
            if ref.serial == cert.get("token_serial"):
                if ref.flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH:
                    return PinMode.PIN_PAD
                if not ref.flags & TokenFlag.LOGIN_REQUIRED:
                    return PinMode.NONE
        return PinMode.ASK

    # -- sessions ------------------------------------------------------------------------------

    def _token_for(self, info: CertificateInfo) -> TokenRef:
        for ref in self.tokens(filtered=False):
            if ref.serial == info.get("token_serial") and str(ref.slot_id) == info.get("slot"):
                return ref
        raise TokenNotPresent(f"Токен {info.token} не найден: вставьте его.")

    def _login(
        self, ref: TokenRef, pin: PinSource, info: CertificateInfo
    ) -> tuple[tuple[str, int, str], _Login]:
        key = (os.path.realpath(self.module), ref.slot_id, ref.serial)
        if isinstance(pin, PinPrompt):  # a prompt may take a while: ask before any lock
            pin = obtain_pin(pin, f"PIN-код токена {ref.display} для {info.describe()}:") or NO_PIN
        with _LOGINS_LOCK:
            existing = _LOGINS.get(key)
            if existing is not None:
                if existing.pin_digest is not None and not isinstance(pin, Pin):
                    # logged in with a typed PIN: sharing that login needs the same PIN
                    raise PinRequired(
                        f"Токен {ref.display} уже открыт с PIN-кодом: введите PIN-код."
                    )
                if isinstance(pin, Pin):
                    try:
                        same = existing.pin_digest is None or hmac.compare_digest(
                            existing.pin_digest, _pin_digest(pin)
                        )
                    finally:
                        pin.wipe()
                    if not same:  # the token is logged in already: never let a wrong PIN in
                        raise WrongPin(detail=f"token {ref.display}: PIN differs from the login")
                existing.users += 1
                return key, existing
        if ref.flags & CKF_USER_PIN_LOCKED:
            raise PinLocked(
                f"PIN-код токена {ref.display} заблокирован; обратитесь к администратору."
            )
        pin_pad = isinstance(pin, PinPad)
        if pin_pad and not ref.flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH:
            raise OperationNotSupported(
                f"У токена {ref.display} нет PIN-клавиатуры; введите PIN-код."
            )
        given: Pin | None = None
        try:
            if not pin_pad:  # a prompt may take a while: ask before taking the lock
                given = obtain_pin(pin, f"PIN-код токена {ref.display} для {info.describe()}:")
            # Logging in and logging out are serialised: a C_Logout of a closing session
            # must not land between another thread's C_Login and its first use.
            with _LOGINS_LOCK:
                existing = _LOGINS.get(key)
                if existing is not None:
                    existing.users += 1
                    return key, existing
                mapper = _LenientMapper()
                logged_in = pin_pad or given is not None
                try:
                    if pin_pad:
                        session = ref.token.open(user_pin=PROTECTED_AUTH, attribute_mapper=mapper)
                    elif given is not None:
                        session = ref.token.open(user_pin=given.reveal(), attribute_mapper=mapper)
                    else:
                        session = ref.token.open(attribute_mapper=mapper)
                except p11e.UserAlreadyLoggedIn:
                    # Logged in by a session opened outside the provider: share that state.
                    session = ref.token.open(attribute_mapper=_LenientMapper())
                except p11e.PinIncorrect as exc:
                    raise map_error(exc, where=ref.display, flags=self._fresh_flags(ref)) from None
                except p11e.PKCS11Error as exc:
                    raise map_error(exc, where=ref.display) from None
                login = _Login(
                    session,
                    users=1,
                    shared=logged_in,
                    pin_digest=_pin_digest(given) if given is not None else None,
                    generation=_GENERATIONS.get(key[0], 0),
                )
                if logged_in:
                    _LOGINS[key] = login
                return key, login
        finally:
            if given is not None:
                given.wipe()

    @_serialized
    def _fresh_flags(self, ref: TokenRef) -> int:
        try:
            return int(ref.slot.get_token().flags)
        except p11e.PKCS11Error:
            return 0

    def open_session(self, cert: CertificateInfo | str, pin: PinSource = NO_PIN) -> KeySession:
        info = select_certificate(self.list_certificates(), cert)
        ref = self._token_for(info)
        mechanisms = self.mechanisms(ref)
        login_key, login = self._login(ref, pin, info)
        try:
            key = self._find_private_key(login, info, ref)
        except BaseException:
            _release_login(login_key, login)
            raise
        return Pkcs11KeySession(self, info, login_key, login, key, mechanisms)

    @_serialized
    def _find_private_key(self, login: _Login, info: CertificateInfo, ref: TokenRef) -> Any:
        session = login.session
        candidates: list[Any] = []
        try:
            with _P11_LOCK:
                if info.key_id:
                    candidates = list(
                        session.get_objects(
                            {
                                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                Attribute.ID: bytes.fromhex(info.key_id),
                            }
                        )
                    )
                if not candidates and info.key_label:
                    candidates = list(
                        session.get_objects(
                            {
                                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                Attribute.LABEL: info.key_label,
                            }
                        )
                    )
        except p11e.PKCS11Error as exc:
            raise map_error(exc, where=ref.display) from None
        if not candidates:
            if session.user_type == pkcs11.UserType.NOBODY and ref.flags & TokenFlag.LOGIN_REQUIRED:
                raise PinRequired(
                    f"Закрытый ключ на токене {ref.display} виден только после ввода PIN-кода."
                )
            raise KeyNotFound(
                f"На токене {ref.display} нет закрытого ключа для сертификата {info.describe()} "
                f"(CKA_ID {info.key_id or '—'}, метка {info.key_label or '—'})."
            )
        if len(candidates) > 1:
            raise SeveralKeysMatch(
                f"На токене {ref.display} несколько закрытых ключей с CKA_ID {info.key_id}; "
                "исправьте идентификаторы ключей."
            )
        return candidates[0]

    # -- administration (key generation, certificate import) -----------------------------------

    @contextmanager
    def _admin_session(self, ref: TokenRef, pin: PinSource) -> Iterator[Any]:
        given = obtain_pin(pin, f"PIN-код токена {ref.display}:")
        try:
            try:
                if given is None:
                    session = ref.token.open(rw=True, attribute_mapper=_LenientMapper())
                else:
                    session = ref.token.open(
                        rw=True, user_pin=given.reveal(), attribute_mapper=_LenientMapper()
                    )
            except p11e.UserAlreadyLoggedIn:
                session = ref.token.open(rw=True, attribute_mapper=_LenientMapper())
            except p11e.PinIncorrect as exc:
                raise map_error(exc, where=ref.display, flags=self._fresh_flags(ref)) from None
            except p11e.PKCS11Error as exc:
                raise map_error(exc, where=ref.display) from None
        finally:
            if given is not None:
                given.wipe()
        try:
            yield session
        finally:
            try:
                session.close()
            except p11e.PKCS11Error:
                pass

    def _one_token(self) -> TokenRef:
        tokens = self.tokens()
        if not tokens:
            raise self._no_token_error()
        if len(tokens) > 1:
            names = ", ".join(t.display for t in tokens)
            raise SeveralKeysMatch(
                f"Найдено несколько токенов ({names}); укажите --token-label или --token-serial."
            )
        return tokens[0]

    @_serialized
    def generate_key(
        self,
        pin: PinSource,
        *,
        key_id: bytes,
        label: str,
        curve: str = "cryptopro-a",
    ) -> PublicKey:
        """Generate a key pair on the token (the private key is never extractable).

        256-bit keys use CKM_GOSTR3410_KEY_PAIR_GEN with the curve's OID and Streebog-256 as
        GOSTR3411_PARAMS; 512-bit keys need the TC26 vendor mechanism.
        """
        c = get_curve(curve)
        ref = self._one_token()
        mechs = self.mechanisms(ref)
        if c.bits == 256:
            mech, key_type = Mechanism.GOSTR3410_KEY_PAIR_GEN, KeyType.GOSTR3410
        else:
            mech, key_type = MECH_GOSTR3410_512_KEY_PAIR_GEN, KEYTYPE_GOSTR3410_512
        if int(mech) not in mechs:
            raise OperationNotSupported(
                f"Токен {ref.display} не умеет создавать ключи {c.bits} бит ({mech.name})."
            )
        digest_oid = "1.2.643.7.1.1.2.2" if c.bits == 256 else "1.2.643.7.1.1.2.3"
        caps = MechanismFlag.SIGN | MechanismFlag.VERIFY
        if {CKM_GOSTR3410_12_DERIVE, int(Mechanism.GOSTR3410_DERIVE)} & mechs:
            caps |= MechanismFlag.DERIVE
        with self._admin_session(ref, pin) as session:
            try:
                pub, _priv = session.generate_keypair(
                    key_type,
                    c.bits,
                    mechanism=mech,
                    store=True,
                    id=key_id,
                    label=label,
                    capabilities=caps,
                    public_template={
                        Attribute.GOSTR3410_PARAMS: _oid_der(c.oid),
                        Attribute.GOSTR3411_PARAMS: _oid_der(digest_oid),
                    },
                    private_template={
                        Attribute.SENSITIVE: True,
                        Attribute.EXTRACTABLE: False,
                    },
                )
                raw = bytes(pub[Attribute.VALUE])
            except p11e.PKCS11Error as exc:
                raise map_error(exc, where=ref.display) from None
        return PublicKey.from_le(c, _raw_public_value(raw, c.size))

    @_serialized
    def import_certificate(
        self, certificate: Certificate, pin: PinSource, *, key_id: bytes, label: str
    ) -> CertificateInfo:
        """Store a certificate on the token next to its key (same CKA_ID)."""
        ref = self._one_token()
        cert = certificate
        with self._admin_session(ref, pin) as session:
            try:
                session.create_object(
                    {
                        Attribute.CLASS: ObjectClass.CERTIFICATE,
                        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                        Attribute.TOKEN: True,
                        Attribute.PRIVATE: False,
                        Attribute.LABEL: label,
                        Attribute.ID: key_id,
                        Attribute.SUBJECT: cert.subject.der,
                        Attribute.ISSUER: cert.issuer.der,
                        Attribute.SERIAL_NUMBER: asn1.integer(cert.serial),
                        Attribute.VALUE: cert.der,
                    }
                )
            except p11e.PKCS11Error as exc:
                raise map_error(exc, where=ref.display) from None
        return select_certificate(self._token_certificates(ref), f"thumbprint:{cert.thumbprint}")

    @_serialized
    def describe_tokens(self) -> list[dict[str, Any]]:
        out = []
        for ref in self.tokens(filtered=False):
            mechs = self.mechanisms(ref)
            out.append(
                {
                    "slot": ref.slot_id,
                    "label": ref.label,
                    "serial": ref.serial,
                    "pin_pad": bool(ref.flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH),
                    "gost_256_sign": int(Mechanism.GOSTR3410) in mechs,
                    "gost_512_sign": CKM_GOSTR3410_512 in mechs,
                    "vko_2012": CKM_GOSTR3410_12_DERIVE in mechs,
                    "vko_2001": int(Mechanism.GOSTR3410_DERIVE) in mechs,
                }
            )
        return out
