"""GOST R 34.10-2012 signatures (256 and 512 bit) with the interoperable byte orders.

* a digest H is taken in byte order and read as the integer e = LE(H) mod q (e = 1 if 0);
* a signature is s_be || r_be, each half the curve size (what OpenSSL, xmlsec1, PKCS#11 and
  XMLDSig use);
* keys travel little-endian: the private scalar d_le, the public key X_le || Y_le.
"""

from __future__ import annotations

import hmac
import secrets

from gostsign import streebog
from gostsign.curves import Curve
from gostsign.errors import InvalidInput, InvalidKey, InvalidSignature

ALGORITHM_OID = {256: "1.2.643.7.1.1.1.1", 512: "1.2.643.7.1.1.1.2"}
SIGNATURE_OID = {256: "1.2.643.7.1.1.3.2", 512: "1.2.643.7.1.1.3.3"}
DIGEST_OID = {256: streebog.OID_256, 512: streebog.OID_512}


def hash_bits(curve: Curve) -> int:
    """Streebog size used with keys on this curve (the key size itself)."""
    return curve.bits


def _digest_to_e(curve: Curve, digest: bytes) -> int:
    if len(digest) != curve.size:
        raise InvalidInput(
            f"a {curve.bits}-bit key signs a {curve.size}-byte digest, got {len(digest)} bytes"
        )
    e = int.from_bytes(digest, "little") % curve.q
    return e or 1


class PublicKey:
    """A validated public point on a named curve."""

    __slots__ = ("curve", "x", "y")

    def __init__(self, curve: Curve, x: int, y: int) -> None:
        curve.validate_point((x, y))
        self.curve = curve
        self.x = x
        self.y = y

    @classmethod
    def from_le(cls, curve: Curve, raw: bytes) -> PublicKey:
        """Decode X_le || Y_le (certificates, PKCS#11 CKA_EC_POINT content)."""
        n = curve.size
        if len(raw) != 2 * n:
            raise InvalidKey(f"a {curve.bits}-bit public key is {2 * n} bytes, got {len(raw)}")
        return cls(curve, int.from_bytes(raw[:n], "little"), int.from_bytes(raw[n:], "little"))

    def to_le(self) -> bytes:
        n = self.curve.size
        return self.x.to_bytes(n, "little") + self.y.to_bytes(n, "little")

    @property
    def point(self) -> tuple[int, int]:
        return (self.x, self.y)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PublicKey)
            and self.curve.oid == other.curve.oid
            and self.point == other.point
        )

    def __hash__(self) -> int:
        return hash((self.curve.oid, self.x, self.y))

    def __repr__(self) -> str:
        return f"PublicKey({self.curve.name}, {self.to_le()[:8].hex()}…)"

    def verify_digest(self, digest: bytes, signature: bytes) -> None:
        """Raise InvalidSignature unless ``signature`` (s||r) is valid for ``digest``."""
        curve = self.curve
        n = curve.size
        if len(signature) != 2 * n:
            raise InvalidSignature(
                f"a {curve.bits}-bit signature is {2 * n} bytes, got {len(signature)}"
            )
        s = int.from_bytes(signature[:n], "big")
        r = int.from_bytes(signature[n:], "big")
        if not (0 < r < curve.q and 0 < s < curve.q):
            raise InvalidSignature("signature parts r and s must lie in 1..q-1")
        e = _digest_to_e(curve, digest)
        v = pow(e, -1, curve.q)
        z1 = s * v % curve.q
        z2 = (curve.q - r) * v % curve.q
        c = curve.mul_add(z1, z2, self.point)
        if c is None or not hmac.compare_digest(
            (c[0] % curve.q).to_bytes(n, "big"), r.to_bytes(n, "big")
        ):
            raise InvalidSignature("signature does not match the data and key")

    def verify(self, data: bytes, signature: bytes) -> None:
        """Hash ``data`` with Streebog of the key size and verify."""
        self.verify_digest(streebog.digest(data, hash_bits(self.curve)), signature)


class PrivateKey:
    """A private scalar d with 1 <= d < q on a named curve."""

    __slots__ = ("_d", "curve")

    def __init__(self, curve: Curve, d: int) -> None:
        if not (1 <= d < curve.q):
            raise InvalidKey(f"private key is out of range 1..q-1 for curve {curve.name}")
        self.curve = curve
        self._d = d

    @classmethod
    def generate(cls, curve: Curve) -> PrivateKey:
        return cls(curve, secrets.randbelow(curve.q - 1) + 1)

    @classmethod
    def from_le(cls, curve: Curve, raw: bytes) -> PrivateKey:
        """Decode the little-endian scalar of PKCS#8 (OpenSSL gost engine, certtool)."""
        if len(raw) != curve.size:
            raise InvalidKey(
                f"a {curve.bits}-bit private key is {curve.size} bytes, got {len(raw)}"
            )
        return cls(curve, int.from_bytes(raw, "little"))

    def to_le(self) -> bytes:
        return self._d.to_bytes(self.curve.size, "little")

    @property
    def scalar(self) -> int:
        return self._d

    def public_key(self) -> PublicKey:
        point = self.curve.mul(self._d, self.curve.generator)
        assert point is not None  # 1 <= d < q
        return PublicKey(self.curve, *point)

    def __repr__(self) -> str:
        return f"PrivateKey({self.curve.name}, <hidden>)"

    def sign_digest(self, digest: bytes, *, k: int | None = None) -> bytes:
        """Sign a Streebog digest (byte order); returns s_be || r_be.

        ``k`` exists for the standard's known-answer tests only.
        """
        curve = self.curve
        e = _digest_to_e(curve, digest)
        while True:
            kk = k if k is not None else secrets.randbelow(curve.q - 1) + 1
            c = curve.mul(kk, curve.generator)
            assert c is not None
            r = c[0] % curve.q
            s = (r * self._d + kk * e) % curve.q
            if r and s:
                n = curve.size
                return s.to_bytes(n, "big") + r.to_bytes(n, "big")
            if k is not None:
                raise InvalidInput("the fixed k gives a zero signature part")

    def sign(self, data: bytes) -> bytes:
        return self.sign_digest(streebog.digest(data, hash_bits(self.curve)))
