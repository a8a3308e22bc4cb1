"""Fixtures shared by the robustness tests: a PostgreSQL schema of the session's test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.core.conftest import pg_database_url, pg_schema

__all__ = ["pg_database_url", "pg_schema_url"]


@pytest.fixture(scope="module")
def pg_schema_url(pg_database_url: str) -> Iterator[str]:
    """URL of an empty schema (dropped afterwards) in the session's PostgreSQL test database."""
    with pg_schema(pg_database_url) as url:
        yield url
