"""The signing agent's wire protocol: length-prefixed JSON over a unix socket.

Each message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (one
object, at most :data:`MAX_MESSAGE` bytes). The client sends requests ``{"op": ..., ...}``;
the agent answers each with ``{"ok": true, ...}`` or ``{"ok": false, "error": {"code": ...,
"message": ...}}`` (see :meth:`providers.errors.ProviderError.to_wire`).

Requests (protocol version 1):

========  ==============================================  ===============================
op        request fields                                  answer fields
========  ==============================================  ===============================
hello     ``protocol``                                    ``protocol``, ``agent``,
                                                          ``provider``, ``pin_entry``
list      –                                               ``certificates``: list of
                                                          {``der`` (base64), ``token``,
                                                          ``key_label``, ``key_id``,
                                                          ``provider``}
open      ``cert`` (SHA-1 thumbprint), ``pin`` (only      ``session`` (int), ``vko`` (bool)
          when the agent accepts PINs from clients)
sign      ``session``, ``digest`` (hex), ``purpose``      ``signature`` (hex, s_be||r_be)
          (free text shown in the agent's log)
vko       ``session``, ``curve`` (OID), ``peer`` (hex     ``kek`` (hex, 32 bytes)
          X_le||Y_le), ``ukm`` (hex), ``legacy_2001``
close     ``session``                                     –
========  ==============================================  ===============================

Nothing else exists: there is no operation that returns a private key, and sessions belong
to the connection that opened them (a closed connection closes them).
"""

from __future__ import annotations

import json
import os
import socket
import struct
from dataclasses import dataclass
from typing import Any

from providers.errors import AccessDenied, ProtocolError

PROTOCOL_VERSION = 1
MAX_MESSAGE = 1 << 20
_LEN = struct.Struct(">I")


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks = []
    remaining = n
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            if remaining == n:
                return None
            raise ProtocolError(detail="connection closed in the middle of a message")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def send_message(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(detail=f"message of {len(data)} bytes is too long")
    sock.sendall(_LEN.pack(len(data)) + data)


def recv_message(sock: socket.socket) -> dict[str, Any] | None:
    """The next message, or None when the peer closed the connection between messages."""
    header = _recv_exact(sock, _LEN.size)
    if header is None:
        return None
    (length,) = _LEN.unpack(header)
    if length > MAX_MESSAGE:
        raise ProtocolError(detail=f"announced message of {length} bytes is too long")
    body = _recv_exact(sock, length) if length else b""
    if body is None:
        raise ProtocolError(detail="connection closed before the message body")
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(detail=f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError(detail="a message must be a JSON object")
    return message


# ----------------------------------------------------------------------------------------------
# Peer credentials
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerCredentials:
    """Who is at the other end of a unix socket (SO_PEERCRED, Linux)."""

    pid: int
    uid: int
    gid: int

    @property
    def process(self) -> str:
        """The peer's command name from /proc (best effort)."""
        try:
            with open(f"/proc/{self.pid}/comm", encoding="utf-8", errors="replace") as fh:
                return fh.read().strip() or "?"
        except OSError:
            return "?"

    def describe(self) -> str:
        return f"процесс {self.process} (pid {self.pid}, uid {self.uid})"


def peer_credentials(sock: socket.socket) -> PeerCredentials:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return PeerCredentials(pid, uid, gid)


def check_peer(creds: PeerCredentials, allowed_uid: int | None = None) -> None:
    """Refuse a peer running as another user (AccessDenied)."""
    uid = os.getuid() if allowed_uid is None else allowed_uid
    if creds.uid != uid:
        raise AccessDenied(
            f"Агент подписи обслуживает только пользователя с uid {uid}; "
            f"подключение от uid {creds.uid} отклонено."
        )
