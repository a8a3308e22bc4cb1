#!/usr/bin/env bash
# Install the project into .venv-run and start the main job: the terminal UI in demo mode
# (throw-away journal, software keys, the embedded Fund emulator). Extra arguments go to
# eln-tui, e.g. ./run.sh --demo-dir ~/eln-demo --user demo-vk
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .venv-run/bin/python ]]; then
    python3 -m venv .venv-run
fi
.venv-run/bin/pip install -q --upgrade pip >/dev/null
.venv-run/bin/pip install -q -e . >/dev/null
if [[ $# -eq 0 ]]; then
    set -- --demo
fi
exec .venv-run/bin/eln-tui "$@"
