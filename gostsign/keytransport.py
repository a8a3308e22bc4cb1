"""GostR3410-KeyTransport (RFC 4490 §4.2.1, RFC 4357): a 32-byte content key for a recipient.

::

    GostR3410-KeyTransport ::= SEQUENCE {
        sessionEncryptedKey   SEQUENCE { encryptedKey OCTET STRING (32),
                                         maskKey [0] IMPLICIT OCTET STRING OPTIONAL,
                                         macKey OCTET STRING (4) },
        transportParameters   [0] IMPLICIT SEQUENCE {
            encryptionParamSet  OBJECT IDENTIFIER,         -- 28147 S-box of the wrap
            ephemeralPublicKey  [0] IMPLICIT SubjectPublicKeyInfo OPTIONAL,
            ukm                 OCTET STRING (8) } OPTIONAL }

Wrapping: an ephemeral key on the recipient's curve, KEK = VKO (Streebog-256 of the shared
point, UKM read little-endian), then the CryptoPro key wrap (KEK diversification, 28147 ECB,
MAC with IV = UKM) under the named S-box. This is what ``openssl pkeyutl -encrypt`` does and
what the Fund's ``transport-gost2001`` EncryptedKey carries for 2012 keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from gostsign import asn1, gost28147
from gostsign.errors import InvalidInput, InvalidKey, UnsupportedAlgorithm
from gostsign.gost3410 import PrivateKey, PublicKey
from gostsign.keys import dump_public_key_spki, load_public_key_spki
from gostsign.vko import KeyAgreement, SoftwareKeyAgreement, kek_for_transport

#: S-box of the wrap that gost-engine 3.0 (and the Fund's spec) use with 2012 keys.
DEFAULT_SBOX = "tc26-z"
CEK_SIZE = 32
UKM_SIZE = 8
MAC_SIZE = 4


def _wrap_sbox(name_or_oid: str) -> gost28147.SBox:
    box = gost28147.get_sbox(name_or_oid)
    if not (box.oid.startswith("1.2.643.2.2.31.") or box.oid == "1.2.643.7.1.2.5.1.1"):
        raise UnsupportedAlgorithm(
            f"{box.name} ({box.oid}) is not a GOST 28147-89 encryption parameter set"
        )
    return box


@dataclass(frozen=True)
class KeyTransport:
    """The decoded fields of a GostR3410-KeyTransport."""

    encrypted_key: bytes
    mac: bytes
    sbox_oid: str
    ephemeral_key: PublicKey
    ukm: bytes

    def encode(self) -> bytes:
        """DER encoding (the form ``openssl pkeyutl -encrypt`` writes)."""
        session = asn1.sequence(asn1.octet_string(self.encrypted_key), asn1.octet_string(self.mac))
        params = asn1.context(
            0,
            asn1.oid(self.sbox_oid)
            + asn1.implicit(0, dump_public_key_spki(self.ephemeral_key))
            + asn1.octet_string(self.ukm),
        )
        return asn1.sequence(session, params)

    @classmethod
    def decode(cls, der: bytes) -> KeyTransport:
        """Parse and check a DER GostR3410-KeyTransport."""
        items = asn1.decode(der, "GostR3410-KeyTransport").sequence(
            "GostR3410-KeyTransport", min_len=1, max_len=2
        )
        session = items[0].sequence("sessionEncryptedKey", min_len=2, max_len=3)
        encrypted_key = session[0].as_octet_string("encryptedKey")
        if len(session) == 3:
            if not session[1].is_context(0):
                raise InvalidInput("sessionEncryptedKey has an unexpected middle element")
            raise UnsupportedAlgorithm("masked session keys (maskKey) are not supported")
        mac = session[-1].as_octet_string("macKey")
        if len(encrypted_key) != CEK_SIZE:
            raise InvalidInput(f"encryptedKey must be {CEK_SIZE} bytes, got {len(encrypted_key)}")
        if len(mac) != MAC_SIZE:
            raise InvalidInput(f"macKey must be {MAC_SIZE} bytes, got {len(mac)}")
        if len(items) != 2 or not items[1].is_context(0):
            raise UnsupportedAlgorithm(
                "key transport without transportParameters (static key agreement) is not supported"
            )
        params = (
            items[1].implicit(asn1.SEQUENCE).sequence("transportParameters", min_len=2, max_len=3)
        )
        sbox_oid = params[0].as_oid("encryptionParamSet")
        _wrap_sbox(sbox_oid)
        if len(params) != 3 or not params[1].is_context(0):
            raise UnsupportedAlgorithm(
                "key transport without an ephemeral public key is not supported"
            )
        ephemeral = load_public_key_spki(params[1].implicit(asn1.SEQUENCE))
        ukm = params[2].as_octet_string("ukm")
        if len(ukm) != UKM_SIZE:
            raise InvalidInput(f"ukm must be {UKM_SIZE} bytes, got {len(ukm)}")
        return cls(encrypted_key, mac, sbox_oid, ephemeral, ukm)


def wrap_key(
    recipient: PublicKey,
    cek: bytes,
    sbox: str = DEFAULT_SBOX,
    ukm: bytes | None = None,
    *,
    ephemeral: PrivateKey | None = None,
) -> bytes:
    """Wrap a 32-byte content key for ``recipient``; returns DER GostR3410-KeyTransport.

    ``ephemeral`` (a key on the recipient's curve) exists for known-answer tests only.
    """
    if len(cek) != CEK_SIZE:
        raise InvalidInput(f"the content key must be {CEK_SIZE} bytes, got {len(cek)}")
    box = _wrap_sbox(sbox)
    if ukm is None:
        ukm = os.urandom(UKM_SIZE)
    if len(ukm) != UKM_SIZE:
        raise InvalidInput(f"UKM must be {UKM_SIZE} bytes, got {len(ukm)}")
    if ephemeral is None:
        ephemeral = PrivateKey.generate(recipient.curve)
    elif ephemeral.curve is not recipient.curve:
        raise InvalidKey("the ephemeral key must be on the recipient's curve")
    kek = kek_for_transport(ephemeral, recipient, ukm)
    encrypted_key, mac = gost28147.cryptopro_key_wrap(kek, cek, ukm, box)
    return KeyTransport(encrypted_key, mac, box.oid, ephemeral.public_key(), ukm).encode()


def unwrap_key(kt_der: bytes, agreement: KeyAgreement | PrivateKey) -> bytes:
    """Recover the content key from DER GostR3410-KeyTransport.

    ``agreement`` holds the recipient's key (a :class:`~gostsign.vko.KeyAgreement`, e.g. a
    token, or a software :class:`PrivateKey`). A MAC mismatch (wrong key, altered data)
    raises :class:`~gostsign.errors.IntegrityError`.
    """
    kt = KeyTransport.decode(kt_der)
    if isinstance(agreement, PrivateKey):
        agreement = SoftwareKeyAgreement(agreement)
    own_curve = agreement.public_key.curve
    eph_curve = kt.ephemeral_key.curve
    if eph_curve is not own_curve and not eph_curve.same_parameters(own_curve):
        raise InvalidKey(
            f"the key was wrapped on curve {eph_curve.name}, the recipient key is on "
            f"{own_curve.name}"
        )
    kek = agreement.derive_kek(kt.ephemeral_key, kt.ukm)
    return gost28147.cryptopro_key_unwrap(kek, kt.encrypted_key, kt.mac, kt.ukm, kt.sbox_oid)
