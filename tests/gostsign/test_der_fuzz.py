"""Mutated DER never escapes as anything but a GostError (no IndexError, ValueError, ...)."""

from __future__ import annotations

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from gostsign import keys, keytransport
from gostsign.curves import get_curve
from gostsign.errors import GostError
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import create_test_pki
from gostsign.x509 import Certificate, CertificateRevocationList


@cache
def _samples() -> dict[str, bytes]:
    pki = create_test_pki()
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    return {
        "cert": pki.mo.cert.der,
        "crl": pki.crl([pki.doctor.cert]).der,
        "pkcs8": keys.dump_private_key(key, pem=False),
        "spki": keys.dump_public_key_spki(key.public_key()),
        "kt": keytransport.wrap_key(key.public_key(), bytes(32)),
        "enc": keys.dump_private_key(key, "pw", pem=False, iterations=1),
    }


_PARSERS = {
    "cert": Certificate,
    "crl": CertificateRevocationList,
    "pkcs8": keys.load_private_key,
    "spki": keys.load_public_key_spki,
    "kt": keytransport.KeyTransport.decode,
    "enc": lambda der: keys.load_private_key(der, "pw"),
}


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(sorted(_PARSERS)),
    edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 40),
)
def test_mutated_der_fails_cleanly(kind: str, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(_samples()[kind])
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut:
        del data[-cut:]
    try:
        _PARSERS[kind](bytes(data))
    except GostError:
        pass
