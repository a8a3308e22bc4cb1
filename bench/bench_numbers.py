"""Number pool under contention: N worker processes take ELN numbers at once.

Run: python bench/bench_numbers.py [--backend sqlite|postgresql|both] [--workers 8]
                                   [--numbers 4000] [--pg-url URL]

Every worker is a separate process (multiprocessing, spawn) with its own connection; each takes
numbers one at a time with ``NumberPool.take`` (one transaction per take, as users do; what
``ElnStore.take_number`` calls) until the pool is empty. The pool holds ``--numbers`` free
numbers, so the workers fight over every one of them. Afterwards the script checks that no
number was handed out twice, that every number was handed out, and that the database agrees
(every number ``reserved`` by the worker that reported it); any discrepancy exits with status 1.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdb import PG_ADMIN_URL, temp_database

FIRST = 900_000_000_000


def numbers(count: int) -> list[str]:
    return [str(FIRST + i) for i in range(count)]


def worker(
    url: str,
    worker_id: int,
    barrier: Barrier,
    results: Queue,  # type: ignore[type-arg]
) -> None:
    """Connect, wait for the others, take numbers until none is left; report
    (id, numbers, first take start, last take end, slowest take)."""
    from eln_tui.core.domain.codes import NumberMode
    from eln_tui.core.errors import NoFreeNumbers
    from eln_tui.core.storage.db import connect
    from eln_tui.core.storage.numbers import NumberPool

    db = connect(url)
    db.connect()
    pool = NumberPool(db)
    taken: list[str] = []
    barrier.wait()  # every process has imported and connected: start together
    started = time.time()
    slowest = 0.0
    try:
        while True:
            t0 = time.perf_counter()
            try:
                taken.append(pool.take(None, NumberMode.ANY_CURRENT, reserved_by=worker_id))
            except NoFreeNumbers:
                break
            slowest = max(slowest, time.perf_counter() - t0)
    finally:
        db.close()
    results.put((worker_id, taken, started, time.time(), slowest))


def run(backend: str, workers: int, count: int, pg_url: str) -> tuple[float, list[int], float]:
    """Takes per second and the per-worker take counts; exits 1 on any inconsistency."""
    from eln_tui.core.domain.codes import NumberState
    from eln_tui.core.storage import models as m
    from eln_tui.core.storage.db import connect
    from eln_tui.core.storage.migrations import upgrade
    from eln_tui.core.storage.numbers import NumberPool

    with temp_database(backend, pg_url) as url:
        db = connect(url)
        db.connect()
        upgrade(db)
        expected = numbers(count)
        NumberPool(db).add(expected)
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(workers)
        queue = ctx.Queue()
        procs = [
            ctx.Process(target=worker, args=(url, i + 1, barrier, queue)) for i in range(workers)
        ]
        for proc in procs:
            proc.start()
        results = [queue.get(timeout=600) for _ in procs]
        for proc in procs:
            proc.join()
            if proc.exitcode != 0:
                print(f"FAIL ({backend}): a worker exited with {proc.exitcode}", file=sys.stderr)
                sys.exit(1)
        begin = min(r[2] for r in results)
        end = max(r[3] for r in results)
        by_worker = {r[0]: r[1] for r in results}
        all_taken = [n for r in results for n in r[1]]
        dupes = [n for n, c in Counter(all_taken).items() if c > 1]
        problems = []
        if dupes:
            problems.append(f"{len(dupes)} numbers handed out twice, e.g. {dupes[:5]}")
        missing = set(expected) - set(all_taken)
        if missing:
            problems.append(f"{len(missing)} numbers never handed out, e.g. {sorted(missing)[:5]}")
        rows = {
            r.number: (r.state, r.reserved_by)
            for r in m.ElnNumber.select(
                m.ElnNumber.number, m.ElnNumber.state, m.ElnNumber.reserved_by
            ).bind(db)
        }
        for wid, taken in by_worker.items():
            wrong = [n for n in taken if rows.get(n) != (NumberState.RESERVED.value, wid)]
            if wrong:
                problems.append(
                    f"worker {wid}: {len(wrong)} numbers not reserved by it in the database, "
                    f"e.g. {wrong[0]} → {rows.get(wrong[0])}"
                )
        db.close()
        if problems:
            print(f"FAIL ({backend}): " + "; ".join(problems), file=sys.stderr)
            sys.exit(1)
        per_worker = [len(by_worker[i + 1]) for i in range(workers)]
        return len(all_taken) / (end - begin), per_worker, max(r[4] for r in results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--numbers", type=int, default=4000, help="free numbers in the pool")
    ap.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL server (admin database)")
    args = ap.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print(
        "| backend | workers | numbers | takes/s | takes per worker | slowest take | duplicates |"
    )
    print("|---|---:|---:|---:|---|---:|---:|")
    for backend in backends:
        rate, per_worker, slowest = run(backend, args.workers, args.numbers, args.pg_url)
        print(
            f"| {backend} | {args.workers} | {args.numbers} | {rate:.0f} | "
            f"{min(per_worker)}–{max(per_worker)} | {slowest * 1000:.0f} ms | 0 |",
            flush=True,
        )


if __name__ == "__main__":
    main()
