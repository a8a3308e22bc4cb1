"""Elliptic curves of GOST R 34.10-2001/2012 and the point arithmetic on them.

Every standard curve is known under its CryptoPro and TC26 names and OIDs. Curves with equal
parameters but different OIDs stay distinct objects, because the OID is written into keys and
certificates and other implementations treat them as different parameters.

Points are affine ``(x, y)`` tuples in short Weierstrass form, ``None`` is the point at
infinity. The twisted Edwards sets (tc26-256-A, tc26-512-C) are handled in their Weierstrass
form, which is what signatures and key agreement are defined over.

The arithmetic is not constant-time; see docs/security.md for why that is acceptable for the
software key provider (testers and demos) and why production keys live in tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from gostcrypto import gostsignature

from gostsign.errors import InvalidKey, UnsupportedAlgorithm

Point = tuple[int, int] | None
_Jac = tuple[int, int, int]  # Jacobian (X, Y, Z); Z == 0 is infinity

_WINDOW = 4


@dataclass(frozen=True, eq=False)
class Curve:
    """One named GOST curve: y^2 = x^3 + a*x + b over GF(p), subgroup order q."""

    name: str
    oid: str
    bits: int
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int
    cofactor: int = 1
    aliases: tuple[str, ...] = field(default=())
    #: OID of the TC26 curve with the same parameters (CryptoPro curves only).
    same_as: str | None = None

    def __repr__(self) -> str:
        return f"Curve({self.name!r}, {self.oid})"

    @property
    def generator(self) -> tuple[int, int]:
        return (self.x, self.y)

    @property
    def size(self) -> int:
        """Byte length of a coordinate, a private key and half a signature."""
        return self.bits // 8

    def same_parameters(self, other: Curve) -> bool:
        """True when both describe the same group (e.g. CryptoPro-A and tc26-256-B)."""
        return (self.p, self.a, self.b, self.q, self.x, self.y) == (
            other.p,
            other.a,
            other.b,
            other.q,
            other.x,
            other.y,
        )

    # -- point arithmetic --------------------------------------------------------------------

    def is_on_curve(self, point: Point) -> bool:
        if point is None:
            return False
        x, y = point
        if not (0 <= x < self.p and 0 <= y < self.p):
            return False
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    def validate_point(self, point: Point) -> tuple[int, int]:
        """Return the point if it is a valid public point of the prime-order subgroup."""
        if point is None or not self.is_on_curve(point):
            raise InvalidKey(f"point is not on curve {self.name}")
        if self.cofactor != 1 and self._mul_jac(self.q, point) is not None:
            raise InvalidKey(f"point is not in the prime-order subgroup of {self.name}")
        return point

    def add(self, p1: Point, p2: Point) -> Point:
        return self._to_affine(self._jadd(self._to_jac(p1), self._to_jac(p2)))

    def mul(self, k: int, point: Point) -> Point:
        """k * point (k reduced modulo nothing: callers pass scalars of any size)."""
        if point is None or k == 0:
            return None
        if point == self.generator and k > 0:
            return self._to_affine(self._mul_base(k))
        return self._mul_jac(k, point)

    def mul_add(self, k1: int, k2: int, point: Point) -> Point:
        """k1 * G + k2 * point, the shape signature verification needs."""
        return self._to_affine(
            self._jadd(self._mul_base(k1), self._to_jac(self._mul_jac(k2, point)))
        )

    # -- internals -----------------------------------------------------------------------------

    def _to_jac(self, point: Point) -> _Jac:
        if point is None:
            return (1, 1, 0)
        return (point[0], point[1], 1)

    def _to_affine(self, jp: _Jac) -> Point:
        x, y, z = jp
        if z == 0:
            return None
        p = self.p
        zi = pow(z, -1, p)
        zi2 = zi * zi % p
        return (x * zi2 % p, y * zi2 * zi % p)

    def _jdouble(self, jp: _Jac) -> _Jac:
        x, y, z = jp
        if z == 0 or y == 0:
            return (1, 1, 0)
        p = self.p
        yy = y * y % p
        s = 4 * x * yy % p
        zz = z * z % p
        m = (3 * x * x + self.a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        y3 = (m * (s - x3) - 8 * yy * yy) % p
        z3 = 2 * y * z % p
        return (x3, y3, z3)

    def _jadd(self, j1: _Jac, j2: _Jac) -> _Jac:
        x1, y1, z1 = j1
        x2, y2, z2 = j2
        if z1 == 0:
            return j2
        if z2 == 0:
            return j1
        p = self.p
        z1z1 = z1 * z1 % p
        z2z2 = z2 * z2 % p
        u1 = x1 * z2z2 % p
        u2 = x2 * z1z1 % p
        s1 = y1 * z2 * z2z2 % p
        s2 = y2 * z1 * z1z1 % p
        h = (u2 - u1) % p
        r = (s2 - s1) % p
        if h == 0:
            if r == 0:
                return self._jdouble(j1)
            return (1, 1, 0)
        hh = h * h % p
        hhh = h * hh % p
        v = u1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        y3 = (r * (v - x3) - s1 * hhh) % p
        z3 = z1 * z2 * h % p
        return (x3, y3, z3)

    def _mul_jac(self, k: int, point: Point) -> Point:
        if point is None or k == 0:
            return None
        if k < 0:
            k = -k
            point = (point[0], (-point[1]) % self.p)
        base = self._to_jac(point)
        table = [base]
        for _ in range((1 << _WINDOW) - 2):
            table.append(self._jadd(table[-1], base))
        acc: _Jac = (1, 1, 0)
        nibbles = _nibbles(k)
        for nib in reversed(nibbles):
            for _ in range(_WINDOW):
                acc = self._jdouble(acc)
            if nib:
                acc = self._jadd(acc, table[nib - 1])
        return self._to_affine(acc)

    @cached_property
    def _base_table(self) -> list[list[_Jac]]:
        # Fixed-base comb: table[i][j] = (j+1) * 16^i * G, so k*G needs no doublings at all.
        rows = (self.q.bit_length() + _WINDOW - 1) // _WINDOW + 1
        table: list[list[_Jac]] = []
        start: _Jac = self._to_jac(self.generator)
        for _ in range(rows):
            row = [start]
            for _ in range((1 << _WINDOW) - 2):
                row.append(self._jadd(row[-1], start))
            table.append([self._to_jac(self._to_affine(j)) for j in row])
            start = self._jadd(row[-1], start)
        return table

    def _mul_base(self, k: int) -> _Jac:
        k %= self.q
        table = self._base_table
        acc: _Jac = (1, 1, 0)
        for i, nib in enumerate(_nibbles(k)):
            if nib:
                acc = self._jadd(acc, table[i][nib - 1])
        return acc


def _nibbles(k: int) -> list[int]:
    out = []
    while k:
        out.append(k & 0xF)
        k >>= _WINDOW
    return out


# --------------------------------------------------------------------------------------------
# The standard curves.
# --------------------------------------------------------------------------------------------

_GC = gostsignature.CURVES_R_1323565_1_024_2019


def _from_gostcrypto(key: str) -> dict[str, int]:
    c = _GC[key]
    cof = c["m"] // c["q"]
    return {
        "p": c["p"],
        "a": c["a"],
        "b": c["b"],
        "q": c["q"],
        "x": c["x"],
        "y": c["y"],
        "cofactor": cof,
    }


_TEST_256 = {
    "p": 0x8000000000000000000000000000000000000000000000000000000000000431,
    "a": 7,
    "b": 0x5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E,
    "q": 0x8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3,
    "x": 2,
    "y": 0x08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8,
    "cofactor": 1,
}

_TEST_512 = {
    "p": int(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373",
        16,
    ),
    "a": 7,
    "b": int(
        "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43"
        "61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC",
        16,
    ),
    "q": int(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF",
        16,
    ),
    "x": int(
        "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762"
        "FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A",
        16,
    ),
    "y": int(
        "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C"
        "83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E",
        16,
    ),
    "cofactor": 1,
}

_TC26_256_B = _from_gostcrypto("id-tc26-gost-3410-2012-256-paramSetB")
_TC26_256_C = _from_gostcrypto("id-tc26-gost-3410-2012-256-paramSetC")
_TC26_256_D = _from_gostcrypto("id-tc26-gost-3410-2012-256-paramSetD")


def _curve(
    name: str,
    oid: str,
    bits: int,
    params: dict[str, int],
    *aliases: str,
    same_as: str | None = None,
) -> Curve:
    return Curve(name=name, oid=oid, bits=bits, aliases=aliases, same_as=same_as, **params)


CURVES: tuple[Curve, ...] = (
    _curve("test-256", "1.2.643.2.2.35.0", 256, _TEST_256, "id-GostR3410-2001-TestParamSet"),
    _curve(
        "cryptopro-a",
        "1.2.643.2.2.35.1",
        256,
        _TC26_256_B,
        "A",
        "id-GostR3410-2001-CryptoPro-A-ParamSet",
        "CryptoPro-A",
        same_as="1.2.643.7.1.2.1.1.2",
    ),
    _curve(
        "cryptopro-b",
        "1.2.643.2.2.35.2",
        256,
        _TC26_256_C,
        "B",
        "id-GostR3410-2001-CryptoPro-B-ParamSet",
        "CryptoPro-B",
        same_as="1.2.643.7.1.2.1.1.3",
    ),
    _curve(
        "cryptopro-c",
        "1.2.643.2.2.35.3",
        256,
        _TC26_256_D,
        "C",
        "id-GostR3410-2001-CryptoPro-C-ParamSet",
        "CryptoPro-C",
        same_as="1.2.643.7.1.2.1.1.4",
    ),
    _curve(
        "cryptopro-xcha",
        "1.2.643.2.2.36.0",
        256,
        _TC26_256_B,
        "XA",
        "id-GostR3410-2001-CryptoPro-XchA-ParamSet",
        "CryptoPro-XchA",
        same_as="1.2.643.7.1.2.1.1.2",
    ),
    _curve(
        "cryptopro-xchb",
        "1.2.643.2.2.36.1",
        256,
        _TC26_256_D,
        "XB",
        "id-GostR3410-2001-CryptoPro-XchB-ParamSet",
        "CryptoPro-XchB",
        same_as="1.2.643.7.1.2.1.1.4",
    ),
    _curve(
        "tc26-256-a",
        "1.2.643.7.1.2.1.1.1",
        256,
        _from_gostcrypto("id-tc26-gost-3410-2012-256-paramSetA"),
        "TCA",
        "id-tc26-gost-3410-2012-256-paramSetA",
        "TC26-256-A",
    ),
    _curve(
        "tc26-256-b",
        "1.2.643.7.1.2.1.1.2",
        256,
        _TC26_256_B,
        "TCB",
        "id-tc26-gost-3410-2012-256-paramSetB",
        "TC26-256-B",
    ),
    _curve(
        "tc26-256-c",
        "1.2.643.7.1.2.1.1.3",
        256,
        _TC26_256_C,
        "TCC",
        "id-tc26-gost-3410-2012-256-paramSetC",
        "TC26-256-C",
    ),
    _curve(
        "tc26-256-d",
        "1.2.643.7.1.2.1.1.4",
        256,
        _TC26_256_D,
        "TCD",
        "id-tc26-gost-3410-2012-256-paramSetD",
        "TC26-256-D",
    ),
    _curve(
        "test-512", "1.2.643.7.1.2.1.2.0", 512, _TEST_512, "id-tc26-gost-3410-2012-512-paramSetTest"
    ),
    _curve(
        "tc26-512-a",
        "1.2.643.7.1.2.1.2.1",
        512,
        _from_gostcrypto("id-tc26-gost-3410-12-512-paramSetA"),
        "id-tc26-gost-3410-2012-512-paramSetA",
        "id-tc26-gost-3410-12-512-paramSetA",
        "TC26-512-A",
    ),
    _curve(
        "tc26-512-b",
        "1.2.643.7.1.2.1.2.2",
        512,
        _from_gostcrypto("id-tc26-gost-3410-12-512-paramSetB"),
        "id-tc26-gost-3410-2012-512-paramSetB",
        "id-tc26-gost-3410-12-512-paramSetB",
        "TC26-512-B",
    ),
    _curve(
        "tc26-512-c",
        "1.2.643.7.1.2.1.2.3",
        512,
        _from_gostcrypto("id-tc26-gost-3410-2012-512-paramSetC"),
        "id-tc26-gost-3410-2012-512-paramSetC",
        "TC26-512-C",
    ),
)


def _index(curves: Iterable[Curve]) -> dict[str, Curve]:
    idx: dict[str, Curve] = {}
    for c in curves:
        for key in (c.name, c.oid, *c.aliases):
            idx[key.lower()] = c
    return idx


_BY_KEY = _index(CURVES)
# OpenSSL's short paramset letters are ambiguous between key sizes; resolve them per size.
_OPENSSL_512 = {"a": "tc26-512-a", "b": "tc26-512-b", "c": "tc26-512-c"}


def get_curve(name_or_oid: str, bits: int | None = None) -> Curve:
    """Look a curve up by our name, OID, CryptoPro/TC26 name or OpenSSL paramset letter.

    ``bits=512`` makes the OpenSSL letters A/B/C mean the 512-bit TC26 sets, as in
    ``openssl genpkey -algorithm gost2012_512 -pkeyopt paramset:A``.
    """
    key = name_or_oid.strip().lower()
    if bits == 512 and key in _OPENSSL_512:
        key = _OPENSSL_512[key]
    curve = _BY_KEY.get(key)
    if curve is None:
        raise UnsupportedAlgorithm(f"unknown GOST curve {name_or_oid!r}")
    if bits is not None and curve.bits != bits:
        raise UnsupportedAlgorithm(f"curve {curve.name} is {curve.bits}-bit, not {bits}-bit")
    return curve
