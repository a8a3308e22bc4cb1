"""The terminal UI over a pseudo-terminal: start-up time and bytes sent per keystroke.

The app runs as on a terminal server: a child process on a pty of 80x24, ``TERM=xterm-256color``,
``SSH_CONNECTION`` set (so the SSH defaults apply: no mouse, no animations, 15 frames/s). We
measure

* start-up: from ``exec`` to the first usable screen (the desk's footer and the list drawn), for
  a site install (``--db`` + a software-key workstation file) and for ``--demo-dir`` (which also
  starts the emulator);
* bytes written to the terminal per keystroke once the screen is settled: moving in the list,
  typing into the search field, opening and closing a dialog.

Run: ``python bench/bench_tui.py [--runs N] [--rows N]``.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import sys
import tempfile
import termios
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FIRST_ROW = b"80000000"  # a row of «Мои ЭЛН» (site): the list has been loaded
EMPTY_LIST = "ЭЛН пока нет".encode()  # the demo's empty list has been loaded


class PtyApp:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # child
            os.execvpe(argv[0], argv, env)  # noqa: S606 (our own interpreter)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.buffer = bytearray()

    def read_for(self, seconds: float) -> bytes:
        """Everything the app writes during ``seconds``."""
        out = bytearray()
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        return bytes(out)

    def wait_for(self, needle: bytes, timeout: float = 30.0) -> float:
        """Seconds since start when ``needle`` has been written."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.buffer += self.read_for(0.02)
            if needle in self.buffer:
                return time.perf_counter() - self.started
        raise RuntimeError(f"{needle!r} not seen; got {bytes(self.buffer[-400:])!r}")

    def settle(self, quiet: float = 0.6, limit: float = 10.0) -> int:
        """Read until the app is silent for ``quiet`` seconds; returns the bytes read."""
        total = 0
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            chunk = self.read_for(quiet)
            total += len(chunk)
            if not chunk:
                break
        return total

    def key(self, data: bytes) -> int:
        os.write(self.fd, data)
        return self.settle()

    def respond(self, data: bytes, quiet: float = 0.6) -> tuple[float, int]:
        """Seconds from the key to the last byte of the answer (the app then silent for
        ``quiet`` s), and the bytes written."""
        os.write(self.fd, data)
        sent = last = time.perf_counter()
        total = 0
        while True:
            ready, _, _ = select.select([self.fd], [], [], quiet)
            if not ready:
                break
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            total += len(chunk)
            last = time.perf_counter()
        return last - sent, total

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the app process (VmHWM)."""
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        os.write(self.fd, b"\x1b[21~")  # F10
        self.settle(0.3, 5)
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def make_site(root: Path, rows: int) -> tuple[str, Path]:
    """A workstation like the demo's, plus ``rows`` saved ELNs of the demo doctor."""
    from tests.ui.world import build_world, close_world, make_keyset

    keyset = make_keyset(root / "keys")
    world = build_world(root, keyset)
    store = world.store
    store.pool().add([f"{800_000_000_001 + i:012d}" for i in range(rows)], ogrn=world.ogrn)
    for i in range(rows):
        start = store.today() - timedelta(days=4 + i % 9)
        world.eln(ln_date=start)
    close_world()
    config = root / "workstation.toml"
    config.write_text(
        '[signing]\nprovider = "software"\n\n[providers.software]\n'
        f'key_dir = "{keyset.directory}"\n',
        encoding="utf-8",
    )
    return f"sqlite:///{root}/eln.sqlite3", config


def environment(home: Path, config: Path | None, term: str = "xterm-256color") -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": term,
        "LANG": "C.UTF-8",
        "SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22",
        "ELN_TUI_ALLOW_USER": "1",
        "ELN_WORKSTATION_CONFIG": str(config or home / "none.toml"),
        "ELN_USER_CONFIG": str(home / "none-user.toml"),
        "PYTHONPATH": str(ROOT),
    }
    for key in ("OPENSSL_CONF", "GOST_ORACLES_PREFIX"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=60, help="ELNs in «Мои ЭЛН»")
    parser.add_argument(
        "--journal", type=int, default=100_000, help="ELNs in the operator's journal (0: skip)"
    )
    args = parser.parse_args()
    launch = [sys.executable, "-m", "eln_tui.ui.launch"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url, config = make_site(root / "site", args.rows)
        site = [*launch, "--db", url, "--user", "ivanova"]
        demo = [*launch, "--demo-dir", str(root / "demo")]
        env = environment(root, config)
        # first demo start creates the workspace; later ones reopen it
        first = PtyApp(demo, environment(root, None))
        first_demo = first.wait_for(EMPTY_LIST)
        first.close()

        print("start-up to the first usable screen, seconds (median of runs)")
        for title, argv, e, needle in (
            ("site (SQLite, software keys)", site, env, FIRST_ROW),
            ("demo, reopened (+ emulator)", demo, environment(root, None), EMPTY_LIST),
        ):
            times = []
            for _ in range(args.runs):
                app = PtyApp(argv, e)
                times.append(app.wait_for(needle))
                app.close()
            print(
                f"  {title:32} median {statistics.median(times):.2f}  "
                f"min {min(times):.2f}  max {max(times):.2f}"
            )
        print(f"  {'demo, first start (creates)':32} {first_demo:.2f}")

        for term in ("xterm-256color", "xterm"):
            keystrokes(site, environment(root, config, term), term)
        if args.journal:
            journal(root / "journal", args.journal)


def journal(root: Path, count: int) -> None:
    """The operator's journal over ``count`` ELNs: open, switch views, page, search; memory."""
    from bench_journal import fill

    from eln_tui.core.domain.codes import Role
    from eln_tui.core.storage import ElnStore, open_database

    root.mkdir()
    url = f"sqlite:///{root}/eln.sqlite3"
    rate = fill(url, count)
    db = open_database(url)
    ElnStore(db).add_user("operator", "Оператор ЭЛН", [Role.ELN_OPERATOR])
    db.close()
    env = environment(root, None, "xterm")
    argv = [sys.executable, "-m", "eln_tui.ui.launch", "--db", url, "--user", "operator"]
    app = PtyApp(argv, env)
    first = app.wait_for(str(910_000_000_000 + count - 1).encode(), timeout=60)
    app.settle()
    print(f"\njournal «Работа с ЕИИС Соцстрах» over {count} ELNs (SQLite, bulk {rate:.0f}/s)")
    print(f"  start-up to the first page of «Полный список»: {first:.2f} s")
    print("  after a key: seconds to the last byte, bytes (TERM=xterm)")
    cases = [
        ("view 2 «Не переданы»", b"2"),
        ("view 3 «Переданы»", b"3"),
        ("view 5 «Ошибки передачи»", b"5"),
        ("view 1 «Полный список»", b"1"),
        ("PageDown", b"\x1b[6~"),
        ("End (last loaded row; next page)", b"\x1b[F"),
        ("End again (next page)", b"\x1b[F"),
        ("F3 to the search field", b"\x1bOR"),
        ("type «Иванов» (search)", "Иванов".encode()),
        ("Esc (clear search)", b"\x1b"),
    ]
    for title, data in cases:
        seconds, size = app.respond(data)
        print(f"  {title:36} {seconds:6.2f} s {size:8} bytes")
    print(f"  peak memory of the app (VmHWM): {app.peak_rss_mb():.0f} MB")
    app.close()


def keystrokes(argv: list[str], env: dict[str, str], term: str) -> None:
    app = PtyApp(argv, env)
    app.wait_for(FIRST_ROW)
    start_bytes = len(app.buffer) + app.settle()
    print(f"\nTERM={term}: bytes to draw the first screen: {start_bytes}")
    print("bytes sent to the terminal per keystroke (settled screen, 80x24), median")
    cases = [
        ("Down in the list", b"\x1b[B", 10),
        ("Up in the list", b"\x1b[A", 5),
        ("F3 to the search field", b"\x1bOR", 1),
        ("type a letter (search)", "П".encode(), 1),
        ("Backspace (search)", b"\x7f", 1),
        ("Esc (clear search)", b"\x1b", 1),
        ("F1 help", b"\x1bOP", 1),
        ("Esc (close help)", b"\x1b", 1),
    ]
    for title, data, times_ in cases:
        sizes = [app.key(data) for _ in range(times_)]
        print(f"  {title:28} {statistics.median(sizes):8.0f}  (runs {times_})")
    app.close()


if __name__ == "__main__":
    main()
