"""Where signing keys live: software files, PKCS#11 tokens, a signing agent on the thin client,
CryptoPro CSP and ViPNet CSP, behind one interface (see docs/providers.md).

::

    from providers import Pin, create_provider

    provider = create_provider("pkcs11", {"module": "/usr/lib/librtpkcs11ecp.so"})
    info = provider.find_certificate("7BD7C839870945F7C20A48286C97F0BE")
    with provider.open_session(info, Pin(pin_text)) as session:
        signature = session.sign_digest(digest)      # s_be || r_be
"""

from providers.base import (
    NO_PIN,
    PIN_PAD,
    Availability,
    CertificateInfo,
    KeySession,
    Pin,
    PinMode,
    PinPrompt,
    PinSource,
    Provider,
    select_certificate,
)
from providers.errors import (
    AccessDenied,
    BadConfiguration,
    KeyCertificateMismatch,
    KeyNotFound,
    OperationNotSupported,
    PinLocked,
    PinRequired,
    ProviderError,
    ProviderNotInstalled,
    SessionClosed,
    SeveralKeysMatch,
    TokenNotPresent,
    WrongPin,
)
from providers.registry import create_provider, provider_class, provider_entries, provider_names

__all__ = [
    "NO_PIN",
    "PIN_PAD",
    "AccessDenied",
    "Availability",
    "BadConfiguration",
    "CertificateInfo",
    "KeyCertificateMismatch",
    "KeyNotFound",
    "KeySession",
    "OperationNotSupported",
    "Pin",
    "PinLocked",
    "PinMode",
    "PinPrompt",
    "PinRequired",
    "PinSource",
    "Provider",
    "ProviderError",
    "ProviderNotInstalled",
    "SessionClosed",
    "SeveralKeysMatch",
    "TokenNotPresent",
    "WrongPin",
    "create_provider",
    "provider_class",
    "provider_entries",
    "provider_names",
    "select_certificate",
]
