"""XML security: sign and verify a 30-row prParseFilelnlpu message, encrypt and decrypt 100 KB.

Run: python bench/bench_xml.py [--repeat N] [--backend auto|pure|both]

* sign: the МО signs each of the 30 rows (30 Security headers; exclusive c14n, Streebog,
  GOST R 34.10-2012, and the self-check of every signature against the certificate);
* verify: ``profile.verify_request`` of the serialised message (parse, 30 digests, 30
  signature verifications, certificate time and chain to the test CA, the Fund's profile);
* encrypt / decrypt: a 100 KB signed envelope for the Fund's certificate (key transport with an
  ephemeral key, 28147 CBC with TC26-Z) and back.

``auto`` hashes through OpenSSL's gost engine when it is installed (gostsign._libcrypto);
``pure`` forces the pure-Python Streebog; ``both`` (default) runs the two in turn.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CURVES = ("cryptopro-xcha", "tc26-512-a")
ROWS = 30
ENCRYPT_SIZE = 100 * 1024


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_curve(curve: str, repeat: int) -> list[tuple[str, float]]:
    from gostsign import testpki
    from gostsign.signer import SoftwareSigner
    from gostsign.xml import profile, xmlenc
    from gostsign.xml.parse import parse, to_bytes
    from tests.gostsign import xml_messages as msgs

    pki = testpki.create_test_pki(curve)
    ogrn = pki.mo.cert.subject.ogrn or ""
    mo = SoftwareSigner(pki.mo.key, pki.mo.cert)
    unsigned = msgs.pr_parse(ogrn, ROWS, periods=3)
    out: dict[str, bytes] = {}

    def sign() -> None:
        doc = parse(unsigned)
        for i in range(ROWS):
            profile.sign_row(doc, ogrn, msgs.ln_code(i), mo)
        out["signed"] = to_bytes(doc)

    def verify() -> None:
        report = profile.verify_request(parse(out["signed"]), trusted=[pki.ca.cert])
        assert report.valid and len(report.signatures) == ROWS

    def encrypt() -> None:
        out["encrypted"] = xmlenc.encrypt(
            out["big"], pki.fund.cert, sender_certificate=pki.mo.cert, layout="v1.1"
        )

    def decrypt() -> None:
        assert xmlenc.decrypt(out["encrypted"], pki.fund.key).plaintext == out["big"]

    t_sign = best(sign, repeat)
    t_verify = best(verify, repeat)
    message = out["signed"]
    # 100 KB to encrypt: a signed getNewLNNum request grown by a comment in the Header
    small = parse(msgs.get_new_ln_num(ogrn))
    profile.sign_body(small, ogrn, mo)
    envelope = to_bytes(small)
    filler = b"<!--" + b"x" * (ENCRYPT_SIZE - len(envelope) - 7) + b"-->"
    out["big"] = envelope.replace(b"<soapenv:Header>", b"<soapenv:Header>" + filler, 1)
    assert abs(len(out["big"]) - ENCRYPT_SIZE) < 8
    t_encrypt = best(encrypt, repeat)
    t_decrypt = best(decrypt, repeat)
    size = round(len(out["big"]) / 1024)
    return [
        (f"sign {ROWS} rows ({len(message) / 1024:.0f} KB message)", t_sign),
        (f"verify {ROWS} row signatures", t_verify),
        (f"encrypt {size} KB", t_encrypt),
        (f"decrypt {size} KB", t_decrypt),
    ]


def run(repeat: int) -> None:
    from gostsign import streebog

    backend = streebog.backend()
    for curve in CURVES:
        for what, seconds in bench_curve(curve, repeat):
            print(f"| {backend:<7} | {curve:<14} | {what:<32} | {seconds * 1000:9.1f} ms |")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is shown)")
    parser.add_argument("--backend", choices=("auto", "pure", "both"), default="both")
    args = parser.parse_args()
    if args.backend == "both":
        print("| hashing | curve          | operation                        |      time    |")
        print("|---------|----------------|----------------------------------|--------------|")
        sys.stdout.flush()
        for backend in ("auto", "pure"):
            env = dict(os.environ)
            if backend == "pure":
                env["GOSTSIGN_ACCEL"] = "0"
            subprocess.run(
                [sys.executable, __file__, "--backend", backend, "--repeat", str(args.repeat)],
                check=True,
                env=env,
            )
        return
    if args.backend == "pure":
        os.environ["GOSTSIGN_ACCEL"] = "0"
    run(args.repeat)


if __name__ == "__main__":
    main()
