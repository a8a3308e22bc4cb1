"""VKO key agreement (RFC 4357 §5.2 for GOST 2001, RFC 7836 §4.3 for GOST 2012).

The UKM is read as a little-endian integer (what the OpenSSL gost engine does); the shared
point is hashed as X_le || Y_le. Decryption code takes a :class:`KeyAgreement` instead of a
private key, so that a token can do this step without exporting its key.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gostsign import streebog
from gostsign.errors import InvalidInput, InvalidKey
from gostsign.gost3410 import PrivateKey, PublicKey


def _shared_point(priv: PrivateKey, peer: PublicKey, ukm: bytes) -> bytes:
    if not ukm or len(ukm) > priv.curve.size:
        raise InvalidInput(f"UKM must be 1..{priv.curve.size} bytes, got {len(ukm)}")
    if peer.curve is not priv.curve and not peer.curve.same_parameters(priv.curve):
        raise InvalidKey(f"keys are on different curves: {priv.curve.name} and {peer.curve.name}")
    curve = priv.curve
    u = int.from_bytes(ukm, "little") or 1
    k = (curve.cofactor * u * priv.scalar) % curve.q
    point = curve.mul(k, peer.point)
    if point is None:
        raise InvalidKey("key agreement produced the point at infinity")
    n = curve.size
    return point[0].to_bytes(n, "little") + point[1].to_bytes(n, "little")


def vko_2012_256(priv: PrivateKey, peer: PublicKey, ukm: bytes) -> bytes:
    """VKO_GOSTR3410_2012_256: Streebog-256 of the shared point (32 bytes)."""
    return streebog.streebog256(_shared_point(priv, peer, ukm))


def vko_2012_512(priv: PrivateKey, peer: PublicKey, ukm: bytes) -> bytes:
    """VKO_GOSTR3410_2012_512: Streebog-512 of the shared point (64 bytes)."""
    return streebog.streebog512(_shared_point(priv, peer, ukm))


def vko_2001(priv: PrivateKey, peer: PublicKey, ukm: bytes) -> bytes:
    """VKO GOST R 34.10-2001: GOST R 34.11-94 (CryptoPro parameters) of the shared point."""
    from gostsign.gost341194 import gost341194

    kek: bytes = gost341194(_shared_point(priv, peer, ukm), paramset="cryptopro")
    return kek


def kek_for_transport(
    priv: PrivateKey, peer: PublicKey, ukm: bytes, *, legacy_2001: bool = False
) -> bytes:
    """The 32-byte KEK of GostR3410-KeyTransport.

    2012 keys of both sizes hash the point with Streebog-256 (as the gost engine does);
    2001 keys use GOST R 34.11-94.
    """
    if legacy_2001:
        return vko_2001(priv, peer, ukm)
    return vko_2012_256(priv, peer, ukm)


@runtime_checkable
class KeyAgreement(Protocol):
    """Something holding a private key that can derive a transport KEK with a peer."""

    @property
    def public_key(self) -> PublicKey: ...

    def derive_kek(self, peer: PublicKey, ukm: bytes, *, legacy_2001: bool = False) -> bytes: ...


class SoftwareKeyAgreement:
    """KeyAgreement over a private key held in memory."""

    def __init__(self, private_key: PrivateKey) -> None:
        self._key = private_key
        self._public = private_key.public_key()

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def derive_kek(self, peer: PublicKey, ukm: bytes, *, legacy_2001: bool = False) -> bytes:
        return kek_for_transport(self._key, peer, ukm, legacy_2001=legacy_2001)
