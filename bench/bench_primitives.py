"""GOST primitives: ours against OpenSSL's gost engine, in the same process and run.

Run: python bench/bench_primitives.py [--seconds S] [--repeat N]
Needs the gost engine (scripts/install-test-oracles.sh). OpenSSL is driven in-process through
ctypes so that its figures carry no process start-up cost; ours are measured both on the pure
Python path and with hashing accelerated through the engine (gostsign._libcrypto).

The second table signs a 30-row registry message (prParseFilelnlpu, one МО signature per row)
three ways: pure (GOSTSIGN_ACCEL=0, in a child process), accel (hashing through the engine, the
curve arithmetic ours) and engine (hashing and the signature itself through the engine: a
Signer over EVP_PKEY_sign with the same key). The ratio pure/engine is the issue's criterion
for an accelerated signing path (needed above 20x).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import functools
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


MESSAGE_ROWS = 30
MESSAGE_CURVES = ("cryptopro-xcha", "tc26-512-a")


class OpenSSLSigner:
    """A gostsign Signer whose signature is computed by the gost engine (EVP_PKEY_sign)."""

    def __init__(self, ossl: OpenSSL, key_pem: bytes, certificate: object) -> None:
        self._pkey = ossl.load_key(key_pem)
        self._lib = ossl.lib
        self._certificate = certificate

    @property
    def certificate(self) -> object:
        return self._certificate

    def sign_digest(self, digest: bytes) -> bytes:
        ctx = self._lib.EVP_PKEY_CTX_new(self._pkey, None)
        out = ctypes.create_string_buffer(128)
        size = ctypes.c_size_t(128)
        try:
            if self._lib.EVP_PKEY_sign_init(ctx) != 1:
                raise RuntimeError("EVP_PKEY_sign_init failed")
            if self._lib.EVP_PKEY_sign(ctx, out, ctypes.byref(size), digest, len(digest)) != 1:
                raise RuntimeError("EVP_PKEY_sign failed")
        finally:
            self._lib.EVP_PKEY_CTX_free(ctx)
        return out.raw[: size.value]


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sign_message(unsigned: bytes, ogrn: str, signer: object, check: bool) -> bytes:
    """What profile.sign_row does for every row; the product always self-checks every new
    signature (ours, curve arithmetic in Python); check=False shows the bare engine cost."""
    from gostsign.xml import profile, wssec
    from gostsign.xml.parse import parse, to_bytes
    from tests.gostsign import xml_messages as msgs

    doc = parse(unsigned)
    for i in range(MESSAGE_ROWS):
        code = msgs.ln_code(i)
        profile.set_wsu_id(profile.find_row(doc, code), profile.row_id(code))
        wssec.sign(
            doc,
            profile.row_id(code),
            profile.row_actor(ogrn, code),
            signer,  # type: ignore[arg-type]
            self_check=check,
        )
    return to_bytes(doc)


def message_times(repeat: int, ossl: OpenSSL | None) -> dict[str, float]:
    """Seconds to sign a 30-row message per curve: ours (current backend) and, with an
    OpenSSL handle, with the signature computed by the engine too."""
    from gostsign import testpki
    from gostsign.signer import SoftwareSigner
    from gostsign.xml import profile
    from gostsign.xml.parse import parse
    from tests.gostsign import xml_messages as msgs

    result: dict[str, float] = {}
    for curve_name in MESSAGE_CURVES:
        pki = testpki.create_test_pki(curve_name)
        ogrn = pki.mo.cert.subject.ogrn or ""
        unsigned = msgs.pr_parse(ogrn, MESSAGE_ROWS, periods=3)
        signers: dict[str, object] = {"ours": SoftwareSigner(pki.mo.key, pki.mo.cert)}
        if ossl is not None:
            signers["engine"] = OpenSSLSigner(ossl, pki.mo.key_pem(), pki.mo.cert)
        runs = [(label, signer, True) for label, signer in signers.items()]
        if ossl is not None:
            runs.append(("engine-nocheck", signers["engine"], False))
        for label, signer, check in runs:
            sign = functools.partial(sign_message, unsigned, ogrn, signer, check)
            signed = sign()
            report = profile.verify_request(parse(signed), trusted=[pki.ca.cert])
            assert report.valid and len(report.signatures) == MESSAGE_ROWS, label
            result[f"{label}:{curve_name}"] = best(sign, repeat)
    return result


def message_table(repeat: int, ossl: OpenSSL) -> None:
    child = subprocess.run(
        [sys.executable, __file__, "--message-child", "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "GOSTSIGN_ACCEL": "0"},
    )
    pure = {k: float(v) for k, v in (line.split() for line in child.stdout.splitlines())}
    here = message_times(repeat, ossl)
    print(
        f"\n{'sign a 30-row message':24} {'pure':>9} {'accel':>9} {'engine':>9} "
        f"{'engine*':>9} {'pure/engine':>12} {'pure/engine*':>13}"
    )
    for curve_name in MESSAGE_CURVES:
        p = pure[f"ours:{curve_name}"]
        a = here[f"ours:{curve_name}"]
        e = here[f"engine:{curve_name}"]
        n = here[f"engine-nocheck:{curve_name}"]
        print(
            f"{curve_name:24} {p * 1000:7.1f}ms {a * 1000:7.1f}ms {e * 1000:7.1f}ms "
            f"{n * 1000:7.1f}ms {p / e:11.1f}x {p / n:12.1f}x"
        )
    print("engine* = without the self-check of each new signature (the product always checks)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--repeat", type=int, default=3, help="message signing runs (best is shown)")
    ap.add_argument("--message-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.message_child:  # the pure run of message_table, in a GOSTSIGN_ACCEL=0 process
        for key, seconds in message_times(args.repeat, None).items():
            print(key, seconds)
        return
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
    message_table(args.repeat, ossl)
    print(
        f"\nhash backend in use by default: {streebog.backend()}; python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
