"""The emulator's HTTP side: :class:`Emulator` (embeddable) and the ``eln-fss-emulator`` command.

Routes (``{svc}`` = one of the service paths of :data:`fss_emulator.dialects.ENDPOINTS`)::

    POST {svc}                    a SOAP request
    GET  {svc}?wsdl, ?xsd=…       the service description (addresses point at the emulator)
    GET  /                        what is served where, and the certificate files
    GET  /_emulator/info          the same as JSON;  GET /_emulator/fund.pem, /_emulator/ca.pem
    GET|POST|DELETE /_emulator/faults[/<id>]   fault injection (JSON)
    POST /_emulator/trust         trust the CA certificate(s) in the PEM body

``/_emulator/*`` answers loopback clients only.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from fss_emulator import wsdl
from fss_emulator.dialects import ENDPOINTS, Endpoint, Version, endpoint_for
from fss_emulator.faults import Fault, FaultInjector, FaultKind
from fss_emulator.identity import (
    DEFAULT_CURVE,
    FSS_OGRN,
    Identity,
    load_or_create,
    load_trusted,
)
from fss_emulator.model import Eln
from fss_emulator.operations import new_hash
from fss_emulator.replies import Names
from fss_emulator.security import Representatives, fund_actor
from fss_emulator.service import MAX_REQUEST_BYTES, Config, Service, Trust
from fss_emulator.store import Store, StoredEln
from gostsign.gost3410 import PrivateKey
from gostsign.keys import load_private_key
from gostsign.x509 import Certificate, CertificateRevocationList, load_certificates

log = logging.getLogger("fss_emulator")

ADMIN = "/_emulator"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: Emulator


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "FssEmulator/1.0"

    # -- plumbing ---------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False, indent=2).encode()
        self._send(status, body, "application/json; charset=utf-8")

    def _text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True  # where the body ends is unknown
            self._text(400, "bad Content-Length\n")
            return None
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True  # the unread body must not be taken for a request
            self._text(413, "request too large\n")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            return False

    def _service_url(self, endpoint: Endpoint) -> str:
        host = (
            self.headers.get("Host") or f"{self.server.emulator.host}:{self.server.emulator.port}"
        )
        return f"http://{host}{endpoint.path}"

    # -- verbs ------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        emu = self.server.emulator
        endpoint = endpoint_for(url.path)
        if endpoint is not None:
            if not url.query:
                self._text(
                    200,
                    f"FileOperationsLnService v{endpoint.version}: POST SOAP here; "
                    f"the description is at {self._service_url(endpoint)}?wsdl\n",
                )
                return
            doc = wsdl.document(endpoint.version, unquote(url.query), self._service_url(endpoint))
            if doc is None:
                self._text(404, "no such document\n")
            else:
                self._send(200, doc, "text/xml; charset=utf-8")
            return
        if url.path in ("", "/"):
            self._text(200, emu.describe())
            return
        if url.path.startswith(ADMIN):
            if not self._loopback():
                self._text(403, "the admin endpoint answers loopback clients only\n")
                return
            sub = url.path[len(ADMIN) :]
            if sub == "/info":
                self._json(200, emu.info())
            elif sub == "/fund.pem":
                self._send(200, emu.fund_cert.pem, "application/x-pem-file")
            elif sub == "/ca.pem":
                self._send(200, emu.ca_cert.pem, "application/x-pem-file")
            elif sub == "/faults":
                self._json(200, [f.to_dict() for f in emu.faults.active()])
            else:
                self._text(404, "not found\n")
            return
        self._text(404, "not found\n")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        emu = self.server.emulator
        body = self._body()
        if body is None:
            return
        endpoint = endpoint_for(url.path)
        if endpoint is not None:
            reply = emu.service.handle(endpoint, body, self.headers.get("SOAPAction"))
            self._send(reply.status, reply.body, reply.content_type)
            return
        if not url.path.startswith(ADMIN):
            self._text(404, "not found\n")
            return
        if not self._loopback():
            self._text(403, "the admin endpoint answers loopback clients only\n")
            return
        sub = url.path[len(ADMIN) :]
        try:
            if sub == "/faults":
                data = json.loads(body or b"{}")
                items = data if isinstance(data, list) else [data]
                for item in items:
                    if not isinstance(item, dict):
                        raise ValueError("a fault is a JSON object")
                    emu.faults.add(Fault.from_dict(item))
                self._json(200, [f.to_dict() for f in emu.faults.active()])
            elif sub == "/trust":
                certs = load_certificates(body)
                emu.add_trusted(*certs)
                self._json(200, {"trusted": [str(c.subject) for c in certs]})
            else:
                self._text(404, "not found\n")
        except (ValueError, TypeError, RecursionError) as exc:
            self._json(400, {"error": str(exc)})

    def do_DELETE(self) -> None:
        url = urlsplit(self.path)
        emu = self.server.emulator
        if not url.path.startswith(f"{ADMIN}/faults"):
            self._text(404, "not found\n")
            return
        if not self._loopback():
            self._text(403, "the admin endpoint answers loopback clients only\n")
            return
        rest = url.path[len(f"{ADMIN}/faults") :].strip("/")
        if not rest:
            emu.faults.clear()
        elif not (rest.isdigit() and emu.faults.remove(int(rest))):
            self._text(404, "no such fault\n")
            return
        self._json(200, [f.to_dict() for f in emu.faults.active()])


def _as_cert(value: Certificate | bytes | str | Path) -> Certificate:
    if isinstance(value, Certificate):
        return value
    if isinstance(value, Path):
        return Certificate.load(value.read_bytes())
    return Certificate.load(value)


class Emulator:
    """The Fund's service in a box, served from a background thread.

    ``Emulator(data_dir).start()`` binds ``host:port`` (``port=0``: a free port), creates or
    loads the Fund's key and certificate and a test CA in ``data_dir`` and serves every
    endpoint. Use as a context manager or call :meth:`stop`.
    """

    def __init__(
        self,
        data_dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        plain: bool = False,
        *,
        trust: Iterable[Certificate | bytes | str | Path] = (),
        intermediates: Iterable[Certificate] = (),
        crls: Iterable[CertificateRevocationList] = (),
        fund_key: PrivateKey | None = None,
        fund_cert: Certificate | None = None,
        ca_cert: Certificate | None = None,
        ca_key: PrivateKey | None = None,
        fund_ogrn: str = FSS_OGRN,
        curve: str = DEFAULT_CURVE,
        verify_at: datetime | date | None = None,
        lenient_actors: bool = False,
        reply_names: Names = "xsd",
        require_issued_numbers: bool = True,
        self_check: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self._port = port
        self.identity: Identity = load_or_create(
            self.data_dir,
            fund_key=fund_key,
            fund_cert=fund_cert,
            ca_cert=ca_cert,
            ca_key=ca_key,
            fund_ogrn=fund_ogrn,
            curve=curve,
        )
        if isinstance(verify_at, date) and not isinstance(verify_at, datetime):
            verify_at = datetime.combine(verify_at, time(12, 0), tzinfo=UTC)
        self.config = Config(
            plain=plain,
            lenient_actors=lenient_actors,
            reply_names=reply_names,
            require_issued_numbers=require_issued_numbers,
            verify_at=verify_at,
            self_check=self_check,
        )
        self.trust = Trust(
            roots=[self.identity.ca_cert],
            intermediates=list(intermediates),
            crls=list(crls),
            representatives=Representatives(by_thumbprint={}),
        )
        trusted_dir = self.data_dir / "trusted"
        if trusted_dir.is_dir():
            self.add_trusted(*load_trusted([trusted_dir]))
        self.add_trusted(*(_as_cert(c) for c in trust))
        self.store = Store(self.data_dir / "state.sqlite3")
        self.faults = FaultInjector()
        self.service = Service(self.identity, self.store, self.config, self.faults, self.trust)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life -------------------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self._port), _Handler)
        server.emulator = self
        self._server = server
        self._port = server.server_address[1]
        # a short poll keeps stop() quick (tests start and stop many emulators)
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fss-emulator:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.store.close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` is called from elsewhere."""
        self.start()
        assert self._thread is not None
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where ------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        if self._server is None and self._port == 0:
            raise RuntimeError("the emulator is not started: its port is not known yet")
        return f"http://{self.host}:{self._port}"

    def endpoint_url(self, version: Version = "2.0", encrypted: bool | None = None) -> str:
        """The URL of a service endpoint; ``encrypted=None`` follows the emulator's mode."""
        if encrypted is None:
            encrypted = not self.config.plain
        for ep in ENDPOINTS:
            if ep.version == version and ep.encrypted == encrypted:
                return self.base_url + ep.path
        raise ValueError(f"no endpoint for v{version}")

    @property
    def url(self) -> str:
        """The v2.0 service URL in the emulator's mode (crypto, or plain with ``plain``)."""
        return self.endpoint_url("2.0")

    @property
    def url_v11(self) -> str:
        return self.endpoint_url("1.1")

    # -- who --------------------------------------------------------------------------------------

    @property
    def fund_cert(self) -> Certificate:
        return self.identity.fund_cert

    @property
    def fund_key(self) -> PrivateKey:
        return self.identity.fund_key

    @property
    def ca_cert(self) -> Certificate:
        return self.identity.ca_cert

    @property
    def ca_key(self) -> PrivateKey | None:
        return self.identity.ca_key

    @property
    def fund_ogrn(self) -> str:
        return self.identity.fund_ogrn

    @property
    def fund_actor(self) -> str:
        return fund_actor(self.fund_ogrn)

    @property
    def paths(self) -> dict[str, Path]:
        """Files written to the data directory (certificates, keys, demo parties)."""
        return dict(self.identity.paths)

    # -- trust ------------------------------------------------------------------------------------

    def add_trusted(self, *certs: Certificate) -> None:
        """Trust these CA (or leaf) certificates as roots."""
        with self.trust.lock:
            for cert in certs:
                if cert not in self.trust.roots:
                    self.trust.roots.append(cert)

    def add_intermediate(self, *certs: Certificate) -> None:
        with self.trust.lock:
            self.trust.intermediates.extend(certs)

    def add_crl(self, crl: CertificateRevocationList) -> None:
        with self.trust.lock:
            self.trust.crls.append(crl)

    def add_representative(self, cert: Certificate, ogrn: str) -> None:
        """Register ``cert`` as allowed to sign for ``ogrn`` without carrying it."""
        with self.trust.lock:
            self.trust.representatives.by_thumbprint.setdefault(cert.thumbprint, set()).add(ogrn)

    # -- faults and state -------------------------------------------------------------------------

    def inject(self, kind: FaultKind, **options: Any) -> Fault:
        """Activate a fault (see :class:`fss_emulator.faults.Fault` for the options)."""
        return self.faults.add(kind, **options)

    def clear_faults(self) -> None:
        self.faults.clear()

    def eln(self, ln_code: str) -> StoredEln | None:
        return self.store.eln(ln_code)

    def seed_eln(
        self,
        ln_code: str,
        snils: str,
        ogrn: str,
        *,
        state: str = "010",
        treat_dt1: str = "2020-08-20",
        treat_dt2: str = "2020-08-24",
        **fields: str | bool | None,
    ) -> str:
        """Put an ELN into the Fund's state as if another МО had sent it (a «foreign» ELN for
        getLNData, or the spec examples' numbers); ``fields`` override row fields by their
        v2.0 names. Returns its lnHash."""
        eln = Eln(
            fields={
                "snils": snils,
                "surname": "ТЕСТОВ",
                "name": "ТЕСТ",
                "lnCode": ln_code,
                "primaryFlag": True,
                "duplicateFlag": False,
                "lnDate": treat_dt1,
                "lpuName": "МО (загружено в эмулятор)",
                "lpuAddress": "г. Москва",
                "lpuOgrn": ogrn,
                "birthday": "1980-01-01",
                "gender": "0",
                "reason1": "01",
                "writtenAgreementFlag": True,
                **fields,
            },
            periods=[
                {
                    "treatChairman": None,
                    "treatChairmanRole": None,
                    "treatDt1": treat_dt1,
                    "treatDt2": treat_dt2,
                    "idDoctor": None,
                    "treatDoctorRole": "ТЕРАПЕВТ",
                    "treatDoctor": "ИВАНОВА М П",
                }
            ],
            ln_state=state,
            ln_hash=new_hash(),
        )
        self.store.save_eln(eln, ogrn=ogrn, action="seed", request_id=None)
        assert eln.ln_hash is not None
        return eln.ln_hash

    def set_eln_state(self, ln_code: str, state: str) -> str:
        """Move an ELN to a state the MO cannot set (050 MSE, 060–080 employer, payment), as
        the Fund's other parties would; returns the new lnHash."""
        with self.store.transaction():
            stored = self.store.eln(ln_code)
            if stored is None:
                raise KeyError(ln_code)
            eln = stored.eln
            eln.ln_state, eln.ln_hash = state, new_hash()
            self.store.save_eln(eln, ogrn=self.fund_ogrn, action=f"set:{state}", request_id=None)
            return eln.ln_hash

    # -- description ------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        running = self._server is not None
        return {
            "mode": "plain" if self.config.plain else "encrypted",
            "endpoints": {
                ep.path: {
                    "version": ep.version,
                    "encrypted": ep.encrypted and not self.config.plain,
                    "url": (self.base_url + ep.path) if running else None,
                }
                for ep in ENDPOINTS
            },
            "fund": {
                "ogrn": self.fund_ogrn,
                "actor": self.fund_actor,
                "subject": str(self.fund_cert.subject),
                "serial": self.fund_cert.serial_hex,
                "not_after": self.fund_cert.not_after.isoformat(),
            },
            "files": {k: str(v) for k, v in self.paths.items()},
            "trusted": [str(c.subject) for c in self.trust.snapshot()[0]],
            "data_dir": str(self.data_dir),
        }

    def describe(self) -> str:
        lines = ["ФСС emulator («ЕИИС Соцстрах», FileOperationsLnService)"]
        mode = "plain (signed, not encrypted)" if self.config.plain else "encrypted"
        lines.append(f"  mode: {mode}; data: {self.data_dir}")
        if self._server is not None:
            for ep in ENDPOINTS:
                enc = ep.encrypted and not self.config.plain
                kind = "encrypted" if enc else "plain"
                lines.append(f"  v{ep.version} {kind:9} {self.base_url}{ep.path}  (?wsdl)")
        lines.append(
            f"  Fund certificate (encrypt requests to it, verify replies with it): "
            f"{self.paths.get('fund', '(given)')}"
        )
        lines.append(f"  Fund actor: {self.fund_actor}")
        lines.append(
            f"  test CA (trusted; issue МО/doctor certificates under it): "
            f"{self.paths.get('ca', '(given)')}"
        )
        for name in ("mo", "doctor", "chairman"):
            if f"demo/{name}" in self.paths:
                lines.append(
                    f"  demo {name}: {self.paths[f'demo/{name}']} + "
                    f"{self.paths[f'demo/{name}.key']}"
                )
        extra = len(self.trust.snapshot()[0]) - 1
        if extra > 0:
            lines.append(f"  also trusted: {extra} more CA certificate(s)")
        return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="eln-fss-emulator",
        description="A local emulator of the Fund's ELN service (FileOperationsLnService).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    p.add_argument("--data", required=True, type=Path, help="directory for keys and state")
    p.add_argument("--plain", action="store_true", help="signed, not encrypted, everywhere")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        type=Path,
        metavar="CA.pem",
        help="trust this CA certificate (repeatable; a directory: every *.pem in it)",
    )
    p.add_argument("--fund-cert", type=Path, help="use this Fund certificate (with --fund-key)")
    p.add_argument("--fund-key", type=Path, help="the Fund's private key (PEM, PKCS#8)")
    p.add_argument("--fund-key-password", help="password of an encrypted --fund-key")
    p.add_argument("--ca-cert", type=Path, help="issue the Fund certificate under this CA")
    p.add_argument("--ca-key", type=Path, help="the key of --ca-cert")
    p.add_argument("--fund-ogrn", default=FSS_OGRN, help="ОГРН in a new Fund certificate")
    p.add_argument(
        "--lenient-actors",
        action="store_true",
        help="accept actor/token-Id slips as in the spec's own examples",
    )
    p.add_argument(
        "--reply-names",
        choices=("xsd", "printed"),
        default="xsd",
        help="element names of replies: the XSD's (default) or the spec examples'",
    )
    p.add_argument(
        "--any-number",
        action="store_true",
        help="accept new ELNs whose number was not issued by this emulator",
    )
    p.add_argument(
        "--verify-at",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="check certificates as of this day (for old, expired test certificates)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        fund_key = fund_cert = ca_key = ca_cert = None
        if args.fund_cert or args.fund_key:
            if not (args.fund_cert and args.fund_key):
                raise ValueError("--fund-cert and --fund-key go together")
            fund_cert = Certificate.load(args.fund_cert.read_bytes())
            fund_key = load_private_key(args.fund_key.read_bytes(), args.fund_key_password)
        if args.ca_cert or args.ca_key:
            if not (args.ca_cert and args.ca_key):
                raise ValueError("--ca-cert and --ca-key go together")
            ca_cert = Certificate.load(args.ca_cert.read_bytes())
            ca_key = load_private_key(args.ca_key.read_bytes())
        emulator = Emulator(
            args.data,
            args.host,
            args.port,
            args.plain,
            trust=load_trusted(args.trust),
            fund_key=fund_key,
            fund_cert=fund_cert,
            ca_cert=ca_cert,
            ca_key=ca_key,
            fund_ogrn=args.fund_ogrn,
            verify_at=args.verify_at,
            lenient_actors=args.lenient_actors,
            reply_names=args.reply_names,
            require_issued_numbers=not args.any_number,
        )
        emulator.start()
    except (OSError, ValueError) as exc:
        print(f"eln-fss-emulator: {exc}", file=sys.stderr)
        return 2
    if emulator.identity.created:
        print(f"Created the Fund's key and certificate and a test CA in {args.data}")
    print(emulator.describe(), flush=True)

    def _stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=emulator.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        emulator.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
