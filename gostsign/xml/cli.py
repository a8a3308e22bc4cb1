"""``gostsign`` subcommands of the XML layer: sign-xml, verify-xml, encrypt-xml, decrypt-xml.

:func:`register` adds them to the ``gostsign`` parser (``gostsign.cli``). Bad input ends in a
:class:`~gostsign.errors.GostError` with one sentence, which ``gostsign.cli.main`` prints;
exit codes: 0 success, 1 a signature is invalid, 2 bad input.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from gostsign import keys
from gostsign.errors import GostError, InvalidInput, WrongPassword
from gostsign.gost3410 import PrivateKey
from gostsign.signer import SoftwareSigner
from gostsign.x509 import Certificate, load_certificates, load_crl
from gostsign.xml import profile, wssec, xmlenc
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.parse import to_bytes
from gostsign.xml.wssec import SignatureResult, VerificationReport

EXIT_OK, EXIT_INVALID, EXIT_INPUT = 0, 1, 2


# -- errors ------------------------------------------------------------------------------------


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn any stray low-level error into one sentence (GostError), never a traceback."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except GostError:
            raise
        except BrokenPipeError:
            return EXIT_OK
        except (ValueError, OSError, etree.LxmlError, UnicodeError) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidInput(f"{getattr(args, 'command', 'gostsign')}: {text}") from None

    return wrapper


# -- files -------------------------------------------------------------------------------------


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"file not found: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"is a directory, not a file: {path}") from None
    except PermissionError:
        raise InvalidInput(f"permission denied: {path}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def _write(path: str | None, data: bytes) -> None:
    if path is None or path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None


def _password(path: str | None) -> bytes | None:
    if path is None:
        return None
    lines = _read(path).splitlines()
    if not lines or not lines[0]:
        raise InvalidInput(f"password file is empty: {path}")
    return lines[0]


def _key(path: str, password_file: str | None) -> PrivateKey:
    data = _read(path)
    password = _password(password_file)
    try:
        if password is None and keys.is_encrypted(data):
            raise WrongPassword(f"{path} is encrypted; give its password with --password-file")
        return keys.load_private_key(data, password)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None


def _cert(path: str) -> Certificate:
    try:
        return Certificate.load(_read(path))
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None


def _certs(paths: list[str] | None) -> list[Certificate]:
    out: list[Certificate] = []
    for path in paths or []:
        try:
            found = load_certificates(_read(path))
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc}") from None
        if not found:
            raise InvalidInput(f"{path} holds no certificate")
        out.extend(found)
    return out


def _at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--at {text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date and time"
        ) from None
    if len(text.strip()) == 10:  # a plain date: noon UTC of that day
        return wssec.as_time(value.date())
    return wssec.as_time(value)


def _doc(path: str, what: str = "IN") -> Any:
    return parse_xml(_read(path), what=f"{what} ({path})")


# -- sign-xml ----------------------------------------------------------------------------------


def cmd_sign_xml(args: argparse.Namespace) -> int:
    key = _key(args.key, args.password_file)
    cert = _cert(args.cert)
    doc = _doc(args.input)
    signer = SoftwareSigner(key, cert)
    profile.locate(doc, args.id)
    wssec.sign(
        doc,
        args.id,
        args.actor,
        signer,
        with_comments=args.with_comments,
        mchd_uuid=args.mchd,
    )
    _write(args.output, to_bytes(doc))
    return EXIT_OK


# -- verify-xml --------------------------------------------------------------------------------


def _mark(value: bool | None) -> str:
    return {True: "ok", False: "FAIL", None: "-"}[value]


def _signer_text(res: SignatureResult) -> str:
    cert = res.certificate
    if cert is None:
        return "?"
    who = cert.common_name or cert.subject
    ids = []
    if cert.ogrn:
        ids.append(f"ОГРН {cert.ogrn}")
    if cert.ogrnip:
        ids.append(f"ОГРНИП {cert.ogrnip}")
    if cert.snils:
        ids.append(f"СНИЛС {cert.snils}")
    return f"{who}" + (f" ({', '.join(ids)})" if ids else "")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_report(report: VerificationReport, *, trust_checked: bool) -> str:
    """The verify-xml table: one line per signature, then the reasons."""
    lines = [
        f"checked at {report.at:%Y-%m-%d %H:%M:%S} UTC",
        f"{'#':>2}  {'actor':<52} {'Id':<26} {'digest':<6} {'sig':<4} {'cert':<4} "
        f"{'chain':<5} {'serial':<32} signer / result",
    ]
    for s in report.signatures:
        chain = _mark(s.certificate_trusted) if trust_checked else "-"
        serial = s.certificate.serial_hex if s.certificate else "?"
        result = "VALID" if s.valid else f"INVALID [{', '.join(sorted(set(s.reasons)))}]"
        lines.append(
            f"{s.index:>2}  {_clip(s.actor or '?', 52):<52} {_clip(s.reference_id or '?', 26):<26} "
            f"{_mark(s.digest_valid):<6} {_mark(s.signature_valid):<4} "
            f"{_mark(s.certificate_valid_at):<4} {chain:<5} {serial:<32} "
            f"{_signer_text(s)} — {result}"
        )
    details = []
    for s in report.signatures:
        for p in s.problems:
            details.append(f"  [{s.index}] {p.kind}/{p.reason}: {p.message}")
    for p in report.problems:
        details.append(f"  [message] {p.kind}/{p.reason}: {p.message}")
    if details:
        lines.append("")
        lines.extend(details)
    lines.append("")
    lines.append("RESULT: " + ("every signature is valid" if report.valid else "NOT VALID"))
    return "\n".join(lines)


def cmd_verify_xml(args: argparse.Namespace) -> int:
    doc = _doc(args.input)
    envelope = wssec.envelope_of(doc)
    from gostsign.xml.soap import raise_for_fault

    raise_for_fault(envelope)
    if xmlenc.is_encrypted(envelope):
        raise InvalidInput(
            f"{args.input} is encrypted; decrypt it first (gostsign decrypt-xml --key …)"
        )
    trusted = _certs(args.trust) if args.trust else None
    fund = _cert(args.fund_cert) if args.fund_cert else None
    crls = []
    for path in args.crl or []:
        try:
            crls.append(load_crl(_read(path)))
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc}") from None
    report = profile.verify(
        doc,
        at=_at(args.at),
        trusted=trusted,
        intermediates=_certs(args.intermediate),
        crls=crls,
        ogrn=args.ogrn,
        fund_certificate=fund,
        profile=not args.no_profile,
    )
    if fund is not None:
        # --fund-cert: the message is a reply of the Fund; its Body must carry the Fund's
        # signature (which check_profile has compared with the given certificate).
        actor = profile.fund_actor(fund.subject.ogrn or profile.FSS_OGRN)
        if not any(s.actor == actor for s in report.covering(wssec.body_of(envelope))):
            report.problems.append(
                wssec.Problem(
                    wssec.Reason.NO_SIGNATURE,
                    f"--fund-cert is given, but the Body is not signed under the Fund's actor "
                    f"{actor}",
                )
            )
    if args.json:
        data = report.to_dict()
        data["file"] = args.input
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(format_report(report, trust_checked=trusted is not None))
    return EXIT_OK if report.valid else EXIT_INVALID


# -- encrypt-xml / decrypt-xml -----------------------------------------------------------------


def cmd_encrypt_xml(args: argparse.Namespace) -> int:
    recipient = _cert(args.to)
    sender = _cert(args.sender_cert)
    data = _read(args.input)
    out = xmlenc.encrypt(
        data,
        recipient,
        sender_certificate=sender,
        layout=args.layout,
        sbox=args.sbox,
        key_meshing=args.meshing,
    )
    _write(args.output, out)
    return EXIT_OK


def cmd_decrypt_xml(args: argparse.Namespace) -> int:
    key = _key(args.key, args.password_file)
    result = xmlenc.decrypt(
        _read(args.input),
        key,
        key_meshing=args.meshing,
        content_sbox=args.sbox,
    )
    _write(args.output, result.plaintext)
    sender = result.sender_certificate
    if sender is not None:
        name = sender.subject.common_name or str(sender.subject)
        print(
            f"decrypted; layout {result.layout}, sender {name} (serial {sender.serial:x})",
            file=sys.stderr,
        )
    return EXIT_OK


# -- registration ------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add the XML subcommands to ``gostsign``'s subparsers."""
    p = subparsers.add_parser(
        "sign-xml", help="sign an element of a SOAP message (WS-Security, the Fund's layout)"
    )
    p.add_argument("--key", required=True, help="private key (PKCS#8 PEM/DER)")
    p.add_argument("--password-file", help="password of an encrypted key file")
    p.add_argument("--cert", required=True, help="the signer's certificate (PEM/DER)")
    p.add_argument(
        "--id", required=True, help="wsu:Id of the element to sign, e.g. OGRN_… or ELN_…"
    )
    p.add_argument(
        "--actor", required=True, help="soapenv:actor, e.g. http://eln.fss.ru/actor/mo/<ОГРН>"
    )
    p.add_argument("--with-comments", action="store_true", help="use exc-c14n#WithComments")
    p.add_argument("--mchd", metavar="UUID", help="add an МЧД (power of attorney) reference")
    p.add_argument("input", metavar="IN", help="the SOAP message ('-' for stdin)")
    p.add_argument("-o", "--output", metavar="OUT", help="where to write (default stdout)")
    p.set_defaults(func=_guarded(cmd_sign_xml))

    p = subparsers.add_parser(
        "verify-xml",
        help="verify every WS-Security signature; exit 0 only when all are valid",
    )
    p.add_argument("input", metavar="IN")
    p.add_argument("--trust", action="append", metavar="CA.pem", help="trusted root(s); repeatable")
    p.add_argument("--intermediate", action="append", metavar="CA.pem", help="intermediate CA(s)")
    p.add_argument("--crl", action="append", metavar="CRL.pem", help="CRL(s) to check against")
    p.add_argument("--fund-cert", metavar="CERT", help="the Fund's certificate (for replies)")
    p.add_argument("--ogrn", help="the МО's ОГРН (default: the request's ogrn)")
    p.add_argument("--at", metavar="DATE", help="check certificates at DATE (default now)")
    p.add_argument("--no-profile", action="store_true", help="skip the Fund's actor/Id/ОГРН rules")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_guarded(cmd_verify_xml))

    p = subparsers.add_parser(
        "encrypt-xml", help="encrypt a signed SOAP message for a recipient (GOST XML encryption)"
    )
    p.add_argument("--to", required=True, metavar="RECIPIENT.pem", help="recipient certificate")
    p.add_argument("--sender-cert", required=True, metavar="C", help="your certificate")
    p.add_argument("--layout", choices=xmlenc.LAYOUTS, default="v2.0")
    p.add_argument("--sbox", default=xmlenc.DEFAULT_SBOX, help="28147 S-box (default tc26-z)")
    p.add_argument("--meshing", action="store_true", help="CryptoPro key meshing in CBC")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", metavar="OUT")
    p.set_defaults(func=_guarded(cmd_encrypt_xml))

    p = subparsers.add_parser("decrypt-xml", help="decrypt a GOST-encrypted SOAP message")
    p.add_argument("--key", required=True, help="the recipient's private key")
    p.add_argument("--password-file")
    p.add_argument("--sbox", default=None, help="content S-box (default: the key transport's)")
    p.add_argument("--meshing", action="store_true", help="CryptoPro key meshing in CBC")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", metavar="OUT")
    p.set_defaults(func=_guarded(cmd_decrypt_xml))
