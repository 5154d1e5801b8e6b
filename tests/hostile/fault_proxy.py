"""An HTTP proxy on 127.0.0.1 in front of the fake GitHub API that breaks answers on purpose:
5xx storms, 403/404, malformed JSON, connections dropped without an answer, slow answers."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Fault:
    kind: str  # "status" | "garbage" | "drop" | "slow"
    status: int = 200
    seconds: float = 0.0


class FaultProxy:
    def __init__(self, upstream: str, fault: Fault) -> None:
        self.upstream = urlsplit(upstream)
        self.fault = fault
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            proxy.requests += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = proxy.fault
            if fault.kind == "drop":
                self.close_connection = True
                return  # no status line at all: the client sees the connection end
            if fault.kind == "status":
                self._answer(fault.status, [], b'{"message": "injected fault"}')
                return
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            status, answer_headers, data = proxy.forward(self.command, self.path, headers, body)
            if fault.kind == "garbage":
                data = b'{"id": 1, "truncated'
            kept = [(k, v) for k, v in answer_headers if k.lower() not in ("content-length", "connection", "transfer-encoding")]
            self._answer(status, kept, data)

        def _answer(self, status: int, headers: list, data: bytes) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            if not any(k.lower() == "content-type" for k, _ in headers):
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler
