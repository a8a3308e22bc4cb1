"""Streebog and GOST R 34.10-2012 against the standards' examples and OpenSSL's gost engine."""

from __future__ import annotations

import os

import pytest

from gostsign import streebog
from gostsign.curves import CURVES, get_curve
from gostsign.errors import InvalidInput, InvalidKey, InvalidSignature, UnsupportedAlgorithm
from gostsign.gost3410 import PrivateKey, PublicKey

# RFC 6986 §10 writes messages and hashes most-significant byte first; these are the RFC
# strings reversed into byte order (see crypto.md §3).
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M2 = bytes.fromhex(
    "fbe2e5f0eee3c820fbeafaebef20fffbf0e1e0f0f520e0ed20e8ece0ebe5f0f2f120fff0eeec20f120faf2fee5e2"
    "202ce8f6f3ede220e8e6eee1e8f0f2d1202ce8f0f2e5e220e5d1"
)[::-1]
RFC6986 = {
    (M1, 256): "00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d",
    (M1, 512): "486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00"
    "fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b",
    (M2, 256): "508f7e553c06501d749a66fc28c6cac0b005746d97537fa85d9e40904efed29d",
    (M2, 512): "28fbc9bada033b1460642bdcddb90c3fb3e56c497ccd0f62b8a2ad4935e85f03"
    "7613966de4ee00531ae60f3b5a47f8dae06915d5f2f194996fcabf2622e6881e",
}


@pytest.mark.parametrize(("message", "bits"), list(RFC6986))
def test_streebog_rfc6986(message: bytes, bits: int) -> None:
    expected = bytes.fromhex(RFC6986[(message, bits)])[::-1]
    assert streebog.digest(message, bits) == expected


def test_streebog_incremental_equals_one_shot() -> None:
    data = os.urandom(300)
    h = streebog.Streebog(512)
    for i in range(0, 300, 37):
        h.update(data[i : i + 37])
    snapshot = h.copy()
    assert h.digest() == streebog.streebog512(data)
    assert h.digest() == h.digest()  # digest() does not finalise the running state
    snapshot.update(b"x")
    assert snapshot.digest() == streebog.streebog512(data + b"x")


def test_streebog_rejects_other_sizes() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        streebog.Streebog(384)


@pytest.mark.parametrize("bits", [256, 512])
def test_streebog_matches_openssl(openssl, tmp_path, bits: int) -> None:
    data = os.urandom(5000)
    path = tmp_path / "d.bin"
    path.write_bytes(data)
    out = openssl.run("dgst", f"-md_gost12_{bits}", "-r", path).stdout.split()[0].decode()
    assert bytes.fromhex(out) == streebog.digest(data, bits)


# RFC 7091 §7 (GOST R 34.10-2012 appendix A): e is given as an integer, so the digest in byte
# order is its little-endian encoding.
RFC7091 = [
    dict(
        curve="test-256",
        d=0x7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28,
        x=0x7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B,
        y=0x26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA,
        e=0x2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5,
        k=0x77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3,
        r=0x41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493,
        s=0x01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40,
    ),
    dict(
        curve="test-512",
        d=int(
            "0BA6048AADAE241BA40936D47756D7C93091A0E8514669700EE7508E508B1020"
            "72E8123B2200A0563322DAD2827E2714A2636B7BFD18AADFC62967821FA18DD4",
            16,
        ),
        x=int(
            "115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD"
            "5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1",
            16,
        ),
        y=int(
            "37C7C90CD40B0F5621DC3AC1B751CFA0E2634FA0503B3D52639F5D7FB72AFD61"
            "EA199441D943FFE7F0C70A2759A3CDB84C114E1F9339FDF27F35ECA93677BEEC",
            16,
        ),
        e=int(
            "3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C591"
            "7184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C",
            16,
        ),
        k=int(
            "0359E7F4B1410FEACC570456C6801496946312120B39D019D455986E364F3658"
            "86748ED7A44B3E794434006011842286212273A6D14CF70EA3AF71BB1AE679F1",
            16,
        ),
        r=int(
            "2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD3"
            "5492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36",
            16,
        ),
        s=int(
            "1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5"
            "823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A",
            16,
        ),
    ),
]


@pytest.mark.parametrize("vector", RFC7091, ids=[v["curve"] for v in RFC7091])
def test_rfc7091_examples(vector: dict) -> None:
    curve = get_curve(vector["curve"])
    n = curve.size
    key = PrivateKey(curve, vector["d"])
    pub = key.public_key()
    assert (pub.x, pub.y) == (vector["x"], vector["y"])
    digest = vector["e"].to_bytes(n, "little")
    sig = key.sign_digest(digest, k=vector["k"])
    assert sig == vector["s"].to_bytes(n, "big") + vector["r"].to_bytes(n, "big")
    pub.verify_digest(digest, sig)


@pytest.mark.parametrize("curve", CURVES, ids=[c.name for c in CURVES])
def test_sign_verify_every_curve(curve) -> None:
    key = PrivateKey.generate(curve)
    pub = key.public_key()
    data = b"\xd0\xad\xd0\x9b\xd0\x9d " + os.urandom(40)
    sig = key.sign(data)
    assert len(sig) == 2 * curve.size
    pub.verify(data, sig)
    with pytest.raises(InvalidSignature):
        pub.verify(data + b"!", sig)
    flipped = bytearray(sig)
    flipped[5] ^= 1
    with pytest.raises(InvalidSignature):
        pub.verify(data, bytes(flipped))
    assert PublicKey.from_le(curve, pub.to_le()) == pub
    assert PrivateKey.from_le(curve, key.to_le()).public_key() == pub


def test_curve_names_and_oids() -> None:
    a = get_curve("1.2.643.2.2.35.1")
    assert a is get_curve("CryptoPro-A") is get_curve("A")
    assert a is not get_curve("tc26-256-b") and a.same_parameters(get_curve("TCB"))
    assert get_curve("XA").same_parameters(a)
    assert get_curve("A", bits=512).name == "tc26-512-a"
    assert get_curve("id-tc26-gost-3410-12-512-paramSetA").oid == "1.2.643.7.1.2.1.2.1"
    for edwards in ("tc26-256-a", "tc26-512-c"):
        assert get_curve(edwards).cofactor == 4
    with pytest.raises(UnsupportedAlgorithm):
        get_curve("secp256r1")
    with pytest.raises(UnsupportedAlgorithm):
        get_curve("tc26-512-a", bits=256)


def test_private_key_range_checked() -> None:
    curve = get_curve("cryptopro-a")
    for bad in (0, curve.q, curve.q + 5, -1):
        with pytest.raises(InvalidKey):
            PrivateKey(curve, bad)
    with pytest.raises(InvalidKey):
        PrivateKey.from_le(curve, b"\xff" * 32)  # >= q
    with pytest.raises(InvalidKey):
        PrivateKey.from_le(curve, b"\x01" * 31)


def test_public_key_must_be_on_curve() -> None:
    curve = get_curve("tc26-256-b")
    pub = PrivateKey.generate(curve).public_key()
    with pytest.raises(InvalidKey):
        PublicKey(curve, pub.x, pub.y + 1)
    with pytest.raises(InvalidKey):
        PublicKey.from_le(curve, pub.to_le()[:-1])
    with pytest.raises(InvalidKey):
        PublicKey(curve, curve.p, 0)


def test_zero_or_out_of_range_signature_parts_rejected() -> None:
    curve = get_curve("cryptopro-a")
    key = PrivateKey.generate(curve)
    pub = key.public_key()
    digest = streebog.streebog256(b"x")
    sig = key.sign_digest(digest)
    s, r = sig[:32], sig[32:]
    zero = bytes(32)
    q = curve.q.to_bytes(32, "big")
    for bad in (zero + r, s + zero, q + r, s + q, sig[:-1], sig + b"\0", b""):
        with pytest.raises(InvalidSignature):
            pub.verify_digest(digest, bad)


def test_wrong_digest_length_rejected() -> None:
    key = PrivateKey.generate(get_curve("tc26-512-a"))
    with pytest.raises(InvalidInput):
        key.sign_digest(b"\1" * 32)


def test_private_key_repr_hides_scalar() -> None:
    key = PrivateKey(get_curve("cryptopro-a"), 12345)
    assert "12345" not in repr(key) and "3039" not in repr(key)


def test_accelerated_and_pure_paths_agree() -> None:
    from gostsign import _libcrypto

    if not _libcrypto.available():
        from tests.oracles import missing

        missing("OpenSSL gost engine for the accelerated Streebog path")
    for size in (0, 1, 63, 64, 65, 1000, 4097):
        data = os.urandom(size)
        for bits in (256, 512):
            assert streebog.digest(data, bits) == streebog.digest(data, bits, pure=True)
