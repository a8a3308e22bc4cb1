"""A registry send in a child process that SIGKILLs itself at a chosen or random point.

Run through a ``forkserver`` context that preloads this module, so that each of the many
children costs a fork, not a fresh interpreter. The points:

``outbox``          inside the transaction that writes the outbox, after its first row
``before_request``  the outbox committed, the request not sent (service hook)
``in_flight``       a random moment after the outbox commit: signing, encrypting, on the
                    wire, verifying, applying
``after_reply``     the Fund's reply verified, nothing applied (service hook)
``mid_apply``       inside the transaction applying the reply, after its first ELN
``reconcile``       right after the first getLNData answer of the reconciliation
``anywhere``        a random moment from the start of the send
"""

from __future__ import annotations

import os
import random
import signal
import threading
from typing import Any

from eln_tui.core.exchange import ExchangeService
from eln_tui.core.exchange import service as service_module
from eln_tui.core.storage import models as m
from tests.exchange.killed_sender import sender

POINTS = (
    "outbox",
    "before_request",
    "in_flight",
    "after_reply",
    "mid_apply",
    "reconcile",
    "anywhere",
)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _die_later(seconds: float) -> None:
    timer = threading.Timer(seconds, die)
    timer.daemon = True
    timer.start()


def run(
    db_url: str, key_dir: str, fund_pem: str, url: str, day: str, point: str, seed: int
) -> None:
    """Send the registry for ``day``; die at ``point`` (if the send gets there)."""
    from datetime import date

    rng = random.Random(seed)
    store, client = sender(db_url, key_dir, fund_pem, url)

    def hook(step: str) -> None:
        if step == point:
            die()
        if point == "in_flight" and step == "before_request":
            _die_later(rng.uniform(0.0, 0.4))

    if point == "outbox":
        real_insert = service_module.execute_insert

        def insert(query: Any, db: Any) -> Any:
            result = real_insert(query, db)
            if query.model is m.OutgoingRow:
                die()
            return result

        service_module.execute_insert = insert  # type: ignore[assignment]
    if point == "mid_apply":
        real_transfer = store.record_transfer

        def transfer(*args: Any, **kw: Any) -> Any:
            result = real_transfer(*args, **kw)
            die()
            return result

        store.record_transfer = transfer  # type: ignore[method-assign]
    if point == "reconcile":
        real_data = client.get_ln_data

        def data(*args: Any, **kw: Any) -> Any:
            result = real_data(*args, **kw)
            die()
            return result

        client.get_ln_data = data  # type: ignore[method-assign]
    if point == "anywhere":
        _die_later(rng.uniform(0.0, 0.6))

    actor = store.user_by_login("operator").signer
    ExchangeService(store, client, actor, fault=hook).send(date.fromisoformat(day))
