"""Functions run in child processes (multiprocessing with spawn) by the concurrency tests."""

from __future__ import annotations

import time

from eln_tui.core.domain.codes import NumberMode
from eln_tui.core.errors import NoFreeNumbers
from eln_tui.core.storage.db import connect
from eln_tui.core.storage.migrations import upgrade
from eln_tui.core.storage.numbers import NumberPool


def _wait(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def take_many(
    url: str, count: int, mode: str, server_tag: str | None, start_at: float
) -> list[str]:
    """Take ``count`` numbers one by one, each in its own transaction, as users would."""
    db = connect(url)
    db.connect()
    pool = NumberPool(db)
    _wait(start_at)
    taken = []
    try:
        for _ in range(count):
            try:
                taken.append(pool.take(server_tag, NumberMode(mode)))
            except NoFreeNumbers:
                break
    finally:
        db.close()
    return taken


def run_upgrade(url: str, start_at: float) -> int:
    db = connect(url)
    db.connect()
    _wait(start_at)
    try:
        return upgrade(db)
    finally:
        db.close()
