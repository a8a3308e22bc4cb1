"""``eln-tui --demo`` in a real terminal: tmux at 80x24, keys sent, the screen read back.

This is what a newcomer does after ``./run.sh``: the app starts against the embedded emulator,
shows the demo banner, opens the doctor's desk, the operator's desks through the palette, and
quits with F10 leaving nothing behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")

pytestmark = pytest.mark.slow


def _missing() -> None:
    message = "tmux is not installed (scripts/install-test-oracles.sh installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class Terminal:
    def __init__(self, name: str, socket: Path) -> None:
        self.name = name
        self.socket = socket

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-S", str(self.socket), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=20,
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"«{text}» did not appear on the screen:\n{screen}")

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = self.screen()
        while text in screen and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = self.screen()
        assert text not in screen, f"«{text}» stayed on the screen:\n{screen}"
        return screen

    def assert_screen_is_current(self, columns: int = 38) -> None:
        """What the terminal shows is what the app has drawn: a forced full repaint (a resize
        there and back) changes nothing in the left ``columns`` (the right side may hold a
        notification that times out meanwhile). Catches lines an incremental update left stale.
        """
        before = [line[:columns].rstrip() for line in self.screen().splitlines()]
        self.tmux("resize-window", "-t", self.name, "-x", "81", "-y", "24")
        time.sleep(1.0)
        self.tmux("resize-window", "-t", self.name, "-x", "80", "-y", "24")
        time.sleep(1.0)
        after = [line[:columns].rstrip() for line in self.screen().splitlines()]
        assert before == after, "stale lines:\n" + "\n".join(
            f"{a!r} -> {b!r}" for a, b in zip(before, after, strict=False) if a != b
        )

    def alive(self) -> bool:
        try:
            panes = self.tmux("list-panes", "-t", self.name, "-F", "#{pane_dead}")
        except subprocess.CalledProcessError:
            return False
        return panes.strip() == "0"


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if TMUX is None:
        _missing()
    name = f"eln-{uuid.uuid4().hex[:8]}"
    term = Terminal(name, tmp_path / "tmux.sock")
    yield term
    subprocess.run(
        [str(TMUX), "-S", str(term.socket), "kill-server"], capture_output=True, check=False
    )


def start(term: Terminal, tmp_path: Path, *args: str, ssh: bool = False) -> Path:
    """Start the app in a detached 80x24 session; returns the TMPDIR it runs with.

    ``ssh``: as on a terminal server (SSH_CONNECTION set: no animations, 15 frames/s)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        "TMPDIR": str(scratch),
        "HOME": str(tmp_path / "home"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "ELN_WORKSTATION_CONFIG": str(tmp_path / "none.toml"),
        "ELN_USER_CONFIG": str(tmp_path / "none-user.toml"),
    }
    if ssh:
        env["SSH_CONNECTION"] = "'10.0.0.2 50000 10.0.0.1 22'"
    command = " ".join(
        [
            *(f"{k}={v}" for k, v in env.items()),
            sys.executable,
            "-m",
            "eln_tui.ui.launch",
            *args,
            "; echo EXIT=$?; sleep 60",
        ]
    )
    term.tmux(
        "new-session", "-d", "-s", term.name, "-x", "80", "-y", "24", "-c", os.getcwd(), command
    )
    return scratch


def test_demo_starts_shows_banner_and_quits_clean(terminal: Terminal, tmp_path: Path) -> None:
    scratch = start(terminal, tmp_path, "--demo")
    screen = terminal.wait_for("Мои ЭЛН")
    assert "Демонстрационный режим" in terminal.wait_for("Демонстрационный режим")
    words = " ".join(terminal.screen().replace("▌", " ").split())
    assert "PIN всех ключей: 1234" in words
    # The workspace exists while the app runs…
    workspaces = list(scratch.glob("eln-demo-*"))
    assert len(workspaces) == 1
    assert (workspaces[0] / "eln.sqlite3").is_file()
    assert oct(workspaces[0].stat().st_mode & 0o777) == "0o700"
    # …the doctor's form opens at 80x24 and closes again
    terminal.keys("F4")
    screen = terminal.wait_for("Новый ЭЛН")
    assert len(screen.splitlines()) <= 24
    terminal.keys("Escape")
    terminal.wait_for("Закрыть документ без сохранения?")
    terminal.keys("Left")  # the safe answer has the focus: move to «Закрыть»
    time.sleep(0.3)
    terminal.keys("Enter")
    deadline = time.monotonic() + 20
    while "Закрыть документ" in terminal.screen() and time.monotonic() < deadline:
        time.sleep(0.2)
    terminal.wait_for("ЭЛН пока нет")
    terminal.keys("F10")
    terminal.wait_for("EXIT=0")
    # …and is gone after F10.
    assert list(scratch.glob("eln-demo-*")) == []


def test_demo_dir_is_kept_and_reopened(terminal: Terminal, tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    start(terminal, tmp_path, "--demo-dir", str(kept), "--user", "demo-vk")
    terminal.wait_for("Петров Сергей Николаевич")
    terminal.keys("F10")
    terminal.wait_for("EXIT=0")
    assert (kept / "eln.sqlite3").is_file() and (kept / "keys" / "mo.key").is_file()
    # The key files are encrypted at rest and private.
    key = kept / "keys" / "mo.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()


def test_unknown_demo_user_is_refused_in_russian(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "eln_tui.ui.launch",
            "--demo-dir",
            str(tmp_path / "d"),
            "--user",
            "nobody",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ELN_WORKSTATION_CONFIG": str(tmp_path / "none.toml")},
        check=False,
    )
    assert done.returncode == 2
    assert "нет пользователя «nobody»" in done.stderr


def test_operator_gets_numbers_from_the_emulator(terminal: Terminal, tmp_path: Path) -> None:
    """The newcomer's first step: palette → «Номера ЭЛН» → F2 → PIN of the МО key → numbers."""
    start(terminal, tmp_path, "--demo-dir", str(tmp_path / "demo"))
    terminal.wait_for("ЭЛН пока нет")
    terminal.keys("C-p")
    terminal.wait_for("Перейти:")
    terminal.type("Номера ЭЛН")
    terminal.wait_for("Перейти: Номера ЭЛН")
    terminal.keys("Enter")
    terminal.wait_for("Свободно: 0")
    terminal.keys("F2")
    terminal.wait_for("Количество номеров")
    terminal.keys("Enter")
    terminal.wait_for("PIN-код ключа МО")
    terminal.type("1234")
    time.sleep(0.5)
    pin_line = next(line for line in terminal.screen().splitlines() if "PIN-код ключа МО" in line)
    assert "1234" not in pin_line  # the PIN is never echoed
    terminal.keys("Enter")
    screen = terminal.wait_for("Получено номеров: 5")
    assert screen.count("свободен") == 5
    terminal.keys("F10")
    terminal.wait_for("EXIT=0")


def test_newcomer_issues_signs_and_sends_in_a_real_terminal(
    terminal: Terminal, tmp_path: Path
) -> None:
    """The README's walk-through, keys only, at 80x24: numbers → a new ELN for a patient found
    by surname → ФЛК fixed by jumping to the fields → saved → signed → the registry sent →
    «Переданы» in the operator's journal."""
    start(terminal, tmp_path, "--demo-dir", str(tmp_path / "demo"), ssh=True)
    terminal.wait_for("ЭЛН пока нет")
    terminal.keys("F12")
    terminal.wait_for("Свободно: 0")
    terminal.keys("F2")
    terminal.wait_for("Количество номеров")
    terminal.keys("Enter")
    terminal.wait_for("PIN-код ключа МО")
    terminal.type("1234")
    terminal.keys("Enter")
    terminal.wait_for("Получено номеров: 5")
    terminal.keys("C-p")
    terminal.wait_for("Перейти:")
    terminal.type("Мои ЭЛН")
    terminal.wait_for("Перейти: Мои ЭЛН")
    terminal.keys("Enter")
    terminal.wait_for("ЭЛН пока нет")
    terminal.keys("F4")
    terminal.wait_for("Новый ЛН")
    terminal.keys("C-f")
    terminal.wait_for("Найти пациента")
    time.sleep(1.0)  # the dialog focuses its field once mounted
    terminal.type("Петров")
    terminal.keys("Enter")  # the only match is taken at once
    terminal.wait_for("Петров Пётр Петрович")
    terminal.keys("F3")  # a number from the pool
    terminal.wait_for("ЭЛН № 900000")
    terminal.wait_for("ФЛК: 2 ошибки")
    terminal.keys("C-l")  # to the ФЛК list; Enter goes to the field
    time.sleep(1.0)
    terminal.keys("Enter")
    time.sleep(1.0)
    terminal.assert_screen_is_current()  # the jump scrolled the form: nothing left behind
    terminal.keys("Enter")  # the reason code's pick list
    time.sleep(1.0)
    terminal.type("01")
    terminal.keys("Enter")
    terminal.wait_for("ФЛК: 1 ошибка")
    terminal.keys("C-l")
    time.sleep(1.0)
    terminal.keys("Enter")  # to «Согласие … получено»
    time.sleep(1.0)
    terminal.keys("Space")
    terminal.wait_for("ФЛК: ошибок нет")
    terminal.keys("F2")
    terminal.wait_gone("не сохранён")
    terminal.keys("F4")
    terminal.wait_for("ЭП врача")
    terminal.type("1234")
    terminal.keys("Enter")
    terminal.wait_for("Не передан в ЕИИС «Соцстрах»")
    terminal.keys("Escape")
    terminal.wait_for("Мои ЭЛН —")
    terminal.keys("C-t")
    terminal.wait_for("к передаче 1 ЭЛН")
    terminal.keys("F2")
    terminal.wait_for("PIN-код ключа МО")
    terminal.type("1234")
    terminal.keys("Enter")
    terminal.wait_for("принят СФР")
    terminal.keys("F11")
    terminal.wait_for("Работа с ЕИИС Соцстрах —")
    terminal.keys("3")
    screen = terminal.wait_for("[Переданы: 1]")
    assert "010 открыт" in screen and "Петров П.П." in screen
    terminal.keys("F10")
    terminal.wait_for("EXIT=0")
