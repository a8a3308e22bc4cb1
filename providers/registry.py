"""Finding providers: the ``eln.providers`` entry-point group, plus the built-in ones.

A site adds its own provider by publishing a package with::

    [project.entry-points."eln.providers"]
    mytoken = "mypackage.provider:MyTokenProvider"

The value names a :class:`providers.base.Provider` subclass. The built-in providers are
registered the same way in the project's ``pyproject.toml``; until the package metadata carries
them (an editable install made before they were added), :data:`BUILTIN` stands in, so the
product works either way. An entry point with a built-in name replaces the built-in.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from providers.base import Provider
from providers.errors import BadConfiguration, ProviderNotInstalled

GROUP = "eln.providers"

BUILTIN: dict[str, str] = {
    "software": "providers.software:SoftwareProvider",
    "pkcs11": "providers.pkcs11:Pkcs11Provider",
    "remote": "providers.remote:RemoteProvider",
    "cryptopro": "providers.cryptopro:CryptoProProvider",
    "vipnet": "providers.vipnet:VipNetProvider",
}


@dataclass(frozen=True)
class ProviderEntry:
    """One registered provider, not imported yet."""

    name: str
    target: str
    origin: str

    def load(self) -> type[Provider]:
        """Import the provider class; ProviderNotInstalled (with the reason) if it cannot be."""
        module_name, _, attr = self.target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split(".") if attr else ():
                obj = getattr(obj, part)
        except Exception as exc:  # a broken plugin must not take the product down
            raise ProviderNotInstalled(
                f"Средство подписи «{self.name}» ({self.target}) не загружается: {exc}.",
                detail=repr(exc),
            ) from exc
        if not (isinstance(obj, type) and issubclass(obj, Provider)):
            raise ProviderNotInstalled(
                f"Точка входа «{self.name}» ({self.target}) не является средством подписи."
            )
        return obj


def provider_entries() -> dict[str, ProviderEntry]:
    """All known providers by name: entry points first, built-ins where none is registered."""
    found: dict[str, ProviderEntry] = {}
    try:
        eps = metadata.entry_points(group=GROUP)
    except Exception:  # broken metadata of an unrelated package
        eps = metadata.EntryPoints(())
    for ep in eps:
        dist = getattr(ep, "dist", None)
        origin = f"пакет {dist.name}" if dist is not None else "точка входа"
        found.setdefault(ep.name, ProviderEntry(ep.name, ep.value, origin))
    for name, target in BUILTIN.items():
        found.setdefault(name, ProviderEntry(name, target, "встроенный"))
    return found


def provider_names() -> list[str]:
    return sorted(provider_entries())


def provider_class(name: str) -> type[Provider]:
    entries = provider_entries()
    entry = entries.get(name)
    if entry is None:
        raise BadConfiguration(
            f"Неизвестное средство подписи «{name}». Доступны: {', '.join(sorted(entries))}."
        )
    return entry.load()


def create_provider(name: str, settings: dict[str, Any] | None = None) -> Provider:
    """An instance of the named provider with its settings (checked)."""
    return provider_class(name)(settings or {})
