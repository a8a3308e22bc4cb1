"""Snapshots of the main screens as plain text (baselines in tests/ui/snapshots/, Python 3.11).

Update with ``ELN_UPDATE_SNAPSHOTS=1 pytest tests/ui/test_snapshots.py`` and review the diff.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from eln_tui.core.domain.codes import TERMINATION_CANCEL
from eln_tui.ui.dialogs.sign import SignDialog
from tests.ui.snapshots import assert_snapshot, require_pinned_python
from tests.ui.world import SIZES, World, keys, run, screen_text

# What differs between runs: the test certificates (made per session) and the key directory.
MASKS = {
    r"(?<=Серийный номер: )[0-9A-F]+ *": "<serial>",
    r"(?<=Действителен до: )\d\d\.\d\d\.\d{4}": "ДД.ММ.ГГГГ",
    r"(?<=Носитель: )\S+ *": "<dir>",
}


def two_elns(world: World) -> None:
    world.eln()
    other = world.eln(patient=world.draft().patient.__class__(
        snils="12345678964", surname="Орлова", name="Анна", patronymic="Сергеевна",
        birthday=world.draft().patient.birthday, gender=world.draft().patient.gender,
    ))  # fmt: skip
    world.store.terminate(other.id, world.doctor.signer, TERMINATION_CANCEL, "Отмена оформления")  # type: ignore[arg-type]


def label(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def test_my_elns(world: World) -> None:
    require_pinned_python()
    two_elns(world)
    for size in SIZES:

        async def scenario(pilot: Pilot[Any], size: tuple[int, int] = size) -> None:
            assert_snapshot(screen_text(pilot.app), f"my_elns-{label(size)}")

        run(world.app(world.doctor), size, scenario)


def test_editor(world: World) -> None:
    require_pinned_python()
    world.eln()
    for size in SIZES:

        async def scenario(pilot: Pilot[Any], size: tuple[int, int] = size) -> None:
            await keys(pilot, "enter")
            assert_snapshot(screen_text(pilot.app), f"editor-{label(size)}")

        run(world.app(world.doctor), size, scenario)


def test_new_eln(world: World) -> None:
    require_pinned_python()

    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f4")
        assert_snapshot(screen_text(pilot.app), "editor-new-80x24")

    run(world.app(world.doctor), (80, 24), scenario)


def test_sign_dialog(world: World) -> None:
    require_pinned_python()
    world.eln()

    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "enter")
        await keys(pilot, "f4")
        assert isinstance(pilot.app.screen, SignDialog)
        assert_snapshot(screen_text(pilot.app), "sign-dialog-80x24", masks=MASKS)

    run(world.app(world.doctor), (80, 24), scenario)


def test_no_profile(world: World) -> None:
    require_pinned_python()

    async def scenario(pilot: Pilot[Any]) -> None:
        assert_snapshot(screen_text(pilot.app), "no-profile-80x24")

    run(world.app(None, login="guest"), (80, 24), scenario)
