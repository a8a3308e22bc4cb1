#!/usr/bin/env python3
"""Test double of CryptoPro CSP's ``certmgr`` (crypto.md §6), for the cryptopro provider tests.

* ``-list -store uMy``: the banner, ``N-------`` blocks with ``Issuer``/``Subject`` (CryptoAPI
  order, last RDN first), ``Serial : 0x...``, ``SHA1 Hash : <hex>``, ``Not valid before/after``,
  ``PrivateKey Link : Yes|No``, ``Container``, ``Provider Name``, ``Provider Info : ProvType:
  80, KeySpec: 1, Flags: 0x0``, ``[ErrorCode: 0x00000000]``; an empty store ends with
  ``[ErrorCode: 0x80092004]`` and exit status 1;
* ``-export -thumbprint <sha1> -dest <file>``: writes the DER; an unknown thumbprint gives
  0x80092004;
* output in cp1251.

State: ``double-state.json`` two directories above this file.
"""

import base64
import json
import sys
from pathlib import Path

from gostsign.x509 import Certificate

BASE = Path(__file__).resolve().parents[2]
STATE = BASE / "double-state.json"
SEP = "=" * 77


def out(lines, code):
    lines.append(f"[ErrorCode: 0x{code:08x}]")
    sys.stdout.buffer.write(("\n".join(lines) + "\n").encode("cp1251", "replace"))
    sys.exit(1 if code else 0)


def capi_name(name):
    parts = []
    for attr in reversed(name.attributes()):
        value = attr.value
        if any(ch in value for ch in ',"=+'):
            value = '"' + value.replace('"', '""') + '"'
        parts.append(f"{attr.short}={value}")
    return ", ".join(parts)


def block(i, entry):
    cert = Certificate(base64.b64decode(entry["cert_der_b64"]))
    bits = cert.public_key.curve.bits
    container = entry.get("container_field")
    lines = [
        f"{i}-------",
        f"Issuer              : {capi_name(cert.issuer)}",
        f"Subject             : {capi_name(cert.subject)}",
        f"Serial              : 0x{cert.serial:X}",
        f"SHA1 Hash           : {cert.thumbprint}",
        f"Signature Algorithm : ГОСТ Р 34.11-2012/34.10-2012 {bits} бит",
        f"PublicKey Algorithm : ГОСТ Р 34.10-2012 ({2 * bits} bits)",
        f"Not valid before    : {cert.not_before:%d/%m/%Y  %H:%M:%S} UTC",
        f"Not valid after     : {cert.not_after:%d/%m/%Y  %H:%M:%S} UTC",
        f"PrivateKey Link     : {'Yes' if container else 'No'}",
    ]
    if container:
        lines += [
            f"Container           : {container}",
            "Provider Name       : Crypto-Pro GOST R 34.10-2012 KC1 CSP",
            f"Provider Info       : ProvType: {80 if bits == 256 else 81}, "
            f"KeySpec: {entry['keyspec']}, Flags: 0x0",
        ]
    return [*lines, SEP]


def option(argv, name):
    if name in argv:
        i = argv.index(name)
        if i + 1 < len(argv):
            return argv[i + 1]
    return None


def main():
    argv = sys.argv[1:]
    state = json.loads(STATE.read_text(encoding="utf-8"))
    store = state["store"]
    lines = [
        'Certmgr 1.1 (c) "Crypto-Pro",  2007-2019.',
        "program for managing certificates, CRLs and stores",
        "",
    ]
    if "-list" in argv:
        if not store:
            out([*lines, "Cannot find object or property."], 0x80092004)
        lines.append(SEP)
        for i, entry in enumerate(store, 1):
            lines += block(i, entry)
        out([*lines, ""], 0)
    if "-export" in argv:
        thumb = (option(argv, "-thumbprint") or "").lower()
        dest = option(argv, "-dest")
        entry = next(
            (
                e
                for e in store
                if Certificate(base64.b64decode(e["cert_der_b64"])).thumbprint == thumb
            ),
            None,
        )
        if entry is None or not dest:
            out([*lines, "Cannot find object or property."], 0x80092004)
        Path(dest).write_bytes(base64.b64decode(entry["cert_der_b64"]))
        out([*lines, "Exporting:", SEP, *block(1, entry), ""], 0)
    out([*lines, "The parameter is incorrect."], 0x80070057)


if __name__ == "__main__":
    main()
