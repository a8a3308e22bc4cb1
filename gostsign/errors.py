"""The exception family of gostsign: every failure a caller can meet has its own type."""

from __future__ import annotations


class GostError(Exception):
    """Base of every gostsign error."""


class InvalidInput(GostError, ValueError):
    """Malformed bytes, DER, PEM or XML: the input is not what it claims to be."""


class InvalidKey(GostError):
    """A key is out of range, not on its curve, or of the wrong kind."""


class InvalidSignature(GostError):
    """A signature does not verify."""


class UnsupportedAlgorithm(GostError):
    """An algorithm, curve or parameter set we do not (or no longer) accept."""


class WrongPassword(GostError):
    """The password of an encrypted key file is wrong."""


class CertificateError(GostError):
    """A certificate cannot be accepted."""


class CertificateExpired(CertificateError):
    """The certificate is not valid at the time of use."""


class CertificateNotTrusted(CertificateError):
    """The certificate does not chain to a trusted root."""


class CertificateRevoked(CertificateError):
    """The certificate is listed in a CRL."""


class DecryptionError(GostError):
    """A ciphertext cannot be decrypted."""


class IntegrityError(DecryptionError):
    """A MAC (imitovstavka) does not match: the data or key was altered."""
