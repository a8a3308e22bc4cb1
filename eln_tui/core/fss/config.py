"""Settings of the exchange with the Fund: version, contour, address, certificates, timeouts.

Addresses (protocol.md §1):

=============  ============================================================================
contour        address (v2.0 / v1.1)
=============  ============================================================================
production     ``https://docs.fss.ru/WSLnCryptoV20/FileOperationsLnService`` /
               ``https://docs.fss.ru/WSLnCryptoV11/FileOperationsLnPort`` (encrypted only)
test           ``https://docs-test.fss.ru/WSLnCryptoV20/FileOperationsLnService`` /
               ``https://docs-test.fss.ru/WSLnCryptoV11/FileOperationsLnPort`` (encrypted)
test-plain     ``https://docs-test.fss.ru/WSLnV20_2/FileOperationsLnService`` /
               ``https://docs-test.fss.ru/WSLnV11/FileOperationsLnPort`` (signed, not encrypted)
emulator       the local FSS emulator: its address is printed when it starts (``url``)
=============  ============================================================================

The Fund's certificate is kept per contour (the test contour has its own «сертификат
уполномоченного лица»): :attr:`FssConfig.fund_certificates`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import metadata
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from eln_tui.core.domain.validators import validate_ogrn
from eln_tui.core.errors import ValidationError
from eln_tui.core.fss.errors import FssConfigError
from gostsign.errors import GostError
from gostsign.x509 import Certificate


class ProtocolVersion(enum.StrEnum):
    """The dialect of the service: v2.0 (current) or v1.1 (the seed guide's)."""

    V20 = "2.0"
    V11 = "1.1"


class Contour(enum.StrEnum):
    PRODUCTION = "production"
    TEST = "test"
    TEST_PLAIN = "test-plain"
    EMULATOR = "emulator"

    @property
    def label(self) -> str:
        return _CONTOUR_TITLES[self]


_CONTOUR_TITLES = {
    Contour.PRODUCTION: "промышленный контур СФР",
    Contour.TEST: "тестовый контур СФР (с шифрованием)",
    Contour.TEST_PLAIN: "тестовый контур СФР (без шифрования)",
    Contour.EMULATOR: "локальный эмулятор СФР",
}

ENDPOINTS: Mapping[tuple[ProtocolVersion, Contour], str] = MappingProxyType(
    {
        (ProtocolVersion.V20, Contour.PRODUCTION): (
            "https://docs.fss.ru/WSLnCryptoV20/FileOperationsLnService"
        ),
        (ProtocolVersion.V20, Contour.TEST): (
            "https://docs-test.fss.ru/WSLnCryptoV20/FileOperationsLnService"
        ),
        (ProtocolVersion.V20, Contour.TEST_PLAIN): (
            "https://docs-test.fss.ru/WSLnV20_2/FileOperationsLnService"
        ),
        (ProtocolVersion.V11, Contour.PRODUCTION): (
            "https://docs.fss.ru/WSLnCryptoV11/FileOperationsLnPort"
        ),
        (ProtocolVersion.V11, Contour.TEST): (
            "https://docs-test.fss.ru/WSLnCryptoV11/FileOperationsLnPort"
        ),
        (ProtocolVersion.V11, Contour.TEST_PLAIN): (
            "https://docs-test.fss.ru/WSLnV11/FileOperationsLnPort"
        ),
    }
)

#: Rowset attribute limits (v2.0 Eln.xsd; App. 1 of the spec allows 15 for version_software).
MAX_AUTHOR = 120
MAX_PHONE = 30
MAX_EMAIL = 40
MAX_SOFTWARE = 255
MAX_SOFTWARE_VERSION = 30

_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def _package_version() -> str:
    try:
        return metadata.version("eln-workstation")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def _certificate(value: Any, what: str) -> Certificate:
    if isinstance(value, Certificate):
        return value
    if isinstance(value, bytes | bytearray | str):
        data = value.encode("ascii") if isinstance(value, str) else bytes(value)
        try:
            return Certificate.load(data)
        except (GostError, ValueError) as exc:
            raise FssConfigError(
                f"{what}: файл не является сертификатом X.509 (DER или PEM).", detail=str(exc)
            ) from None
    raise FssConfigError(f"{what}: ожидается сертификат, а не {type(value).__name__}.")


@dataclass(frozen=True)
class FssConfig:
    """Everything the client needs to know about the exchange (no keys: those come from a
    provider session).

    ``fund_certificates`` maps each contour to the Fund's certificate for it (DER, PEM or
    :class:`~gostsign.x509.Certificate`): requests are encrypted to it and replies must be
    signed with exactly it. ``trusted_roots`` (optional) additionally requires the Fund's
    certificate to chain to one of them.
    """

    ogrn: str
    version: ProtocolVersion = ProtocolVersion.V20
    contour: Contour = Contour.TEST
    #: Overrides the contour's address (required for the emulator).
    url: str | None = None
    #: None: as the contour says (only test-plain is unencrypted; the emulator is encrypted).
    encryption: bool | None = None
    fund_certificates: Mapping[Contour, Certificate] = field(default_factory=dict)
    trusted_roots: tuple[Certificate, ...] = ()
    intermediates: tuple[Certificate, ...] = ()
    # rowset attributes (prParseFilelnlpu)
    author: str = ""
    phone: str = ""
    email: str = ""
    software: str = "eln-workstation"
    software_version: str = field(default_factory=_package_version)
    #: The МЧД (machine-readable power of attorney) when the МО certificate has no ОГРН.
    mchd_uuid: str | None = None
    # network
    connect_timeout: float = 15.0
    read_timeout: float = 120.0
    #: Extra attempts for read-only operations after a network failure (never for others).
    retries: int = 2
    retry_backoff: float = 1.0
    #: TLS: True (system CAs), False (no check; tests only) or the path of a CA bundle.
    tls_verify: bool | str = True
    #: A reply whose requestId names a day further than this from now is refused as a replay.
    reply_max_age: timedelta | None = timedelta(days=2)
    #: XSD-validate every request before it is signed.
    validate_requests: bool = True
    #: Re-send signed blocks already accepted by the Fund with their signatures (SAMSON sends
    #: them without; protocol.md §7, open question 4).
    resend_signed_blocks: bool = False
    # encryption details (protocol.md §5)
    key_meshing: bool = False
    content_sbox: str = "tc26-z"

    def __post_init__(self) -> None:
        try:
            ogrn = validate_ogrn(str(self.ogrn), "ОГРН МО")
        except ValidationError as exc:
            raise FssConfigError(exc.message) from None
        object.__setattr__(self, "ogrn", ogrn)
        try:
            object.__setattr__(self, "version", ProtocolVersion(str(self.version)))
        except ValueError:
            raise FssConfigError(
                f"Версия протокола «{self.version}» не поддерживается; допустимы 2.0 и 1.1."
            ) from None
        try:
            object.__setattr__(self, "contour", Contour(str(self.contour)))
        except ValueError:
            raise FssConfigError(f"Неизвестный контур «{self.contour}».") from None
        certs: dict[Contour, Certificate] = {}
        for key, value in dict(self.fund_certificates).items():
            try:
                contour = Contour(str(key))
            except ValueError:
                raise FssConfigError(f"Неизвестный контур «{key}» в сертификатах СФР.") from None
            certs[contour] = _certificate(value, f"Сертификат СФР ({contour.label})")
        object.__setattr__(self, "fund_certificates", MappingProxyType(certs))
        object.__setattr__(
            self,
            "trusted_roots",
            tuple(_certificate(c, "Корневой сертификат") for c in self.trusted_roots),
        )
        object.__setattr__(
            self,
            "intermediates",
            tuple(_certificate(c, "Промежуточный сертификат") for c in self.intermediates),
        )
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise FssConfigError(
                    f"Адрес сервера «{self.url}» должен начинаться с http:// или https://."
                )
        if self.contour is Contour.PRODUCTION and self.encryption is False:
            raise FssConfigError(
                "Промышленный контур СФР принимает только зашифрованные сообщения."
            )
        for attr, text, limit, title in (
            ("author", self.author, MAX_AUTHOR, "ФИО лица, составляющего реестр"),
            ("phone", self.phone, MAX_PHONE, "Телефон лица, составляющего реестр"),
            ("email", self.email, MAX_EMAIL, "E-mail лица, составляющего реестр"),
            ("software", self.software, MAX_SOFTWARE, "Наименование ПО"),
            ("software_version", self.software_version, MAX_SOFTWARE_VERSION, "Версия ПО"),
        ):
            if len(text) > limit:
                raise FssConfigError(f"«{title}»: не более {limit} символов.", detail=attr)
        if self.mchd_uuid is not None and not _UUID_RE.match(self.mchd_uuid.strip()):
            raise FssConfigError(
                f"Идентификатор МЧД «{self.mchd_uuid}» должен быть GUID вида "
                "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx."
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise FssConfigError("Время ожидания ответа СФР должно быть больше нуля.")
        if self.retries < 0:
            raise FssConfigError("Число повторных попыток не может быть отрицательным.")

    # -- derived ---------------------------------------------------------------------------

    @property
    def encrypts(self) -> bool:
        """Whether requests are encrypted (and replies expected encrypted)."""
        if self.encryption is not None:
            return self.encryption
        return self.contour is not Contour.TEST_PLAIN

    @property
    def endpoint(self) -> str:
        if self.url:
            return self.url
        if self.contour is Contour.EMULATOR:
            raise FssConfigError(
                "Для эмулятора СФР укажите адрес сервера (его печатает eln-fss-emulator при "
                "запуске)."
            )
        return ENDPOINTS[(self.version, self.contour)]

    @property
    def fund_certificate(self) -> Certificate:
        """The Fund's certificate of the selected contour."""
        cert = self.fund_certificates.get(self.contour)
        if cert is None:
            raise FssConfigError(
                f"Не задан сертификат уполномоченного лица СФР для контура «{self.contour.label}»"
                " (для тестового и промышленного контуров он публикуется на cabinets.fss.ru, "
                "для эмулятора его печатает eln-fss-emulator)."
            )
        return cert

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def check_registry_contacts(self) -> None:
        """Phone and e-mail of the registry author are required settings (seed 000)."""
        missing = [
            title
            for value, title in (
                (self.phone, "«Телефон лица, составляющего реестр»"),
                (self.email, "«E-mail лица, составляющего реестр»"),
            )
            if not value.strip()
        ]
        if missing:
            raise FssConfigError(
                f"В настройках интеграции не заполнены {' и '.join(missing)}; реестр ЭЛН не "
                "может быть отправлен."
            )
