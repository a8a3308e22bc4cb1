"""The signing agent over SoftHSM on a unix socket, reached through the ``remote`` provider."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gostsign import streebog
from gostsign.gost3410 import PrivateKey
from gostsign.vko import kek_for_transport
from providers import protocol
from providers.agent import SigningAgent
from providers.base import NO_PIN, Pin, PinMode
from providers.errors import (
    AccessDenied,
    BadConfiguration,
    OperationNotSupported,
    ProviderNotInstalled,
    WrongPin,
)
from providers.pkcs11 import CKF_USER_PIN_FINAL_TRY
from providers.remote import RemoteProvider
from providers.software import SoftwareProvider
from tests.providers.conftest import (
    KEY_PASSWORD,
    PIN,
    CAFixture,
    SoftHSM,
    make_token_key,
    openssl_verify,
)

DATA = "ЭЛН 910000000002: подпись врача".encode()
NOBODY = 65534


class Log(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)

    def text(self) -> str:
        return "\n".join(self)


@pytest.fixture
def token(softhsm: SoftHSM, test_ca: CAFixture):
    softhsm.init_token("doctor")
    return make_token_key(softhsm, test_ca, "doctor", "doc", b"\x01", "CN=Петров С.Н.")


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: its /tmp/pytest-of-root parent is 0700, and the
    # second-user test needs a path another uid can reach.
    d = Path(tempfile.mkdtemp(prefix="eln-agent-test-"))
    yield d
    for p in sorted(d.rglob("*"), reverse=True):
        p.unlink() if not p.is_dir() else p.rmdir()
    d.rmdir()


def start_agent(provider, path: Path, **kw) -> tuple[SigningAgent, Log]:
    log = Log()
    agent = SigningAgent(provider, path, log=log, **kw)
    agent.start()
    return agent, log


@pytest.fixture
def hsm_agent(softhsm: SoftHSM, token, sock_dir: Path) -> Iterator[tuple[SigningAgent, Log, Path]]:
    path = sock_dir / "agent" / "agent.sock"
    agent, log = start_agent(softhsm.provider(token_label="doctor"), path, pin_entry="client")
    yield agent, log, path
    agent.stop()


def test_sign_through_the_agent(hsm_agent, token, openssl, tmp_path: Path) -> None:
    _, log, path = hsm_agent
    remote = RemoteProvider({"socket": path})
    assert remote.availability()
    [info] = remote.list_certificates()
    assert info.certificate == token.cert and info.key_id == "01"
    assert remote.pin_mode(info) is PinMode.ASK  # this agent takes the PIN from the client
    pin = Pin(PIN)
    with remote.open_session(info.serial_hex, pin) as session:
        assert pin.wiped
        session.purpose = "ЭЛН 910000000002"
        sig = session.sign(DATA)
        digest = streebog.streebog256(b"other")
        token.cert.public_key.verify_digest(digest, session.sign_digest(digest))
        with pytest.raises(OperationNotSupported):  # SoftHSM has no VKO mechanism
            session.key_agreement()
    token.cert.public_key.verify(DATA, sig)
    openssl_verify(openssl, token.cert, DATA, sig, tmp_path)
    text = log.text()
    assert "ПОДПИСАНО" in text and streebog.streebog256(DATA).hex() in text
    assert "ЭЛН 910000000002" in text and token.cert.thumbprint in text
    assert f"uid {os.getuid()}" in text
    assert PIN not in text  # never logged


def test_concurrent_clients(hsm_agent, token) -> None:
    _, _, path = hsm_agent
    errors: list[BaseException] = []
    signatures: list[bytes] = []

    def client() -> None:
        try:
            remote = RemoteProvider({"socket": path})
            with remote.open_session(token.cert.thumbprint, Pin(PIN)) as session:
                for _ in range(3):
                    signatures.append(session.sign(DATA))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(signatures) == 15
    for sig in signatures:
        token.cert.public_key.verify(DATA, sig)


def test_socket_is_private(hsm_agent) -> None:
    _, _, path = hsm_agent
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_closing_the_remote_session_logs_the_token_out(hsm_agent, softhsm: SoftHSM, token) -> None:
    _, _, path = hsm_agent
    remote = RemoteProvider({"socket": path})
    with remote.open_session(token.cert.thumbprint, Pin(PIN)) as session:
        session.sign(DATA)
    time.sleep(0.2)
    from providers.errors import PinRequired

    with pytest.raises(PinRequired):  # the agent's login (same process here) is gone
        softhsm.provider().open_session(token.cert.thumbprint, NO_PIN)


def test_wrong_pin_crosses_the_socket(hsm_agent, softhsm: SoftHSM, token) -> None:
    _, log, path = hsm_agent
    softhsm.set_token_flags("doctor", CKF_USER_PIN_FINAL_TRY)
    remote = RemoteProvider({"socket": path})
    with pytest.raises(WrongPin) as info:
        remote.open_session(token.cert.thumbprint, Pin("0000"))
    assert info.value.tries_left == 1
    assert "0000" not in log.text()


def test_vko_through_the_agent(software_set, sock_dir: Path) -> None:
    path = sock_dir / "a.sock"
    agent, log = start_agent(
        SoftwareProvider({"key_dir": software_set.directory}), path, pin_entry="client"
    )
    try:
        remote = RemoteProvider({"socket": path})
        with remote.open_session("label:mo", Pin(KEY_PASSWORD)) as session:
            agreement = session.key_agreement()
            eph = PrivateKey.generate(session.certificate.public_key.curve)
            ukm = b"\x11\x22\x33\x44\x55\x66\x77\x88"
            kek = agreement.derive_kek(eph.public_key(), ukm)
            assert kek == kek_for_transport(eph, session.certificate.public_key, ukm)
        assert "VKO" in log.text()
    finally:
        agent.stop()


def test_agent_entered_pin_is_never_taken_from_the_channel(
    token, softhsm: SoftHSM, sock_dir: Path
) -> None:
    path = sock_dir / "a.sock"
    asked: list[str] = []

    def ask(question: str) -> str:
        asked.append(question)
        return PIN

    agent, log = start_agent(softhsm.provider(), path, pin_entry="agent", ask_pin=ask)
    try:
        remote = RemoteProvider({"socket": path})
        [info] = remote.list_certificates()
        assert remote.pin_mode(info) is PinMode.ELSEWHERE
        pin = Pin("typed-in-the-tui")
        with remote.open_session(info, pin) as session:  # the TUI's PIN is dropped, not sent
            assert pin.wiped
            session.sign(DATA)
        assert len(asked) == 1 and token.cert.thumbprint in asked[0]
        # A client that sends a PIN anyway is refused.
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
            protocol.send_message(s, {"op": "open", "cert": info.thumbprint, "pin": "1234"})
            answer = protocol.recv_message(s)
        assert answer is not None and answer["error"]["code"] == "AccessDenied"
        assert "запрос ключа от" in log.text()
    finally:
        agent.stop()


def test_only_the_listed_operations_exist(hsm_agent) -> None:
    _, _, path = hsm_agent
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        for op in ("export", "get_private_key", "dump", None):
            protocol.send_message(s, {"op": op})
            answer = protocol.recv_message(s)
            assert answer is not None and answer["ok"] is False
            assert answer["error"]["code"] == "OperationNotSupported"
        protocol.send_message(s, {"op": "sign", "session": 99, "digest": "00" * 32})
        answer = protocol.recv_message(s)
        assert answer is not None and answer["error"]["code"] == "ProtocolError"


def _client_as(uid: int, path: Path) -> dict[str, object]:
    """Connect to the agent as another user (forked child, setuid) and report what happened."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        result: dict[str, object]
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(str(path))
            except PermissionError:
                result = {"connect": "EACCES"}
            else:
                protocol.send_message(s, {"op": "list"})
                answer = protocol.recv_message(s)
                result = {"connect": "ok", "answer": answer}
        except BaseException as exc:  # report, never raise in the child
            result = {"error": repr(exc)}
        os.write(write_fd, json.dumps(result).encode())
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks))


needs_root = pytest.mark.skipif(os.getuid() != 0, reason="switching to another uid needs root")


@needs_root
def test_second_user_is_kept_out_by_the_socket_permissions(hsm_agent) -> None:
    _, _, path = hsm_agent
    assert _client_as(NOBODY, path) == {"connect": "EACCES"}


@needs_root
def test_second_user_is_refused_by_peer_credentials(hsm_agent) -> None:
    _, log, path = hsm_agent
    # Open the file permissions on purpose: the SO_PEERCRED check must still refuse.
    os.chmod(path.parent.parent, 0o711)  # noqa: S103 - the point of the test
    os.chmod(path.parent, 0o711)  # noqa: S103
    os.chmod(path, 0o666)  # noqa: S103
    result = _client_as(NOBODY, path)
    assert result["connect"] == "ok", result
    answer = result["answer"]
    assert isinstance(answer, dict) and answer["ok"] is False
    assert answer["error"]["code"] == "AccessDenied"
    assert "uid 65534" in answer["error"]["message"]
    assert "certificates" not in answer
    assert "ОТКАЗ" in log.text() and "uid 65534" in log.text()
    # The owner still gets through.
    assert RemoteProvider({"socket": path}).list_certificates()


def test_peer_check_function() -> None:
    me = protocol.PeerCredentials(pid=1, uid=os.getuid(), gid=0)
    protocol.check_peer(me)
    with pytest.raises(AccessDenied):
        protocol.check_peer(protocol.PeerCredentials(pid=1, uid=os.getuid() + 1, gid=0))
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        creds = protocol.peer_credentials(a)
        assert creds.uid == os.getuid() and creds.pid == os.getpid()


@needs_root
def test_client_refuses_a_socket_of_another_user(sock_dir: Path) -> None:
    path = sock_dir / "fake.sock"
    fake = socket.socket(socket.AF_UNIX)
    fake.bind(str(path))
    fake.listen(1)
    os.chown(path, NOBODY, NOBODY)
    try:
        with pytest.raises(AccessDenied) as info:
            RemoteProvider({"socket": path}).list_certificates()
        assert "другому пользователю" in info.value.message
    finally:
        fake.close()


def test_socket_path_rules(softhsm: SoftHSM, token, sock_dir: Path) -> None:
    provider = softhsm.provider()
    world = sock_dir / "world"
    world.mkdir()
    os.chmod(world, 0o777)  # noqa: S103 - the agent must refuse this directory
    with pytest.raises(BadConfiguration):
        SigningAgent(provider, world / "a.sock", pin_entry="none").bind()
    # A stale socket left by a dead agent is replaced; a live one is not.
    path = sock_dir / "live.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    agent, _ = start_agent(provider, path, pin_entry="none")
    try:
        with pytest.raises(BadConfiguration):
            SigningAgent(provider, path, pin_entry="none").bind()
    finally:
        agent.stop()
    assert not path.exists()  # removed on stop
    with pytest.raises(BadConfiguration):
        SigningAgent(RemoteProvider({"socket": path}), sock_dir / "x.sock")


def test_remote_without_agent(tmp_path: Path) -> None:
    remote = RemoteProvider({"socket": tmp_path / "nothing.sock"})
    avail = remote.availability()
    assert not avail and "eln-sign-agent" in (avail.reason or "")
    with pytest.raises(ProviderNotInstalled):
        remote.list_certificates()


def _read_until(fd: int, needle: str, buf: bytearray, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while needle.encode() not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {needle!r} in agent output: {buf.decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"agent exited: {buf.decode(errors='replace')}")
            buf.extend(chunk)
    return buf.decode(errors="replace")


def test_agent_command_prompts_for_the_pin_on_its_terminal(
    softhsm: SoftHSM, token, sock_dir: Path, openssl, tmp_path: Path
) -> None:
    """``eln-sign-agent`` in a terminal (pty): the PIN is typed there, never sent by the client."""
    path = sock_dir / "tty" / "agent.sock"
    argv = [
        sys.executable,
        "-m",
        "providers.agent",
        "--socket",
        str(path),
        "--provider",
        "pkcs11",
        "--module",
        str(softhsm.module),
        "--token-label",
        "doctor",
    ]
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        os.execv(sys.executable, argv)  # noqa: S606
    buf = bytearray()
    try:
        _read_until(fd, "агент подписи запущен", buf)
        remote = RemoteProvider({"socket": path})
        [info] = remote.list_certificates()
        assert remote.pin_mode(info) is PinMode.ELSEWHERE
        result: dict[str, object] = {}

        def client() -> None:
            try:
                with remote.open_session(info, NO_PIN) as session:
                    result["sig"] = session.sign(DATA)
            except BaseException as exc:
                result["error"] = exc

        t = threading.Thread(target=client)
        t.start()
        _read_until(fd, "PIN-код", buf)
        os.write(fd, f"{PIN}\n".encode())
        t.join(timeout=30)
        assert "error" not in result, result
        sig = result["sig"]
        assert isinstance(sig, bytes)
        openssl_verify(openssl, token.cert, DATA, sig, tmp_path)
        out = _read_until(fd, "ПОДПИСАНО", buf)
        assert PIN not in out.replace("PIN-код", "")  # getpass does not echo
        assert token.cert.thumbprint in out
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    assert not path.exists()


def test_agent_command_line_errors(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "providers.agent",
            "--socket",
            str(tmp_path / "s.sock"),
            "--provider",
            "pkcs11",
            "--module",
            str(tmp_path / "missing.so"),
            "--pin-entry",
            "client",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "missing.so" in proc.stderr and proc.stderr.count("\n") == 1
