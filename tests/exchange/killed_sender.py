"""A registry send in its own process that stops after the Fund's reply (to be SIGKILLed).

Usage: python -m tests.exchange.killed_sender DB_URL KEY_DIR FUND_PEM URL DAY MARKER
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from eln_tui.core.exchange import ExchangeService
from eln_tui.core.fss import Contour, FssClient, FssConfig
from eln_tui.core.storage import ElnStore, open_database
from gostsign.x509 import Certificate
from providers.base import Pin
from providers.software import SoftwareProvider
from tests.fss.e2e import PASSWORD


def sender(db_url: str, key_dir: str, fund_pem: str, url: str) -> tuple[ElnStore, FssClient]:
    """The operator's side of a send in a child process: the store and a client over the МО key
    of the test set (shared by this script and tests/faults/kill_sender.py)."""
    store = ElnStore(open_database(db_url))
    key = SoftwareProvider({"key_dir": key_dir}).open_session("label:mo", Pin(PASSWORD))
    ogrn = key.certificate.subject.ogrn
    assert ogrn is not None
    config = FssConfig(
        ogrn=ogrn,
        contour=Contour.EMULATOR,
        url=url,
        fund_certificates={Contour.EMULATOR: Certificate.load(Path(fund_pem).read_bytes())},
        author="Иванова М. П.",
        phone="+7 495 000-00-00",
        email="eln@example.test",
    )
    return store, FssClient(config, key)


def main(argv: list[str]) -> None:
    db_url, key_dir, fund_pem, url, day, marker = argv
    store, client = sender(db_url, key_dir, fund_pem, url)

    def hang(step: str) -> None:
        if step == "after_reply":
            Path(marker).write_text("reply received", encoding="utf-8")
            time.sleep(120)  # killed here: the reply is verified but not applied

    actor = store.user_by_login("operator").signer
    ExchangeService(store, client, actor, fault=hang).send(date.fromisoformat(day))


if __name__ == "__main__":
    main(sys.argv[1:])
