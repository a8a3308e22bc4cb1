"""GostR3410-KeyTransport against ``openssl pkeyutl -encrypt/-decrypt`` (every paramset)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gostsign import asn1, gost28147, keys, keytransport
from gostsign.curves import get_curve
from gostsign.errors import (
    IntegrityError,
    InvalidInput,
    InvalidKey,
    UnsupportedAlgorithm,
)
from gostsign.gost3410 import PrivateKey, PublicKey
from gostsign.vko import KeyAgreement, kek_for_transport
from tests.gostsign.paramsets import IDS, PARAMSETS
from tests.oracles import Tool

#: Sizes ``openssl pkeyutl -encrypt`` produces (the digest OID in the ephemeral SPKI is
#: omitted for the TC26 curves, see keys.DIGEST_OMITTED).
SIZES = {"cryptopro-a": 172, "tc26-512-a": 242, "tc26-256-b": 164, "tc26-512-c": 232}
Z_OID = "1.2.643.7.1.2.5.1.1"


@pytest.mark.parametrize(("alg", "paramset"), list(PARAMSETS), ids=IDS)
def test_openssl_interop(openssl: Tool, tmp_path: Path, alg: str, paramset: str) -> None:
    key_path = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", alg, "-pkeyopt", f"paramset:{paramset}", "-out", key_path)
    key = keys.load_private_key(key_path.read_bytes())
    pub_path = tmp_path / "pub.pem"
    pub_path.write_bytes(keys.dump_public_key(key.public_key()))
    cek = os.urandom(32)
    cek_path = tmp_path / "cek.bin"
    cek_path.write_bytes(cek)

    # We unwrap theirs.
    theirs = openssl.run(
        "pkeyutl", "-encrypt", "-pubin", "-inkey", pub_path, "-in", cek_path
    ).stdout
    assert keytransport.unwrap_key(theirs, key) == cek
    decoded = keytransport.KeyTransport.decode(theirs)
    assert decoded.sbox_oid == Z_OID
    assert decoded.ephemeral_key.curve is key.curve
    assert decoded.encode() == theirs  # our encoder writes the same DER

    # They unwrap ours.
    ours = keytransport.wrap_key(key.public_key(), cek)
    assert len(ours) == len(theirs)
    if key.curve.name in SIZES:
        assert len(ours) == SIZES[key.curve.name]
    ours_path = tmp_path / "ours.der"
    ours_path.write_bytes(ours)
    out = openssl.run("pkeyutl", "-decrypt", "-inkey", key_path, "-in", ours_path).stdout
    assert out == cek
    # The ephemeral key carries the recipient's curve OID.
    assert keytransport.KeyTransport.decode(ours).ephemeral_key.curve.oid == key.curve.oid


@pytest.mark.parametrize("sbox", ["cryptopro-a", "tc26-z"])
def test_openssl_unwraps_other_sboxes(openssl: Tool, tmp_path: Path, sbox: str) -> None:
    key = PrivateKey.generate(get_curve("cryptopro-xcha"))
    key_path = tmp_path / "k.pem"
    key_path.write_bytes(keys.dump_private_key(key))
    cek = os.urandom(32)
    kt = keytransport.wrap_key(key.public_key(), cek, sbox=sbox)
    assert keytransport.KeyTransport.decode(kt).sbox_oid == gost28147.get_sbox(sbox).oid
    kt_path = tmp_path / "kt.der"
    kt_path.write_bytes(kt)
    assert openssl.run("pkeyutl", "-decrypt", "-inkey", key_path, "-in", kt_path).stdout == cek
    assert keytransport.unwrap_key(kt, key) == cek


def test_fixed_ukm_and_ephemeral_are_deterministic() -> None:
    curve = get_curve("cryptopro-a")
    recipient = PrivateKey.generate(curve)
    eph = PrivateKey.generate(curve)
    cek = bytes(range(32))
    ukm = bytes.fromhex("0102030405060708")
    one = keytransport.wrap_key(recipient.public_key(), cek, ukm=ukm, ephemeral=eph)
    two = keytransport.wrap_key(recipient.public_key(), cek, ukm=ukm, ephemeral=eph)
    assert one == two
    # The same steps done by hand: VKO, then the CryptoPro key wrap with Z.
    kek = kek_for_transport(eph, recipient.public_key(), ukm)
    enc, mac = gost28147.cryptopro_key_wrap(kek, cek, ukm, "tc26-z")
    kt = keytransport.KeyTransport.decode(one)
    assert (kt.encrypted_key, kt.mac, kt.ukm) == (enc, mac, ukm)
    assert kt.ephemeral_key == eph.public_key()


class _Token:
    """A KeyAgreement that is not a software key (as a PKCS#11 token would be)."""

    def __init__(self, key: PrivateKey) -> None:
        self._key = key
        self.calls = 0

    @property
    def public_key(self) -> PublicKey:
        return self._key.public_key()

    def derive_kek(self, peer: PublicKey, ukm: bytes, *, legacy_2001: bool = False) -> bytes:
        self.calls += 1
        return kek_for_transport(self._key, peer, ukm, legacy_2001=legacy_2001)


def test_unwrap_through_key_agreement() -> None:
    key = PrivateKey.generate(get_curve("tc26-512-a"))
    token = _Token(key)
    assert isinstance(token, KeyAgreement)
    cek = os.urandom(32)
    assert keytransport.unwrap_key(keytransport.wrap_key(key.public_key(), cek), token) == cek
    assert token.calls == 1


def test_integrity_failures() -> None:
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    cek = os.urandom(32)
    kt = keytransport.KeyTransport.decode(keytransport.wrap_key(key.public_key(), cek))
    bad_mac = keytransport.KeyTransport(
        kt.encrypted_key, bytes(b ^ 1 for b in kt.mac), kt.sbox_oid, kt.ephemeral_key, kt.ukm
    )
    with pytest.raises(IntegrityError):
        keytransport.unwrap_key(bad_mac.encode(), key)
    bad_key = keytransport.KeyTransport(
        b"\x00" + kt.encrypted_key[1:], kt.mac, kt.sbox_oid, kt.ephemeral_key, kt.ukm
    )
    with pytest.raises(IntegrityError):
        keytransport.unwrap_key(bad_key.encode(), key)
    other = PrivateKey.generate(key.curve)
    with pytest.raises(IntegrityError):
        keytransport.unwrap_key(kt.encode(), other)
    wrong_curve = PrivateKey.generate(get_curve("tc26-512-a"))
    with pytest.raises(InvalidKey, match="curve"):
        keytransport.unwrap_key(kt.encode(), wrong_curve)
    # The same group under another OID (CryptoPro-A vs tc26-256-B) still unwraps.
    twin = PrivateKey(get_curve("tc26-256-b"), key.scalar)
    assert keytransport.unwrap_key(kt.encode(), twin) == cek


def test_malformed_key_transport() -> None:
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    good = keytransport.wrap_key(key.public_key(), os.urandom(32))
    for cut in (1, 50, len(good) - 2):
        with pytest.raises(InvalidInput):
            keytransport.unwrap_key(good[:-cut], key)
    with pytest.raises(InvalidInput, match="trailing"):
        keytransport.unwrap_key(good + b"\x00", key)
    kt = keytransport.KeyTransport.decode(good)
    short_ukm = keytransport.KeyTransport(
        kt.encrypted_key, kt.mac, kt.sbox_oid, kt.ephemeral_key, kt.ukm[:7]
    )
    with pytest.raises(InvalidInput, match="ukm"):
        keytransport.KeyTransport.decode(short_ukm.encode())
    hash_params = keytransport.KeyTransport(
        kt.encrypted_key, kt.mac, "1.2.643.2.2.30.1", kt.ephemeral_key, kt.ukm
    )
    with pytest.raises(UnsupportedAlgorithm, match="encryption parameter set"):
        keytransport.KeyTransport.decode(hash_params.encode())
    unknown = keytransport.KeyTransport(
        kt.encrypted_key, kt.mac, "1.2.643.2.2.31.9", kt.ephemeral_key, kt.ukm
    )
    with pytest.raises(UnsupportedAlgorithm):
        keytransport.KeyTransport.decode(unknown.encode())
    session_only = asn1.sequence(asn1.decode(good).children()[0].der)
    with pytest.raises(UnsupportedAlgorithm, match="transportParameters"):
        keytransport.KeyTransport.decode(session_only)
    no_ephemeral = asn1.sequence(
        asn1.decode(good).children()[0].der,
        asn1.context(0, asn1.oid(Z_OID) + asn1.octet_string(kt.ukm)),
    )
    with pytest.raises(UnsupportedAlgorithm, match="ephemeral"):
        keytransport.KeyTransport.decode(no_ephemeral)
    with pytest.raises(InvalidInput, match="32 bytes"):
        keytransport.wrap_key(key.public_key(), os.urandom(16))
    with pytest.raises(InvalidInput, match="UKM"):
        keytransport.wrap_key(key.public_key(), os.urandom(32), ukm=b"1234")
