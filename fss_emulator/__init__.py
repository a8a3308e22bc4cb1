"""A local emulator of the Fund's ELN service «ЕИИС Соцстрах» (FileOperationsLnService).

It speaks both dialects (v2.0 and v1.1), encrypted and plain, with the Fund's WS-Security and
XML encryption profile, keeps the Fund's state (number pool, ELNs with state and lnHash) in a
data directory, and can inject faults. It uses ``gostsign`` and nothing of the client
(``eln_tui``, ``providers``), so that the two sides cannot share a mistake. See
``docs/emulator.md``.
"""

from __future__ import annotations

from fss_emulator.faults import Fault, FaultInjector
from fss_emulator.server import Emulator, main

__all__ = ["Emulator", "Fault", "FaultInjector", "main"]
