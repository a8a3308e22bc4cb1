"""AES-CBC for password-protected key files (PKCS#8 PBES2), through the ``cryptography`` package.

Key files are the only use: GOST keys are wrapped in the standard PBES2 scheme so that
OpenSSL (``openssl pkey -passin``) reads them as well.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gostsign.errors import InvalidInput


def _check(key: bytes, iv: bytes, data: bytes) -> None:
    if len(key) not in (16, 24, 32):
        raise InvalidInput(f"AES key must be 16, 24 or 32 bytes, got {len(key)}")
    if len(iv) != 16:
        raise InvalidInput(f"AES-CBC IV must be 16 bytes, got {len(iv)}")
    if len(data) % 16:
        raise InvalidInput("AES-CBC data must be a multiple of 16 bytes")


def cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-CBC encryption of block-aligned data (no padding)."""
    _check(key, iv, data)
    ctx = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return bytes(ctx.update(data) + ctx.finalize())


def cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-CBC decryption of block-aligned data (no padding)."""
    _check(key, iv, data)
    ctx = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return bytes(ctx.update(data) + ctx.finalize())
