"""CryptoAPI through ctypes: raw-hash signing with CryptoPro CSP and ViPNet CSP on Linux.

Both vendors ship Windows-compatible CryptoAPI libraries (crypto.md §6): CryptoPro
``/opt/cprocsp/lib/amd64/libcapi20.so`` (+ ``libcapi10.so``), ViPNet
``/opt/itcs/lib/libadvapi32.so``, ``libcrypt32.so``, ``libkernel32.so``. The call chain:

    CertOpenSystemStoreA(0, "MY") -> CertEnumCertificatesInStore (find by SHA-1 of the DER)
    -> CryptAcquireCertificatePrivateKey(CRYPT_ACQUIRE_SILENT_FLAG)
    -> CryptSetProvParam(PP_KEYEXCHANGE_PIN | PP_SIGNATURE_PIN, PIN)   [in-process, no argv]
    -> CryptCreateHash(CALG_GR3411_2012_256 | _512) -> CryptSetHashParam(HP_HASHVAL, H)
    -> CryptSignHashA -> reverse the bytes (CryptoAPI order is the reversal of s_be || r_be)

This is how the PIN reaches the key without appearing on any command line, and how an
already computed Streebog digest is signed (csptest can only hash a file itself).

Types follow the vendors' Linux headers as documented publicly: DWORD and ALG_ID are 32-bit,
handles pointer-sized. **Verified only against tests/doubles/capi/capi_double.c**, which
implements the same contract and signs with a real key; never run against CryptoPro or
ViPNet here. The error codes are the standard Windows ones (SCARD_W_WRONG_CHV, ...); which
codes the real libraries return for each situation is [open] in crypto.md.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.base import CertificateInfo, KeySession, Pin, PinPad, PinSource, obtain_pin
from providers.errors import (
    KeyNotFound,
    OperationNotSupported,
    PinLocked,
    PinRequired,
    ProviderError,
    ProviderNotInstalled,
    TokenNotPresent,
    WrongPin,
)

DWORD = ctypes.c_uint32
BOOL = ctypes.c_int
ALG_ID = ctypes.c_uint32
HCRYPTPROV = ctypes.c_size_t
HCRYPTHASH = ctypes.c_size_t
HCERTSTORE = ctypes.c_void_p

PP_KEYEXCHANGE_PIN = 32
PP_SIGNATURE_PIN = 33
HP_HASHVAL = 2
AT_KEYEXCHANGE = 1
AT_SIGNATURE = 2
CRYPT_ACQUIRE_SILENT_FLAG = 0x40
CERT_KEY_PROV_INFO_PROP_ID = 2
#: CryptoPro WinCryptEx.h: ALG_CLASS_HASH | ALG_SID_GR3411_2012_256/512 (ViPNet: [source]).
CALG_GR3411_2012_256 = 0x8021
CALG_GR3411_2012_512 = 0x8022

SCARD_W_WRONG_CHV = 0x8010006B
SCARD_W_CHV_BLOCKED = 0x8010006C
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_W_REMOVED_CARD = 0x80100069
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
NTE_BAD_KEYSET = 0x80090016
NTE_NO_KEY = 0x8009000D
NTE_BAD_ALGID = 0x80090008
NTE_SILENT_CONTEXT = 0x80090022
ERROR_CANCELLED = 0x000004C7
CRYPT_E_NOT_FOUND = 0x80092004


class CERT_CONTEXT(ctypes.Structure):
    _fields_ = (
        ("dwCertEncodingType", DWORD),
        ("pbCertEncoded", ctypes.POINTER(ctypes.c_ubyte)),
        ("cbCertEncoded", DWORD),
        ("pCertInfo", ctypes.c_void_p),
        ("hCertStore", HCERTSTORE),
    )


PCCERT_CONTEXT = ctypes.POINTER(CERT_CONTEXT)

_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "CertOpenSystemStoreA": (HCERTSTORE, [HCRYPTPROV, ctypes.c_char_p]),
    "CertEnumCertificatesInStore": (PCCERT_CONTEXT, [HCERTSTORE, PCCERT_CONTEXT]),
    "CertFreeCertificateContext": (BOOL, [PCCERT_CONTEXT]),
    "CertCloseStore": (BOOL, [HCERTSTORE, DWORD]),
    "CertGetCertificateContextProperty": (
        BOOL,
        [PCCERT_CONTEXT, DWORD, ctypes.c_void_p, ctypes.POINTER(DWORD)],
    ),
    "CryptAcquireCertificatePrivateKey": (
        BOOL,
        [
            PCCERT_CONTEXT,
            DWORD,
            ctypes.c_void_p,
            ctypes.POINTER(HCRYPTPROV),
            ctypes.POINTER(DWORD),
            ctypes.POINTER(BOOL),
        ],
    ),
    "CryptSetProvParam": (BOOL, [HCRYPTPROV, DWORD, ctypes.c_void_p, DWORD]),
    "CryptReleaseContext": (BOOL, [HCRYPTPROV, DWORD]),
    "CryptCreateHash": (
        BOOL,
        [HCRYPTPROV, ALG_ID, ctypes.c_size_t, DWORD, ctypes.POINTER(HCRYPTHASH)],
    ),
    "CryptSetHashParam": (BOOL, [HCRYPTHASH, DWORD, ctypes.c_void_p, DWORD]),
    "CryptSignHashA": (
        BOOL,
        [HCRYPTHASH, DWORD, ctypes.c_char_p, DWORD, ctypes.c_void_p, ctypes.POINTER(DWORD)],
    ),
    "CryptDestroyHash": (BOOL, [HCRYPTHASH]),
    "GetLastError": (DWORD, []),
}


def error_for(code: int, vendor: str, what: str) -> ProviderError:
    """A CryptoAPI error code as a provider error."""
    detail = f"{what}: 0x{code:08x}"
    if code == SCARD_W_WRONG_CHV:
        return WrongPin(detail=detail)
    if code == SCARD_W_CHV_BLOCKED:
        return PinLocked(detail=detail)
    if code == NTE_SILENT_CONTEXT:
        return PinRequired(f"{vendor}: ключ требует PIN-код, а он не был введён.", detail=detail)
    if code == ERROR_CANCELLED:
        return PinRequired("Ввод PIN-кода отменён.", detail=detail)
    if code in (SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD, SCARD_E_NO_READERS_AVAILABLE):
        return TokenNotPresent(
            f"{vendor}: ключевой носитель не вставлен или извлечён.", detail=detail
        )
    if code in (NTE_BAD_KEYSET, NTE_NO_KEY):
        return KeyNotFound(f"{vendor}: закрытый ключ сертификата не найден.", detail=detail)
    if code == NTE_BAD_ALGID:
        return OperationNotSupported(
            f"{vendor} не поддерживает этот алгоритм хэширования.", detail=detail
        )
    return ProviderError(f"{vendor}: ошибка {what} (код 0x{code:08x}).", detail=detail)


@dataclass(frozen=True)
class CapiCertificate:
    der: bytes
    has_key: bool

    @property
    def thumbprint(self) -> str:
        return hashlib.sha1(self.der, usedforsecurity=False).hexdigest()


class CapiKey:
    """An acquired private key (HCRYPTPROV + key spec)."""

    def __init__(self, api: CryptoApi, prov: int, keyspec: int, free: bool) -> None:
        self.api = api
        self.prov = prov
        self.keyspec = keyspec
        self._free = free

    def set_pin(self, pin: Pin) -> None:
        self.api._set_pin(self, pin)

    def sign_hash(self, digest: bytes) -> bytes:
        """CryptoAPI signature (the byte reversal of s_be || r_be) of a Streebog digest."""
        return self.api._sign_hash(self, digest)

    def release(self) -> None:
        if self.prov and self._free:
            self.api._call("CryptReleaseContext", self.prov, 0)
        self.prov = 0


class CryptoApi:
    """The functions above, looked up in the given libraries in order."""

    def __init__(self, libraries: Sequence[Path], vendor: str) -> None:
        self.vendor = vendor
        self._lock = threading.RLock()
        self._libs = []
        for path in libraries:
            try:
                self._libs.append(ctypes.CDLL(str(path)))
            except OSError as exc:
                raise ProviderNotInstalled(
                    f"{vendor}: библиотека {path} не загружается: {exc}.", detail=repr(exc)
                ) from None
        self._fns: dict[str, Any] = {}
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = self._lookup(name)
            fn.restype = restype
            fn.argtypes = argtypes
            self._fns[name] = fn

    def _lookup(self, name: str) -> Any:
        for lib in self._libs:
            try:
                return getattr(lib, name)
            except AttributeError:
                continue
        raise ProviderNotInstalled(
            f"{self.vendor}: в библиотеках CryptoAPI нет функции {name}.", detail=name
        )

    def _call(self, name: str, *args: Any) -> Any:
        return self._fns[name](*args)

    def _fail(self, what: str) -> ProviderError:
        return error_for(int(self._call("GetLastError")), self.vendor, what)

    # -- certificates --------------------------------------------------------------------------

    def _open_store(self) -> Any:
        store = self._call("CertOpenSystemStoreA", 0, b"MY")
        if not store:
            raise self._fail("CertOpenSystemStoreA")
        return store

    def certificates(self) -> list[CapiCertificate]:
        """Certificates of the user's "MY" store, with whether a private key is linked."""
        out = []
        with self._lock:
            store = self._open_store()
            try:
                ctx = self._call("CertEnumCertificatesInStore", store, None)
                while ctx:
                    c = ctx.contents
                    der = ctypes.string_at(c.pbCertEncoded, c.cbCertEncoded)
                    size = DWORD(0)
                    has_key = bool(
                        self._call(
                            "CertGetCertificateContextProperty",
                            ctx,
                            CERT_KEY_PROV_INFO_PROP_ID,
                            None,
                            ctypes.byref(size),
                        )
                    )
                    out.append(CapiCertificate(der, has_key))
                    ctx = self._call("CertEnumCertificatesInStore", store, ctx)
            finally:
                self._call("CertCloseStore", store, 0)
        return out

    def acquire(self, thumbprint: str) -> CapiKey:
        """The private key of the certificate with this SHA-1 thumbprint (no UI, no PIN yet)."""
        want = thumbprint.lower()
        with self._lock:
            store = self._open_store()
            try:
                ctx = self._call("CertEnumCertificatesInStore", store, None)
                while ctx:
                    c = ctx.contents
                    der = ctypes.string_at(c.pbCertEncoded, c.cbCertEncoded)
                    if hashlib.sha1(der, usedforsecurity=False).hexdigest() == want:
                        break
                    ctx = self._call("CertEnumCertificatesInStore", store, ctx)
                if not ctx:
                    raise KeyNotFound(
                        f"{self.vendor}: сертификат с отпечатком {thumbprint} "
                        "не найден в хранилище."
                    )
                prov = HCRYPTPROV(0)
                keyspec = DWORD(0)
                free = BOOL(0)
                ok = self._call(
                    "CryptAcquireCertificatePrivateKey",
                    ctx,
                    CRYPT_ACQUIRE_SILENT_FLAG,
                    None,
                    ctypes.byref(prov),
                    ctypes.byref(keyspec),
                    ctypes.byref(free),
                )
                error = None if ok else self._fail("CryptAcquireCertificatePrivateKey")
                self._call("CertFreeCertificateContext", ctx)
                if error is not None:
                    raise error
                return CapiKey(self, int(prov.value), int(keyspec.value), bool(free.value))
            finally:
                self._call("CertCloseStore", store, 0)

    # -- keys ----------------------------------------------------------------------------------

    def _set_pin(self, key: CapiKey, pin: Pin) -> None:
        raw = pin.reveal_bytes()
        buf = ctypes.create_string_buffer(raw, len(raw) + 1)  # NUL-terminated
        del raw
        param = PP_SIGNATURE_PIN if key.keyspec == AT_SIGNATURE else PP_KEYEXCHANGE_PIN
        try:
            with self._lock:
                ok = self._call("CryptSetProvParam", key.prov, param, buf, 0)
                error = None if ok else self._fail("CryptSetProvParam(PIN)")
        finally:
            ctypes.memset(buf, 0, len(buf))
        if error is not None:
            raise error

    def _sign_hash(self, key: CapiKey, digest: bytes) -> bytes:
        alg = {32: CALG_GR3411_2012_256, 64: CALG_GR3411_2012_512}.get(len(digest))
        if alg is None:
            raise ValueError(f"хэш ГОСТ Р 34.11-2012 имеет 32 или 64 байта, получено {len(digest)}")
        with self._lock:
            hhash = HCRYPTHASH(0)
            if not self._call("CryptCreateHash", key.prov, alg, 0, 0, ctypes.byref(hhash)):
                raise self._fail("CryptCreateHash")
            try:
                value = ctypes.create_string_buffer(digest, len(digest))
                if not self._call("CryptSetHashParam", hhash, HP_HASHVAL, value, 0):
                    raise self._fail("CryptSetHashParam(HP_HASHVAL)")
                size = DWORD(0)
                if not self._call(
                    "CryptSignHashA", hhash, key.keyspec, None, 0, None, ctypes.byref(size)
                ):
                    raise self._fail("CryptSignHash")
                sig = ctypes.create_string_buffer(size.value)
                if not self._call(
                    "CryptSignHashA", hhash, key.keyspec, None, 0, sig, ctypes.byref(size)
                ):
                    raise self._fail("CryptSignHash")
                return sig.raw[: size.value]
            finally:
                self._call("CryptDestroyHash", hhash)


# ----------------------------------------------------------------------------------------------
# A key session over CryptoAPI (CryptoPro and ViPNet)
# ----------------------------------------------------------------------------------------------


def open_capi_session(api: CryptoApi, info: CertificateInfo, pin: PinSource) -> CapiKeySession:
    """Acquire the certificate's key and hand it the PIN in-process."""
    if isinstance(pin, PinPad):
        raise OperationNotSupported(
            f"{api.vendor}: PIN вводится в окне самого криптопровайдера; режим PIN-клавиатуры "
            "здесь не задаётся."
        )
    key = api.acquire(info.thumbprint)
    given = None
    try:
        given = obtain_pin(pin, f"PIN-код контейнера для {info.describe()}:")
        if given is not None:
            key.set_pin(given)
    except BaseException:
        key.release()
        raise
    finally:
        if given is not None:
            given.wipe()
    return CapiKeySession(info, key)


class CapiKeySession(KeySession):
    """Signs with CryptSignHash and turns CryptoAPI byte order into s_be || r_be."""

    def __init__(self, info: CertificateInfo, key: CapiKey) -> None:
        super().__init__(info)
        self._key: CapiKey | None = key

    def _sign_digest(self, digest: bytes) -> bytes:
        assert self._key is not None
        raw = self._key.sign_hash(digest)
        if len(raw) != 2 * len(digest):
            raise ProviderError(
                f"{self._key.api.vendor} вернул подпись длиной {len(raw)} байт "
                f"вместо {2 * len(digest)}.",
                detail="unexpected CryptoAPI signature length",
            )
        return raw[::-1]  # CryptoAPI order is the reversal of s_be || r_be (crypto.md §3)

    def _close(self) -> None:
        key, self._key = self._key, None
        if key is not None:
            key.release()
