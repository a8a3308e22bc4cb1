#!/usr/bin/env python3
"""Test double of ViPNet CSP's ``csp-gost print_containers``.

crypto.md §6 names the command but its output format is [open]; this double prints a header
line and one numbered container per line, and the provider only shows these names to the admin.
State: ``double-state.json`` two directories above this file (``<base>/bin/csp-gost``).
"""

import json
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parents[1]
STATE = BASE / "double-state.json"


def main():
    if sys.argv[1:] != ["print_containers"]:
        print("usage: csp-gost print_containers", file=sys.stderr)
        sys.exit(2)
    state = json.loads(STATE.read_text(encoding="utf-8"))
    print("ViPNet CSP containers:")
    for i, name in enumerate(state["containers"], 1):
        print(f"{i}. {name}")


if __name__ == "__main__":
    main()
