"""Throw-away databases for the storage benchmarks (not a benchmark itself).

SQLite: a file in a temporary directory. PostgreSQL: a database ``eln_bench_<random>`` created
on the server of ``--pg-url`` (default ``postgresql://postgres@127.0.0.1:5432/test``, also
``ELN_BENCH_PG_URL``) and dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse

PG_ADMIN_URL = os.environ.get("ELN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def temp_database(backend: str, pg_admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """URL of an empty database on ``backend`` ("sqlite" or "postgresql"), removed on exit."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="eln-bench-") as tmp:
            yield f"sqlite:///{tmp}/eln.sqlite3"
        return
    import psycopg2

    admin = psycopg2.connect(pg_admin_url, connect_timeout=5)
    admin.autocommit = True
    name = f"eln_bench_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(pg_admin_url)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
