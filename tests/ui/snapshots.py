"""Snapshot tests without pytest-textual-snapshot: the screen as plain text against a baseline.

Plain text (what a person reads at the terminal, styles dropped) keeps baselines small and
reviewable in a diff, and independent of colours and cursor blink. Baselines live in
``tests/ui/snapshots/<name>.txt`` and are pinned to one Python version (3.11; Textual's layout
can shift with another interpreter's font-width tables); elsewhere the tests skip with a message.
Update them with ``ELN_UPDATE_SNAPSHOTS=1 pytest tests/ui``.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path

import pytest

DIRECTORY = Path(__file__).parent / "snapshots"
PINNED = (3, 11)
UPDATE_ENV = "ELN_UPDATE_SNAPSHOTS"


def require_pinned_python() -> None:
    if sys.version_info[:2] != PINNED:
        pytest.skip(
            f"snapshot baselines are pinned to Python {PINNED[0]}.{PINNED[1]}; "
            f"this is {sys.version_info[0]}.{sys.version_info[1]}"
        )


def normalise(text: str, masks: dict[str, str] | None = None) -> str:
    """Strip trailing blanks; replace each mask's match by its placeholder, padded to the same
    width so frames stay aligned."""
    for pattern, placeholder in (masks or {}).items():

        def padded(match: re.Match[str], placeholder: str = placeholder) -> str:
            return placeholder.ljust(len(match.group(0)))

        text = re.sub(pattern, padded, text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def assert_snapshot(text: str, name: str, *, masks: dict[str, str] | None = None) -> None:
    require_pinned_python()
    text = normalise(text, masks)
    path = DIRECTORY / f"{name}.txt"
    if os.environ.get(UPDATE_ENV) == "1":
        DIRECTORY.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no baseline {path.name}; create it with {UPDATE_ENV}=1 and review it", pytrace=False
        )
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{path.name} (baseline)",
                tofile=f"{path.name} (now)",
            )
        )
        pytest.fail(f"screen differs from the baseline:\n{diff}", pytrace=False)
