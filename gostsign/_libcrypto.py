"""Optional acceleration through the system's OpenSSL with the gost engine, found at run time.

Only hashing goes through it: Streebog in pure Python costs ~4 s per MiB, which dominates
signing a registry message, while the curve arithmetic is ours and fast enough. Results are
identical to the pure path (the test-suite compares both); the pure path is always available
and is used whenever the engine cannot be loaded.

Switch with ``GOSTSIGN_ACCEL=0`` (pure only), ``=1`` (require OpenSSL) or unset (auto).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path

from gostsign.errors import UnsupportedAlgorithm

_ENGINE_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/engines-3/gost.so",
    "/usr/lib/aarch64-linux-gnu/engines-3/gost.so",
    "/usr/lib64/engines-3/gost.so",
)
_MD_NAMES = {256: b"md_gost12_256", 512: b"md_gost12_512"}

_lock = threading.Lock()
_state: dict[str, object] = {}


class _Lib:
    def __init__(self) -> None:
        name = ctypes.util.find_library("crypto")
        if not name:
            raise OSError("libcrypto not found")
        lib = ctypes.CDLL(name)
        engine_path = next((p for p in _ENGINE_CANDIDATES if Path(p).exists()), None)
        if engine_path is None:
            raise OSError("gost engine not found")
        lib.ENGINE_by_id.restype = ctypes.c_void_p
        lib.ENGINE_by_id.argtypes = [ctypes.c_char_p]
        lib.ENGINE_ctrl_cmd_string.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        lib.ENGINE_init.argtypes = [ctypes.c_void_p]
        lib.ENGINE_get_digest.restype = ctypes.c_void_p
        lib.ENGINE_get_digest.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.OBJ_sn2nid.argtypes = [ctypes.c_char_p]
        lib.EVP_Digest.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        # Reuse an engine some OPENSSL_CONF already loaded; otherwise load it explicitly
        # through "dynamic", so that no configuration file is needed.
        dyn = lib.ENGINE_by_id(b"gost")
        if not dyn:
            lib.ERR_clear_error()
            dyn = lib.ENGINE_by_id(b"dynamic")
            if not dyn:
                raise OSError("OpenSSL has no dynamic engine loader")
            for cmd, arg in (
                (b"SO_PATH", engine_path.encode()),
                (b"ID", b"gost"),
                (b"LOAD", None),
            ):
                if lib.ENGINE_ctrl_cmd_string(dyn, cmd, arg, 0) != 1:
                    raise OSError(f"cannot load the gost engine ({cmd.decode()})")
        if lib.ENGINE_init(dyn) != 1:
            raise OSError("cannot initialise the gost engine")
        self.lib = lib
        self.engine = dyn
        self.md: dict[int, int] = {}
        for bits, sn in _MD_NAMES.items():
            nid = lib.OBJ_sn2nid(sn)
            md = lib.ENGINE_get_digest(dyn, nid) if nid else None
            if not md:
                raise OSError(f"gost engine lacks {sn.decode()}")
            self.md[bits] = md

    def digest(self, data: bytes, bits: int) -> bytes:
        out = ctypes.create_string_buffer(64)
        size = ctypes.c_uint(0)
        if (
            self.lib.EVP_Digest(
                data, len(data), out, ctypes.byref(size), self.md[bits], self.engine
            )
            != 1
        ):
            raise UnsupportedAlgorithm("OpenSSL Streebog failed")
        return out.raw[: size.value]


def _load() -> _Lib | None:
    with _lock:
        if "lib" not in _state:
            mode = os.environ.get("GOSTSIGN_ACCEL", "auto").lower()
            lib: _Lib | None = None
            if mode not in ("0", "no", "off", "false"):
                try:
                    lib = _Lib()
                except OSError as exc:
                    if mode in ("1", "yes", "on", "true"):
                        raise UnsupportedAlgorithm(
                            f"GOSTSIGN_ACCEL=1 but OpenSSL's gost engine is unusable: {exc}"
                        ) from exc
            _state["lib"] = lib
        return _state["lib"]  # type: ignore[return-value]


def available() -> bool:
    """True when Streebog runs through OpenSSL's gost engine."""
    return _load() is not None


def streebog(data: bytes, bits: int) -> bytes | None:
    """Streebog through OpenSSL, or None when acceleration is off or unavailable."""
    lib = _load()
    if lib is None:
        return None
    return lib.digest(data, bits)
