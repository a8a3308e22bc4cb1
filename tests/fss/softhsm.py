"""A private SoftHSM2 token holding the МО's key, for the end-to-end tests.

SoftHSM 2.6.1 signs with GOST R 34.10 (256-bit, CryptoPro-A) but offers no VKO derive
(docs/providers.md), so a key that lives only on the token can sign requests but cannot open
the Fund's encrypted replies. Two keys are therefore put on the token:

* ``on_token``: generated on the token (not extractable): the pure PKCS#11 case — plain
  exchanges, and the refusal to send an encrypted request that could not be answered;
* ``imported``: generated in software and imported (C_CreateObject), so that a software copy
  can do the VKO SoftHSM lacks while every signature is still made by the token.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from pkcs11 import Attribute, KeyType, ObjectClass

from gostsign import asn1
from gostsign.curves import get_curve
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import MO_INN_LE, MO_NAME, MO_OGRN, Party
from gostsign.vko import KeyAgreement, SoftwareKeyAgreement
from gostsign.x509 import Certificate, issue_certificate
from providers.base import KeySession, Pin
from providers.pkcs11 import Pkcs11Provider, unload_module
from tests import oracles

PIN = "1111"
SO_PIN = "12345678"
LABEL = "eln-mo"
CURVE = "cryptopro-a"  # the only GOST curve family SoftHSM 2.6.1 offers
DIGEST_OID = "1.2.643.7.1.1.2.2"  # Streebog-256


@dataclass
class Token:
    module: Path
    provider: Pkcs11Provider
    on_token: Certificate
    imported: Certificate
    imported_key: PrivateKey

    def open(self, cert: Certificate) -> KeySession:
        return self.provider.open_session(f"thumbprint:{cert.thumbprint}", Pin(PIN))


class TokenSignsSoftwareAgrees:
    """The МО key as the client sees it: signatures from the token session, VKO from the
    software copy of the same (imported) key — a stand-in for the mechanism SoftHSM lacks."""

    def __init__(self, session: KeySession, key: PrivateKey) -> None:
        assert session.certificate.public_key == key.public_key()
        self.session = session
        self._agreement = SoftwareKeyAgreement(key)
        self.signatures = 0

    @property
    def certificate(self) -> Certificate:
        return self.session.certificate

    def sign_digest(self, digest: bytes) -> bytes:
        self.signatures += 1
        return self.session.sign_digest(digest)

    def key_agreement(self) -> KeyAgreement:
        return self._agreement


def _mo_subject() -> list[tuple[str, str]]:
    return [("CN", MO_NAME), ("O", MO_NAME), ("C", "RU"), ("L", "Москва")]


@contextmanager
def softhsm_token(root: Path, ca: Party) -> Iterator[Token]:
    """A fresh token with the МО's two keys and certificates issued by ``ca``."""
    source = oracles.softhsm_module()
    util = oracles.softhsm_util()
    tokens = root / "tokens"
    tokens.mkdir(parents=True)
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}/\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    # A private copy of the module: SoftHSM reads SOFTHSM2_CONF when it is initialised, and a
    # copy is a distinct library for the loader (other tests may have loaded SoftHSM already).
    module = root / "libsofthsm2.so"
    shutil.copy2(source, module)
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        util.run(
            "--init-token",
            "--free",
            "--label",
            LABEL,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
            env={"SOFTHSM2_CONF": str(conf)},
        )
        provider = Pkcs11Provider({"module": str(module), "token_label": LABEL})
        # 1. generated on the token
        pub = provider.generate_key(Pin(PIN), key_id=b"\x01", label="mo-token")
        on_token = _issue(pub, ca)
        provider.import_certificate(on_token, Pin(PIN), key_id=b"\x01", label="mo-token")
        # 2. generated in software, imported
        key = PrivateKey.generate(get_curve(CURVE))
        _import_private_key(module, key, key_id=b"\x02", label="mo-imported")
        imported = _issue(key.public_key(), ca)
        provider.import_certificate(imported, Pin(PIN), key_id=b"\x02", label="mo-imported")
        yield Token(module, provider, on_token, imported, key)
    finally:
        unload_module(str(module))
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old


def _issue(pub: object, ca: Party) -> Certificate:
    return issue_certificate(
        pub,  # type: ignore[arg-type]
        _mo_subject(),
        ca.cert,
        ca.key,
        ogrn=MO_OGRN,
        inn_le=MO_INN_LE,
        extended_key_usage=("clientAuth", "emailProtection"),
    )


def _import_private_key(module: Path, key: PrivateKey, *, key_id: bytes, label: str) -> None:
    lib = pkcs11.lib(str(module))
    token = lib.get_token(token_label=LABEL)
    with token.open(rw=True, user_pin=PIN) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                Attribute.KEY_TYPE: KeyType.GOSTR3410,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.SIGN: True,
                Attribute.ID: key_id,
                Attribute.LABEL: label,
                Attribute.VALUE: key.to_le()[::-1],  # SoftHSM takes d big-endian
                Attribute.GOSTR3410_PARAMS: asn1.oid(key.curve.oid),
                Attribute.GOSTR3411_PARAMS: asn1.oid(DIGEST_OID),
            }
        )
