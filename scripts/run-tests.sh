#!/usr/bin/env bash
# The project's one test command: oracles (when we may install them), then every tox
# environment: tests, lint (ruff), types (mypy) and import contracts (import-linter).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) == 0 ]]; then
    scripts/install-test-oracles.sh
else
    echo "[tests] not root: assuming the oracles are installed (sudo scripts/install-test-oracles.sh)" >&2
fi

# PostgreSQL backs the multi-server tests; start the local cluster if it is installed but down.
if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if [[ $(id -u) == 0 ]]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
fi

TOOLS=.venv-tools
if [[ ! -x $TOOLS/bin/tox ]]; then
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q "tox>=4.22"
fi
exec "$TOOLS/bin/tox" run -e tests,lint,types,contracts "$@"
