#!/usr/bin/env python3
"""Test double of CryptoPro CSP's ``csptest`` (crypto.md §6), for the cryptopro provider tests.

Reproduces what the provider depends on, as documented (not the real program's internals):

* ``-keyset -enum_cont -fqcn -verifyc [-unique]``: the CSP banner, ``AcquireContext: OK``, one
  FQCN per line (``name|unique`` with -unique), ``OK.``, timing, ``[ErrorCode: 0x00000000]``;
* ``-keys -cont <fqcn> -sign GOST12_256|GOST12_512 -in F -out S -keytype exchange|signature
  [-password P] [-silent]``: hashes F itself with Streebog and writes a REAL signature made with
  the container's key in CryptoAPI byte order (the reversal of s_be || r_be);
* failures: ``Error number 0x... (decimal).``, the Windows message, ``[ErrorCode: 0x...]`` and
  exit status 1 — wrong PIN 0x8010006B (tries are counted in the state file, then
  0x8010006C), unknown container 0x80090016, PIN needed under -silent 0x80090022;
* all output in cp1251; Cyrillic arguments arrive in cp1251.

State: ``double-state.json`` two directories above this file (``<base>/bin/amd64/csptest``).
"""

import json
import os
import sys
from pathlib import Path

from gostsign import keys, streebog

BASE = Path(__file__).resolve().parents[2]
STATE = BASE / "double-state.json"
BANNER = "CSP (Type:80) v5.0.10003 KC1 Release Ver:5.0.12000 OS:Linux CPU:AMD64 FastCode:READY:AVX."
MESSAGES = {
    0x8010006B: "The card cannot be accessed because the wrong PIN was presented.",
    0x8010006C: "The card cannot be accessed because the maximum number of PIN entry attempts "
    "has been reached.",
    0x80090016: "Keyset does not exist",
    0x80090022: "Provider could not perform the action since the context was acquired as silent.",
    0x80070002: "The system cannot find the file specified.",
    0x80070057: "The parameter is incorrect.",
}


def out(lines):
    sys.stdout.buffer.write(("\n".join(lines) + "\n").encode("cp1251", "replace"))
    sys.stdout.buffer.flush()


def finish(lines, code):
    if code:
        lines += [f"Error number 0x{code:08x} ({code}).", MESSAGES.get(code, "Unknown error.")]
    lines += ["Total: SYS: 0,000 sec USR: 0,000 sec UTC: 0,010 sec", f"[ErrorCode: 0x{code:08x}]"]
    out(lines)
    sys.exit(1 if code else 0)


def args():
    # argv bytes are cp1251 (what the real tool gets from a Russian console)
    return [os.fsencode(a).decode("cp1251") for a in sys.argv[1:]]


def option(argv, name):
    if name in argv:
        i = argv.index(name)
        if i + 1 < len(argv):
            return argv[i + 1]
    return None


def main():
    argv = args()
    state = json.loads(STATE.read_text(encoding="utf-8"))
    lines = [BANNER]
    if "-keyset" in argv and "-enum_cont" in argv:
        lines.append("AcquireContext: OK. HCRYPTPROV: 6679219")
        width = max((len(c["fqcn"]) for c in state["containers"]), default=0) + 2
        for c in state["containers"]:
            if "-unique" in argv:
                lines.append(c["fqcn"].ljust(width) + "|" + c["unique"])
            else:
                lines.append(c["fqcn"])
        lines.append("OK.")
        finish(lines, 0)
    if "-keys" in argv and "-sign" in argv:
        name = option(argv, "-cont")
        alg = option(argv, "-sign")
        src, dst = option(argv, "-in"), option(argv, "-out")
        keytype = option(argv, "-keytype") or "exchange"
        if not (name and alg and src and dst):
            finish(lines, 0x80070057)
        container = next((c for c in state["containers"] if c["fqcn"] == name), None)
        if container is None:
            finish(lines, 0x80090016)
        lines.append("AcquireContext: OK. HCRYPTPROV: 16578963")
        lines.append("GetProvParam(PP_NAME): Crypto-Pro GOST R 34.10-2012 KC1 CSP")
        lines.append(f'Container name: "{name.rsplit(chr(92), 1)[-1]}"')
        spec = {"exchange": 1, "signature": 2}.get(keytype)
        if spec != container["keyspec"]:
            finish(lines, 0x80090016)
        password = option(argv, "-password")
        if container["pin"] is not None:
            if container["tries"] <= 0:
                finish(lines, 0x8010006C)
            if password is None:
                finish(lines, 0x80090022 if "-silent" in argv else 0x8010006B)
            if password != container["pin"]:
                container["tries"] -= 1
                STATE.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
                finish(lines, 0x8010006C if container["tries"] <= 0 else 0x8010006B)
        key = keys.load_private_key(container["key_pem"].encode("ascii"))
        bits = {"GOST12_256": 256, "GOST12_512": 512}.get(alg)
        if bits != key.curve.bits:
            finish(lines, 0x80070057)
        try:
            data = Path(src).read_bytes()
        except OSError:
            finish(lines, 0x80070002)
        signature = key.sign_digest(streebog.digest(data, bits))
        Path(dst).write_bytes(signature[::-1])  # CryptoAPI byte order
        lines.append("Signature was saved successfully")
        finish(lines, 0)
    finish(lines, 0x80070057)


if __name__ == "__main__":
    main()
