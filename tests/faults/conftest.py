"""Fixtures of the fault tests: the dual-backend store of tests/core, the Fund emulator and the
software keys of tests/exchange, and helpers that build a world for one operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.core.conftest import backend, fresh_url, people, pg_database_url, store  # noqa: F401
from tests.exchange.conftest import emu, key_root, parties  # noqa: F401


@pytest.fixture
def faults(emu: Any) -> Iterator[Any]:  # noqa: F811
    """The emulator with no fault active before and after the test."""
    emu.clear_faults()
    yield emu
    emu.clear_faults()
