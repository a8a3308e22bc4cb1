"""VKO GOST R 34.10-2012: RFC 7836 known answers and OpenSSL's ``pkeyutl -derive``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gostsign import keys, vko
from gostsign.curves import get_curve
from gostsign.errors import InvalidInput, InvalidKey
from gostsign.gost3410 import PrivateKey
from tests.gostsign.paramsets import IDS, PARAMSETS
from tests.oracles import Tool

# RFC 7836 Appendix B, the VKO examples: tc26-512-A key pairs; keys, coordinates and the UKM
# written as little-endian byte strings.
RFC_UKM = bytes.fromhex("1d80603c8544c727")
RFC_PRV_A = bytes.fromhex(
    "c990ecd972fce84ec4db022778f50fcac726f46708384b8d458304962d7147f8"
    "c2db41cef22c90b102f2968404f9b9be6d47c79692d81826b32b8daca43cb667"
)
RFC_PUB_A = bytes.fromhex(
    "aab0eda4abff21208d18799fb9a8556654ba783070eba10cb9abb253ec56dcf5"
    "d3ccba6192e464e6e5bcb6dea137792f2431f6c897eb1b3c0cc14327b1adc0a7"
    "914613a3074e363aedb204d38d3563971bd8758e878c9db11403721b48002d38"
    "461f92472d40ea92f9958c0ffa4c93756401b97f89fdbe0b5e46e4a4631cdb5a"
)
RFC_PRV_B = bytes.fromhex(
    "48c859f7b6f11585887cc05ec6ef1390cfea739b1a18c0d4662293ef63b79e3b"
    "8014070b44918590b4b996acfea4edfbbbcccc8c06edd8bf5bda92a51392d0db"
)
RFC_PUB_B = bytes.fromhex(
    "192fe183b9713a077253c72c8735de2ea42a3dbc66ea317838b65fa32523cd5e"
    "fca974eda7c863f4954d1147f1f2b25c395fce1c129175e876d132e94ed5a651"
    "04883b414c9b592ec4dc84826f07d0b6d9006dda176ce48c391e3f97d102e03b"
    "b598bf132a228a45f7201aba08fc524a2d77e43a362ab022ad4028f75bde3b79"
)
RFC_VKO_256 = bytes.fromhex("c9a9a77320e2cc559ed72dce6f47e2192ccea95fa648670582c054c0ef36c221")
RFC_VKO_512 = bytes.fromhex(
    "79f002a96940ce7bde3259a52e015297adaad84597a0d205b50e3e1719f97bfa"
    "7ee1d2661fa9979a5aa235b558a7e6d9f88f982dd63fc35a8ec0dd5e242d3bdf"
)


@pytest.fixture(scope="module")
def rfc_keys() -> tuple[PrivateKey, PrivateKey]:
    curve = get_curve("tc26-512-a")
    return PrivateKey.from_le(curve, RFC_PRV_A), PrivateKey.from_le(curve, RFC_PRV_B)


def test_rfc7836_public_keys(rfc_keys: tuple[PrivateKey, PrivateKey]) -> None:
    a, b = rfc_keys
    assert a.public_key().to_le() == RFC_PUB_A
    assert b.public_key().to_le() == RFC_PUB_B


def test_rfc7836_vko_256(rfc_keys: tuple[PrivateKey, PrivateKey]) -> None:
    a, b = rfc_keys
    assert vko.vko_2012_256(a, b.public_key(), RFC_UKM) == RFC_VKO_256
    assert vko.vko_2012_256(b, a.public_key(), RFC_UKM) == RFC_VKO_256
    # Key transport with 512-bit keys uses exactly this 256-bit variant.
    assert vko.kek_for_transport(a, b.public_key(), RFC_UKM) == RFC_VKO_256
    agreement = vko.SoftwareKeyAgreement(b)
    assert isinstance(agreement, vko.KeyAgreement)
    assert agreement.derive_kek(a.public_key(), RFC_UKM) == RFC_VKO_256


def test_rfc7836_vko_512(rfc_keys: tuple[PrivateKey, PrivateKey]) -> None:
    a, b = rfc_keys
    assert vko.vko_2012_512(a, b.public_key(), RFC_UKM) == RFC_VKO_512
    assert vko.vko_2012_512(b, a.public_key(), RFC_UKM) == RFC_VKO_512


def test_ukm_is_little_endian(rfc_keys: tuple[PrivateKey, PrivateKey]) -> None:
    a, b = rfc_keys
    assert vko.vko_2012_256(a, b.public_key(), RFC_UKM[::-1]) != RFC_VKO_256


@pytest.mark.parametrize(("alg", "paramset"), list(PARAMSETS), ids=IDS)
def test_vko_matches_openssl_derive(openssl: Tool, tmp_path: Path, alg: str, paramset: str) -> None:
    """``pkeyutl -derive`` between an OpenSSL key and one of ours equals our VKO both ways."""
    theirs = tmp_path / "theirs.pem"
    openssl.run("genpkey", "-algorithm", alg, "-pkeyopt", f"paramset:{paramset}", "-out", theirs)
    their_key = keys.load_private_key(theirs.read_bytes())
    our_key = PrivateKey.generate(their_key.curve)
    ours = tmp_path / "ours.pem"
    ours.write_bytes(keys.dump_private_key(our_key))
    our_pub = tmp_path / "ours.pub.pem"
    our_pub.write_bytes(keys.dump_public_key(our_key.public_key()))
    their_pub = tmp_path / "theirs.pub.pem"
    their_pub.write_bytes(keys.dump_public_key(their_key.public_key()))
    ukm = os.urandom(8)
    derived = openssl.run(
        "pkeyutl",
        "-derive",
        "-inkey",
        theirs,
        "-peerkey",
        our_pub,
        "-pkeyopt",
        f"ukmhex:{ukm.hex()}",
    ).stdout
    assert len(derived) == 32
    assert vko.kek_for_transport(our_key, their_key.public_key(), ukm) == derived
    assert vko.kek_for_transport(their_key, our_key.public_key(), ukm) == derived
    reverse = openssl.run(
        "pkeyutl",
        "-derive",
        "-inkey",
        ours,
        "-peerkey",
        their_pub,
        "-pkeyopt",
        f"ukmhex:{ukm.hex()}",
    ).stdout
    assert reverse == derived


def test_vko_input_checks(rfc_keys: tuple[PrivateKey, PrivateKey]) -> None:
    a, _ = rfc_keys
    other = PrivateKey.generate(get_curve("cryptopro-a")).public_key()
    with pytest.raises(InvalidKey, match="different curves"):
        vko.vko_2012_256(a, other, RFC_UKM)
    with pytest.raises(InvalidInput, match="UKM"):
        vko.vko_2012_256(a, a.public_key(), b"")
