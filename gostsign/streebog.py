"""GOST R 34.11-2012 (Streebog) hashing, output in byte order (as ``openssl dgst`` prints it).

A thin wrapper over gostcrypto that returns ``bytes`` and refuses anything but 256 or 512.
"""

from __future__ import annotations

from gostcrypto import gosthash

from gostsign.errors import UnsupportedAlgorithm

OID_256 = "1.2.643.7.1.1.2.2"
OID_512 = "1.2.643.7.1.1.2.3"


class Streebog:
    """Incremental Streebog-256 or -512."""

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


def digest(data: bytes, bits: int = 256) -> bytes:
    """Streebog hash of ``data`` in byte order."""
    return Streebog(bits, data).digest()


def streebog256(data: bytes) -> bytes:
    return digest(data, 256)


def streebog512(data: bytes) -> bytes:
    return digest(data, 512)
