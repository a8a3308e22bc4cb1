"""GOST 28147-89: standard vectors, known answers, OpenSSL gost engine cross-checks, bad input.

Sources of the expected values (values only, no third-party test code):
* RFC 8891 Appendix A and GOST R 34.13-2015 Appendix A.2 (Magma = 28147 with the Z S-box, in
  the 34.12 byte order, converted with ``magma_encrypt`` below);
* RFC 5831 §7.3.1 (the 28147 encryptions inside GOST R 34.11-94, test parameters);
* Bouncy Castle's published GOST28147/GOST28147Mac known answers (CryptoPro-A..D, test sets);
* the OpenSSL gost engine (``enc -gost89*``, ``dgst -mac gost-mac``, ``pkeyutl``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from gostsign import gost28147 as g
from gostsign.errors import (
    DecryptionError,
    IntegrityError,
    InvalidInput,
    UnsupportedAlgorithm,
)
from tests.oracles import Tool

h = bytes.fromhex

CIPHER_SETS = ["test", "cryptopro-a", "cryptopro-b", "cryptopro-c", "cryptopro-d", "tc26-z"]
OPENSSL_NAMES = {
    "test": "id-Gost28147-89-TestParamSet",
    "cryptopro-a": "id-Gost28147-89-CryptoPro-A-ParamSet",
    "cryptopro-b": "id-Gost28147-89-CryptoPro-B-ParamSet",
    "cryptopro-c": "id-Gost28147-89-CryptoPro-C-ParamSet",
    "cryptopro-d": "id-Gost28147-89-CryptoPro-D-ParamSet",
    "tc26-z": "id-tc26-gost-28147-param-Z",
}
OIDS = {
    "test": "1.2.643.2.2.31.0",
    "cryptopro-a": "1.2.643.2.2.31.1",
    "cryptopro-b": "1.2.643.2.2.31.2",
    "cryptopro-c": "1.2.643.2.2.31.3",
    "cryptopro-d": "1.2.643.2.2.31.4",
    "tc26-z": "1.2.643.7.1.2.5.1.1",
}


# --------------------------------------------------------------------------------------------
# S-box registry


@pytest.mark.parametrize("name", CIPHER_SETS)
def test_sbox_lookup_by_name_oid_and_openssl_name(name: str) -> None:
    sbox = g.get_sbox(name)
    assert sbox.name == name
    assert sbox.oid == OIDS[name]
    assert g.get_sbox(OIDS[name]) is sbox
    assert g.SBOX_OIDS[OIDS[name]] is sbox
    assert g.SBOXES[name] is sbox
    assert g.get_sbox(OPENSSL_NAMES[name]) is sbox
    assert g.get_sbox(OPENSSL_NAMES[name].upper()) is sbox
    assert g.get_sbox(f"  {name.upper()} ") is sbox
    assert g.get_sbox(sbox) is sbox


def test_hash_paramset_sboxes_are_registered_under_their_own_oids() -> None:
    assert g.get_sbox("1.2.643.2.2.30.0").name == "gostr3411-94-test"
    assert g.get_sbox("id-GostR3411-94-CryptoProParamSet").name == "gostr3411-94-cryptopro"


def test_rfc4357_test_set_is_not_the_hash_test_set() -> None:
    # 1.2.643.2.2.31.0 (RFC 4357 §11.2) starts 4,2,15,5...; the 34.11-94 test S-box 4,10,9,2...
    assert g.get_sbox("1.2.643.2.2.31.0").rows[0][:4] == (4, 2, 15, 5)
    assert g.get_sbox("gostr3411-94-test").rows[0][:4] == (4, 10, 9, 2)


@pytest.mark.parametrize("sbox", list(g.SBOXES.values()), ids=list(g.SBOXES))
def test_sbox_rows_are_permutations(sbox: g.SBox) -> None:
    for row in sbox.rows:
        assert sorted(row) == list(range(16))


def test_default_key_meshing_per_rfc4357() -> None:
    assert not g.get_sbox("test").key_meshing
    for name in ("cryptopro-a", "cryptopro-b", "cryptopro-c", "cryptopro-d", "tc26-z"):
        assert g.get_sbox(name).key_meshing


@pytest.mark.parametrize(
    "name", ["cryptopro-e", "1.2.643.2.2.31.9", "", "id-Gost28147-89-CryptoPro-Oscar-1-0-ParamSet"]
)
def test_unknown_sbox(name: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        g.get_sbox(name)
    with pytest.raises(UnsupportedAlgorithm):
        g.Gost28147(bytes(32), name)


def test_sbox_validation() -> None:
    with pytest.raises(InvalidInput):
        g.SBox("bad", "1.2.3", ((0,) * 16,) * 7)
    with pytest.raises(InvalidInput):
        g.SBox("bad", "1.2.3", ((16,) * 16,) * 8)
    with pytest.raises(TypeError):
        g.get_sbox(1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Standard vectors: Magma (RFC 8891, GOST R 34.13-2015) through the byte-order relation


def _wordwise_byteswap(key: bytes) -> bytes:
    return b"".join(key[i : i + 4][::-1] for i in range(0, 32, 4))


def magma_encrypt(key: bytes, block: bytes) -> bytes:
    """Magma (34.12 byte order) built from our 28147 with the Z S-box."""
    return g.Gost28147(_wordwise_byteswap(key), "tc26-z").encrypt_block(block[::-1])[::-1]


def magma_decrypt(key: bytes, block: bytes) -> bytes:
    return g.Gost28147(_wordwise_byteswap(key), "tc26-z").decrypt_block(block[::-1])[::-1]


def _blockwise_reverse(data: bytes) -> bytes:
    return b"".join(data[i : i + 8][::-1] for i in range(0, len(data), 8))


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


MAGMA_KEY = h("ffeeddccbbaa99887766554433221100f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")


def test_rfc8891_appendix_a() -> None:
    assert magma_encrypt(MAGMA_KEY, h("fedcba9876543210")) == h("4ee901e5c2d8ca3d")
    assert magma_decrypt(MAGMA_KEY, h("4ee901e5c2d8ca3d")) == h("fedcba9876543210")


def test_magma_relation_with_module_functions() -> None:
    ct = g.ecb_encrypt(_wordwise_byteswap(MAGMA_KEY), h("fedcba9876543210")[::-1], sbox="tc26-z")
    assert ct[::-1] == h("4ee901e5c2d8ca3d")


# GOST R 34.13-2015 Appendix A.2 (Magma).
P34 = [h("92def06b3c130a59"), h("db54c704f8189d20"), h("4a98fb2e67a8024c"), h("8912409b17b57e41")]
ECB34 = [h("2b073f0494f372a0"), h("de70e715d3556e48"), h("11d8d9e9eacfbc1e"), h("7c68260996c67efb")]
CTR34 = [h("4e98110c97b7b93c"), h("3e250d93d6e85d69"), h("136d868807b2dbef"), h("568eb680ab52a12d")]
OFB34 = [h("db37e0e266903c83"), h("0d46644c1f9a089c"), h("a0f83062430e327e"), h("c824efb8bd4fdb05")]
CBC34 = [h("96d1b05eea683919"), h("aff76129abb937b9"), h("5058b4a1c4bc0019"), h("20b78b1a7cd7e667")]
CFB34 = [h("db37e0e266903c83"), h("0d46644c1f9a089c"), h("24bdd2035315d38b"), h("bcc0321421075505")]
IV34 = [h("1234567890abcdef"), h("234567890abcdef1"), h("34567890abcdef12")]


def test_gost3413_ecb() -> None:
    for p, c in zip(P34, ECB34, strict=True):
        assert magma_encrypt(MAGMA_KEY, p) == c
        assert magma_decrypt(MAGMA_KEY, c) == p
    key = _wordwise_byteswap(MAGMA_KEY)
    ours = g.ecb_encrypt(key, _blockwise_reverse(b"".join(P34)), sbox="tc26-z")
    assert _blockwise_reverse(ours) == b"".join(ECB34)


def test_gost3413_ctr_and_ofb_with_our_block_cipher() -> None:
    ctr = int.from_bytes(h("12345678") + bytes(4), "big")
    for i, (p, c) in enumerate(zip(P34, CTR34, strict=True)):
        assert _xor(p, magma_encrypt(MAGMA_KEY, (ctr + i).to_bytes(8, "big"))) == c
    register = IV34[:2]
    for p, c in zip(P34, OFB34, strict=True):
        y = magma_encrypt(MAGMA_KEY, register[0])
        assert _xor(p, y) == c
        register = [register[1], y]


def test_gost3413_cbc_chains_are_our_cbc() -> None:
    # With m = 3n the register holds three IVs: C1, C4 form one plain CBC chain with IV1.
    key, sbox = _wordwise_byteswap(MAGMA_KEY), "tc26-z"
    data = _blockwise_reverse(P34[0] + P34[3])
    ours = g.cbc_encrypt(key, IV34[0][::-1], data, sbox=sbox)
    assert _blockwise_reverse(ours) == CBC34[0] + CBC34[3]
    assert g.cbc_decrypt(key, IV34[0][::-1], ours, sbox=sbox) == data
    for p, c, iv in zip(P34[1:3], CBC34[1:3], IV34[1:3], strict=True):
        assert g.cbc_encrypt(key, iv[::-1], p[::-1], sbox=sbox)[::-1] == c


def test_gost3413_cfb_chains_are_our_cfb() -> None:
    # With m = 2n the register holds two IVs: (C1, C3) and (C2, C4) are plain CFB chains.
    key, sbox = _wordwise_byteswap(MAGMA_KEY), "tc26-z"
    for iv, (i, j) in ((IV34[0], (0, 2)), (IV34[1], (1, 3))):
        data = _blockwise_reverse(P34[i] + P34[j])
        ours = g.cfb_encrypt(key, iv[::-1], data, sbox=sbox)
        assert _blockwise_reverse(ours) == CFB34[i] + CFB34[j]
        assert g.cfb_decrypt(key, iv[::-1], ours, sbox=sbox) == data


# RFC 5831 §7.3.1: the four 28147 encryptions of the zero block inside GOST R 34.11-94 (test
# parameters). The RFC writes keys and results most-significant byte first.
RFC5831_ENCRYPTIONS = [
    (
        "733D2C20 65686573 74746769 79676120 626E7373 20657369 326C6568 33206D54",
        "42ABBCCE 32BC0B1B",
    ),
    (
        "110C733D 0D166568 130E7474 06417967 1D00626E 161A2065 090D326C 4D393320",
        "5203EBC8 5D9BCFFD",
    ),
    (
        "80B111F3 730DF216 850013F1 C7E1F941 620C1DFF 3ABAE91A 3FA109F2 F513B239",
        "8D345899 00FF0E28",
    ),
    (
        "A0E2804E FF1B73F2 ECE27A00 E7B8C7E1 EE1D620C AC0CC5BA A804C05E A18B0AEC",
        "E7860419 0D2A562D",
    ),
]


@pytest.mark.parametrize(("key", "result"), RFC5831_ENCRYPTIONS)
def test_rfc5831_block_encryptions(key: str, result: str) -> None:
    cipher = g.Gost28147(h(key.replace(" ", ""))[::-1], "gostr3411-94-test")
    expected = h(result.replace(" ", ""))[::-1]
    assert cipher.encrypt_block(bytes(8)) == expected
    assert cipher.decrypt_block(expected) == bytes(8)


# --------------------------------------------------------------------------------------------
# Known answers for the other S-boxes (Bouncy Castle's published vectors; key/IV/data as bytes)

BC_KEY = h("546d203368656c326973652073736e62206167796967747473656865202c3d73")
BC_IV = h("1234567890abcdef")


@pytest.mark.parametrize(
    ("sbox", "expected"),
    [
        ("gostr3411-94-test", "b587f7a0814c911d"),
        ("test", "e8287f53f991d52b"),
        ("cryptopro-a", "c41009dba22ebe35"),
        # Bouncy Castle publishes 8-bit CFB for these; its first byte equals 64-bit CFB's.
        ("cryptopro-b", "80"),
        ("cryptopro-c", "73"),
        ("cryptopro-d", "46"),
        ("gostr3411-94-cryptopro", "5b"),
    ],
)
def test_known_answer_cfb_first_block(sbox: str, expected: str) -> None:
    n = len(expected) // 2
    assert g.cfb_encrypt(BC_KEY, BC_IV, bytes(n), sbox=sbox) == h(expected)


def test_known_answer_cnt_cryptopro_a_and_hash_test_set() -> None:
    msg = h("bc350e71aa11345709acde")
    key_a = h("4ef72b778f0b0bebeef4f077551cb74a927b470ad7d7f2513454569a247e989d")
    assert g.cnt(key_a, BC_IV, msg, sbox="cryptopro-a") == h("1bcc2282707c676fb656dc")
    key_t = h("0011223344556677889900112233445566778899001122334455667788990011")
    assert g.cnt(key_t, BC_IV, msg, sbox="gostr3411-94-test") == h("8824c124c4fd14301fb1e8")


def test_known_answer_cbc_and_cfb_hash_test_set() -> None:
    key = h("00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF")
    sbox = "gostr3411-94-test"
    assert g.cbc_encrypt(key, BC_IV, h("bc350e71aac5f5c2"), sbox=sbox) == h("d35ab653493b49f5")
    key2 = h("aafd12f659cae63489b479e5076ddec2f06cb58faafd12f659cae63489b479e5")
    data = h("000102030405060708090a0b0c0d0e0fff0102030405060708090a0b0c0d0e0f")
    expected = h("29b7083e0a6d955ca0ec5b04fdb4ea41949f1dd2efdf17baffc1780b031f3934")
    assert g.cfb_encrypt(key2, key2[:8], data, sbox=sbox) == expected


def test_known_answer_mac_cryptopro_a() -> None:
    key = h("6d145dc993f4019e104280df6fcd8cd8e01e101e4c113d7ec4f469ce6dcd9e49")
    assert g.mac(key, b"what do ya want for nothing?") == h("93468a46")
    assert g.mac(key, b"what do ya want for nothing?", sbox="cryptopro-a") == h("93468a46")


# --------------------------------------------------------------------------------------------
# Round trips and mode properties

KEY = h("0123456789abcdef" * 4)
IV = h("fedcba9876543210")


@pytest.mark.parametrize("sbox", CIPHER_SETS)
@pytest.mark.parametrize("meshing", [False, True])
def test_round_trips(sbox: str, meshing: bool) -> None:
    data = os.urandom(2056)
    kw = {"sbox": sbox, "key_meshing": meshing}
    assert g.ecb_decrypt(KEY, g.ecb_encrypt(KEY, data, **kw), **kw) == data
    assert g.cbc_decrypt(KEY, IV, g.cbc_encrypt(KEY, IV, data, **kw), **kw) == data
    for n in (0, 1, 7, 8, 9, 1023, 1024, 1025, 2051):
        part = data[:n]
        assert g.cfb_decrypt(KEY, IV, g.cfb_encrypt(KEY, IV, part, **kw), **kw) == part
        assert g.cnt(KEY, IV, g.cnt(KEY, IV, part, **kw), **kw) == part
        assert len(g.cfb_encrypt(KEY, IV, part, **kw)) == n


@pytest.mark.parametrize(
    "encrypt",
    [
        lambda d, m: g.ecb_encrypt(KEY, d, key_meshing=m),
        lambda d, m: g.cbc_encrypt(KEY, IV, d, key_meshing=m),
        lambda d, m: g.cfb_encrypt(KEY, IV, d, key_meshing=m),
        lambda d, m: g.cnt(KEY, IV, d, key_meshing=m),
        lambda d, m: g.mac(KEY, d, key_meshing=m),
    ],
    ids=["ecb", "cbc", "cfb", "cnt", "mac"],
)
def test_meshing_changes_output_only_after_1024_bytes(
    encrypt: Callable[[bytes, bool], bytes],
) -> None:
    data = os.urandom(1032)
    assert encrypt(data[:1024], True) == encrypt(data[:1024], False)
    with_meshing, without = encrypt(data, True), encrypt(data, False)
    assert with_meshing != without
    if len(with_meshing) == len(data):  # a cipher: the first 1024 bytes are unaffected
        assert with_meshing[:1024] == without[:1024]


def test_cfb_meshing_is_rfc4357_key_and_iv_transform() -> None:
    # After 1024 bytes: K' = D_K(C), and the register (last ciphertext block) is E_K'-encrypted.
    data = os.urandom(2048)
    first = g.cfb_encrypt(KEY, IV, data[:1024])
    key2, iv2 = g.cryptopro_key_meshing(KEY, first[-8:], "cryptopro-a")
    second = g.cfb_encrypt(key2, iv2, data[1024:])
    assert g.cfb_encrypt(KEY, IV, data, key_meshing=True) == first + second
    meshed = g.Gost28147(KEY).meshed()
    assert g.cryptopro_key_meshing(KEY, IV, "cryptopro-a") == (
        g.ecb_decrypt(KEY, g._MESHING_C),
        meshed.encrypt_block(IV),
    )


def test_cnt_counter_constants() -> None:
    # Gamma of block i is E(register + i*(C2, C1)); check the mod 2^32-1 wrap of the second word.
    cipher = g.Gost28147(KEY)
    iv = None
    for candidate in range(1, 100000):  # find an IV whose E(IV) second word is near 2^32
        iv_try = candidate.to_bytes(8, "little")
        e = cipher.encrypt_block(iv_try)
        if int.from_bytes(e[4:], "little") > 0xFFFFFFFF - 3 * 0x01010104:
            iv = iv_try
            break
    assert iv is not None
    e = cipher.encrypt_block(iv)
    n1, n2 = int.from_bytes(e[:4], "little"), int.from_bytes(e[4:], "little")
    gamma = b""
    for _ in range(4):
        n1 = (n1 + 0x01010101) % 2**32
        n2 = (n2 + 0x01010104 - 1) % (2**32 - 1) + 1
        gamma += cipher.encrypt_block(n1.to_bytes(4, "little") + n2.to_bytes(4, "little"))
    assert g.cnt(KEY, iv, bytes(32)) == gamma


def test_block_object() -> None:
    cipher = g.Gost28147(bytearray(KEY), g.get_sbox("tc26-z"))
    assert cipher.sbox.name == "tc26-z"
    block = cipher.encrypt_block(memoryview(IV))
    assert cipher.decrypt_block(block) == IV
    assert g.ecb_encrypt(KEY, IV, sbox="tc26-z") == block
    assert "tc26-z" in repr(cipher)
    assert g.Gost28147(KEY).sbox.name == "cryptopro-a"  # the engine's default


# --------------------------------------------------------------------------------------------
# MAC


def test_mac_short_messages_get_a_zero_block() -> None:
    for n in range(1, 9):
        data = os.urandom(n)
        padded = data + bytes(8 - n)
        assert g.mac(KEY, data) == g.mac(KEY, padded + bytes(8))
    assert g.mac(KEY, b"") == bytes(4)
    assert g.mac(KEY, b"", iv=IV, length=8) == IV


def test_mac_length_and_iv() -> None:
    data = os.urandom(40)
    full = g.mac(KEY, data, length=8)
    for n in range(1, 9):
        assert g.mac(KEY, data, length=n) == full[:n]
    assert g.mac(KEY, data, iv=IV) != g.mac(KEY, data)
    # The IV is xored into the first block.
    first = _xor(data[:8], IV)
    assert g.mac(KEY, data, iv=IV) == g.mac(KEY, first + data[8:])


@pytest.mark.parametrize("length", [0, 9, -1])
def test_mac_bad_length(length: int) -> None:
    with pytest.raises(InvalidInput):
        g.mac(KEY, b"abc", length=length)


# --------------------------------------------------------------------------------------------
# ISO 10126 padding


def test_pad_iso10126() -> None:
    for n in range(0, 17):
        data = os.urandom(n)
        padded = g.pad_iso10126(data)
        assert len(padded) % 8 == 0
        count = padded[-1]
        assert 1 <= count <= 8
        assert count == 8 - n % 8
        assert padded[:n] == data
        assert g.unpad_iso10126(padded) == data
    assert g.pad_iso10126(b"12345678", random_bytes=lambda k: b"\xaa" * k) == (
        b"12345678" + b"\xaa" * 7 + b"\x08"
    )
    assert g.pad_iso10126(b"abc", random_bytes=lambda k: bytes(k)) == b"abc" + bytes(4) + b"\x05"


@pytest.mark.parametrize(
    "data",
    [b"", b"1234567", b"123456789", b"1234567\x00", b"1234567\x09", b"12345678" * 2 + b"\xff"],
)
def test_unpad_iso10126_rejects(data: bytes) -> None:
    with pytest.raises(DecryptionError):
        g.unpad_iso10126(data)


def test_pad_rejects_bad_rng() -> None:
    with pytest.raises(InvalidInput):
        g.pad_iso10126(b"abc", random_bytes=lambda k: b"")


# --------------------------------------------------------------------------------------------
# KEK diversification and key wrap


def _rfc4357_diversify(kek: bytes, ukm: bytes, sbox: str) -> bytes:
    """RFC 4357 §6.5 step by step, written independently of the module's loop."""
    k = kek
    for i in range(8):
        words = [int.from_bytes(k[4 * j : 4 * j + 4], "little") for j in range(8)]
        bits = [(ukm[i] >> j) & 1 for j in range(8)]
        s1 = sum(a * w for a, w in zip(bits, words, strict=True)) % 2**32
        s2 = sum((1 - a) * w for a, w in zip(bits, words, strict=True)) % 2**32
        s = s1.to_bytes(4, "little") + s2.to_bytes(4, "little")
        k = g.cfb_encrypt(k, s, k, sbox=sbox)
    return k


@pytest.mark.parametrize("sbox", ["cryptopro-a", "tc26-z"])
def test_kek_diversify_follows_rfc4357(sbox: str) -> None:
    kek, ukm = os.urandom(32), os.urandom(8)
    assert g.kek_diversify(kek, ukm, sbox) == _rfc4357_diversify(kek, ukm, sbox)
    assert g.kek_diversify(kek, ukm, sbox) != g.kek_diversify(kek, ukm[::-1], sbox)


@pytest.mark.parametrize("sbox", ["cryptopro-a", "tc26-z"])
def test_cryptopro_key_wrap_structure_and_round_trip(sbox: str) -> None:
    kek, cek, ukm = os.urandom(32), os.urandom(32), os.urandom(8)
    enc, mac = g.cryptopro_key_wrap(kek, cek, ukm, sbox)
    assert len(enc) == 32 and len(mac) == 4
    kek_ukm = _rfc4357_diversify(kek, ukm, sbox)
    assert enc == g.ecb_encrypt(kek_ukm, cek, sbox=sbox)
    assert mac == g.mac(kek_ukm, cek, sbox=sbox, iv=ukm)
    assert g.cryptopro_key_unwrap(kek, enc, mac, ukm, sbox) == cek
    assert g.cryptopro_key_unwrap(kek, enc, mac=mac, ukm=ukm, sbox=sbox) == cek


def test_gost_key_wrap_rfc4357_6_1() -> None:
    kek, cek, ukm = os.urandom(32), os.urandom(32), os.urandom(8)
    enc, mac = g.gost_key_wrap(kek, cek, ukm, "cryptopro-a")
    assert enc == g.ecb_encrypt(kek, cek)
    assert mac == g.mac(kek, cek, iv=ukm)
    assert g.gost_key_unwrap(kek, enc, mac, ukm, "cryptopro-a") == cek
    assert (enc, mac) != g.cryptopro_key_wrap(kek, cek, ukm, "cryptopro-a")


@pytest.mark.parametrize("what", ["mac", "enc", "ukm", "kek", "sbox"])
def test_key_unwrap_detects_tampering(what: str) -> None:
    kek, cek, ukm = os.urandom(32), os.urandom(32), os.urandom(8)
    enc, mac = g.cryptopro_key_wrap(kek, cek, ukm, "tc26-z")
    flip = lambda b, i: b[:i] + bytes((b[i] ^ 1,)) + b[i + 1 :]  # noqa: E731
    args = {"kek": kek, "encrypted_key": enc, "mac": mac, "ukm": ukm, "sbox": "tc26-z"}
    if what == "mac":
        args["mac"] = flip(mac, 3)
    elif what == "enc":
        args["encrypted_key"] = flip(enc, 31)
    elif what == "ukm":
        args["ukm"] = flip(ukm, 0)
    elif what == "kek":
        args["kek"] = flip(kek, 17)
    else:
        args["sbox"] = "cryptopro-a"
    with pytest.raises(IntegrityError):
        g.cryptopro_key_unwrap(**args)  # type: ignore[arg-type]
    with pytest.raises(DecryptionError):  # IntegrityError is a DecryptionError
        g.cryptopro_key_unwrap(**args)  # type: ignore[arg-type]


def test_plain_key_unwrap_detects_tampering() -> None:
    kek, cek, ukm = os.urandom(32), os.urandom(32), os.urandom(8)
    enc, mac = g.gost_key_wrap(kek, cek, ukm, "tc26-z")
    with pytest.raises(IntegrityError):
        g.gost_key_unwrap(kek, enc, bytes((mac[0] ^ 0x80,)) + mac[1:], ukm, "tc26-z")


# --------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("n", [0, 16, 31, 33, 64])
def test_bad_key_length(n: int) -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        g.Gost28147(bytes(n))
    for call in (
        lambda: g.ecb_encrypt(bytes(n), bytes(8)),
        lambda: g.cbc_encrypt(bytes(n), IV, bytes(8)),
        lambda: g.cfb_encrypt(bytes(n), IV, b"x"),
        lambda: g.cnt(bytes(n), IV, b"x"),
        lambda: g.mac(bytes(n), b"x"),
        lambda: g.kek_diversify(bytes(n), IV, "tc26-z"),
        lambda: g.cryptopro_key_wrap(KEY, bytes(n), IV, "tc26-z"),
        lambda: g.cryptopro_key_unwrap(KEY, bytes(n), bytes(4), IV, "tc26-z"),
    ):
        with pytest.raises(InvalidInput):
            call()


@pytest.mark.parametrize("n", [0, 4, 7, 9, 16])
def test_bad_iv_and_ukm_length(n: int) -> None:
    for call in (
        lambda: g.cbc_encrypt(KEY, bytes(n), bytes(8)),
        lambda: g.cbc_decrypt(KEY, bytes(n), bytes(8)),
        lambda: g.cfb_encrypt(KEY, bytes(n), b"x"),
        lambda: g.cfb_decrypt(KEY, bytes(n), b"x"),
        lambda: g.cnt(KEY, bytes(n), b"x"),
        lambda: g.mac(KEY, b"x", iv=bytes(n)),
        lambda: g.kek_diversify(KEY, bytes(n), "tc26-z"),
        lambda: g.cryptopro_key_wrap(KEY, KEY, bytes(n), "tc26-z"),
        lambda: g.Gost28147(KEY).encrypt_block(bytes(n)),
        lambda: g.Gost28147(KEY).decrypt_block(bytes(n)),
    ):
        with pytest.raises(InvalidInput, match="8 bytes"):
            call()


@pytest.mark.parametrize("n", [1, 7, 9, 15, 1025])
def test_unaligned_data_for_ecb_cbc(n: int) -> None:
    for call in (
        lambda: g.ecb_encrypt(KEY, bytes(n)),
        lambda: g.ecb_decrypt(KEY, bytes(n)),
        lambda: g.cbc_encrypt(KEY, IV, bytes(n)),
        lambda: g.cbc_decrypt(KEY, IV, bytes(n)),
    ):
        with pytest.raises(InvalidInput, match="multiple of 8"):
            call()


def test_bad_mac_length_in_unwrap() -> None:
    with pytest.raises(InvalidInput):
        g.cryptopro_key_unwrap(KEY, KEY, bytes(5), IV, "tc26-z")


def test_invalid_input_is_value_error_and_types_are_checked() -> None:
    with pytest.raises(ValueError):
        g.Gost28147(b"short")
    with pytest.raises(TypeError):
        g.ecb_encrypt(KEY, "not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        g.Gost28147(KEY.hex())  # type: ignore[arg-type]


def test_empty_data() -> None:
    assert g.ecb_encrypt(KEY, b"") == b""
    assert g.cbc_encrypt(KEY, IV, b"") == b""
    assert g.cfb_encrypt(KEY, IV, b"") == b""
    assert g.cnt(KEY, IV, b"") == b""


# --------------------------------------------------------------------------------------------
# Cross-checks against the OpenSSL gost engine


def _enc(openssl: Tool, cipher: str, key: bytes, iv: bytes, data: bytes, sbox: str, *extra: str):
    return openssl.run(
        "enc",
        f"-{cipher}",
        "-K",
        key.hex(),
        "-iv",
        iv.hex(),
        *extra,
        input=data,
        env={"CRYPT_PARAMS": OPENSSL_NAMES[sbox]},
    ).stdout


@pytest.mark.parametrize("sbox", CIPHER_SETS)
def test_openssl_cfb_with_meshing(openssl: Tool, sbox: str) -> None:
    # `enc -gost89` is CFB with CryptoPro key meshing for every S-box, even the test set.
    key, iv, data = os.urandom(32), os.urandom(8), os.urandom(3000)
    ours = g.cfb_encrypt(key, iv, data, sbox=sbox, key_meshing=True)
    assert _enc(openssl, "gost89", key, iv, data, sbox) == ours
    assert ours != g.cfb_encrypt(key, iv, data, sbox=sbox)  # the meshing is exercised
    assert _enc(openssl, "gost89", key, iv, ours, sbox, "-d") == data
    assert g.cfb_decrypt(key, iv, ours, sbox=sbox, key_meshing=True) == data


@pytest.mark.parametrize("sbox", CIPHER_SETS)
def test_openssl_cbc_without_meshing(openssl: Tool, sbox: str) -> None:
    key, iv, data = os.urandom(32), os.urandom(8), os.urandom(3000)
    ours = g.cbc_encrypt(key, iv, data[:2992], sbox=sbox)
    assert _enc(openssl, "gost89-cbc", key, iv, data[:2992], sbox, "-nopad") == ours
    assert _enc(openssl, "gost89-cbc", key, iv, ours, sbox, "-nopad", "-d") == data[:2992]
    # xmlenc content: ISO 10126 padding added by us, stripped by us after OpenSSL decrypts.
    padded = g.cbc_encrypt(key, iv, g.pad_iso10126(data[:1001]), sbox=sbox)
    plain = _enc(openssl, "gost89-cbc", key, iv, padded, sbox, "-nopad", "-d")
    assert g.unpad_iso10126(plain) == data[:1001]


@pytest.mark.parametrize(
    ("cipher", "sbox"), [("gost89-cnt", "cryptopro-a"), ("gost89-cnt-12", "tc26-z")]
)
def test_openssl_cnt_with_meshing(openssl: Tool, cipher: str, sbox: str) -> None:
    # The engine fixes the S-box of its counter modes (CRYPT_PARAMS is ignored there):
    # -gost89-cnt uses CryptoPro-A, -gost89-cnt-12 uses Z; both mesh.
    key, iv, data = os.urandom(32), os.urandom(8), os.urandom(3000)
    ours = g.cnt(key, iv, data, sbox=sbox, key_meshing=True)
    assert _enc(openssl, cipher, key, iv, data, sbox) == ours
    assert ours != g.cnt(key, iv, data, sbox=sbox)
    assert _enc(openssl, cipher, key, iv, ours, sbox, "-d") == data


MAC_LENGTHS = [0, 1, 5, 8, 9, 16, 17, 1023, 1024, 1025, 1032, 1033, 2048, 3000]


@pytest.mark.parametrize("sbox", [None, *CIPHER_SETS])
def test_openssl_gost_mac(openssl: Tool, sbox: str | None) -> None:
    key, data = os.urandom(32), os.urandom(3000)
    opts = ["-macopt", f"paramset:{OPENSSL_NAMES[sbox]}"] if sbox else []
    lengths = MAC_LENGTHS if sbox in (None, "tc26-z") else [3000]
    for n in lengths:
        out = openssl.run(
            "dgst",
            "-mac",
            "gost-mac",
            "-macopt",
            f"hexkey:{key.hex()}",
            *opts,
            "-binary",
            input=data[:n],
        ).stdout
        assert out == g.mac(key, data[:n], sbox=sbox or "cryptopro-a", key_meshing=True), n


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def _der_items(data: bytes) -> list[tuple[int, bytes]]:
    items, i = [], 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i : i + k], "big")
            i += k
        items.append((tag, data[i : i + n]))
        i += n
    return items


def _oid_str(content: bytes) -> str:
    parts, value = [content[0] // 40, content[0] % 40], 0
    for b in content[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


KEY_TYPES = [("gost2012_256", "A"), ("gost2012_512", "A"), ("gost2001", "A")]


@pytest.mark.parametrize(("algorithm", "paramset"), KEY_TYPES)
def test_openssl_key_transport_unwrap(
    openssl: Tool, tmp_path, algorithm: str, paramset: str
) -> None:
    """Unwrap `pkeyutl -encrypt` output with the KEK from `pkeyutl -derive` (no VKO of ours)."""
    openssl.run(
        "genpkey",
        "-algorithm",
        algorithm,
        "-pkeyopt",
        f"paramset:{paramset}",
        "-out",
        "r.pem",
        cwd=tmp_path,
    )
    openssl.run("pkey", "-in", "r.pem", "-pubout", "-out", "rpub.pem", cwd=tmp_path)
    cek = os.urandom(32)
    kt = openssl.run(
        "pkeyutl", "-encrypt", "-pubin", "-inkey", "rpub.pem", input=cek, cwd=tmp_path
    ).stdout
    [(_, body)] = _der_items(kt)
    (_, session_key), (_, transport) = _der_items(body)
    enc, mac = (v for t, v in _der_items(session_key) if t == 0x04)
    params = _der_items(transport)
    sbox = g.SBOX_OIDS[_oid_str(params[0][1])]
    assert sbox.name == ("cryptopro-a" if algorithm == "gost2001" else "tc26-z")
    ephemeral = next(v for t, v in params if t == 0xA0)
    ukm = next(v for t, v in params if t == 0x04)
    (tmp_path / "eph.der").write_bytes(_der(0x30, ephemeral))
    kek = openssl.run(
        "pkeyutl",
        "-derive",
        "-inkey",
        "r.pem",
        "-peerkey",
        "eph.der",
        "-peerform",
        "DER",
        "-pkeyopt",
        f"ukmhex:{ukm.hex()}",
        cwd=tmp_path,
    ).stdout
    assert g.cryptopro_key_unwrap(kek, enc, mac, ukm, sbox) == cek
    with pytest.raises(IntegrityError):
        g.cryptopro_key_unwrap(kek, enc, mac, ukm[::-1], sbox)


@pytest.mark.parametrize(("algorithm", "paramset"), KEY_TYPES)
def test_openssl_key_transport_decrypts_our_wrap(
    openssl: Tool, tmp_path, algorithm: str, paramset: str
) -> None:
    """Our CryptoPro wrap inside a KeyTransport that `pkeyutl -decrypt` accepts."""
    for name in ("r", "e"):
        openssl.run(
            "genpkey",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            f"paramset:{paramset}",
            "-out",
            f"{name}.pem",
            cwd=tmp_path,
        )
    openssl.run("pkey", "-in", "r.pem", "-pubout", "-out", "rpub.pem", cwd=tmp_path)
    eph_spki = openssl.run(
        "pkey", "-in", "e.pem", "-pubout", "-outform", "DER", cwd=tmp_path
    ).stdout
    ukm, cek = os.urandom(8), os.urandom(32)
    kek = openssl.run(
        "pkeyutl",
        "-derive",
        "-inkey",
        "e.pem",
        "-peerkey",
        "rpub.pem",
        "-pkeyopt",
        f"ukmhex:{ukm.hex()}",
        cwd=tmp_path,
    ).stdout
    sbox = g.get_sbox("cryptopro-a" if algorithm == "gost2001" else "tc26-z")
    enc, mac = g.cryptopro_key_wrap(kek, cek, ukm, sbox)
    oid_parts = [int(p) for p in sbox.oid.split(".")]
    oid = bytes((40 * oid_parts[0] + oid_parts[1],))
    for p in oid_parts[2:]:
        chunk = [p & 0x7F]
        while p > 0x7F:
            p >>= 7
            chunk.insert(0, 0x80 | (p & 0x7F))
        oid += bytes(chunk)
    [(_, spki_content)] = _der_items(eph_spki)
    kt = _der(
        0x30,
        _der(0x30, _der(0x04, enc) + _der(0x04, mac))
        + _der(0xA0, _der(0x06, oid) + _der(0xA0, spki_content) + _der(0x04, ukm)),
    )
    (tmp_path / "kt.der").write_bytes(kt)
    out = openssl.run("pkeyutl", "-decrypt", "-inkey", "r.pem", "-in", "kt.der", cwd=tmp_path)
    assert out.stdout == cek
