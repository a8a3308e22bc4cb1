"""Fixtures of the exchange tests: dual-backend store (tests/core), emulator, software keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import backend, fresh_url, people, pg_database_url, store  # noqa: F401
from tests.fss.e2e import Parties, software_parties

emulator = pytest.importorskip("fss_emulator", reason="the FSS emulator package is not present")


@pytest.fixture(scope="session")
def key_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """software_parties(root) keeps its key directory at ``root / "keys"``."""
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def parties(key_root: Path) -> Iterator[Parties]:
    gen = software_parties(key_root, "cryptopro-a")
    yield next(gen)
    gen.close()


@pytest.fixture(scope="session")
def emu(parties: Parties, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with emulator.Emulator(tmp_path_factory.mktemp("fss"), trust=[parties.ca]) as e:
        yield e
