"""``python -m fss_emulator`` = ``eln-fss-emulator``."""

from __future__ import annotations

import sys

from fss_emulator.server import main

sys.exit(main())
