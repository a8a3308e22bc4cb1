"""GOST R 34.11-94 hash (RFC 5831) with the CryptoPro or the test parameter set.

Needed only for VKO GOST R 34.10-2001 (RFC 4357 §5.2). Input and output are in byte order: the
digest is what ``openssl dgst -md_gost94`` prints (CryptoPro parameters). RFC 5831 writes
messages and hash values most-significant byte first, i.e. byte-reversed.

The message is processed in 32-byte blocks, each read as a little-endian 256-bit number; a final
partial block is zero-padded, and an empty message is one zero block (RFC 5831 stage 3, OpenSSL).
After the blocks come the bit length L and the sum Σ of all blocks (both mod 2^256). H0 is zero
for both parameter sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from gostsign.errors import UnsupportedAlgorithm
from gostsign.gost28147 import SBOXES, Gost28147, SBox

__all__ = ["DIGEST_SIZE", "PARAMSETS", "Gost341194", "gost341194"]

DIGEST_SIZE: Final = 32
BLOCK_SIZE: Final = 32

_MASK256: Final = (1 << 256) - 1
_MASK16: Final = 0xFFFF

#: Parameter-set name -> S-box; H0 = 0 in both.
PARAMSETS: Final[Mapping[str, SBox]] = MappingProxyType(
    {"cryptopro": SBOXES["gostr3411-94-cryptopro"], "test": SBOXES["gostr3411-94-test"]}
)
_PARAMSET_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "cryptopro": "cryptopro",
        "1.2.643.2.2.30.1": "cryptopro",
        "id-gostr3411-94-cryptoproparamset": "cryptopro",
        "test": "test",
        "1.2.643.2.2.30.0": "test",
        "id-gostr3411-94-testparamset": "test",
    }
)

# C3 of the key generation (C2 = C4 = 0), as 32 bytes in byte order (least significant first).
_C3: Final = int.from_bytes(
    bytes.fromhex("00ff00ff00ff00ffff00ff00ff00ff0000ffff00ff0000ffff000000ffff00ff"), "little"
)
# Transformation P: output byte 4k + i is input byte 8i + k (i = 0..3, k = 0..7).
_P: Final = tuple(8 * (j % 4) + j // 4 for j in range(32))


def _resolve(paramset: str) -> SBox:
    if not isinstance(paramset, str):
        raise TypeError(f"paramset must be a string, not {type(paramset).__name__}")
    try:
        return PARAMSETS[_PARAMSET_NAMES[paramset.strip().lower()]]
    except KeyError:
        raise UnsupportedAlgorithm(f"unknown GOST R 34.11-94 parameter set: {paramset!r}") from None


def _a(y: int) -> int:
    """A(y4|y3|y2|y1) = (y1 xor y2)|y4|y3|y2 on 64-bit parts (y1 least significant)."""
    return (y >> 64) | (((y ^ (y >> 64)) & 0xFFFFFFFFFFFFFFFF) << 192)


def _p(y: int) -> bytes:
    b = y.to_bytes(32, "little")
    return bytes(b[i] for i in _P)


def _psi(y: int, times: int) -> int:
    """Apply ψ ``times`` times: the 16-bit words shift down; the new top word is the xor of
    words 0, 1, 2, 3, 12 and 15."""
    for _ in range(times):
        top = (y ^ (y >> 16) ^ (y >> 32) ^ (y >> 48) ^ (y >> 192) ^ (y >> 240)) & _MASK16
        y = (y >> 16) | (top << 240)
    return y


def _compress(h: int, m: int, sbox: SBox) -> int:
    """The step function f(H, M) of GOST R 34.11-94, on little-endian 256-bit integers."""
    # Key generation.
    u, v = h, m
    keys = [_p(u ^ v)]
    for j in range(3):
        u = _a(u)
        if j == 1:
            u ^= _C3
        v = _a(_a(v))
        keys.append(_p(u ^ v))
    # Encryption of the four 64-bit parts of H.
    hb = h.to_bytes(32, "little")
    s = b"".join(Gost28147(keys[i], sbox).encrypt_block(hb[8 * i : 8 * i + 8]) for i in range(4))
    # Mixing.
    y = _psi(int.from_bytes(s, "little"), 12)
    y = _psi(m ^ y, 1)
    return _psi(h ^ y, 61)


class Gost341194:
    """Incremental GOST R 34.11-94: ``update`` / ``digest`` / ``hexdigest`` / ``copy``."""

    digest_size: Final = DIGEST_SIZE
    block_size: Final = BLOCK_SIZE

    def __init__(
        self, data: bytes | bytearray | memoryview = b"", *, paramset: str = "cryptopro"
    ) -> None:
        self._sbox = _resolve(paramset)
        self._paramset = _PARAMSET_NAMES[paramset.strip().lower()]
        self._h = 0
        self._sigma = 0
        self._length = 0
        self._buffer = b""
        if data:
            self.update(data)

    @property
    def name(self) -> str:
        """``gostr3411-94-cryptopro`` or ``gostr3411-94-test``."""
        return f"gostr3411-94-{self._paramset}"

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed more data."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        buf = self._buffer + bytes(data)
        self._length += len(data)
        end = len(buf) - len(buf) % BLOCK_SIZE
        for i in range(0, end, BLOCK_SIZE):
            block = int.from_bytes(buf[i : i + BLOCK_SIZE], "little")
            self._h = _compress(self._h, block, self._sbox)
            self._sigma = (self._sigma + block) & _MASK256
        self._buffer = buf[end:]

    def copy(self) -> Gost341194:
        """An independent copy of the current state."""
        other = Gost341194.__new__(Gost341194)
        other._sbox = self._sbox
        other._paramset = self._paramset
        other._h = self._h
        other._sigma = self._sigma
        other._length = self._length
        other._buffer = self._buffer
        return other

    def digest(self) -> bytes:
        """The 32-byte hash in byte order (as ``openssl dgst -md_gost94`` prints it)."""
        h, sigma = self._h, self._sigma
        if self._buffer or not self._length:
            # RFC 5831 stage 3 always hashes the zero-padded last block, so an empty message
            # hashes one zero block (as OpenSSL does; Bouncy Castle and rhash skip it).
            block = int.from_bytes(self._buffer, "little")  # zero-padded at the top
            h = _compress(h, block, self._sbox)
            sigma = (sigma + block) & _MASK256
        h = _compress(h, (self._length * 8) & _MASK256, self._sbox)
        h = _compress(h, sigma, self._sbox)
        return h.to_bytes(DIGEST_SIZE, "little")

    def hexdigest(self) -> str:
        """The digest as lowercase hex."""
        return self.digest().hex()


def gost341194(data: bytes | bytearray | memoryview, paramset: str = "cryptopro") -> bytes:
    """GOST R 34.11-94 of ``data``: 32 bytes in byte order.

    ``paramset``: ``"cryptopro"`` (1.2.643.2.2.30.1, the default, used with 34.10-2001 keys) or
    ``"test"`` (1.2.643.2.2.30.0); OIDs and OpenSSL names are accepted too.
    """
    h = Gost341194(paramset=paramset)
    h.update(data)
    return h.digest()
