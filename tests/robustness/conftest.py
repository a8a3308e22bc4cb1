"""Fixtures shared by the robustness tests: a PostgreSQL schema of the session's test database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import quote, urlparse, urlunparse

import psycopg2
import pytest

from tests.core.conftest import pg_database_url

__all__ = ["pg_database_url", "pg_schema_url"]


@pytest.fixture(scope="module")
def pg_schema_url(pg_database_url: str) -> Iterator[str]:
    """URL of an empty schema (dropped afterwards) in the session's PostgreSQL test database."""
    schema = f"r_{secrets.token_hex(5)}"
    parts = urlparse(pg_database_url)
    url = urlunparse(parts._replace(query=f"options={quote(f'-csearch_path={schema}')}"))
    admin = psycopg2.connect(pg_database_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()
