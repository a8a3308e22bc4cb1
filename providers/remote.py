"""The ``remote`` provider: keys held by an ``eln-sign-agent`` behind a (forwarded) unix socket.

On the terminal server the user's SSH connection forwards the thin client's agent socket,
e.g. to ``/run/user/<uid>/eln-agent.sock`` (see docs/providers.md). This provider lists the
agent's certificates, opens sessions and asks it to sign digests and run VKO; the key never
leaves the thin client. The socket must belong to the user and the process at its other end
must run as the user (SO_PEERCRED), so a PIN is never handed to someone else's listener.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
from pathlib import Path
from typing import Any

from gostsign.errors import GostError
from gostsign.gost3410 import PublicKey
from gostsign.vko import KeyAgreement
from gostsign.x509 import Certificate
from providers import protocol
from providers.base import (
    NO_PIN,
    Availability,
    CertificateInfo,
    KeySession,
    Option,
    Pin,
    PinMode,
    PinPad,
    PinSource,
    Provider,
    obtain_pin,
    select_certificate,
)
from providers.errors import (
    AccessDenied,
    ProtocolError,
    ProviderError,
    ProviderNotInstalled,
    error_from_wire,
)

ENV_SOCKET = "ELN_SIGN_AGENT"
#: Opening a key may wait for the user to type the PIN at the thin client.
OPEN_TIMEOUT = 300.0
REQUEST_TIMEOUT = 60.0


def default_socket() -> Path:
    env = os.environ.get(ENV_SOCKET)
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return Path(runtime) / "eln-agent.sock"


class AgentConnection:
    """One connection to the agent; requests are serialised."""

    def __init__(self, path: Path, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._check_socket_file()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except FileNotFoundError:
            sock.close()
            raise ProviderNotInstalled(self._absent()) from None
        except ConnectionRefusedError:
            sock.close()
            raise ProviderNotInstalled(
                f"Агент подписи не отвечает на {path}: запустите eln-sign-agent на тонком клиенте "
                "и переподключитесь с пробросом сокета."
            ) from None
        except PermissionError:
            sock.close()
            raise AccessDenied(f"Нет доступа к сокету агента подписи {path}.") from None
        except OSError as exc:
            sock.close()
            raise ProviderNotInstalled(
                f"Не удалось подключиться к агенту подписи {path}: {exc.strerror}."
            ) from None
        try:
            protocol.check_peer(protocol.peer_credentials(sock))
        except AccessDenied:
            sock.close()
            raise AccessDenied(
                f"Сокет {path} обслуживает процесс другого пользователя; PIN-код и запросы "
                "подписи ему не передаются."
            ) from None
        self._sock: socket.socket | None = sock

    def _absent(self) -> str:
        return (
            f"Сокет агента подписи {self.path} не найден: запустите eln-sign-agent на тонком "
            f"клиенте и подключитесь с «ssh -R {self.path}:<сокет агента>»."
        )

    def _check_socket_file(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise ProviderNotInstalled(self._absent()) from None
        except OSError as exc:
            raise ProviderNotInstalled(
                f"Сокет агента подписи {self.path}: {exc.strerror}."
            ) from None
        if st.st_uid != os.getuid():
            raise AccessDenied(
                f"Сокет {self.path} принадлежит другому пользователю (uid {st.st_uid}); "
                "агент подписи должен быть вашим."
            )

    def request(self, message: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
        with self._lock:
            sock = self._sock
            if sock is None:
                raise ProtocolError("Соединение с агентом подписи закрыто.")
            try:
                sock.settimeout(timeout or REQUEST_TIMEOUT)
                protocol.send_message(sock, message)
                answer = protocol.recv_message(sock)
            except TimeoutError:
                self.close_locked()
                raise ProviderError("Агент подписи не ответил вовремя.") from None
            except OSError as exc:
                self.close_locked()
                raise ProviderError(
                    f"Связь с агентом подписи прервана: {exc.strerror or exc}."
                ) from None
            if answer is None:
                self.close_locked()
                raise ProviderError(
                    "Агент подписи закрыл соединение (он остановлен или отказал в доступе)."
                )
        if not answer.get("ok"):
            raise error_from_wire(answer.get("error"))
        return answer

    def close_locked(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


class RemoteKeyAgreement:
    def __init__(self, session: RemoteKeySession) -> None:
        self._session = session

    @property
    def public_key(self) -> PublicKey:
        return self._session.info.certificate.public_key

    def derive_kek(self, peer: PublicKey, ukm: bytes, *, legacy_2001: bool = False) -> bytes:
        return self._session._derive(peer, ukm, legacy_2001)


class RemoteKeySession(KeySession):
    def __init__(self, info: CertificateInfo, conn: AgentConnection, sid: int, vko: bool) -> None:
        super().__init__(info)
        self._conn = conn
        self._sid = sid
        self._vko = vko

    def _sign_digest(self, digest: bytes) -> bytes:
        msg: dict[str, Any] = {"op": "sign", "session": self._sid, "digest": digest.hex()}
        if self.purpose:
            msg["purpose"] = self.purpose
        answer = self._conn.request(msg)
        try:
            return bytes.fromhex(answer["signature"])
        except (KeyError, TypeError, ValueError):
            raise ProtocolError(detail="bad signature field") from None

    def _key_agreement(self) -> KeyAgreement:
        if not self._vko:
            return super()._key_agreement()
        return RemoteKeyAgreement(self)

    def _derive(self, peer: PublicKey, ukm: bytes, legacy_2001: bool) -> bytes:
        with self._lock:
            self._check_open()
            answer = self._conn.request(
                {
                    "op": "vko",
                    "session": self._sid,
                    "curve": peer.curve.oid,
                    "peer": peer.to_le().hex(),
                    "ukm": ukm.hex(),
                    "legacy_2001": legacy_2001,
                }
            )
        try:
            return bytes.fromhex(answer["kek"])
        except (KeyError, TypeError, ValueError):
            raise ProtocolError(detail="bad kek field") from None

    def _close(self) -> None:
        try:
            self._conn.request({"op": "close", "session": self._sid})
        except ProviderError:
            pass
        finally:
            self._conn.close()


class RemoteProvider(Provider):
    """Keys of an ``eln-sign-agent`` reached through a unix socket."""

    name = "remote"
    title = "Агент подписи на тонком клиенте (через SSH)"
    options = (
        Option(
            "socket",
            f"сокет агента подписи (по умолчанию ${ENV_SOCKET} "
            "или $XDG_RUNTIME_DIR/eln-agent.sock)",
            Path,
            metavar="PATH",
        ),
    )

    @property
    def socket_path(self) -> Path:
        value = self.settings.get("socket")
        return Path(value) if value is not None else default_socket()

    def _connect(self, timeout: float = REQUEST_TIMEOUT) -> tuple[AgentConnection, dict[str, Any]]:
        conn = AgentConnection(self.socket_path, timeout=timeout)
        try:
            hello = conn.request({"op": "hello", "protocol": protocol.PROTOCOL_VERSION})
        except BaseException:
            conn.close()
            raise
        if hello.get("protocol") != protocol.PROTOCOL_VERSION:
            conn.close()
            raise ProtocolError(
                f"Агент подписи говорит на версии протокола {hello.get('protocol')}, "
                f"а нужна {protocol.PROTOCOL_VERSION}: обновите eln-sign-agent."
            )
        return conn, hello

    def agent_info(self) -> dict[str, Any]:
        conn, hello = self._connect()
        conn.close()
        return hello

    def availability(self) -> Availability:
        try:
            self.agent_info()
        except ProviderError as exc:
            return Availability.no(exc.message)
        return Availability.yes()

    def list_certificates(self) -> list[CertificateInfo]:
        conn, hello = self._connect()
        try:
            answer = conn.request({"op": "list"})
        finally:
            conn.close()
        out = []
        for item in answer.get("certificates") or []:
            try:
                cert = Certificate(base64.b64decode(item["der"]))
            except (KeyError, TypeError, ValueError, GostError):
                continue
            out.append(
                CertificateInfo(
                    provider=self.name,
                    token=(
                        f"{item.get('token')} (агент {hello.get('provider')}, {self.socket_path})"
                    ),
                    certificate=cert,
                    key_label=item.get("key_label"),
                    key_id=item.get("key_id"),
                    locator=(("agent_provider", str(item.get("provider"))),),
                )
            )
        return out

    def pin_mode(self, cert: CertificateInfo) -> PinMode:
        try:
            entry = self.agent_info().get("pin_entry")
        except ProviderError:
            return PinMode.ELSEWHERE
        return {
            "client": PinMode.ASK,
            "pinpad": PinMode.PIN_PAD,
            "none": PinMode.NONE,
            "file": PinMode.NONE,
        }.get(str(entry), PinMode.ELSEWHERE)

    def open_session(self, cert: CertificateInfo | str, pin: PinSource = NO_PIN) -> KeySession:
        info = select_certificate(self.list_certificates(), cert)
        conn, hello = self._connect(timeout=OPEN_TIMEOUT)
        given: Pin | None = None
        try:
            msg: dict[str, Any] = {"op": "open", "cert": info.thumbprint}
            if hello.get("pin_entry") == "client" and not isinstance(pin, PinPad):
                given = obtain_pin(pin, f"PIN-код ключа {info.describe()}:")
                if given is not None:
                    msg["pin"] = given.reveal()
            answer = conn.request(msg, timeout=OPEN_TIMEOUT)
            del msg
            sid = answer.get("session")
            if not isinstance(sid, int):
                raise ProtocolError(detail="no session id")
        except BaseException:
            conn.close()
            raise
        finally:
            if given is not None:
                given.wipe()
            elif isinstance(pin, Pin):
                pin.wipe()  # the agent asks for it itself; do not keep it here
        return RemoteKeySession(info, conn, sid, bool(answer.get("vko")))
