"""GOST R 34.11-2012 (Streebog) hashing, output in byte order (as ``openssl dgst`` prints it).

The pure path wraps gostcrypto (returning ``bytes``, refusing sizes other than 256/512); when
OpenSSL's gost engine can be loaded, the same function runs there ~500x faster (see
``gostsign._libcrypto``). Both give identical bytes, which the test-suite checks.
"""

from __future__ import annotations

from gostcrypto import gosthash

from gostsign import _libcrypto
from gostsign.errors import UnsupportedAlgorithm

OID_256 = "1.2.643.7.1.1.2.2"
OID_512 = "1.2.643.7.1.1.2.3"


def backend() -> str:
    """'openssl' when hashing is accelerated, else 'pure'."""
    return "openssl" if _libcrypto.available() else "pure"


class Streebog:
    """Incremental Streebog-256 or -512 (always the pure implementation)."""

    def __init__(self, bits: int = 256, data: bytes = b"") -> None:
        if bits not in (256, 512):
            raise UnsupportedAlgorithm(f"Streebog has 256 or 512 bits, not {bits}")
        self.bits = bits
        self._h = gosthash.new(f"streebog{bits}")
        if data:
            self.update(data)

    @property
    def digest_size(self) -> int:
        return self.bits // 8

    def update(self, data: bytes) -> None:
        self._h.update(bytes(data))

    def digest(self) -> bytes:
        return bytes(self._h.copy().digest())

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> Streebog:
        clone = Streebog.__new__(Streebog)
        clone.bits = self.bits
        clone._h = self._h.copy()
        return clone


def digest(data: bytes, bits: int = 256, *, pure: bool = False) -> bytes:
    """Streebog hash of ``data`` in byte order; ``pure=True`` bypasses OpenSSL."""
    if bits not in (256, 512):
        raise UnsupportedAlgorithm(f"Streebog has 256 or 512 bits, not {bits}")
    if not pure:
        fast = _libcrypto.streebog(bytes(data), bits)
        if fast is not None:
            return fast
    return Streebog(bits, data).digest()


def streebog256(data: bytes) -> bytes:
    return digest(data, 256)


def streebog512(data: bytes) -> bytes:
    return digest(data, 512)
