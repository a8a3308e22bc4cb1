"""GOST 28147-89 block cipher, its modes, the MAC (imitovstavka) and the RFC 4357 key wrap.

Conventions (those of the OpenSSL gost engine and RFC 4357):

* a 32-byte key is eight little-endian 32-bit words K0..K7;
* an 8-byte block is two little-endian 32-bit halves (N1 = bytes 0..3, N2 = bytes 4..7);
* row i of an S-box substitutes nibble i (bits 4i..4i+3) of the 32-bit round input.

GOST R 34.12-2015 "Magma" is this cipher with the ``tc26-z`` S-box in another byte order::

    Magma(k, b) == reverse(ecb_encrypt(wordwise_byteswap(k), reverse(b), sbox="tc26-z"))

CryptoPro key meshing (RFC 4357 §2.3.2) is never applied implicitly: every mode function takes
``key_meshing=`` (default ``False``). ``SBox.key_meshing`` tells whether RFC 4357 pairs the set
with CryptoPro key meshing. What the OpenSSL gost engine does:

* ``enc -gost89`` = :func:`cfb_encrypt` with ``key_meshing=True`` (for every S-box, ``test``
  included, selected with ``CRYPT_PARAMS``);
* ``enc -gost89-cnt`` / ``-gost89-cnt-12`` = :func:`cnt` with ``key_meshing=True`` and the
  S-box fixed to ``cryptopro-a`` / ``tc26-z`` (``CRYPT_PARAMS`` does not apply to them);
* ``enc -gost89-cbc`` = :func:`cbc_encrypt` with ``key_meshing=False``;
* ``dgst -mac gost-mac`` = :func:`mac` with ``key_meshing=True``.
"""

from __future__ import annotations

import hmac
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from gostsign.errors import DecryptionError, IntegrityError, InvalidInput, UnsupportedAlgorithm

__all__ = [
    "BLOCK_SIZE",
    "DEFAULT_SBOX",
    "KEY_SIZE",
    "MESHING_INTERVAL",
    "SBOXES",
    "SBOX_OIDS",
    "UKM_SIZE",
    "Gost28147",
    "SBox",
    "cbc_decrypt",
    "cbc_encrypt",
    "cfb_decrypt",
    "cfb_encrypt",
    "cnt",
    "cryptopro_key_meshing",
    "cryptopro_key_unwrap",
    "cryptopro_key_wrap",
    "ecb_decrypt",
    "ecb_encrypt",
    "get_sbox",
    "gost_key_unwrap",
    "gost_key_wrap",
    "kek_diversify",
    "mac",
    "pad_iso10126",
    "unpad_iso10126",
]

BLOCK_SIZE: Final = 8
KEY_SIZE: Final = 32
UKM_SIZE: Final = 8
#: CryptoPro key meshing changes the key after every this many bytes (RFC 4357 §2.3.2).
MESHING_INTERVAL: Final = 1024
DEFAULT_SBOX: Final = "cryptopro-a"

_MASK32: Final = 0xFFFFFFFF
_BLOCKS_PER_MESH: Final = MESHING_INTERVAL // BLOCK_SIZE
# Counter-mode constants of GOST 28147-89 (C2 is added mod 2^32, C1 mod 2^32 - 1).
_C1: Final = 0x01010104
_C2: Final = 0x01010101
# The constant C of the CryptoPro key meshing (RFC 4357 §2.3.2).
_MESHING_C: Final = bytes.fromhex(
    "69007222 64c90423 8d3adb96 46e92ac4 18feac94 00ed0712 c086dcc2 ef4ca92b".replace(" ", "")
)

_Tables = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]
_KeyPairs = tuple[tuple[int, int], ...]
BytesLike = bytes | bytearray | memoryview


# --------------------------------------------------------------------------------------------
# S-boxes


def _combined_tables(rows: tuple[tuple[int, ...], ...]) -> _Tables:
    """Four 256-entry tables: S-box substitution of one byte, shifted into place, rotated by 11."""
    tables = []
    for j in range(4):
        low, high, shift = rows[2 * j], rows[2 * j + 1], 8 * j
        table = []
        for b in range(256):
            v = (low[b & 15] | (high[b >> 4] << 4)) << shift
            table.append(((v << 11) | (v >> 21)) & _MASK32)
        tables.append(tuple(table))
    return (tables[0], tables[1], tables[2], tables[3])


@dataclass(frozen=True)
class SBox:
    """A GOST 28147-89 substitution box (parameter set).

    ``rows[i]`` substitutes nibble i of the round input (row 0 = the least significant nibble).
    ``key_meshing`` is True when RFC 4357 (or TC26 for Z) pairs the set with CryptoPro key
    meshing; the mode functions still mesh only when asked to.
    """

    name: str
    oid: str
    rows: tuple[tuple[int, ...], ...]
    key_meshing: bool = False
    aliases: tuple[str, ...] = ()
    _tables: _Tables = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.rows) != 8 or any(
            len(row) != 16 or any(not 0 <= v <= 15 for v in row) for row in self.rows
        ):
            raise InvalidInput("an S-box must have 8 rows of 16 values in 0..15")
        object.__setattr__(self, "_tables", _combined_tables(self.rows))


def _rows(*lines: str) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(c, 16) for c in line) for line in lines)


# RFC 4357 §11.2 (id-Gost28147-89-TestParamSet): this is NOT the S-box of the GOST R 34.11-94
# test parameters (1.2.643.2.2.30.0), which some libraries wrongly file under .31.0.
_TEST = SBox(
    "test",
    "1.2.643.2.2.31.0",
    _rows(
        "42f59108e3bcd7a6",
        "c9fe813a274d60b5",
        "d8ec739a15246f0b",
        "e9b25f710dc6a438",
        "3e59680dab7c21f4",
        "8f6b19c5d37a0e24",
        "9bc0367548ef1a2d",
        "c652b09d3e7af418",
    ),
    key_meshing=False,
    aliases=("id-Gost28147-89-TestParamSet",),
)
_CRYPTOPRO_A = SBox(
    "cryptopro-a",
    "1.2.643.2.2.31.1",
    _rows(
        "96328b17a4efc0d5",
        "37e98af0526cb4d1",
        "e462b3d8cf5a0719",
        "e7acd13902b4f856",
        "b5198df0e423c7a6",
        "3adc120b75948fe6",
        "1d297a608c45f3be",
        "baf50ce8623917d4",
    ),
    key_meshing=True,
    aliases=("id-Gost28147-89-CryptoPro-A-ParamSet",),
)
_CRYPTOPRO_B = SBox(
    "cryptopro-b",
    "1.2.643.2.2.31.2",
    _rows(
        "84b135092eacd67f",
        "012a4d5c973fb86e",
        "ec0a92db758f3614",
        "750db6123acf4e98",
        "27cf95ab140d68e3",
        "83264debc17fa095",
        "52ab91c374d06f8e",
        "04be8371a296fd5c",
    ),
    key_meshing=True,
    aliases=("id-Gost28147-89-CryptoPro-B-ParamSet",),
)
_CRYPTOPRO_C = SBox(
    "cryptopro-c",
    "1.2.643.2.2.31.3",
    _rows(
        "1bc29d0f458ea763",
        "017db4528efc9a63",
        "825049fa37cd6e1b",
        "36015da8b297efc4",
        "8db0451293ce6fa7",
        "c9b18e247365a0fd",
        "a968de20f35b41c7",
        "7405a2fec61bd938",
    ),
    key_meshing=True,
    aliases=("id-Gost28147-89-CryptoPro-C-ParamSet",),
)
_CRYPTOPRO_D = SBox(
    "cryptopro-d",
    "1.2.643.2.2.31.4",
    _rows(
        "fc2a645079ed1b83",
        "b634cfe27d805a91",
        "1cb0fe65ad489372",
        "15eca70d62b493f8",
        "0c89d2ab73654ef1",
        "80f325eb1a47c9d6",
        "306f1e92d8c4ba57",
        "1a68fb04c3597d2e",
    ),
    key_meshing=True,
    aliases=("id-Gost28147-89-CryptoPro-D-ParamSet",),
)
# TC26 "Z" = the S-box of GOST R 34.12-2015 Magma (RFC 7836 / RFC 8891: pi_0 .. pi_7).
_TC26_Z = SBox(
    "tc26-z",
    "1.2.643.7.1.2.5.1.1",
    _rows(
        "c462a5b9e8d703f1",
        "68239a5c1e47bd0f",
        "b3582fade174c960",
        "c821d4f670a53e9b",
        "7f5a816d093eb42c",
        "5df692cab78143e0",
        "8e25691cf4b0da37",
        "17ed05834fa69cb2",
    ),
    key_meshing=True,
    aliases=("id-tc26-gost-28147-param-Z", "z"),
)
# S-boxes of the GOST R 34.11-94 hash parameter sets (RFC 4357 §11.2, RFC 5831).
_GOSTR3411_94_TEST = SBox(
    "gostr3411-94-test",
    "1.2.643.2.2.30.0",
    _rows(
        "4a92d80e6b1c7f53",
        "eb4c6dfa23810759",
        "581da342efc7609b",
        "7da1089fe46cb253",
        "6c715fd84a9e03b2",
        "4ba0721d36859cfe",
        "db413f590ae7682c",
        "1fd057a4923e6b8c",
    ),
    key_meshing=False,
    aliases=("id-GostR3411-94-TestParamSet",),
)
_GOSTR3411_94_CRYPTOPRO = SBox(
    "gostr3411-94-cryptopro",
    "1.2.643.2.2.30.1",
    _rows(
        "a4568137dce092bf",
        "5f402db91763cea8",
        "7fce94103b526a8d",
        "4a7c0f28e165db93",
        "764b9c2a180efd35",
        "7624d9f0a15b8ec3",
        "de41705a3c8f629b",
        "13a95b4f867ed02c",
    ),
    key_meshing=False,
    aliases=("id-GostR3411-94-CryptoProParamSet",),
)

_ALL_SBOXES = (
    _TEST,
    _CRYPTOPRO_A,
    _CRYPTOPRO_B,
    _CRYPTOPRO_C,
    _CRYPTOPRO_D,
    _TC26_Z,
    _GOSTR3411_94_TEST,
    _GOSTR3411_94_CRYPTOPRO,
)
#: Every known S-box by its canonical name.
SBOXES: Final[Mapping[str, SBox]] = MappingProxyType({s.name: s for s in _ALL_SBOXES})
#: Every known S-box by its OID (28147 parameter sets ``1.2.643.2.2.31.*``, TC26 Z, and the two
#: GOST R 34.11-94 hash parameter sets ``1.2.643.2.2.30.*`` whose S-box they carry).
SBOX_OIDS: Final[Mapping[str, SBox]] = MappingProxyType({s.oid: s for s in _ALL_SBOXES})
_LOOKUP: Final[Mapping[str, SBox]] = MappingProxyType(
    {key.lower(): s for s in _ALL_SBOXES for key in (s.name, s.oid, *s.aliases)}
)


def get_sbox(name_or_oid: SBox | str) -> SBox:
    """Return the S-box named by canonical name, OID or OpenSSL name (case-insensitive).

    Raises :class:`UnsupportedAlgorithm` for anything unknown. An :class:`SBox` is returned as is.
    """
    if isinstance(name_or_oid, SBox):
        return name_or_oid
    if not isinstance(name_or_oid, str):
        raise TypeError(f"S-box must be a name, an OID or an SBox, not {type(name_or_oid)!r}")
    try:
        return _LOOKUP[name_or_oid.strip().lower()]
    except KeyError:
        raise UnsupportedAlgorithm(f"unknown GOST 28147-89 S-box: {name_or_oid!r}") from None


# --------------------------------------------------------------------------------------------
# Input checks


def _as_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def _exact(value: object, size: int, what: str) -> bytes:
    data = _as_bytes(value, what)
    if len(data) != size:
        raise InvalidInput(f"{what} must be {size} bytes long, got {len(data)}")
    return data


def _aligned(value: object, what: str) -> bytes:
    data = _as_bytes(value, what)
    if len(data) % BLOCK_SIZE:
        raise InvalidInput(
            f"{what} length must be a multiple of {BLOCK_SIZE} bytes, got {len(data)}"
        )
    return data


def _words(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 4}I", data)


def _pack(words: list[int]) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


def _xor(data: bytes, gamma: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data, "little") ^ int.from_bytes(gamma[:n], "little")).to_bytes(
        n, "little"
    )


# --------------------------------------------------------------------------------------------
# The block cipher


def _feistel(n1: int, n2: int, pairs: _KeyPairs, tables: _Tables) -> tuple[int, int]:
    """Run the rounds of ``pairs`` (two subkeys each) over (N1, N2); no final swap."""
    t0, t1, t2, t3 = tables
    for ka, kb in pairs:
        x = (n1 + ka) & 0xFFFFFFFF
        n2 ^= t0[x & 255] ^ t1[x >> 8 & 255] ^ t2[x >> 16 & 255] ^ t3[x >> 24]
        x = (n2 + kb) & 0xFFFFFFFF
        n1 ^= t0[x & 255] ^ t1[x >> 8 & 255] ^ t2[x >> 16 & 255] ^ t3[x >> 24]
    return n1, n2


def _pairs(order: list[int], k: tuple[int, ...]) -> _KeyPairs:
    return tuple((k[order[i]], k[order[i + 1]]) for i in range(0, len(order), 2))


_ENC_ORDER: Final = [*range(8), *range(8), *range(8), *range(7, -1, -1)]
_DEC_ORDER: Final = _ENC_ORDER[::-1]
_MAC_ORDER: Final = [*range(8), *range(8)]


class Gost28147:
    """GOST 28147-89 with one key and one S-box (32 rounds; blocks in the OpenSSL byte order)."""

    __slots__ = ("_dec", "_enc", "_key", "_mac", "_sbox", "_tables")

    def __init__(self, key: BytesLike, sbox: SBox | str = DEFAULT_SBOX) -> None:
        self._key = _exact(key, KEY_SIZE, "GOST 28147-89 key")
        self._sbox = get_sbox(sbox)
        self._tables = self._sbox._tables
        k = _words(self._key)
        self._enc = _pairs(_ENC_ORDER, k)
        self._dec = _pairs(_DEC_ORDER, k)
        self._mac = _pairs(_MAC_ORDER, k)

    @property
    def sbox(self) -> SBox:
        """The S-box in use."""
        return self._sbox

    def __repr__(self) -> str:
        return f"Gost28147(sbox={self._sbox.name!r})"

    # Word-level primitives used by the modes (a block = (first LE word, second LE word)).

    def _encrypt_words(self, n1: int, n2: int) -> tuple[int, int]:
        a, b = _feistel(n1, n2, self._enc, self._tables)
        return b, a

    def _decrypt_words(self, n1: int, n2: int) -> tuple[int, int]:
        a, b = _feistel(n1, n2, self._dec, self._tables)
        return b, a

    def _mac_words(self, n1: int, n2: int) -> tuple[int, int]:
        return _feistel(n1, n2, self._mac, self._tables)

    def encrypt_block(self, block: BytesLike) -> bytes:
        """Encrypt one 8-byte block (simple replacement, ECB)."""
        n1, n2 = struct.unpack("<2I", _exact(block, BLOCK_SIZE, "block"))
        return struct.pack("<2I", *self._encrypt_words(n1, n2))

    def decrypt_block(self, block: BytesLike) -> bytes:
        """Decrypt one 8-byte block."""
        n1, n2 = struct.unpack("<2I", _exact(block, BLOCK_SIZE, "block"))
        return struct.pack("<2I", *self._decrypt_words(n1, n2))

    def meshed(self) -> Gost28147:
        """The cipher under the next CryptoPro key-meshing key: K' = ECB-decrypt(K, C)."""
        out: list[int] = []
        c = _words(_MESHING_C)
        for i in range(0, 8, 2):
            out.extend(self._decrypt_words(c[i], c[i + 1]))
        return Gost28147(_pack(out), self._sbox)


def cryptopro_key_meshing(key: BytesLike, iv: BytesLike, sbox: SBox | str) -> tuple[bytes, bytes]:
    """One step of CryptoPro key meshing (RFC 4357 §2.3.2): return (K', E_K'(IV))."""
    cipher = Gost28147(key, sbox).meshed()
    return cipher._key, cipher.encrypt_block(iv)


def _cipher_and_iv(key: BytesLike, iv: BytesLike, sbox: SBox | str) -> tuple[Gost28147, int, int]:
    cipher = Gost28147(key, sbox)
    r1, r2 = struct.unpack("<2I", _exact(iv, BLOCK_SIZE, "IV"))
    return cipher, r1, r2


# --------------------------------------------------------------------------------------------
# Modes


def _ecb(key: BytesLike, data: BytesLike, sbox: SBox | str, key_meshing: bool, enc: bool) -> bytes:
    cipher = Gost28147(key, sbox)
    words = _words(_aligned(data, "data"))
    out: list[int] = []
    fn = cipher._encrypt_words if enc else cipher._decrypt_words
    for i in range(0, len(words), 2):
        if key_meshing and i and not (i // 2) % _BLOCKS_PER_MESH:
            cipher = cipher.meshed()
            fn = cipher._encrypt_words if enc else cipher._decrypt_words
        out.extend(fn(words[i], words[i + 1]))
    return _pack(out)


def ecb_encrypt(
    key: BytesLike, data: BytesLike, *, sbox: SBox | str = DEFAULT_SBOX, key_meshing: bool = False
) -> bytes:
    """Encrypt in ECB (simple replacement) mode; ``data`` must be a multiple of 8 bytes."""
    return _ecb(key, data, sbox, key_meshing, True)


def ecb_decrypt(
    key: BytesLike, data: BytesLike, *, sbox: SBox | str = DEFAULT_SBOX, key_meshing: bool = False
) -> bytes:
    """Decrypt in ECB mode; ``data`` must be a multiple of 8 bytes."""
    return _ecb(key, data, sbox, key_meshing, False)


def cbc_encrypt(
    key: BytesLike,
    iv: BytesLike,
    data: BytesLike,
    *,
    sbox: SBox | str = DEFAULT_SBOX,
    key_meshing: bool = False,
) -> bytes:
    """Encrypt in CBC mode (RFC 4357 §2.1) without padding; ``data`` must be 8-byte aligned.

    With ``key_meshing`` the key and the chaining value are meshed every 1024 bytes as RFC 4357
    §2.3.2 describes (the OpenSSL engine never meshes CBC, so that variant has no oracle).
    """
    cipher, r1, r2 = _cipher_and_iv(key, iv, sbox)
    words = _words(_aligned(data, "data"))
    out: list[int] = []
    enc = cipher._encrypt_words
    for i in range(0, len(words), 2):
        if key_meshing and i and not (i // 2) % _BLOCKS_PER_MESH:
            cipher = cipher.meshed()
            enc = cipher._encrypt_words
            r1, r2 = enc(r1, r2)
        r1, r2 = enc(words[i] ^ r1, words[i + 1] ^ r2)
        out += (r1, r2)
    return _pack(out)


def cbc_decrypt(
    key: BytesLike,
    iv: BytesLike,
    data: BytesLike,
    *,
    sbox: SBox | str = DEFAULT_SBOX,
    key_meshing: bool = False,
) -> bytes:
    """Decrypt CBC (no padding removed); ``data`` must be 8-byte aligned."""
    cipher, r1, r2 = _cipher_and_iv(key, iv, sbox)
    words = _words(_aligned(data, "data"))
    out: list[int] = []
    dec = cipher._decrypt_words
    for i in range(0, len(words), 2):
        if key_meshing and i and not (i // 2) % _BLOCKS_PER_MESH:
            cipher = cipher.meshed()
            dec = cipher._decrypt_words
            r1, r2 = cipher._encrypt_words(r1, r2)
        c1, c2 = words[i], words[i + 1]
        p1, p2 = dec(c1, c2)
        out += (p1 ^ r1, p2 ^ r2)
        r1, r2 = c1, c2
    return _pack(out)


def _cfb(
    key: BytesLike, iv: BytesLike, data: BytesLike, sbox: SBox | str, key_meshing: bool, enc: bool
) -> bytes:
    cipher, r1, r2 = _cipher_and_iv(key, iv, sbox)
    raw = _as_bytes(data, "data")
    full = len(raw) - len(raw) % BLOCK_SIZE
    words = _words(raw[:full])
    out: list[int] = []
    crypt = cipher._encrypt_words
    nblocks = (len(raw) + BLOCK_SIZE - 1) // BLOCK_SIZE
    for b in range(nblocks):
        if key_meshing and b and not b % _BLOCKS_PER_MESH:
            cipher = cipher.meshed()
            crypt = cipher._encrypt_words
            r1, r2 = crypt(r1, r2)
        g1, g2 = crypt(r1, r2)
        if 2 * b == len(words):  # the final partial block
            tail = _xor(raw[full:], struct.pack("<2I", g1, g2))
            return _pack(out) + tail
        w1, w2 = words[2 * b], words[2 * b + 1]
        c1, c2 = (w1 ^ g1, w2 ^ g2)
        out += (c1, c2)
        r1, r2 = (c1, c2) if enc else (w1, w2)
    return _pack(out)


def cfb_encrypt(
    key: BytesLike,
    iv: BytesLike,
    data: BytesLike,
    *,
    sbox: SBox | str = DEFAULT_SBOX,
    key_meshing: bool = False,
) -> bytes:
    """Encrypt in 64-bit CFB (gammirovanie s obratnoy svyaz'yu); any length.

    With ``key_meshing=True`` this equals ``openssl enc -gost89`` and CMS content encryption.
    """
    return _cfb(key, iv, data, sbox, key_meshing, True)


def cfb_decrypt(
    key: BytesLike,
    iv: BytesLike,
    data: BytesLike,
    *,
    sbox: SBox | str = DEFAULT_SBOX,
    key_meshing: bool = False,
) -> bytes:
    """Decrypt 64-bit CFB; any length."""
    return _cfb(key, iv, data, sbox, key_meshing, False)


def cnt(
    key: BytesLike,
    iv: BytesLike,
    data: BytesLike,
    *,
    sbox: SBox | str = DEFAULT_SBOX,
    key_meshing: bool = False,
) -> bytes:
    """Encrypt or decrypt in the GOST 28147-89 counter mode (gammirovanie); any length.

    The register is E_K(IV); before each block its first word is increased by C2 = 0x01010101
    (mod 2^32) and its second word by C1 = 0x01010104 (mod 2^32 - 1), and the block's gamma is
    E_K(register). Key meshing also re-encrypts the register under the new key, as the OpenSSL
    engine (``enc -gost89-cnt``) does.
    """
    cipher, r1, r2 = _cipher_and_iv(key, iv, sbox)
    raw = _as_bytes(data, "data")
    crypt = cipher._encrypt_words
    r1, r2 = crypt(r1, r2)
    gamma: list[int] = []
    for b in range((len(raw) + BLOCK_SIZE - 1) // BLOCK_SIZE):
        if key_meshing and b and not b % _BLOCKS_PER_MESH:
            cipher = cipher.meshed()
            crypt = cipher._encrypt_words
            r1, r2 = crypt(r1, r2)
        r1 = (r1 + _C2) & _MASK32
        r2 += _C1
        if r2 > _MASK32:
            r2 -= _MASK32
        gamma.extend(crypt(r1, r2))
    return _xor(raw, _pack(gamma))


# --------------------------------------------------------------------------------------------
# MAC (imitovstavka)


def mac(
    key: BytesLike,
    data: BytesLike,
    *,
    sbox: SBox | str = DEFAULT_SBOX,
    iv: BytesLike = bytes(BLOCK_SIZE),
    length: int = 4,
    key_meshing: bool = False,
) -> bytes:
    """The GOST 28147-89 MAC (16 rounds per block), truncated to ``length`` (1..8) bytes.

    Follows the OpenSSL engine (``dgst -mac gost-mac``, ``gost_mac_iv``): a final partial block
    is padded with zero bytes; data of 1..8 bytes is followed by one zero block (the MAC must
    cover at least two blocks); empty data gives ``iv[:length]``. Key meshing changes only the
    key, not the MAC register, as in OpenSSL; ``dgst -mac gost-mac`` uses ``key_meshing=True``.
    """
    cipher = Gost28147(key, sbox)
    s1, s2 = struct.unpack("<2I", _exact(iv, BLOCK_SIZE, "MAC IV"))
    if not isinstance(length, int) or not 1 <= length <= BLOCK_SIZE:
        raise InvalidInput(f"MAC length must be 1..{BLOCK_SIZE} bytes, got {length!r}")
    raw = _as_bytes(data, "data")
    if raw:
        if len(raw) % BLOCK_SIZE:
            raw += bytes(BLOCK_SIZE - len(raw) % BLOCK_SIZE)
        if len(raw) == BLOCK_SIZE:
            raw += bytes(BLOCK_SIZE)
    words = _words(raw)
    step = cipher._mac_words
    for i in range(0, len(words), 2):
        if key_meshing and i and not (i // 2) % _BLOCKS_PER_MESH:
            cipher = cipher.meshed()
            step = cipher._mac_words
        s1, s2 = step(s1 ^ words[i], s2 ^ words[i + 1])
    return struct.pack("<2I", s1, s2)[:length]


# --------------------------------------------------------------------------------------------
# ISO 10126 padding


def pad_iso10126(data: BytesLike, *, random_bytes: Callable[[int], bytes] = os.urandom) -> bytes:
    """Append 1..8 bytes: random filler, then the count; a full block when already aligned."""
    raw = _as_bytes(data, "data")
    n = BLOCK_SIZE - len(raw) % BLOCK_SIZE
    filler = random_bytes(n - 1)
    if len(filler) != n - 1:
        raise InvalidInput("random_bytes returned the wrong number of bytes")
    return raw + filler + bytes((n,))


def unpad_iso10126(data: BytesLike) -> bytes:
    """Remove ISO 10126 padding; raise :class:`DecryptionError` when it is malformed."""
    raw = _as_bytes(data, "data")
    if not raw or len(raw) % BLOCK_SIZE:
        raise DecryptionError(
            f"padded data must be a non-empty multiple of {BLOCK_SIZE} bytes, got {len(raw)}"
        )
    n = raw[-1]
    if not 1 <= n <= BLOCK_SIZE:
        raise DecryptionError(f"bad ISO 10126 padding length {n}")
    return raw[:-n]


# --------------------------------------------------------------------------------------------
# Key diversification and key wrap (RFC 4357 §6)


def kek_diversify(kek: BytesLike, ukm: BytesLike, sbox: SBox | str) -> bytes:
    """CryptoPro KEK diversification (RFC 4357 §6.5) of a 32-byte KEK with an 8-byte UKM.

    Eight rounds; in round i, bit j of UKM byte i puts key word j into S1 (set) or S2 (clear);
    then KEK := CFB-encrypt(key=KEK, IV=S1_le || S2_le, data=KEK).
    """
    key = _exact(kek, KEY_SIZE, "KEK")
    u = _exact(ukm, UKM_SIZE, "UKM")
    box = get_sbox(sbox)
    for i in range(8):
        words = _words(key)
        s1 = sum(w for j, w in enumerate(words) if u[i] >> j & 1) & _MASK32
        s2 = sum(w for j, w in enumerate(words) if not u[i] >> j & 1) & _MASK32
        key = cfb_encrypt(key, struct.pack("<2I", s1, s2), key, sbox=box)
    return key


def gost_key_wrap(
    kek: BytesLike, cek: BytesLike, ukm: BytesLike, sbox: SBox | str
) -> tuple[bytes, bytes]:
    """GOST 28147-89 key wrap (RFC 4357 §6.1): return (ECB(KEK, CEK), MAC(KEK, IV=UKM, CEK))."""
    key = _exact(kek, KEY_SIZE, "KEK")
    content_key = _exact(cek, KEY_SIZE, "CEK")
    u = _exact(ukm, UKM_SIZE, "UKM")
    return (
        ecb_encrypt(key, content_key, sbox=sbox),
        mac(key, content_key, sbox=sbox, iv=u, length=4),
    )


def gost_key_unwrap(
    kek: BytesLike, encrypted_key: BytesLike, mac: BytesLike, ukm: BytesLike, sbox: SBox | str
) -> bytes:
    """GOST 28147-89 key unwrap (RFC 4357 §6.2); raise :class:`IntegrityError` on a bad MAC."""
    key = _exact(kek, KEY_SIZE, "KEK")
    wrapped = _exact(encrypted_key, KEY_SIZE, "encrypted key")
    expected = _exact(mac, 4, "key MAC")
    u = _exact(ukm, UKM_SIZE, "UKM")
    content_key = ecb_decrypt(key, wrapped, sbox=sbox)
    if not hmac.compare_digest(_imit(key, content_key, sbox=sbox, iv=u, length=4), expected):
        raise IntegrityError("the MAC of the unwrapped key does not match")
    return content_key


def cryptopro_key_wrap(
    kek: BytesLike, cek: BytesLike, ukm: BytesLike, sbox: SBox | str
) -> tuple[bytes, bytes]:
    """CryptoPro key wrap (RFC 4357 §6.3): diversify the KEK with the UKM, then wrap as §6.1.

    Returns ``(encrypted_key, mac)``: 32 and 4 bytes (GostR3410-KeyTransport's
    ``encryptedKey`` and ``macKey``).
    """
    return gost_key_wrap(kek_diversify(kek, ukm, sbox), cek, ukm, sbox)


def cryptopro_key_unwrap(
    kek: BytesLike, encrypted_key: BytesLike, mac: BytesLike, ukm: BytesLike, sbox: SBox | str
) -> bytes:
    """CryptoPro key unwrap (RFC 4357 §6.4); raise :class:`IntegrityError` on a bad MAC."""
    return gost_key_unwrap(kek_diversify(kek, ukm, sbox), encrypted_key, mac, ukm, sbox)


_imit = mac  # the MAC function, for code where a parameter named ``mac`` hides it
