"""The signing abstraction of gostsign: whoever holds the key only signs a digest.

XML signing (and anything else that signs) takes a :class:`Signer`, so that keys can live in
software, on a PKCS#11 token, in CryptoPro or behind a remote agent. A signer receives the
Streebog digest in byte order (what ``openssl dgst`` prints) and returns s_be || r_be (what
XMLDSig's SignatureValue carries); token providers convert from their native byte orders
(e.g. CryptoAPI returns the byte reversal of s_be || r_be).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from gostsign.gost3410 import PrivateKey

if TYPE_CHECKING:
    from gostsign.x509 import Certificate


@runtime_checkable
class Signer(Protocol):
    """Something that holds a private key and its certificate."""

    @property
    def certificate(self) -> bytes | Certificate:
        """The signer's certificate: DER bytes or a parsed Certificate."""
        ...

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a Streebog digest of the key's size; return s_be || r_be."""
        ...


class SoftwareSigner:
    """A :class:`Signer` over a private key held in memory."""

    def __init__(self, private_key: PrivateKey, certificate: bytes | Certificate) -> None:
        self._key = private_key
        self._certificate = certificate

    @property
    def certificate(self) -> bytes | Certificate:
        return self._certificate

    def sign_digest(self, digest: bytes) -> bytes:
        return self._key.sign_digest(digest)

    def __repr__(self) -> str:
        return f"SoftwareSigner({self._key!r})"
