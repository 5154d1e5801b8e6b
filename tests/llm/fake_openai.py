"""A local OpenAI-compatible server (chat completions) with scripted answers and faults.

Each request takes the next scripted action; when the script is empty, ``respond``
decides from the request. Every request is recorded, and anything that is not a
well-formed chat completion request is answered 400 and listed in ``problems``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass
class Answer:
    text: Any
    usage: tuple[int, int] | None = (100, 20)
    finish_reason: str = "stop"


@dataclass
class Status:
    code: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stall:
    """Hold the request open (until the server closes) and never answer."""


@dataclass
class Drop:
    """Close the connection without an answer."""


@dataclass
class Raw:
    body: bytes
    content_type: str = "application/json"


Action = Answer | Status | Stall | Drop | Raw


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes

    @property
    def system(self) -> str:
        return self.body["messages"][0]["content"]

    @property
    def user(self) -> str:
        return self.body["messages"][-1]["content"]


class FakeOpenAI:
    def __init__(self, respond: Callable[[Received], Action] | None = None) -> None:
        self.script: deque[Action] = deque()
        self.respond = respond or (lambda request: Answer("What happens here?"))
        self.requests: list[Received] = []
        self.problems: list[str] = []
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def received_bytes(self) -> bytes:
        return b"\n".join(request.raw for request in self.requests)

    def next_action(self, request: Received) -> Action:
        return self.script.popleft() if self.script else self.respond(request)


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = self._checked(raw)
            if request is None:
                self._json(400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
                return
            fake.requests.append(request)
            self._act(fake.next_action(request), request)

        def _checked(self, raw: bytes) -> Received | None:
            problem = None
            try:
                body = json.loads(raw)
            except ValueError:
                body, problem = {}, "body is not JSON"
            if self.path != COMPLETIONS_PATH:
                problem = f"path {self.path}"
            elif not self.headers.get("Authorization", "").startswith("Bearer "):
                problem = "no bearer token"
            elif not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
                problem = "no model or messages"
            elif not all(isinstance(m, dict) and m.get("role") in ("system", "user")
                         and isinstance(m.get("content"), str) for m in body["messages"]):
                problem = "a message is not {role, content}"
            elif not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
                problem = "no max_tokens"
            if problem:
                fake.problems.append(problem)
                return None
            return Received({name.lower(): value for name, value in self.headers.items()}, body, raw)

        def _act(self, action: Action, request: Received) -> None:
            if isinstance(action, Answer):
                self._json(200, _completion(request.body["model"], action))
            elif isinstance(action, Status):
                error = {"error": {"message": f"scripted {action.code}", "type": "server_error"}}
                self._json(action.code, error, action.headers)
            elif isinstance(action, Stall):
                fake._released.wait(30)
                self.close_connection = True
            elif isinstance(action, Drop):
                self.close_connection = True
            elif isinstance(action, Raw):
                self._send(200, action.body, action.content_type)

        def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send(code, json.dumps(payload).encode(), "application/json", headers)

        def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _completion(model: str, answer: Answer) -> dict[str, Any]:
    completion: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": answer.finish_reason,
            }
        ],
    }
    if answer.usage is not None:
        prompt, completion_tokens = answer.usage
        completion["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        }
    return completion


def architect(request: Received) -> Action:
    """A well-behaved model: a question naming the finding's function, or a short summary."""
    if "Changed modules" in request.user:
        return Answer(
            "The riskiest change is the feature fetch: it has no deadline, so a slow store stalls "
            "every worker.\n\n- At 100x traffic the pool is exhausted within minutes.\n"
            "- A new datastore client deserves an ADR.",
            usage=(300, 60),
        )
    where = next(line for line in request.user.splitlines() if line.startswith("File: "))
    function = where.rsplit(".", 1)[-1]
    return Answer(f"When the service behind `{function}` stalls at 100x traffic, what does its caller see?")
