"""Entry point of ``eln-tui``: settle the terminal conduct before Textual is imported.

Textual reads its frame rate and animation level from the environment at import time, so an
SSH session's defaults (no animations, fewer frames: fewer bytes over a slow link) must be in
place before :mod:`eln_tui.ui.app` is loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from eln_tui.ui.config import apply_ssh_defaults


def main(argv: Sequence[str] | None = None) -> int:
    apply_ssh_defaults()
    from eln_tui.ui.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
