#!/usr/bin/env bash
# Install the project into .venv-run and start the main job (demo mode).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .venv-run/bin/python ]]; then
    python3 -m venv .venv-run
fi
.venv-run/bin/pip install -q --upgrade pip >/dev/null
.venv-run/bin/pip install -q -e . >/dev/null
exec .venv-run/bin/gostsign demo "$@"
