#!/usr/bin/env bash
# Install the project into .venv and start the main job (demo mode).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e . >/dev/null
exec .venv/bin/gostsign demo "$@"
