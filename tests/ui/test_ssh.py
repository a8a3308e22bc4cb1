"""Conduct over SSH: Textual's settings are placed before Textual is imported, the user's own
choice wins, and a real child process started as in an SSH session runs with them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from eln_tui.ui.config import SSH_ENVIRONMENT, apply_ssh_defaults
from tests.ui.world import World, keys, run

SSH = {"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}


def test_ssh_defaults_only_in_ssh_and_never_over_the_user() -> None:
    local: dict[str, str] = {"TERM": "xterm"}
    assert apply_ssh_defaults(local) == {}
    assert "TEXTUAL_FPS" not in local
    remote = {**SSH, "TEXTUAL_FPS": "30"}
    done = apply_ssh_defaults(remote)
    assert done == {"TEXTUAL_ANIMATIONS": "none"}
    assert remote["TEXTUAL_FPS"] == "30"  # the user's setting stays
    assert remote["TEXTUAL_ANIMATIONS"] == "none"


def test_launcher_sets_them_before_textual_reads_them(tmp_path: Path) -> None:
    """In a fresh interpreter, as `eln-tui` starts: Textual's constants show the SSH values."""
    probe = (
        "import sys\n"
        "from eln_tui.ui import launch\n"
        "assert 'textual' not in sys.modules, 'the launcher must not import Textual first'\n"
        "launch.apply_ssh_defaults()\n"
        "from textual import constants\n"
        "from eln_tui.ui import app\n"
        "print(constants.MAX_FPS, constants.TEXTUAL_ANIMATIONS)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL_")}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, **SSH},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == [SSH_ENVIRONMENT["TEXTUAL_FPS"], "none"]
    plain = subprocess.run(
        [sys.executable, "-c", probe],
        env={k: v for k, v in env.items() if not k.startswith("SSH_")},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert plain.stdout.split() == ["60", "full"]


class _Recorder:
    """Stands in for ElnApp.run: records how the app would be started."""

    animation_level = "full"
    cursor_blink = True

    def __init__(self) -> None:
        self.mouse: bool | None = None

    def run(self, *, mouse: bool) -> None:
        self.mouse = mouse


def test_mouse_and_animations_by_session(monkeypatch: pytest.MonkeyPatch) -> None:
    from eln_tui.ui import app as app_module
    from eln_tui.ui.config import UiConfig

    mp = monkeypatch
    for key in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        mp.delenv(key, raising=False)
    local = _Recorder()
    app_module._run(local, None, UiConfig())  # type: ignore[arg-type]
    assert local.mouse is True and local.animation_level == "full"
    mp.setenv("SSH_CONNECTION", SSH["SSH_CONNECTION"])
    remote = _Recorder()
    app_module._run(remote, None, UiConfig())  # type: ignore[arg-type]
    assert remote.mouse is False and remote.animation_level == "none"
    assert remote.cursor_blink is False and local.cursor_blink is True
    chosen = _Recorder()
    app_module._run(chosen, None, UiConfig(mouse=True))  # type: ignore[arg-type]
    assert chosen.mouse is True  # [ui] mouse = true wins
    forced = _Recorder()
    app_module._run(forced, False, UiConfig(mouse=True))  # type: ignore[arg-type]
    assert forced.mouse is False  # --no-mouse wins over the file


def test_no_blinking_cursor_when_asked(world: World) -> None:
    """Over SSH every Input that takes the focus stops blinking (bytes while idle)."""
    from textual.widgets import Input

    app = world.app(world.doctor)
    app.cursor_blink = False

    async def scenario(pilot: Pilot[Any]) -> None:
        await keys(pilot, "f3")  # to the search field of «Мои ЭЛН»
        focused = pilot.app.focused
        assert isinstance(focused, Input) and focused.cursor_blink is False

    run(app, (80, 24), scenario)
