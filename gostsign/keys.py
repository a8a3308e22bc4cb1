"""GOST R 34.10-2012 key files: PKCS#8 private keys and SubjectPublicKeyInfo.

Written exactly as the OpenSSL gost engine writes them:

* AlgorithmIdentifier ``1.2.643.7.1.1.1.1`` (256) / ``.2`` (512) with parameters
  SEQUENCE { curve OID, [digest OID] }; the digest OID is omitted for tc26-256-A..D and
  tc26-512-C, present for the CryptoPro curves and tc26-512-A/B;
* the private key is the raw little-endian scalar in the privateKey OCTET STRING;
* the public key is a BIT STRING wrapping OCTET STRING (X_le || Y_le).

Read as well: certtool's nested OCTET STRING, the old engine's INTEGER form, and PBES2
encrypted keys (PBKDF2 + AES-CBC, written with HMAC-SHA256 and AES-256-CBC). GOST R 34.10-2001
keys are refused with :class:`UnsupportedAlgorithm`.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from gostsign import _aes, asn1
from gostsign.curves import Curve, get_curve
from gostsign.errors import (
    InvalidInput,
    InvalidKey,
    UnsupportedAlgorithm,
    WrongPassword,
)
from gostsign.gost3410 import ALGORITHM_OID, DIGEST_OID, PrivateKey, PublicKey

_ALGORITHM_BITS = {oid: bits for bits, oid in ALGORITHM_OID.items()}
_LEGACY_ALGORITHMS = {
    "1.2.643.2.2.19": "GOST R 34.10-2001",
    "1.2.643.2.2.98": "GOST R 34.10-2001 (VKO)",
    "1.2.643.2.2.20": "GOST R 34.10-94",
}
#: Curves whose key parameters carry no digest OID (what the gost engine writes, RFC 9215).
DIGEST_OMITTED = frozenset(
    {
        "1.2.643.7.1.2.1.1.1",
        "1.2.643.7.1.2.1.1.2",
        "1.2.643.7.1.2.1.1.3",
        "1.2.643.7.1.2.1.1.4",
        "1.2.643.7.1.2.1.2.3",
    }
)

PEM_PRIVATE = "PRIVATE KEY"
PEM_ENCRYPTED = "ENCRYPTED PRIVATE KEY"
PEM_PUBLIC = "PUBLIC KEY"

# PKCS#5 v2 (RFC 8018) identifiers.
OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
_PRF = {
    "1.2.840.113549.2.7": "sha1",
    "1.2.840.113549.2.8": "sha224",
    "1.2.840.113549.2.9": "sha256",
    "1.2.840.113549.2.10": "sha384",
    "1.2.840.113549.2.11": "sha512",
}
OID_HMAC_SHA256 = "1.2.840.113549.2.9"
_AES_CBC = {
    "2.16.840.1.101.3.4.1.2": 16,
    "2.16.840.1.101.3.4.1.22": 24,
    "2.16.840.1.101.3.4.1.42": 32,
}
OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"

#: PBKDF2-HMAC-SHA256 rounds for new key files (OWASP 2023 guidance).
DEFAULT_ITERATIONS = 600_000
_MAX_ITERATIONS = 10_000_000


# ----------------------------------------------------------------------------------------------
# Algorithm identifiers
# ----------------------------------------------------------------------------------------------


def algorithm_identifier(curve: Curve) -> bytes:
    """DER AlgorithmIdentifier of a GOST R 34.10-2012 key on ``curve`` (engine form)."""
    if curve.bits not in ALGORITHM_OID:
        raise UnsupportedAlgorithm(f"no GOST R 34.10-2012 algorithm for {curve.bits}-bit keys")
    params = [asn1.oid(curve.oid)]
    if curve.oid not in DIGEST_OMITTED:
        params.append(asn1.oid(DIGEST_OID[curve.bits]))
    return asn1.sequence(asn1.oid(ALGORITHM_OID[curve.bits]), asn1.sequence(*params))


def _refuse_legacy(alg: str) -> None:
    legacy = _LEGACY_ALGORITHMS.get(alg)
    if legacy:
        raise UnsupportedAlgorithm(
            f"{legacy} keys ({alg}) are no longer accepted; only GOST R 34.10-2012 keys "
            f"(1.2.643.7.1.1.1.1 and .2) can be used"
        )


def parse_algorithm_identifier(elem: asn1.Element) -> Curve:
    """The curve of a GOST R 34.10-2012 key AlgorithmIdentifier (both engine forms)."""
    items = elem.sequence("key AlgorithmIdentifier", min_len=1, max_len=2)
    alg = items[0].as_oid("key algorithm")
    _refuse_legacy(alg)
    bits = _ALGORITHM_BITS.get(alg)
    if bits is None:
        raise UnsupportedAlgorithm(f"key algorithm {alg} is not GOST R 34.10-2012")
    if len(items) != 2:
        raise InvalidInput(f"GOST R 34.10-2012 key algorithm {alg} has no parameters")
    params = items[1].sequence("GOST key parameters", min_len=1, max_len=3)
    curve_oid = params[0].as_oid("curve")
    curve = get_curve(curve_oid)
    if curve.oid != curve_oid:  # get_curve also takes names; these must be OIDs
        raise UnsupportedAlgorithm(f"unknown GOST curve {curve_oid}")
    if curve.bits != bits:
        raise UnsupportedAlgorithm(
            f"curve {curve.name} ({curve_oid}) is {curve.bits}-bit, but algorithm {alg} "
            f"is for {bits}-bit keys"
        )
    if len(params) >= 2:
        digest = params[1].as_oid("digest parameters")
        if digest != DIGEST_OID[bits]:
            raise UnsupportedAlgorithm(
                f"digest {digest} does not go with a {bits}-bit GOST R 34.10-2012 key "
                f"(expected {DIGEST_OID[bits]})"
            )
    if len(params) == 3:
        params[2].as_oid("encryption parameters")  # legacy 28147 set, irrelevant here
    return curve


# ----------------------------------------------------------------------------------------------
# Public keys
# ----------------------------------------------------------------------------------------------


def dump_public_key_spki(pub: PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo: BIT STRING wrapping OCTET STRING(X_le || Y_le)."""
    return asn1.sequence(
        algorithm_identifier(pub.curve), asn1.bit_string(asn1.octet_string(pub.to_le()))
    )


def load_public_key_spki(data: bytes | asn1.Element) -> PublicKey:
    """Decode a DER SubjectPublicKeyInfo (bytes or an already decoded element)."""
    elem = data if isinstance(data, asn1.Element) else asn1.decode(data, "SubjectPublicKeyInfo")
    alg, key = elem.sequence("SubjectPublicKeyInfo", min_len=2, max_len=2)
    curve = parse_algorithm_identifier(alg)
    wrapped = key.as_bit_string("subjectPublicKey")
    raw = asn1.decode(wrapped, "public key OCTET STRING").as_octet_string("public key")
    if len(raw) != 2 * curve.size:
        raise InvalidKey(f"a {curve.bits}-bit public key is {2 * curve.size} bytes, got {len(raw)}")
    return PublicKey.from_le(curve, raw)


def dump_public_key(pub: PublicKey, pem: bool = True) -> bytes:
    """SubjectPublicKeyInfo as PEM ``PUBLIC KEY`` (what ``openssl pkey -pubout`` writes) or DER."""
    der = dump_public_key_spki(pub)
    return asn1.pem_encode(der, PEM_PUBLIC) if pem else der


def load_public_key(data: bytes | str) -> PublicKey:
    """A public key from PEM ``PUBLIC KEY`` or DER SubjectPublicKeyInfo."""
    return load_public_key_spki(asn1.to_der(data, PEM_PUBLIC))


# ----------------------------------------------------------------------------------------------
# Private keys
# ----------------------------------------------------------------------------------------------


def _scalar_from_octets(curve: Curve, raw: bytes) -> int:
    size = curve.size
    if not raw:
        raise InvalidKey("the privateKey OCTET STRING is empty")
    if len(raw) == size:  # gost engine: raw little-endian scalar
        return int.from_bytes(raw, "little")
    if len(raw) % size == 0:
        raise UnsupportedAlgorithm(
            "masked private keys (CryptoPro export form, key followed by masks) are not supported"
        )
    try:
        inner = asn1.decode(raw, "privateKey content")
    except InvalidInput:
        raise InvalidKey(
            f"a {curve.bits}-bit private key is {size} bytes, got {len(raw)} bytes that are "
            f"not DER either"
        ) from None
    if inner.is_universal(asn1.OCTET_STRING):  # certtool: nested OCTET STRING, little-endian
        value = inner.as_octet_string("private key")
        if not 0 < len(value) <= size:
            raise InvalidKey(f"a {curve.bits}-bit private key is {size} bytes, got {len(value)}")
        return int.from_bytes(value, "little")
    if inner.is_universal(asn1.INTEGER):  # old gost engine: big-endian INTEGER
        return inner.as_integer("private key")
    raise InvalidKey(
        f"privateKey of a {curve.bits}-bit key is {len(raw)} bytes and neither a raw scalar, "
        f"an OCTET STRING nor an INTEGER"
    )


def load_private_key_info(der: bytes) -> PrivateKey:
    """Decode an unencrypted DER PKCS#8 PrivateKeyInfo."""
    items = asn1.decode(der, "PKCS#8 PrivateKeyInfo").sequence(
        "PKCS#8 PrivateKeyInfo", min_len=3, max_len=5
    )
    version = items[0].as_integer("PKCS#8 version")
    if version not in (0, 1):
        raise InvalidInput(f"PKCS#8 version {version} is not 0 or 1")
    curve = parse_algorithm_identifier(items[1])
    raw = items[2].as_octet_string("privateKey")
    for extra in items[3:]:
        if not (extra.is_context(0) or extra.is_context(1)):
            raise InvalidInput(f"unexpected {extra.name} at offset {extra.offset} in PKCS#8")
    d = _scalar_from_octets(curve, raw)
    return PrivateKey(curve, d)


def dump_private_key_info(key: PrivateKey) -> bytes:
    """DER PKCS#8 PrivateKeyInfo in the gost engine's form."""
    return asn1.sequence(
        asn1.integer(0), algorithm_identifier(key.curve), asn1.octet_string(key.to_le())
    )


def _password_bytes(password: bytes | str) -> bytes:
    return password.encode("utf-8") if isinstance(password, str) else bytes(password)


def encrypt_private_key_info(
    der: bytes, password: bytes | str, *, iterations: int = DEFAULT_ITERATIONS
) -> bytes:
    """PKCS#8 EncryptedPrivateKeyInfo with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)."""
    if not 1 <= iterations <= _MAX_ITERATIONS:
        raise InvalidInput(f"PBKDF2 iteration count must be 1..{_MAX_ITERATIONS}")
    salt = os.urandom(16)
    iv = os.urandom(16)
    kek = hashlib.pbkdf2_hmac("sha256", _password_bytes(password), salt, iterations, 32)
    pad = 16 - len(der) % 16
    ciphertext = _aes.cbc_encrypt(kek, iv, der + bytes([pad]) * pad)
    kdf = asn1.sequence(
        asn1.oid(OID_PBKDF2),
        asn1.sequence(
            asn1.octet_string(salt),
            asn1.integer(iterations),
            asn1.sequence(asn1.oid(OID_HMAC_SHA256), asn1.null()),
        ),
    )
    scheme = asn1.sequence(asn1.oid(OID_AES256_CBC), asn1.octet_string(iv))
    alg = asn1.sequence(asn1.oid(OID_PBES2), asn1.sequence(kdf, scheme))
    return asn1.sequence(alg, asn1.octet_string(ciphertext))


def _parse_pbes2(alg: asn1.Element) -> tuple[str, bytes, int, int, bytes]:
    """(hash name, salt, iterations, key length, IV) of a PBES2 AlgorithmIdentifier."""
    items = alg.sequence("encryptionAlgorithm", min_len=1, max_len=2)
    scheme_oid = items[0].as_oid()
    if scheme_oid != OID_PBES2 or len(items) != 2:
        raise UnsupportedAlgorithm(
            f"key file encryption {scheme_oid} is not supported; use PBES2 "
            f"(e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256)"
        )
    kdf, enc = items[1].sequence("PBES2 parameters", min_len=2, max_len=2)
    kdf_items = kdf.sequence("keyDerivationFunc", min_len=2, max_len=2)
    kdf_oid = kdf_items[0].as_oid()
    if kdf_oid != OID_PBKDF2:
        raise UnsupportedAlgorithm(f"key derivation {kdf_oid} is not supported (only PBKDF2)")
    params = kdf_items[1].sequence("PBKDF2 parameters", min_len=2, max_len=4)
    salt = params[0].as_octet_string("PBKDF2 salt")
    iterations = params[1].as_integer("PBKDF2 iteration count")
    if not 1 <= iterations <= _MAX_ITERATIONS:
        raise UnsupportedAlgorithm(f"PBKDF2 iteration count {iterations} is out of range")
    key_length: int | None = None
    prf = "sha1"  # the PKCS#5 default
    for extra in params[2:]:
        if extra.is_universal(asn1.INTEGER) and key_length is None:
            key_length = extra.as_integer("PBKDF2 key length")
        elif extra.is_universal(asn1.SEQUENCE):
            prf_items = extra.sequence("PBKDF2 prf", min_len=1, max_len=2)
            prf_oid = prf_items[0].as_oid()
            if len(prf_items) == 2:
                prf_items[1].as_null()
            if prf_oid not in _PRF:
                raise UnsupportedAlgorithm(f"PBKDF2 pseudo-random function {prf_oid}")
            prf = _PRF[prf_oid]
        else:
            raise InvalidInput(f"unexpected {extra.name} in PBKDF2 parameters")
    enc_items = enc.sequence("encryptionScheme", min_len=2, max_len=2)
    enc_oid = enc_items[0].as_oid()
    if enc_oid not in _AES_CBC:
        raise UnsupportedAlgorithm(
            f"key file cipher {enc_oid} is not supported (AES-128/192/256-CBC only)"
        )
    size = _AES_CBC[enc_oid]
    if key_length is not None and key_length != size:
        raise InvalidInput(f"PBKDF2 key length {key_length} does not fit the cipher ({size})")
    iv = enc_items[1].as_octet_string("AES IV")
    if len(iv) != 16:
        raise InvalidInput(f"AES-CBC IV must be 16 bytes, got {len(iv)}")
    return prf, salt, iterations, size, iv


def decrypt_private_key_info(der: bytes, password: bytes | str) -> bytes:
    """Decrypt a PKCS#8 EncryptedPrivateKeyInfo; WrongPassword if it does not decrypt."""
    alg, data = asn1.decode(der, "EncryptedPrivateKeyInfo").sequence(
        "EncryptedPrivateKeyInfo", min_len=2, max_len=2
    )
    prf, salt, iterations, size, iv = _parse_pbes2(alg)
    ciphertext = data.as_octet_string("encryptedData")
    if not ciphertext or len(ciphertext) % 16:
        raise InvalidInput("encrypted key data is not a whole number of AES blocks")
    kek = hashlib.pbkdf2_hmac(prf, _password_bytes(password), salt, iterations, size)
    plain = _aes.cbc_decrypt(kek, iv, ciphertext)
    pad = plain[-1]
    if not 1 <= pad <= 16 or not hmac.compare_digest(plain[-pad:], bytes([pad]) * pad):
        raise WrongPassword("wrong password (or damaged key file)")
    body = plain[:-pad]
    try:
        asn1.decode(body, "decrypted key").sequence("decrypted key", min_len=3)
    except InvalidInput:
        raise WrongPassword("wrong password (or damaged key file)") from None
    return body


def is_encrypted(data: bytes | str) -> bool:
    """True if ``data`` is an encrypted PKCS#8 key (PEM or DER)."""
    if asn1.is_pem(data):
        return asn1.pem_decode(data, PEM_PRIVATE, PEM_ENCRYPTED)[0] == PEM_ENCRYPTED
    return _der_is_encrypted(asn1.to_der(data))


def _der_is_encrypted(der: bytes) -> bool:
    first = asn1.decode(der, "PKCS#8 key").sequence("PKCS#8 key", min_len=2)[0]
    return first.is_universal(asn1.SEQUENCE)


def load_private_key(data: bytes | str, password: bytes | str | None = None) -> PrivateKey:
    """Load a GOST R 34.10-2012 private key: PEM (``PRIVATE KEY`` / ``ENCRYPTED PRIVATE KEY``)
    or DER PKCS#8, encrypted ones with ``password``."""
    if asn1.is_pem(data):
        label, der = asn1.pem_decode(data, PEM_PRIVATE, PEM_ENCRYPTED)
        encrypted = label == PEM_ENCRYPTED
    else:
        der = asn1.to_der(data)
        encrypted = _der_is_encrypted(der)
    if encrypted:
        if password is None:
            raise WrongPassword("the key file is encrypted; a password is required")
        der = decrypt_private_key_info(der, password)
    return load_private_key_info(der)


def dump_private_key(
    key: PrivateKey,
    password: bytes | str | None = None,
    pem: bool = True,
    *,
    iterations: int = DEFAULT_ITERATIONS,
) -> bytes:
    """PKCS#8 of ``key`` (engine form); encrypted with PBES2 when a password is given."""
    der = dump_private_key_info(key)
    label = PEM_PRIVATE
    if password is not None:
        if not _password_bytes(password):
            raise InvalidInput("an empty password does not protect a key file")
        der = encrypt_private_key_info(der, password, iterations=iterations)
        label = PEM_ENCRYPTED
    return asn1.pem_encode(der, label) if pem else der
