"""``eln-sign-agent``: the key stays on the thin client, the application runs on the server.

The agent runs on the thin client (where the token is plugged in) over any local provider,
usually ``pkcs11`` with the token's module. It listens on a unix socket (0600, in a directory
no one else can write to) that the user forwards to the terminal server with
``ssh -R /run/user/<uid>/eln-agent.sock:<agent socket>``; there the ``remote`` provider talks
to it. It answers only: list certificates, open a key, sign a digest, VKO where the local
provider can, close. No request returns key material.

Who may connect: only processes of the agent's own user (SO_PEERCRED); everyone else is
refused and the refusal is logged. The socket's permissions keep others out before that.

Where the PIN is entered (``--pin-entry``):

``agent`` (default when the agent has a terminal)
    The agent asks on its own terminal, on the thin client, when a key is opened, and names
    the certificate and the requesting process. The PIN never reaches the server. A
    compromised server can ask for a session but cannot complete it without the user typing
    the PIN in front of the thin client, and it never learns the PIN.
``client``
    The application on the server sends the PIN through the forwarded socket (as typed into
    the TUI). For agents without a terminal. The PIN then passes through the server
    (its keyboard input, its memory, its end of the socket), so whoever controls the server can
    capture it; choose it only where the server is trusted as much as the thin client.
``pinpad``
    The token's PIN pad (protected authentication path); nothing is typed anywhere else.
``none``
    No login (unprotected keys, tests).

``--pin-file F`` reads the PIN from a file on the thin client (unattended use, tests).

The agent tells the user what it signs: every request is written to its terminal (and to
``--log FILE``) with the time, the digest, the certificate, the requesting process and the
purpose text the application sent (which the agent cannot check).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import getpass
import os
import signal
import socket
import stat
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from gostsign.curves import get_curve
from gostsign.errors import GostError
from gostsign.gost3410 import PublicKey
from providers import protocol
from providers.base import (
    NO_PIN,
    PIN_PAD,
    KeySession,
    Pin,
    PinPrompt,
    PinSource,
    Provider,
    select_certificate,
)
from providers.cli import add_provider_arguments, cli_settings, settings_for
from providers.errors import (
    AccessDenied,
    BadConfiguration,
    OperationNotSupported,
    ProtocolError,
    ProviderError,
)
from providers.registry import provider_class

AGENT_NAME = "eln-sign-agent"
PIN_ENTRIES = ("agent", "client", "pinpad", "none", "file")


def default_socket_path() -> Path:
    return Path(os.path.expanduser("~")) / ".eln" / "agent.sock"


# ----------------------------------------------------------------------------------------------
# Log for the thin-client user
# ----------------------------------------------------------------------------------------------


class AgentLog:
    """Lines for the person at the thin client: what was asked, by whom, with which key."""

    def __init__(self, *streams: TextIO) -> None:
        self._streams = [s for s in streams if s is not None]
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        line = f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {text}"
        with self._lock:
            for stream in self._streams:
                try:
                    stream.write(line + "\n")
                    stream.flush()
                except (OSError, ValueError):
                    pass


# ----------------------------------------------------------------------------------------------
# The agent
# ----------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    peer: protocol.PeerCredentials
    sessions: dict[int, KeySession]
    next_id: int = 1


class SigningAgent:
    """Serve one provider on a unix socket to the agent's own user."""

    def __init__(
        self,
        provider: Provider,
        socket_path: str | os.PathLike[str],
        *,
        pin_entry: str = "agent",
        pin_file: str | os.PathLike[str] | None = None,
        log: Callable[[str], None] | None = None,
        ask_pin: Callable[[str], str | None] | None = None,
        allowed_uid: int | None = None,
    ) -> None:
        if pin_entry not in PIN_ENTRIES:
            raise BadConfiguration(
                f"Неизвестный способ ввода PIN «{pin_entry}»: допустимы {', '.join(PIN_ENTRIES)}."
            )
        if pin_entry == "file" and pin_file is None:
            raise BadConfiguration("Для --pin-entry file нужен --pin-file.")
        if provider.name == "remote":
            raise BadConfiguration("Агент подписи не может работать поверх удалённого агента.")
        self.provider = provider
        self.socket_path = Path(socket_path)
        self.pin_entry = pin_entry
        self.pin_file = Path(pin_file) if pin_file is not None else None
        self.log = log if log is not None else AgentLog(sys.stderr)
        self._ask_pin = ask_pin if ask_pin is not None else _tty_ask
        self.uid = os.getuid() if allowed_uid is None else allowed_uid
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._prompt_lock = threading.Lock()
        self._conns: set[_Conn] = set()
        self._conns_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- socket ------------------------------------------------------------------------------

    def bind(self) -> None:
        """Create the socket: 0600, in a directory only the user can write to."""
        path = self.socket_path
        parent = path.parent
        if not parent.exists():
            parent.mkdir(parents=True, mode=0o700)
            os.chmod(parent, 0o700)
        st = parent.stat()
        if st.st_uid != os.getuid():
            raise BadConfiguration(
                f"Каталог {parent} принадлежит другому пользователю; сокет агента должен лежать "
                "в личном каталоге (например, ~/.eln/agent.sock)."
            )
        if st.st_mode & 0o022:
            raise BadConfiguration(
                f"В каталог {parent} могут писать другие пользователи (права "
                f"{stat.S_IMODE(st.st_mode):04o}); выберите личный каталог с правами 0700."
            )
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise BadConfiguration(
                    f"{path} существует и не является сокетом; агент его не тронет."
                )
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
            except OSError as exc:
                if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
                    raise
                path.unlink()  # a stale socket of an agent that died
            else:
                raise BadConfiguration(f"На {path} уже работает агент подписи.")
            finally:
                probe.close()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener

    def serve_forever(self) -> None:
        if self._listener is None:
            self.bind()
        assert self._listener is not None
        self.log(
            f"агент подписи запущен: сокет {self.socket_path}, средство подписи "
            f"«{self.provider.name}», ввод PIN: {self._pin_entry_text()}"
        )
        try:
            while not self._stop.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if self._stop.is_set():
                        break
                    raise
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        finally:
            self._cleanup()

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests, embedding)."""
        self.bind()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _cleanup(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with contextlib.suppress(OSError):
            self.socket_path.unlink()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            self._drop(conn)
        self.provider.close()
        self.log("агент подписи остановлен")

    # -- connections -------------------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        try:
            self._serve_connection(sock)
        except Exception as exc:  # a bug must not leave the client waiting; no PIN is in here
            self.log(f"внутренняя ошибка агента: {type(exc).__name__}: {exc}")
            with contextlib.suppress(OSError):
                sock.close()

    def _serve_connection(self, sock: socket.socket) -> None:
        try:
            peer = protocol.peer_credentials(sock)
        except OSError:
            sock.close()
            return
        try:
            protocol.check_peer(peer, self.uid)
        except AccessDenied as exc:
            self.log(f"ОТКАЗ: подключение от {peer.describe()} — не ваш пользователь")
            with contextlib.suppress(OSError, ProviderError):
                sock.settimeout(2)
                protocol.send_message(sock, {"ok": False, "error": exc.to_wire()})
            sock.close()
            return
        conn = _Conn(sock, peer, {})
        with self._conns_lock:
            self._conns.add(conn)
        try:
            while not self._stop.is_set():
                try:
                    request = protocol.recv_message(sock)
                except (ProviderError, OSError):
                    break
                if request is None:
                    break
                try:
                    answer = self._dispatch(conn, request)
                    reply: dict[str, Any] = {"ok": True, **answer}
                except ProviderError as exc:
                    reply = {"ok": False, "error": exc.to_wire()}
                except (GostError, ValueError) as exc:
                    reply = {
                        "ok": False,
                        "error": ProtocolError(f"Ошибка запроса: {exc}.").to_wire(),
                    }
                try:
                    protocol.send_message(sock, reply)
                except (ProviderError, OSError):
                    break
        finally:
            self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        with self._conns_lock:
            if conn not in self._conns:
                return
            self._conns.discard(conn)
        for session in list(conn.sessions.values()):
            with contextlib.suppress(ProviderError):
                session.close()
        conn.sessions.clear()
        with contextlib.suppress(OSError):
            conn.sock.close()

    # -- requests ----------------------------------------------------------------------------

    def _dispatch(self, conn: _Conn, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if op == "hello":
            return {
                "protocol": protocol.PROTOCOL_VERSION,
                "agent": AGENT_NAME,
                "provider": self.provider.name,
                "pin_entry": self.pin_entry,
            }
        if op == "list":
            return {"certificates": [self._wire_cert(i) for i in self.provider.list_certificates()]}
        if op == "open":
            return self._open(conn, req)
        if op == "sign":
            return self._sign(conn, req)
        if op == "vko":
            return self._vko(conn, req)
        if op == "close":
            session = conn.sessions.pop(_int(req, "session"), None)
            if session is not None:
                session.close()
                self.log(f"ключ закрыт: {session.info.describe()}")
            return {}
        raise OperationNotSupported(f"Агент подписи не выполняет операцию «{op}».")

    @staticmethod
    def _wire_cert(info: Any) -> dict[str, Any]:
        return {
            "der": base64.b64encode(info.certificate.der).decode("ascii"),
            "token": info.token,
            "key_label": info.key_label,
            "key_id": info.key_id,
            "provider": info.provider,
        }

    def _pin_source(self, conn: _Conn, req: dict[str, Any], describe: str) -> PinSource:
        wire_pin = req.get("pin")
        if wire_pin is not None and self.pin_entry != "client":
            raise AccessDenied(
                "Этот агент не принимает PIN-код по каналу: PIN вводится на тонком клиенте "
                f"({self._pin_entry_text()})."
            )
        if self.pin_entry == "client":
            if wire_pin is None:
                return NO_PIN
            if not isinstance(wire_pin, str) or not wire_pin:
                raise ProtocolError("PIN-код передан в неверном виде.")
            return Pin(wire_pin)
        if self.pin_entry == "pinpad":
            return PIN_PAD
        if self.pin_entry == "none":
            return NO_PIN
        if self.pin_entry == "file":
            assert self.pin_file is not None
            return Pin.from_file(self.pin_file)

        def ask(question: str) -> str | None:
            with self._prompt_lock:
                self.log(f"запрос ключа от {conn.peer.describe()}: {describe}")
                return self._ask_pin(f"{question} ")

        return PinPrompt(ask)

    def _open(self, conn: _Conn, req: dict[str, Any]) -> dict[str, Any]:
        thumb = req.get("cert")
        if not isinstance(thumb, str):
            raise ProtocolError("Не указан сертификат.")
        info = select_certificate(self.provider.list_certificates(), f"thumbprint:{thumb}")
        pin = self._pin_source(conn, req, info.describe())
        try:
            session = self.provider.open_session(info, pin)
        except ProviderError as exc:
            self.log(f"ключ НЕ открыт: {info.describe()} для {conn.peer.describe()}: {exc.message}")
            raise
        finally:
            if isinstance(pin, Pin):
                pin.wipe()
        sid = conn.next_id
        conn.next_id += 1
        conn.sessions[sid] = session
        try:
            session.key_agreement()
            vko = True
        except ProviderError:
            vko = False
        self.log(f"ключ открыт: {info.describe()} для {conn.peer.describe()}")
        return {"session": sid, "vko": vko}

    def _session(self, conn: _Conn, req: dict[str, Any]) -> KeySession:
        session = conn.sessions.get(_int(req, "session"))
        if session is None:
            raise ProtocolError("Сеанс ключа не открыт или уже закрыт.")
        return session

    def _sign(self, conn: _Conn, req: dict[str, Any]) -> dict[str, Any]:
        session = self._session(conn, req)
        digest = bytes.fromhex(_str(req, "digest"))
        purpose = req.get("purpose")
        purpose_text = (
            f"; назначение (со слов приложения): {purpose}"
            if isinstance(purpose, str) and purpose
            else ""
        )
        try:
            signature = session.sign_digest(digest)
        except ProviderError as exc:
            self.log(f"подпись НЕ выполнена: {exc.message}")
            raise
        self.log(
            f"ПОДПИСАНО хэш {digest.hex()} ключом {session.info.describe()} "
            f"по запросу {conn.peer.describe()}{purpose_text}"
        )
        return {"signature": signature.hex()}

    def _vko(self, conn: _Conn, req: dict[str, Any]) -> dict[str, Any]:
        session = self._session(conn, req)
        curve = get_curve(_str(req, "curve"))
        peer = PublicKey.from_le(curve, bytes.fromhex(_str(req, "peer")))
        ukm = bytes.fromhex(_str(req, "ukm"))
        agreement = session.key_agreement()
        kek = agreement.derive_kek(peer, ukm, legacy_2001=bool(req.get("legacy_2001")))
        self.log(
            f"выработан ключ расшифрования (VKO) ключом {session.info.describe()} "
            f"по запросу {conn.peer.describe()}"
        )
        return {"kek": kek.hex()}

    def _pin_entry_text(self) -> str:
        return {
            "agent": "на терминале агента",
            "client": "PIN передаёт приложение по каналу",
            "pinpad": "на PIN-клавиатуре считывателя",
            "none": "без PIN",
            "file": f"из файла {self.pin_file}",
        }[self.pin_entry]


def _int(req: dict[str, Any], key: str) -> int:
    value = req.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"Поле «{key}» должно быть числом.")
    return value


def _str(req: dict[str, Any], key: str) -> str:
    value = req.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"Поле «{key}» должно быть строкой.")
    return value


def _tty_ask(prompt: str) -> str | None:
    """Ask on the agent's controlling terminal without echo."""
    try:
        return getpass.getpass(prompt)
    except (EOFError, OSError):
        return None


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=AGENT_NAME,
        description=(
            "Агент подписи для работы через SSH: ключ остаётся на тонком клиенте, "
            "приложение на сервере подписывает через проброшенный сокет."
        ),
    )
    parser.add_argument(
        "--socket",
        dest="agent_socket",
        metavar="PATH",
        help=f"сокет агента (по умолчанию {default_socket_path()})",
    )
    parser.add_argument(
        "--pin-entry",
        choices=("agent", "client", "pinpad", "none"),
        help="где вводится PIN: agent — на терминале агента (по умолчанию), client — в приложении "
        "на сервере (PIN идёт по каналу), pinpad — на считывателе, none — без PIN",
    )
    parser.add_argument("--pin-file", metavar="FILE", help="PIN-код из файла на тонком клиенте")
    parser.add_argument("--log", metavar="FILE", help="дописывать журнал подписей в файл")
    add_provider_arguments(parser, exclude=("remote",), with_pin=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_file: TextIO | None = None
    try:
        name = args.provider or "pkcs11"
        cls = provider_class(name)
        provider = cls(settings_for(cls, cli_settings(args)))
        provider.check_configuration()  # a missing module is fatal, a missing token is not
        if args.pin_file:
            pin_entry = "file"
        elif args.pin_entry:
            pin_entry = args.pin_entry
        elif sys.stdin.isatty():
            pin_entry = "agent"
        else:
            raise BadConfiguration(
                "У агента нет терминала для ввода PIN-кода: укажите --pin-entry "
                "(client, pinpad или none) или --pin-file."
            )
        if args.log:
            log_file = open(args.log, "a", encoding="utf-8")
            os.chmod(args.log, 0o600)
        agent = SigningAgent(
            provider,
            args.agent_socket or default_socket_path(),
            pin_entry=pin_entry,
            pin_file=args.pin_file,
            log=AgentLog(sys.stderr, *(f for f in (log_file,) if f is not None)),
        )
        agent.bind()
        avail = provider.availability()
        if not avail:
            agent.log(f"внимание: {avail.reason}")

        def stop(signum: int, frame: object) -> None:
            agent._stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, stop)
        agent.serve_forever()
        return 0
    except ProviderError as exc:
        print(f"{AGENT_NAME}: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{AGENT_NAME}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    finally:
        if log_file is not None:
            log_file.close()


if __name__ == "__main__":
    sys.exit(main())
