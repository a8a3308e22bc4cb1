"""The services a desk works with: the store, the signing provider, the user and the UI settings.

The app builds one :class:`Desk` from what its constructor received (no globals) and screens
reach it as ``self.app.desk``. Every method that touches the database or a token blocks: call it
from a thread worker, inside :meth:`Desk.db` so the worker's connection is closed afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eln_tui.core.domain.codes import V20, NumberMode
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.model import Lpu
from eln_tui.core.exchange import ExchangeService, open_exchange
from eln_tui.core.storage import ElnStore, OrganisationData, SettingsData, UserInfo
from eln_tui.ui.config import UiConfig
from providers.base import NO_PIN, PinSource, Provider


@dataclass
class Desk:
    store: ElnStore
    provider: Provider | None
    user: UserInfo
    config: UiConfig = field(default_factory=UiConfig)
    settings: SettingsData | None = None
    organisations: list[OrganisationData] = field(default_factory=list)
    #: The ``[fss]`` section of the workstation file (МО key reference, Fund certificate…).
    fss: Mapping[str, Any] = field(default_factory=dict)

    def db(self) -> AbstractContextManager[Any]:
        """A connection for the calling thread, closed when the block ends."""
        return self.store.db.connection_context()

    def today(self) -> date:
        return self.store.today()

    # --- settings (loaded in a worker, then read on the UI thread) ---------------------------

    def load_settings(self) -> SettingsData:
        """Read «Настройки интеграции» and the institutions (blocking)."""
        self.settings, self.organisations = self.store.load_settings()
        return self.settings

    @property
    def version(self) -> str:
        return self.settings.protocol_version if self.settings else V20

    @property
    def number_mode(self) -> NumberMode:
        return self.settings.number_mode if self.settings else NumberMode.ANY_CURRENT

    @property
    def server_tag(self) -> str | None:
        return self.settings.server_name if self.settings else None

    def context(self) -> CheckContext:
        return CheckContext(today=self.today(), version=self.version)

    def lpu(self) -> Lpu:
        """The МО a new ELN is issued by: the first institution using the integration."""
        orgs = [o for o in self.organisations if o.uses_integration] or self.organisations
        if not orgs:
            return Lpu()
        org = orgs[0]
        return Lpu(name=org.name, address=org.address, ogrn=org.ogrn, id_mo=org.id_mo)

    # --- the exchange with the Fund ------------------------------------------------------------

    def exchange(self, pin: PinSource = NO_PIN) -> AbstractContextManager[ExchangeService]:
        """The МО key opened with ``pin`` and a service over it (blocking: call in a worker,
        inside :meth:`db`). Errors are ``ElnError``/``ProviderError`` with Russian messages."""
        return open_exchange(self.store, self.provider, self.user.signer, self.fss, pin)

    def mo_reference(self) -> str | None:
        """The provider reference of the МО key (``[fss] mo_certificate``), if configured."""
        ref = self.fss.get("mo_certificate")
        return str(ref) if ref else None
