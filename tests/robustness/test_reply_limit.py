"""A server that answers without end: the client reads at most the parser's limit, then refuses.

A real HTTP server on loopback answers the client's POST with a body over the limit (declared
in Content-Length, or streamed without one); the client stops reading, raises ReplyTooLarge (an
unverifiable reply: a registry row stays unresolved, never marked sent) and logs the attempt.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eln_tui.core.fss import Contour, ExchangeRecord, FssClient, FssConfig
from eln_tui.core.fss.client import MAX_REPLY_BYTES
from eln_tui.core.fss.errors import FssReplyError, ReplyTooLarge
from gostsign.testpki import Pki, create_test_pki
from tests.fss.conftest import SoftKey

CHUNK = b"<a>" + b"x" * (64 * 1024 - 7) + b"</a>"


class Endless(BaseHTTPRequestHandler):
    """Declares or streams a body one chunk larger than the client's limit."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        declared = self.path.endswith("/declared")
        total = MAX_REPLY_BYTES + len(CHUNK)
        if declared:
            self.send_header("Content-Length", str(total))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0  # per request: an earlier request's handler may still be draining
        try:
            while sent < total:
                if declared:
                    self.wfile.write(CHUNK)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
            if not declared:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: as it should

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def pki() -> Pki:
    return create_test_pki()


@pytest.mark.parametrize("how", ["declared", "streamed"])
def test_an_endless_reply_is_cut_at_the_limit(server: str, pki: Pki, how: str) -> None:
    records: list[ExchangeRecord] = []
    config = FssConfig(
        ogrn=pki.mo.cert.subject.ogrn or "",
        contour=Contour.EMULATOR,
        url=f"{server}/{how}",
        fund_certificates={Contour.EMULATOR: pki.fund.cert},
        retries=2,  # a read: retried after network failures, but not after this refusal
    )
    client = FssClient(config, SoftKey(pki.mo), audit=records.append)
    with pytest.raises(ReplyTooLarge) as info:
        client.get_new_ln_num_range(2)
    assert isinstance(info.value, FssReplyError)  # unverifiable: nothing of it is used
    assert "больше 16 МБ" in info.value.message and "не принят" in info.value.message
    assert len(records) == 1 and not records[0].ok  # logged once, not retried
    # a declared size is refused on the header, before any of the body is read
    expected = "Content-Length" if how == "declared" else "body exceeds the limit"
    assert expected in (info.value.detail or "")
    client.close()
