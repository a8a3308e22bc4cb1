"""The exchange half of the core: number pool ↔ Fund, the daily registry with its outbox,
foreign ELNs (getLNData), cancellation (disableLn) and the exchange log. UI-free."""

from eln_tui.core.exchange.connect import fss_config, open_exchange
from eln_tui.core.exchange.service import (
    Blocked,
    ExchangeService,
    MessageProgress,
    Planned,
    Preview,
    SendReport,
)

__all__ = [
    "Blocked",
    "ExchangeService",
    "MessageProgress",
    "Planned",
    "Preview",
    "SendReport",
    "fss_config",
    "open_exchange",
]
