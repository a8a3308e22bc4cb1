"""Namespace and algorithm URIs of the Fund's WS-Security and XML encryption profile."""

from __future__ import annotations

from typing import Final

SOAP11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12: Final = "http://www.w3.org/2003/05/soap-envelope"
WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
XENC: Final = "http://www.w3.org/2001/04/xmlenc#"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"

# МЧД (power of attorney) reference inside ds:Signature (protocol.md §8).
FSS_SIGNATURE: Final = "urn:ru:fss:integration:types:signature:v01"
FSS_MCHD: Final = "urn:ru:fss:integration:types:mchd:v01"

# The prefixes we write (the Fund's examples and SAMSON use these).
NSMAP: Final = {
    "soapenv": SOAP11,
    "wsse": WSSE,
    "wsu": WSU,
    "ds": DS,
    "xenc": XENC,
}

# wsse:BinarySecurityToken and STR attribute values.
BASE64_BINARY: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
X509V3: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
)

# Canonicalization.
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N_ALGORITHMS: Final = {EXC_C14N: False, EXC_C14N_WITH_COMMENTS: True}

# Signature and digest, GOST R 34.10-2012 / 34.11-2012 (protocol.md §4.3).
_CPX: Final = "urn:ietf:params:xml:ns:cpxmlsec:algorithms:"
SIG_2012_256: Final = _CPX + "gostr34102012-gostr34112012-256"
SIG_2012_512: Final = _CPX + "gostr34102012-gostr34112012-512"
DIGEST_2012_256: Final = _CPX + "gostr34112012-256"
DIGEST_2012_512: Final = _CPX + "gostr34112012-512"
SIGNATURE_URIS: Final = {256: SIG_2012_256, 512: SIG_2012_512}
DIGEST_URIS: Final = {256: DIGEST_2012_256, 512: DIGEST_2012_512}
SIGNATURE_BITS: Final = {SIG_2012_256: 256, SIG_2012_512: 512}
DIGEST_BITS: Final = {DIGEST_2012_256: 256, DIGEST_2012_512: 512}

# GOST R 34.10-2001 / 34.11-94: recognised only to be refused with a clear sentence.
LEGACY_2001_URIS: Final = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#gostr34102001-gostr3411",
        "http://www.w3.org/2001/04/xmldsig-more#gostr3411",
        _CPX + "gostr34102001-gostr3411",
        _CPX + "gostr3411",
    }
)
GOST_2001_REFUSED: Final = (
    "GOST R 34.10-2001 is no longer accepted: the Fund has refused GOST R 34.10-2001 "
    "signatures and certificates since 2020-01-01; sign with a GOST R 34.10-2012 key"
)

# XML encryption (protocol.md §5).
ENC_GOST28147: Final = _CPX + "gost28147"
KT_GOST2001: Final = _CPX + "transport-gost2001"
KT_GOST2012_256: Final = _CPX + "transport-gost2012-256"
KT_GOST2012_512: Final = _CPX + "transport-gost2012-512"
KEY_TRANSPORT_URIS: Final = frozenset({KT_GOST2001, KT_GOST2012_256, KT_GOST2012_512})
TYPE_ELEMENT: Final = "http://www.w3.org/2001/04/xmlenc#Element"
TYPE_CONTENT: Final = "http://www.w3.org/2001/04/xmlenc#Content"


def qn(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"
