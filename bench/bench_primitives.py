"""GOST primitives: ours against OpenSSL's gost engine, in the same process and run.

Run: python bench/bench_primitives.py [--seconds S]
Needs the gost engine (scripts/install-test-oracles.sh). OpenSSL is driven in-process through
ctypes so that its figures carry no process start-up cost; ours are measured both on the pure
Python path and with hashing accelerated through the engine (gostsign._libcrypto).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gostsign import streebog
from gostsign.curves import get_curve
from gostsign.gost3410 import PrivateKey

CONF = os.environ.get("OPENSSL_CONF", "/opt/gost-oracles/etc/openssl-gost.cnf")


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Operations per second of fn over about ``seconds``."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


class OpenSSL:
    """Just enough of libcrypto's EVP API to sign, verify and hash in-process."""

    def __init__(self) -> None:
        os.environ["OPENSSL_CONF"] = CONF
        lib = ctypes.CDLL(ctypes.util.find_library("crypto"))
        # Python's hashlib has initialised libcrypto already, so load the engine config
        # explicitly rather than through OPENSSL_init_crypto.
        lib.CONF_modules_load_file.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong]
        if lib.CONF_modules_load_file(CONF.encode(), None, 0) != 1:
            raise RuntimeError(f"OpenSSL could not load {CONF}")
        for name, res, args in (
            ("BIO_new_mem_buf", ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]),
            ("PEM_read_bio_PrivateKey", ctypes.c_void_p, [ctypes.c_void_p] * 4),
            ("EVP_PKEY_CTX_new", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p]),
            ("EVP_PKEY_CTX_free", None, [ctypes.c_void_p]),
            ("EVP_PKEY_sign_init", ctypes.c_int, [ctypes.c_void_p]),
            ("EVP_PKEY_verify_init", ctypes.c_int, [ctypes.c_void_p]),
            (
                "EVP_PKEY_sign",
                ctypes.c_int,
                [
                    ctypes.c_void_p,
                    ctypes.c_char_p,
                    ctypes.POINTER(ctypes.c_size_t),
                    ctypes.c_char_p,
                    ctypes.c_size_t,
                ],
            ),
            (
                "EVP_PKEY_verify",
                ctypes.c_int,
                [
                    ctypes.c_void_p,
                    ctypes.c_char_p,
                    ctypes.c_size_t,
                    ctypes.c_char_p,
                    ctypes.c_size_t,
                ],
            ),
            ("EVP_get_digestbyname", ctypes.c_void_p, [ctypes.c_char_p]),
            (
                "EVP_Digest",
                ctypes.c_int,
                [
                    ctypes.c_char_p,
                    ctypes.c_size_t,
                    ctypes.c_char_p,
                    ctypes.POINTER(ctypes.c_uint),
                    ctypes.c_void_p,
                    ctypes.c_void_p,
                ],
            ),
        ):
            fn = getattr(lib, name)
            fn.restype = res
            fn.argtypes = args
        self.lib = lib

    def load_key(self, pem: bytes) -> int:
        bio = self.lib.BIO_new_mem_buf(pem, len(pem))
        pkey = self.lib.PEM_read_bio_PrivateKey(bio, None, None, None)
        if not pkey:
            raise RuntimeError("OpenSSL could not load the GOST key (engine not configured?)")
        return int(pkey)

    def signer(self, pkey: int, digest: bytes) -> tuple[Callable[[], bytes], Callable[[], bool]]:
        lib = self.lib
        out = ctypes.create_string_buffer(128)

        def sign() -> bytes:
            ctx = lib.EVP_PKEY_CTX_new(pkey, None)
            lib.EVP_PKEY_sign_init(ctx)
            size = ctypes.c_size_t(128)
            ok = lib.EVP_PKEY_sign(ctx, out, ctypes.byref(size), digest, len(digest))
            lib.EVP_PKEY_CTX_free(ctx)
            assert ok == 1
            return out.raw[: size.value]

        sig = sign()

        def verify() -> bool:
            ctx = lib.EVP_PKEY_CTX_new(pkey, None)
            lib.EVP_PKEY_verify_init(ctx)
            ok = lib.EVP_PKEY_verify(ctx, sig, len(sig), digest, len(digest))
            lib.EVP_PKEY_CTX_free(ctx)
            return bool(ok == 1)

        return sign, verify

    def hasher(self, bits: int, data: bytes) -> Callable[[], bytes]:
        md = self.lib.EVP_get_digestbyname(f"md_gost12_{bits}".encode())
        out = ctypes.create_string_buffer(64)

        def run() -> bytes:
            size = ctypes.c_uint(0)
            self.lib.EVP_Digest(data, len(data), out, ctypes.byref(size), md, None)
            return out.raw[: size.value]

        return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=1.5)
    args = ap.parse_args()
    ossl = OpenSSL()  # before gostsign touches libcrypto, so OPENSSL_CONF loads the engine
    rows: list[tuple[str, float, float, float]] = []

    mib = os.urandom(1 << 20)
    small = os.urandom(64 << 10)
    for bits in (256, 512):
        pure = rate(lambda b=bits: streebog.digest(small, b, pure=True), args.seconds)
        pure_mbs = pure * len(small) / 1e6
        accel_mbs = rate(lambda b=bits: streebog.digest(mib, b), args.seconds) * len(mib) / 1e6
        ossl_mbs = rate(ossl.hasher(bits, mib), args.seconds) * len(mib) / 1e6
        rows.append((f"Streebog-{bits}, MB/s", pure_mbs, accel_mbs, ossl_mbs))

    with tempfile.TemporaryDirectory() as tmp:
        for alg, paramset, curve_name in (
            ("gost2012_256", "A", "cryptopro-a"),
            ("gost2012_512", "A", "tc26-512-a"),
        ):
            keyfile = Path(tmp) / f"{alg}.pem"
            subprocess.run(
                [
                    "openssl",
                    "genpkey",
                    "-algorithm",
                    alg,
                    "-pkeyopt",
                    f"paramset:{paramset}",
                    "-out",
                    str(keyfile),
                ],
                check=True,
                env={**os.environ, "OPENSSL_CONF": CONF},
                capture_output=True,
            )
            pkey = ossl.load_key(keyfile.read_bytes())
            curve = get_curve(curve_name)
            digest = os.urandom(curve.size)
            o_sign, o_verify = ossl.signer(pkey, digest)
            assert o_verify()
            key = PrivateKey.generate(curve)
            pub = key.public_key()
            sig = key.sign_digest(digest)
            ours_sign = rate(lambda k=key, d=digest: k.sign_digest(d), args.seconds)
            ours_verify = rate(lambda p=pub, d=digest, s=sig: p.verify_digest(d, s), args.seconds)
            rows.append(
                (
                    f"{curve.bits}-bit sign ({curve_name}), ops/s",
                    ours_sign,
                    ours_sign,
                    rate(o_sign, args.seconds),
                )
            )
            rows.append(
                (
                    f"{curve.bits}-bit verify ({curve_name}), ops/s",
                    ours_verify,
                    ours_verify,
                    rate(o_verify, args.seconds),
                )
            )

    print(
        f"{'operation':40} {'ours pure':>12} {'ours accel':>12} {'OpenSSL':>12} "
        f"{'OpenSSL/pure':>13} {'OpenSSL/accel':>14}"
    )
    for name, pure_v, accel_v, ossl_v in rows:
        print(
            f"{name:40} {pure_v:12.2f} {accel_v:12.2f} {ossl_v:12.2f} "
            f"{ossl_v / pure_v:12.1f}x {ossl_v / accel_v:13.1f}x"
        )
    print(
        f"\nhash backend in use by default: {streebog.backend()}; python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
