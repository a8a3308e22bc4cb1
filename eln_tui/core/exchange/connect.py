"""From the workstation's settings to a working :class:`ExchangeService` (no UI).

Two sources meet here. The database holds what the admin edits in «Настройки интеграции»
(server address, phone and e-mail of the registry author, protocol version, the МО with its
ОГРН); the workstation file's ``[fss]`` section holds what belongs to this machine: which key is
the МО's (``mo_certificate``, a reference the provider understands), the Fund's certificate per
contour and technical knobs (timeouts, TLS)::

    [fss]
    mo_certificate = "mo"                        # provider reference of the МО key
    fund_certificate = "/etc/eln/fss-test.pem"   # the Fund's certificate for the contour in use
    # fund_certificates = { production = "…", test = "…" }
    # contour = "emulator"                       # for an address that is no Fund contour
    read_timeout = 120

The contour is read off the server address: the Fund's published addresses name their contour;
any other address is the emulator's (or what ``contour`` says).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eln_tui.core.domain.lifecycle import Signer
from eln_tui.core.exchange.service import ExchangeService
from eln_tui.core.fss import ENDPOINTS, Contour, FssClient, FssConfig
from eln_tui.core.fss.errors import FssConfigError
from eln_tui.core.storage import ElnStore, OrganisationData, SettingsData
from providers.base import NO_PIN, PinSource, Provider

#: Keys of ``[fss]`` that are not :class:`FssConfig` fields.
_LOCAL_KEYS = frozenset({"mo_certificate", "fund_certificate", "fund_certificates"})


def contour_of(url: str) -> tuple[Contour | None, str]:
    """The Fund contour a server address names (None: not a Fund address) and the address
    without a trailing ``?WSDL``."""
    clean = url.strip()
    if clean.lower().endswith("?wsdl"):
        clean = clean[: -len("?wsdl")]
    for (_, contour), address in ENDPOINTS.items():
        if clean.lower() == address.lower():
            return contour, address
    return None, clean


def _read_certificate(path: Any, what: str) -> bytes:
    try:
        return Path(str(path)).expanduser().read_bytes()
    except OSError:
        raise FssConfigError(f"{what}: файл «{path}» не удаётся прочитать.") from None


def fss_config(
    settings: SettingsData,
    organisations: list[OrganisationData],
    section: Mapping[str, Any],
    *,
    author: str = "",
) -> FssConfig:
    """The client's settings: database values first, the ``[fss]`` section for the rest."""
    if not settings.enabled:
        raise FssConfigError(
            "Интеграция с ЕИИС «Соцстрах» выключена: включите «Статус» в настройках интеграции."
        )
    using = [o for o in organisations if o.uses_integration and o.ogrn]
    ogrn = str(section.get("ogrn") or (using[0].ogrn if using else "") or "")
    if not ogrn:
        raise FssConfigError(
            "Не указан ОГРН МО: отметьте учреждение в поле «МО, использующие интеграцию»."
        )
    url = (settings.server_url or str(section.get("url") or "")).strip()
    if not url:
        raise FssConfigError("Не заполнено обязательное поле «Адрес сервера».")
    contour, address = contour_of(url)
    values = {k: v for k, v in section.items() if k not in _LOCAL_KEYS}
    if contour is None:
        contour = Contour(str(section.get("contour", Contour.EMULATOR.value)))
        values["url"] = address
    else:
        values.pop("url", None)
    values["contour"] = contour
    values["ogrn"] = ogrn
    values["version"] = settings.protocol_version or values.get("version", "2.0")
    values["phone"] = settings.registry_phone or str(values.get("phone", ""))
    values["email"] = settings.registry_email or str(values.get("email", ""))
    if author:
        values["author"] = author
    certificates: dict[Contour, bytes] = {}
    table = section.get("fund_certificates") or {}
    if not isinstance(table, Mapping):
        raise FssConfigError("fund_certificates в разделе [fss] должен быть таблицей.")
    for name, path in table.items():
        try:
            key = Contour(str(name))
        except ValueError:
            raise FssConfigError(f"Неизвестный контур «{name}» в fund_certificates.") from None
        certificates[key] = _read_certificate(path, f"Сертификат СФР ({key.label})")
    single = section.get("fund_certificate")
    if single:
        certificates[contour] = _read_certificate(single, "Сертификат СФР")
    values["fund_certificates"] = certificates
    try:
        return FssConfig(**values)
    except TypeError as exc:
        raise FssConfigError(
            "Раздел [fss] файла настройки содержит неизвестный параметр.", detail=str(exc)
        ) from None


def mo_reference(section: Mapping[str, Any]) -> str:
    ref = section.get("mo_certificate")
    if not ref:
        raise FssConfigError(
            "Не выбран сертификат МО для обмена с СФР: укажите mo_certificate в разделе [fss] "
            "(«eln crypto certs» перечисляет сертификаты)."
        )
    return str(ref)


@contextmanager
def open_exchange(
    store: ElnStore,
    provider: Provider | None,
    actor: Signer,
    section: Mapping[str, Any],
    pin: PinSource = NO_PIN,
) -> Iterator[ExchangeService]:
    """Open the МО key with ``pin`` and yield a service; the key is closed afterwards.

    Blocking (database, token, network): call from a worker thread.
    """
    if provider is None:
        raise FssConfigError(
            "Средство электронной подписи рабочего места не выбрано: «eln crypto use …»."
        )
    settings, organisations = store.load_settings()
    config = fss_config(settings, organisations, section, author=actor.full_name)
    key = provider.open_session(mo_reference(section), pin)
    try:
        with FssClient(config, key) as client:
            yield ExchangeService(store, client, actor)
    finally:
        key.close()
