"""PKCS#8 and SPKI against OpenSSL's gost engine (every paramset) and GnuTLS certtool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gostsign import _aes, asn1, keys, streebog
from gostsign.curves import get_curve
from gostsign.errors import (
    InvalidInput,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
    WrongPassword,
)
from gostsign.gost3410 import PrivateKey, PublicKey
from tests.gostsign.paramsets import IDS, PARAMSETS
from tests.oracles import Tool

DATA = b"GOST R 34.10-2012 interoperability message\n" * 3


def _md(curve_bits: int) -> str:
    return f"-md_gost12_{curve_bits}"


@pytest.mark.parametrize(("alg", "paramset"), list(PARAMSETS), ids=IDS)
def test_openssl_key_loads_and_signs(
    openssl: Tool, tmp_path: Path, alg: str, paramset: str
) -> None:
    """Their key loads in us, re-encodes byte-identically, and signatures cross-verify."""
    key_path = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", alg, "-pkeyopt", f"paramset:{paramset}", "-out", key_path)
    pem = key_path.read_bytes()
    key = keys.load_private_key(pem)
    assert key.curve is get_curve(PARAMSETS[alg, paramset])
    pub_pem = openssl.run("pkey", "-in", key_path, "-pubout").stdout
    assert keys.load_public_key(pub_pem) == key.public_key()
    assert keys.dump_public_key(key.public_key()) == pub_pem
    assert keys.dump_private_key(key) == pem
    assert keys.load_private_key(asn1.pem_decode(pem)[1]).to_le() == key.to_le()  # DER

    data_path = tmp_path / "d.txt"
    data_path.write_bytes(DATA)
    md = _md(key.curve.bits)
    # Their signature verifies with us (whole message and precomputed hash).
    sig = openssl.run("dgst", md, "-sign", key_path, data_path).stdout
    key.public_key().verify(DATA, sig)
    hash_path = tmp_path / "d.hash"
    hash_path.write_bytes(streebog.digest(DATA, key.curve.bits))
    raw_sig = openssl.run("pkeyutl", "-sign", "-inkey", key_path, "-in", hash_path).stdout
    key.public_key().verify_digest(hash_path.read_bytes(), raw_sig)
    with pytest.raises(InvalidSignature):
        key.public_key().verify(DATA + b"x", sig)
    # Our signature verifies with them.
    pub_path = tmp_path / "pub.pem"
    pub_path.write_bytes(pub_pem)
    sig_path = tmp_path / "ours.sig"
    sig_path.write_bytes(key.sign(DATA))
    out = openssl.run("dgst", md, "-verify", pub_path, "-signature", sig_path, data_path)
    assert b"Verified OK" in out.stdout


@pytest.mark.parametrize(("alg", "paramset"), list(PARAMSETS), ids=IDS)
def test_our_key_in_openssl(openssl: Tool, tmp_path: Path, alg: str, paramset: str) -> None:
    """Our PKCS#8 loads in OpenSSL, gives the same public key and signs for us."""
    curve = get_curve(PARAMSETS[alg, paramset])
    key = PrivateKey.generate(curve)
    key_path = tmp_path / "ours.pem"
    key_path.write_bytes(keys.dump_private_key(key))
    text = openssl.run("pkey", "-in", key_path, "-text", "-noout").stdout.decode()
    # OpenSSL prints the private scalar big-endian.
    priv_hex = text.split("Private key:")[1].split("Public key:")[0]
    assert int("".join(priv_hex.split()), 16) == key.scalar
    pub_pem = openssl.run("pkey", "-in", key_path, "-pubout").stdout
    assert pub_pem == keys.dump_public_key(key.public_key())
    der_path = tmp_path / "ours.der"
    der_path.write_bytes(keys.dump_private_key(key, pem=False))
    openssl.run("pkey", "-inform", "DER", "-in", der_path, "-noout")

    data_path = tmp_path / "d.txt"
    data_path.write_bytes(DATA)
    sig = openssl.run("dgst", _md(curve.bits), "-sign", key_path, data_path).stdout
    key.public_key().verify(DATA, sig)


CERTTOOL_CURVES = {
    ("gost12-256", "CryptoPro-A"): "cryptopro-a",
    ("gost12-256", "CryptoPro-XchA"): "cryptopro-xcha",
    ("gost12-256", "TC26-256-B"): "tc26-256-b",
    ("gost12-512", "TC26-512-A"): "tc26-512-a",
}


@pytest.mark.parametrize(("key_type", "curve_name"), list(CERTTOOL_CURVES))
def test_certtool_keys(
    certtool: Tool, openssl: Tool, tmp_path: Path, key_type: str, curve_name: str
) -> None:
    """certtool's nested OCTET STRING form loads; our keys load in certtool."""
    theirs = tmp_path / "ct.pem"
    certtool.run(
        "--generate-privkey", "--key-type", key_type, "--curve", curve_name, "--outfile", theirs
    )
    pem = theirs.read_bytes()
    der = asn1.pem_decode(pem, "PRIVATE KEY")[1]
    raw = asn1.decode(der).sequence()[2].as_octet_string()
    assert raw[0] == 0x04  # the nested OCTET STRING we must accept
    key = keys.load_private_key(pem)
    assert key.curve is get_curve(CERTTOOL_CURVES[key_type, curve_name])
    pub_pem = openssl.run("pkey", "-in", theirs, "-pubout").stdout
    assert keys.load_public_key(pub_pem) == key.public_key()

    ours = tmp_path / "ours.pem"
    mine = PrivateKey.generate(key.curve)
    ours.write_bytes(keys.dump_private_key(mine))
    info = certtool.run("--pubkey-info", "--load-privkey", ours).stdout
    assert keys.load_public_key(info) == mine.public_key()


# ----------------------------------------------------------------------------------------------
# Encrypted keys
# ----------------------------------------------------------------------------------------------

PASSWORD = "пароль-Secret1"


@pytest.mark.parametrize("curve_name", ["cryptopro-a", "tc26-512-c"])
def test_openssl_decrypts_ours(openssl: Tool, tmp_path: Path, curve_name: str) -> None:
    key = PrivateKey.generate(get_curve(curve_name))
    enc = keys.dump_private_key(key, PASSWORD, iterations=2048)
    assert enc.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    path = tmp_path / "enc.pem"
    path.write_bytes(enc)
    out = openssl.run("pkey", "-in", path, "-passin", f"pass:{PASSWORD}").stdout
    assert out == keys.dump_private_key(key)
    wrong = openssl.run("pkey", "-in", path, "-passin", "pass:wrong", check=False)
    assert wrong.returncode != 0
    parsed = openssl.run("asn1parse", "-in", path).stdout.decode()
    for name in ("PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"):
        assert name in parsed
    # DER form too.
    der_path = tmp_path / "enc.der"
    der_path.write_bytes(keys.dump_private_key(key, PASSWORD, pem=False, iterations=1000))
    out = openssl.run(
        "pkey", "-inform", "DER", "-in", der_path, "-passin", f"pass:{PASSWORD}"
    ).stdout
    assert out == keys.dump_private_key(key)


@pytest.mark.parametrize(
    "options",
    [
        ("-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"),
        ("-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"),
        ("-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"),
    ],
    ids=["aes256-sha256", "aes128-sha1", "aes192-sha512"],
)
def test_we_decrypt_openssl(openssl: Tool, tmp_path: Path, options: tuple[str, ...]) -> None:
    plain = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:XA", "-out", plain)
    enc = openssl.run(
        "pkcs8", "-topk8", "-in", plain, *options, "-passout", f"pass:{PASSWORD}"
    ).stdout
    assert keys.is_encrypted(enc)
    key = keys.load_private_key(enc, PASSWORD)
    assert keys.dump_private_key(key) == plain.read_bytes()
    assert keys.load_private_key(enc, PASSWORD.encode()).to_le() == key.to_le()
    with pytest.raises(WrongPassword):
        keys.load_private_key(enc, "wrong")
    with pytest.raises(WrongPassword, match="password is required"):
        keys.load_private_key(enc)
    der = openssl.run(
        "pkcs8", "-topk8", "-in", plain, *options, "-passout", "pass:x", "-outform", "DER"
    ).stdout
    assert keys.is_encrypted(der)
    assert keys.load_private_key(der, "x").to_le() == key.to_le()


def test_legacy_pbe_refused(openssl: Tool, tmp_path: Path) -> None:
    plain = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", plain)
    enc = openssl.run(
        "pkcs8",
        "-topk8",
        "-in",
        plain,
        "-v1",
        "PBE-SHA1-3DES",
        "-passout",
        "pass:x",
        check=False,
    )
    if enc.returncode != 0:
        pytest.skip("this OpenSSL cannot write PBES1 any more")
    with pytest.raises(UnsupportedAlgorithm, match="PBES2"):
        keys.load_private_key(enc.stdout, "x")


def test_wrong_password_many_times() -> None:
    """Wrong passwords never slip through as a garbage key (padding or DER catch them)."""
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    enc = keys.dump_private_key(key, "right", iterations=1)
    for attempt in range(300):
        with pytest.raises(WrongPassword):
            keys.load_private_key(enc, f"wrong{attempt}")
    assert keys.load_private_key(enc, "right").to_le() == key.to_le()
    with pytest.raises(InvalidInput, match="empty password"):
        keys.dump_private_key(key, "")


def test_aes_wrapper_fips197_and_openssl(openssl: Tool) -> None:
    pt = bytes.fromhex("00112233445566778899aabbccddeeff")
    iv = bytes(16)
    vectors = {
        16: "69c4e0d86a7b0430d8cdb78070b4c55a",
        24: "dda97ca4864cdfe06eaf70a0ec0d7191",
        32: "8ea2b7ca516745bfeafc49904b496089",
    }
    for size, expected in vectors.items():
        key = bytes(range(size))
        # CBC with a zero IV over one block is the bare block cipher.
        assert _aes.cbc_encrypt(key, iv, pt).hex() == expected
        assert _aes.cbc_decrypt(key, iv, bytes.fromhex(expected)) == pt
    key, iv, data = os.urandom(32), os.urandom(16), os.urandom(64)
    out = openssl.run(
        "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex(), "-nopad", input=data
    ).stdout
    assert _aes.cbc_encrypt(key, iv, data) == out
    assert _aes.cbc_decrypt(key, iv, out) == data
    with pytest.raises(InvalidInput):
        _aes.cbc_encrypt(key, iv, data[:-1])


# ----------------------------------------------------------------------------------------------
# Refusals and malformed keys
# ----------------------------------------------------------------------------------------------


def _pkcs8(alg_oid: str, params: list[str], raw: bytes) -> bytes:
    alg = asn1.sequence(asn1.oid(alg_oid), asn1.sequence(*(asn1.oid(p) for p in params)))
    return asn1.sequence(asn1.integer(0), alg, asn1.octet_string(raw))


def _spki(alg_oid: str, params: list[str], raw: bytes) -> bytes:
    alg = asn1.sequence(asn1.oid(alg_oid), asn1.sequence(*(asn1.oid(p) for p in params)))
    return asn1.sequence(alg, asn1.bit_string(asn1.octet_string(raw)))


ALG256 = "1.2.643.7.1.1.1.1"
ALG512 = "1.2.643.7.1.1.1.2"
CPA = "1.2.643.2.2.35.1"
DIG256 = "1.2.643.7.1.1.2.2"


def test_gost2001_keys_refused(openssl: Tool, tmp_path: Path) -> None:
    der = _pkcs8("1.2.643.2.2.19", [CPA, "1.2.643.2.2.30.1"], os.urandom(32))
    with pytest.raises(UnsupportedAlgorithm, match=r"GOST R 34\.10-2001 .*no longer accepted"):
        keys.load_private_key(der)
    with pytest.raises(UnsupportedAlgorithm, match="2001"):
        keys.load_public_key_spki(_spki("1.2.643.2.2.19", [CPA], os.urandom(64)))
    made = openssl.run("genpkey", "-algorithm", "gost2001", "-pkeyopt", "paramset:A", check=False)
    if made.returncode == 0:
        with pytest.raises(UnsupportedAlgorithm, match="no longer accepted"):
            keys.load_private_key(made.stdout)


@pytest.mark.parametrize(
    ("alg", "params", "message"),
    [
        ("1.2.840.10045.2.1", [CPA], "not GOST R 34.10-2012"),
        (ALG256, ["1.2.643.2.2.35.9"], "unknown GOST curve"),
        (ALG512, [CPA, DIG256], "256-bit"),
        (ALG256, ["1.2.643.7.1.2.1.2.1"], "512-bit"),
        (ALG256, [CPA, "1.2.643.2.2.30.1"], "digest"),
        (ALG256, [CPA, "1.2.643.7.1.1.2.3"], "digest"),
    ],
)
def test_wrong_oids(alg: str, params: list[str], message: str) -> None:
    with pytest.raises(UnsupportedAlgorithm, match=message):
        keys.load_private_key(_pkcs8(alg, params, os.urandom(32)))
    with pytest.raises(UnsupportedAlgorithm, match=message):
        keys.load_public_key_spki(_spki(alg, params, os.urandom(64)))


def test_missing_parameters() -> None:
    alg = asn1.sequence(asn1.oid(ALG256))
    der = asn1.sequence(asn1.integer(0), alg, asn1.octet_string(os.urandom(32)))
    with pytest.raises(InvalidInput, match="no parameters"):
        keys.load_private_key(der)


def test_both_parameter_forms_accepted() -> None:
    key = PrivateKey.generate(get_curve("tc26-256-b"))
    raw = key.to_le()
    with_digest = _pkcs8(ALG256, ["1.2.643.7.1.2.1.1.2", DIG256], raw)
    without = _pkcs8(ALG256, ["1.2.643.7.1.2.1.1.2"], raw)
    assert keys.load_private_key(with_digest).to_le() == raw
    assert keys.load_private_key(without).to_le() == raw
    # The engine form omits the digest for tc26-256-B and keeps it for CryptoPro-A.
    assert keys.dump_private_key(key, pem=False) == without
    cpa = PrivateKey(get_curve("cryptopro-a"), key.scalar)
    assert keys.dump_private_key(cpa, pem=False) == _pkcs8(ALG256, [CPA, DIG256], raw)


def test_private_key_forms() -> None:
    curve = get_curve("cryptopro-a")
    key = PrivateKey.generate(curve)
    alg = [CPA, DIG256]
    nested = _pkcs8(ALG256, alg, asn1.octet_string(key.to_le()))
    assert keys.load_private_key(nested).scalar == key.scalar
    old_engine = _pkcs8(ALG256, alg, asn1.integer(key.scalar))
    assert keys.load_private_key(old_engine).scalar == key.scalar
    with pytest.raises(InvalidKey, match="32 bytes"):
        keys.load_private_key(_pkcs8(ALG256, alg, key.to_le()[:31]))
    with pytest.raises(InvalidKey):
        keys.load_private_key(_pkcs8(ALG256, alg, asn1.octet_string(bytes(33))))
    with pytest.raises(InvalidKey, match="empty"):
        keys.load_private_key(_pkcs8(ALG256, alg, b""))
    with pytest.raises(UnsupportedAlgorithm, match="masked"):
        keys.load_private_key(_pkcs8(ALG256, alg, os.urandom(64)))
    with pytest.raises(InvalidKey, match="out of range"):
        keys.load_private_key(_pkcs8(ALG256, alg, bytes(32)))
    with pytest.raises(InvalidKey, match="out of range"):
        keys.load_private_key(_pkcs8(ALG256, alg, curve.q.to_bytes(32, "little")))
    with pytest.raises(InvalidKey, match="64 bytes"):
        PrivateKey.from_le(get_curve("tc26-512-a"), key.to_le())


def test_malformed_spki() -> None:
    curve = get_curve("cryptopro-a")
    pub = PrivateKey.generate(curve).public_key()
    good = keys.dump_public_key_spki(pub)
    assert keys.load_public_key_spki(good) == pub
    off_curve = pub.to_le()[:-1] + bytes([pub.to_le()[-1] ^ 1])
    with pytest.raises(InvalidKey, match="not on curve"):
        keys.load_public_key_spki(_spki(ALG256, [CPA, DIG256], off_curve))
    with pytest.raises(InvalidKey, match="64 bytes"):
        keys.load_public_key_spki(_spki(ALG256, [CPA, DIG256], pub.to_le()[:63]))
    with pytest.raises(InvalidKey):
        PublicKey.from_le(get_curve("tc26-512-a"), pub.to_le())
    for cut in (1, 10, len(good) - 1):
        with pytest.raises(InvalidInput, match="truncated"):
            keys.load_public_key_spki(good[:-cut])
    with pytest.raises(InvalidInput, match="trailing"):
        keys.load_public_key_spki(good + b"\x00")
    oversized = good[:1] + b"\x84\x7f\xff\xff\xff" + good[2:]
    with pytest.raises(InvalidInput):
        keys.load_public_key_spki(oversized)
    raw_bits = asn1.sequence(asn1.decode(good).children()[0].der, asn1.bit_string(pub.to_le()))
    with pytest.raises(InvalidInput):
        keys.load_public_key_spki(raw_bits)


def test_edwards_point_outside_subgroup_refused() -> None:
    curve = get_curve("tc26-256-a")
    assert curve.cofactor == 4 and curve.p % 4 == 3
    p = curve.p
    x = 2
    while True:  # a curve point whose order is not q (cofactor 4: most points)
        rhs = (x**3 + curve.a * x + curve.b) % p
        y = pow(rhs, (p + 1) // 4, p)
        if y * y % p == rhs and curve.mul(curve.q, (x, y)) is not None:
            break
        x += 1
    raw = x.to_bytes(32, "little") + y.to_bytes(32, "little")
    with pytest.raises(InvalidKey, match="subgroup"):
        keys.load_public_key_spki(_spki(ALG256, [curve.oid], raw))


def test_pem_errors() -> None:
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    pem = keys.dump_private_key(key)
    with pytest.raises(InvalidInput, match="no PEM block"):
        keys.load_private_key(pem.replace(b"PRIVATE KEY", b"CERTIFICATE"))
    with pytest.raises(InvalidInput):
        keys.load_private_key(pem[:-40])
    with pytest.raises(InvalidInput, match="text"):
        keys.load_private_key("not a key")
    assert keys.load_private_key(pem.decode()).scalar == key.scalar
    assert not keys.is_encrypted(pem)
