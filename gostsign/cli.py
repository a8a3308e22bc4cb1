"""The ``gostsign`` command: GOST keys, certificates, raw signatures and Fund-profile XML.

Every failure a person can cause (missing file, wrong password, not a GOST key, truncated
signature) ends with one sentence on stderr and a non-zero exit, never a traceback.
Exit codes: 0 success, 1 a signature or check is invalid, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from gostsign import keys, streebog, x509
from gostsign.curves import get_curve
from gostsign.errors import GostError, InvalidSignature
from gostsign.gost3410 import PrivateKey

EXIT_OK, EXIT_INVALID, EXIT_INPUT = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line or files, reported as one sentence."""


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"is a directory, not a file: {path}") from None
    except PermissionError:
        raise UsageError(f"permission denied: {path}") from None


def _write(path: str, data: bytes, *, private: bool = False) -> None:
    try:
        target = Path(path)
        if private:
            # Key files are created owner-only before any byte is written.
            target.touch(mode=0o600, exist_ok=True)
            target.chmod(0o600)
        target.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _password(path: str | None) -> bytes | None:
    """Read a password from a file (first line, without the line break)."""
    if path is None:
        return None
    raw = _read(path).splitlines()
    if not raw or not raw[0]:
        raise UsageError(f"password file is empty: {path}")
    return raw[0]


def _load_key(path: str, password_file: str | None) -> PrivateKey:
    data = _read(path)
    password = _password(password_file)
    if password is None and keys.is_encrypted(data):
        raise UsageError(f"{path} is encrypted; give its password with --password-file")
    return keys.load_private_key(data, password)


def _load_cert(path: str) -> x509.Certificate:
    return x509.load_certificate(_read(path))


# -- commands ----------------------------------------------------------------------------------


def cmd_digest(args: argparse.Namespace) -> int:
    print(streebog.digest(_read(args.file), args.bits).hex())
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    curve = get_curve(args.curve, bits=args.bits)
    key = PrivateKey.generate(curve)
    _write(args.output, keys.dump_private_key(key, _password(args.password_file)), private=True)
    print(f"{curve.name} ({curve.oid}), {curve.bits} bit -> {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_cert_new(args: argparse.Namespace) -> int:
    key = _load_key(args.key, args.password_file)
    issuer_cert = None
    issuer_key = key
    if args.ca_cert or args.ca_key:
        if not (args.ca_cert and args.ca_key):
            raise UsageError("--ca-key and --ca-cert go together")
        issuer_cert = _load_cert(args.ca_cert)
        issuer_key = _load_key(args.ca_key, args.ca_password_file)
    cert = x509.issue_certificate(
        subject_key_pub=key.public_key(),
        subject=args.subject,
        issuer_key=issuer_key,
        issuer_cert=issuer_cert,
        days=args.days,
        ca=args.ca,
        ogrn=args.ogrn,
        snils=args.snils,
        inn=args.inn,
    )
    _write(args.output, cert.pem)
    print(f"serial {cert.serial_hex} -> {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_cert_show(args: argparse.Namespace) -> int:
    print(x509.describe(_load_cert(args.cert)))
    return EXIT_OK


def cmd_sign(args: argparse.Namespace) -> int:
    key = _load_key(args.key, args.password_file)
    if args.bits is not None and args.bits != key.curve.bits:
        raise UsageError(
            f"the key is {key.curve.bits}-bit; it cannot make a {args.bits}-bit signature"
        )
    _write(args.output, key.sign(_read(args.file)))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    cert = _load_cert(args.cert)
    try:
        cert.public_key.verify(_read(args.file), _read(args.sig))
    except InvalidSignature as exc:
        print(f"INVALID: {exc}")
        return EXIT_INVALID
    print(f"OK: signed by {cert.subject_text} (serial {cert.serial_hex})")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Show the library at work on a throw-away test PKI."""
    from gostsign import testpki

    with tempfile.TemporaryDirectory(prefix="gostsign-demo-") as tmp:
        print("gostsign: демонстрация ГОСТ Р 34.10-2012 / 34.11-2012\n")
        pki = testpki.create_test_pki()
        written = pki.write(Path(tmp))
        print(f"Тестовые ключи и сертификаты (временно): {written['ca'].parent}\n")
        for title, cert in (
            ("Удостоверяющий центр", pki.ca.cert),
            ("Сертификат МО", pki.mo.cert),
            ("Сертификат врача", pki.doctor.cert),
        ):
            print(f"== {title}")
            print(x509.describe(cert))
            print()
        x509.verify_chain(pki.mo.cert, [], [pki.ca.cert])
        print("Цепочка МО -> УЦ проверена.")
        data = "Электронный листок нетрудоспособности № 900000000001".encode()
        sig = pki.mo.key.sign(data)
        print(f"Стрибог-256: {streebog.streebog256(data).hex()}")
        print(f"Подпись МО (s||r): {sig.hex()}")
        pki.mo.cert.public_key.verify(data, sig)
        print("Подпись проверена: верна.")
        try:
            pki.mo.cert.public_key.verify(data + b".", sig)
        except InvalidSignature:
            print("Изменённые данные: подпись не верна (как и должно быть).")
        print(f"\nХэширование: {streebog.backend()}")
    return EXIT_OK


# -- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gostsign",
        description="GOST R 34.10-2012 keys, certificates, signatures and Fund XML security",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("digest", help="print the Streebog hash of a file")
    p.add_argument("--bits", type=int, choices=(256, 512), default=256)
    p.add_argument("file")
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("keygen", help="generate a private key (PKCS#8 PEM)")
    p.add_argument("--curve", required=True, help="e.g. cryptopro-a, tc26-256-b, tc26-512-a, XA")
    p.add_argument("--bits", type=int, choices=(256, 512), default=None)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--password-file", help="encrypt the key with the password in this file")
    p.set_defaults(func=cmd_keygen)

    cert = sub.add_parser("cert", help="issue or show certificates")
    csub = cert.add_subparsers(dest="cert_command", required=True, metavar="SUBCOMMAND")
    p = csub.add_parser("new", help="issue a certificate (self-signed without --ca-key)")
    p.add_argument("--key", required=True)
    p.add_argument("--password-file")
    p.add_argument("--subject", required=True, help='e.g. "CN=Иванов И.И.,O=ГБУЗ Больница"')
    p.add_argument("--ogrn")
    p.add_argument("--snils")
    p.add_argument("--inn")
    p.add_argument("--ca", action="store_true", help="issue a CA certificate")
    p.add_argument("--ca-key")
    p.add_argument("--ca-password-file")
    p.add_argument("--ca-cert")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_cert_new)
    p = csub.add_parser("show", help="describe a certificate")
    p.add_argument("cert")
    p.set_defaults(func=cmd_cert_show)

    p = sub.add_parser("sign", help="raw signature (s||r) of a file's Streebog hash")
    p.add_argument("--key", required=True)
    p.add_argument("--password-file")
    p.add_argument("--bits", type=int, choices=(256, 512))
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("verify", help="verify a raw signature; exit 0 valid, 1 invalid")
    p.add_argument("--cert", required=True)
    p.add_argument("--sig", required=True)
    p.add_argument("file")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("demo", help="demonstrate the library on a throw-away test PKI")
    p.set_defaults(func=cmd_demo)

    try:
        from gostsign.xml import cli as xml_cli
    except ImportError:  # pragma: no cover - the XML layer is part of the package
        pass
    else:
        xml_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as exc:
        print(f"gostsign: {exc}", file=sys.stderr)
    except GostError as exc:
        print(f"gostsign: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("gostsign: interrupted", file=sys.stderr)
        return 130
    return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
