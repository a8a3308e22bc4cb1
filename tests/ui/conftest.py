"""Fixtures of the UI tests: one software key set per session, a fresh workstation per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eln_tui.ui.demo import DemoWorkspace, create_demo
from providers.software import DemoKeySet
from tests.ui.world import SIZES, World, build_world, close_world, make_keyset


@pytest.fixture(scope="session")
def keyset(tmp_path_factory: pytest.TempPathFactory) -> DemoKeySet:
    return make_keyset(tmp_path_factory.mktemp("ui-keys") / "keys")


@pytest.fixture
def world(tmp_path: Path, keyset: DemoKeySet) -> Iterator[World]:
    world = build_world(tmp_path, keyset)
    try:
        yield world
    finally:
        close_world()


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoWorkspace]:
    """A demo workstation (eln_tui.ui.demo) with its emulator running: the operator's and the
    admin's flows run against it. ``demo.user`` is doctor + operator + admin; ``demo.users``
    also holds demo-doctor2, demo-vk (VK chairman) and demo-nurse. PIN of every key: demo.pin."""
    workspace = create_demo(tmp_path / "demo", login="operator")
    try:
        yield workspace
    finally:
        workspace.close()
        close_world()
