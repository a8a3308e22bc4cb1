"""XML security in the Fund's profile: hardened parsing, exclusive c14n, WS-Security GOST
signatures (sign, verify with a per-signature report), GOST XML encryption, the Fund's XSDs.

Modules: :mod:`~gostsign.xml.parse` (the only XML parser), :mod:`~gostsign.xml.c14n`,
:mod:`~gostsign.xml.wssec` (generic WS-Security), :mod:`~gostsign.xml.profile` (the Fund's
actors and Ids, request/reply verification), :mod:`~gostsign.xml.fragments` (stored signed
blocks), :mod:`~gostsign.xml.xmlenc`, :mod:`~gostsign.xml.schema`, :mod:`~gostsign.xml.soap`
(Faults), :mod:`~gostsign.xml.cli` (``gostsign`` subcommands).
"""

from __future__ import annotations

from gostsign.xml.c14n import canonicalize, exc_c14n
from gostsign.xml.errors import FundFault, SchemaError, SignatureNotCovering
from gostsign.xml.fragments import SignedFragment, insert_fragment, sign_fragment, splice
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.parse import parse_element, to_bytes
from gostsign.xml.profile import verify, verify_reply, verify_request
from gostsign.xml.soap import find_fault, raise_for_fault
from gostsign.xml.wssec import (
    CertificateInfo,
    Kind,
    Problem,
    Reason,
    SignatureResult,
    VerificationReport,
    sign,
)
from gostsign.xml.xmlenc import DecryptedMessage, decrypt, encrypt

__all__ = [
    "CertificateInfo",
    "DecryptedMessage",
    "FundFault",
    "Kind",
    "Problem",
    "Reason",
    "SchemaError",
    "SignatureNotCovering",
    "SignatureResult",
    "SignedFragment",
    "VerificationReport",
    "canonicalize",
    "decrypt",
    "encrypt",
    "exc_c14n",
    "find_fault",
    "insert_fragment",
    "parse_element",
    "parse_xml",
    "raise_for_fault",
    "sign",
    "sign_fragment",
    "splice",
    "to_bytes",
    "verify",
    "verify_reply",
    "verify_request",
]
