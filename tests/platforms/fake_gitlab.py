"""A small, stateful GitLab REST API (v4) on 127.0.0.1 for platform tests.

python-gitlab talks real HTTP to it. It behaves as GitLab does where the publisher
depends on it: the project is addressed by id or by its URL-encoded path (a raw slash
is a 404), lists are paginated (x-next-page, x-total and a Link header; ``max_per_page``
keeps pages small so paging is exercised), PRIVATE-TOKEN is checked per scope (a
read_api token gets 403 insufficient_scope on writes) and a JOB-TOKEN is refused on
merge request endpoints (401). A discussion's position is validated against the
version's diff as GitLab does: an added line takes new_line only, a context line both
old_line and new_line, a removed line old_line only, the paths and the three shas must
match; anything else is GitLab's 400 about line_code.

Faults are scripted per request: a status (with headers and body) returned instead of,
or after, performing the request (``after=True``: the write happened, the client saw a 502).
Anything the fake does not know (an unknown route, a malformed body) is recorded in
``errors``; the tests assert there is none.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

LINE_CODE_ERROR = {"message": "400 Bad request - Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}"}
UNAUTHORIZED = {"message": "401 Unauthorized"}
INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the access token.",
    "scope": "api",
}
_HUNK = re.compile(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass
class Fault:
    method: str
    path: str  # regex searched in the path after /api/v4
    status: int
    headers: dict = field(default_factory=dict)
    body: dict = field(default_factory=lambda: {"message": "502 Bad Gateway"})
    after: bool = False
    times: int = 1


@dataclass
class Version:
    id: int
    base_sha: str
    start_sha: str
    head_sha: str
    diffs: list[dict]  # {"old_path", "new_path", "new_file", "renamed_file", "deleted_file", "diff"}


@dataclass
class MergeRequest:
    iid: int
    versions: list[Version] = field(default_factory=list)
    discussions: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # not in a discussion (the summary, system notes)

    @property
    def latest(self) -> Version:
        return self.versions[-1]


def diff_lines(diff: str) -> set[tuple[int | None, int | None]]:
    """(old_line, new_line) pairs GitLab accepts for this file's diff."""
    pairs: set[tuple[int | None, int | None]] = set()
    old = new = 0
    for text in diff.splitlines():
        header = _HUNK.match(text)
        if header:
            old, new = int(header[1]), int(header[2])
        elif new and text.startswith("+"):
            pairs.add((None, new))
            new += 1
        elif new and text.startswith("-"):
            pairs.add((old, None))
            old += 1
        elif new and text.startswith(" "):
            pairs.add((old, new))
            old += 1
            new += 1
    return pairs


class FakeGitLab:
    def __init__(self, *, project_id: int = 42, project_path: str = "acme/ml", prefix: str = "",
                 max_per_page: int = 2):
        self.project_id = project_id
        self.project_path = project_path
        self.prefix = prefix.rstrip("/")
        self.max_per_page = max_per_page
        self.bot = {"id": 7, "username": "project_42_bot", "name": "arch-review", "bot": True}
        self.person = {"id": 3, "username": "alice", "name": "Alice"}
        self.tokens: dict[str, tuple[dict, tuple[str, ...]]] = {
            "glpat-api": (self.bot, ("api",)),
            "glpat-read": (self.bot, ("read_api",)),
            "glpat-alice": (self.person, ("api",)),
        }
        self.job_tokens = {"job-token-123"}
        self.merge_requests: dict[int, MergeRequest] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, str, Any]] = []  # method, path, raw project segment, body
        self.queries: list[tuple[str, str, dict]] = []  # method, path, query
        self.auth_headers: set[str] = set()  # which of PRIVATE-TOKEN / JOB-TOKEN clients sent
        self.errors: list[str] = []
        self._ids = itertools.count(500)
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/v4"

    def __enter__(self) -> FakeGitLab:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- what tests look at ----------------------------------------------------------------

    def mr(self, iid: int = 1) -> MergeRequest:
        return self.merge_requests.setdefault(iid, MergeRequest(iid))

    def writes(self, method: str, pattern: str = "") -> list[tuple[str, str, str, Any]]:
        return [r for r in self.requests if r[0] == method and re.search(pattern, r[1])]

    def page_queries(self, pattern: str) -> list[dict]:
        return [query for method, path, query in self.queries if method == "GET" and re.search(pattern, path)]

    def all_notes(self, iid: int = 1) -> list[dict]:
        mr = self.mr(iid)
        return [n for d in mr.discussions for n in d["notes"]] + mr.notes

    def add_discussion(self, iid: int, body: str, author: dict, position: dict | None = None) -> dict:
        note = self._note(body, author, position)
        discussion = {"id": f"{next(self._ids):040x}", "individual_note": position is None, "notes": [note]}
        self.mr(iid).discussions.append(discussion)
        return discussion

    # -- request handling ------------------------------------------------------------------

    def _note(self, body: str, author: dict, position: dict | None = None, system: bool = False) -> dict:
        note = {"id": next(self._ids), "type": "DiffNote" if position else None, "body": body,
                "author": author, "system": system, "created_at": "2026-11-27T00:00:00Z",
                "noteable_type": "MergeRequest", "resolvable": position is not None, "resolved": False}
        if position:
            note["position"] = position
        return note

    def handle(self, method: str, raw_path: str, query: dict, headers: dict, body: Any):
        path = raw_path
        if not path.startswith(self.prefix + "/api/v4/"):
            return self._unknown(method, raw_path)
        path = path[len(self.prefix + "/api/v4"):]
        segment = ""
        match = re.match(r"/projects/([^/]+)(/.*)?$", path)
        if match:
            segment = match[1]
        self.requests.append((method, path, segment, body))
        self.queries.append((method, path, query))
        for fault in self.faults:
            if fault.times and fault.method == method and re.search(fault.path, path) and not fault.after:
                fault.times -= 1
                return fault.status, fault.headers, fault.body
        self.auth_headers.update(name for name in ("private-token", "job-token") if name in headers)
        user, scopes = self._authenticate(headers)
        if user is None:
            return 401, {}, UNAUTHORIZED
        if method != "GET" and "api" not in scopes:
            return 403, {}, INSUFFICIENT_SCOPE
        answer = self._route(method, path, query, body, user)
        for fault in self.faults:
            if fault.times and fault.method == method and re.search(fault.path, path) and fault.after:
                fault.times -= 1
                return fault.status, fault.headers, fault.body
        return answer

    def _authenticate(self, headers: dict) -> tuple[dict | None, tuple[str, ...]]:
        token = headers.get("private-token")
        if token in self.tokens:
            return self.tokens[token]
        # A job token is accepted only by a few endpoints (packages, releases...): none used here.
        return None, ()

    def _route(self, method: str, path: str, query: dict, body: Any, user: dict):
        if method == "GET" and path == "/user":
            return 200, {}, user
        match = re.fullmatch(r"/projects/([^/]+)/merge_requests/(\d+)(/.*)?", path)
        if not match:
            return self._unknown(method, path)
        project = unquote(match[1])
        if project not in (str(self.project_id), self.project_path):
            return 404, {}, {"message": "404 Project Not Found"}
        iid, rest = int(match[2]), match[3] or ""
        if iid not in self.merge_requests:
            return 404, {}, {"message": "404 Not found"}
        mr = self.merge_requests[iid]
        if method == "GET" and rest == "":
            return 200, {}, self._mr_json(mr)
        if method == "GET" and rest == "/versions":
            return self._page(query, [self._version_json(mr, v) for v in reversed(mr.versions)])
        version = re.fullmatch(r"/versions/(\d+)", rest)
        if method == "GET" and version:
            found = next((v for v in mr.versions if v.id == int(version[1])), None)
            if found is None:
                return 404, {}, {"message": "404 Not found"}
            return 200, {}, {**self._version_json(mr, found), "diffs": found.diffs}
        if rest == "/discussions":
            if method == "GET":  # a plain note is listed too, as a discussion of its own
                singles = [{"id": f"{n['id']:040x}", "individual_note": True, "notes": [n]} for n in mr.notes]
                return self._page(query, mr.discussions + singles)
            if method == "POST":
                return self._create_discussion(mr, body, user)
        discussion = re.fullmatch(r"/discussions/([0-9a-f]+)(/notes)?", rest)
        if discussion:
            found = next((d for d in mr.discussions if d["id"] == discussion[1]), None)
            if found is None:
                return 404, {}, {"message": "404 Not found"}
            if method == "GET" and not discussion[2]:
                return 200, {}, found
            if method == "PUT" and not discussion[2]:
                return self._resolve(found, body, query, user)
            if method == "POST" and discussion[2]:
                if not isinstance(body, dict) or not body.get("body"):
                    return self._bad(f"discussion note without a body: {body!r}")
                found["notes"].append(self._note(body["body"], user))
                return 201, {}, found["notes"][-1]
        if rest == "/notes":
            if method == "GET":
                return self._page(query, sorted(self.all_notes(iid), key=lambda n: -n["id"]))
            if method == "POST":
                if not isinstance(body, dict) or not body.get("body"):
                    return self._bad(f"note without a body: {body!r}")
                mr.notes.append(self._note(body["body"], user))
                return 201, {}, mr.notes[-1]
        note = re.fullmatch(r"/notes/(\d+)", rest)
        if note and method == "PUT":
            found = next((n for n in self.all_notes(iid) if n["id"] == int(note[1])), None)
            if found is None:
                return 404, {}, {"message": "404 Not found"}
            if found["author"]["id"] != user["id"]:
                return 403, {}, {"message": "403 Forbidden"}
            found["body"] = body["body"]
            return 200, {}, found
        return self._unknown(method, path)

    def _create_discussion(self, mr: MergeRequest, body: Any, user: dict):
        if not isinstance(body, dict) or not body.get("body"):
            return self._bad(f"discussion without a body: {body!r}")
        position = body.get("position")
        if position is None:
            return 201, {}, self.add_discussion(mr.iid, body["body"], user)
        if not self._valid_position(mr, position):
            return 400, {}, LINE_CODE_ERROR
        return 201, {}, self.add_discussion(mr.iid, body["body"], user, position)

    def _valid_position(self, mr: MergeRequest, position: dict) -> bool:
        if position.get("position_type") != "text":
            self.errors.append(f"position_type must be text: {position}")
            return False
        shas = (position.get("base_sha"), position.get("start_sha"), position.get("head_sha"))
        version = next((v for v in mr.versions if (v.base_sha, v.start_sha, v.head_sha) == shas), None)
        file = next((f for f in version.diffs if f["new_path"] == position.get("new_path")), None) if version else None
        if file is None or file["old_path"] != position.get("old_path"):
            return False
        pair = (position.get("old_line"), position.get("new_line"))
        return pair in diff_lines(file["diff"])

    def _resolve(self, discussion: dict, body: Any, query: dict, user: dict):
        value = (body or {}).get("resolved") if isinstance(body, dict) else None
        if value is None:
            value = (query.get("resolved") or [None])[0]
        if value not in (True, False, "true", "false"):
            return self._bad(f"resolve without resolved=true|false: {body!r} {query!r}")
        resolved = value in (True, "true")
        for note in discussion["notes"]:
            if note.get("resolvable"):
                note["resolved"] = resolved
                note["resolved_by"] = user if resolved else None
        return 200, {}, discussion

    def _mr_json(self, mr: MergeRequest) -> dict:
        latest = mr.latest
        return {
            "id": 9000 + mr.iid, "iid": mr.iid, "project_id": self.project_id, "state": "opened",
            "sha": latest.head_sha, "source_branch": "feature", "target_branch": "main",
            "diff_refs": {"base_sha": latest.base_sha, "start_sha": latest.start_sha, "head_sha": latest.head_sha},
            "web_url": f"https://gitlab.example/{self.project_path}/-/merge_requests/{mr.iid}",
        }

    def _version_json(self, mr: MergeRequest, version: Version) -> dict:
        return {"id": version.id, "head_commit_sha": version.head_sha, "base_commit_sha": version.base_sha,
                "start_commit_sha": version.start_sha, "created_at": "2026-11-27T00:00:00Z",
                "merge_request_id": 9000 + mr.iid, "state": "collected", "real_size": str(len(version.diffs))}

    def _page(self, query: dict, items: list) -> tuple[int, dict, Any]:
        per_page = min(int((query.get("per_page") or ["20"])[0]), self.max_per_page)
        page = int((query.get("page") or ["1"])[0])
        pages = max(1, -(-len(items) // per_page))
        headers = {"x-page": str(page), "x-per-page": str(per_page), "x-total": str(len(items)),
                   "x-total-pages": str(pages), "x-next-page": str(page + 1) if page < pages else "",
                   "x-prev-page": str(page - 1) if page > 1 else ""}
        if page < pages:
            rest = {k: v[0] for k, v in query.items() if k not in ("page",)}
            headers["_next_query"] = urlencode({**rest, "page": page + 1, "per_page": per_page})
        return 200, headers, items[(page - 1) * per_page: page * per_page]

    def _bad(self, message: str):
        self.errors.append(message)
        return 400, {}, {"message": message}

    def _unknown(self, method: str, path: str):
        self.errors.append(f"unknown route {method} {path}")
        return 404, {}, {"message": "404 Not Found"}


def _handler(fake: FakeGitLab):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            with fake._lock:
                status, extra, payload = fake.handle(method, parts.path, parse_qs(parts.query), headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            next_query = extra.pop("_next_query", None)
            if next_query is not None:
                host = self.headers.get("Host")
                self.send_header("Link", f'<http://{host}{parts.path}?{next_query}>; rel="next"')
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._serve("PUT")

    return Handler
