"""A small, stateful GitHub REST API on 127.0.0.1 for platform tests.

PyGithub talks real HTTP to it. Every request body and every response body is checked
against GitHub's OpenAPI description (data/github-openapi.json, trimmed from
@octokit/openapi); a mismatch is recorded in ``server.errors`` and the tests assert
there is none. Responses are built from the schema (required fields filled) and then
overlaid with the state the test cares about, so they are what GitHub would send.

Faults are injected per request: a status (with headers) returned instead of, or after,
performing the request (``after=True``: the write happened, the client saw a 502).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openapi_schema_validator import OAS30Validator

SPEC = json.loads((Path(__file__).parent / "data" / "github-openapi.json").read_text())
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


def _resolve(node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        _, _, kind, name = node["$ref"].split("/", 3)
        node = SPEC["components"][kind][name]
    return node


def example(schema: dict, depth: int = 0) -> Any:
    """A value with every required field, valid against ``schema``."""
    schema = _resolve(schema)
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = example(part, depth)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return example(schema[key][0], depth)
    if schema.get("nullable") and depth > 6:
        return None
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: example(props.get(name, {}), depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2026-01-01T00:00:00Z"
        if fmt == "uri":
            return "https://github.example/x"
        if fmt == "email":
            return "bot@example.com"
        return "x"
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    return None


def _validator(schema: dict) -> OAS30Validator:
    return OAS30Validator({"allOf": [schema], "components": SPEC["components"]})


@dataclass
class Fault:
    method: str
    path: str  # regex matched against the path without the API prefix
    status: int
    headers: dict = field(default_factory=dict)
    body: dict = field(default_factory=lambda: {"message": "Server Error"})
    after: bool = False  # perform the request, then answer with the fault
    times: int = 1


@dataclass
class Pull:
    number: int
    base_sha: str
    head_sha: str
    head_repo: str
    files: list[dict] = field(default_factory=list)  # {"filename", "status", "patch"?}


class FakeGitHub:
    def __init__(self, repo: str = "acme/ml", prefix: str = "", token: str = "test-token"):
        self.repo = repo
        self.prefix = prefix.rstrip("/")
        self.token = token
        self.pulls: dict[int, Pull] = {}
        self.review_comments: list[dict] = []
        self.reviews: list[dict] = []
        self.issue_comments: list[dict] = []
        self.check_runs: dict[int, dict] = {}
        self.faults: list[Fault] = []
        self.read_only = False
        self.requests: list[tuple[str, str, Any]] = []
        self.errors: list[str] = []
        self._ids = itertools.count(1000)
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.root + self.prefix

    def __enter__(self) -> "FakeGitHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def writes(self, method: str | None = None, pattern: str = "") -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if r[0] != "GET" and (method is None or r[0] == method)
                and re.search(pattern, r[1])]

    # -- objects as GitHub shapes them ----------------------------------------------------------

    def _object(self, schema_name: str, **values) -> dict:
        data = example(SPEC["components"]["schemas"][schema_name])
        data.update(values)
        return data

    def _user(self) -> dict:
        return self._object("simple-user", login="github-actions[bot]", type="Bot")

    # -- routing -------------------------------------------------------------------------------

    ROUTES = [
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)", "/repos/{owner}/{repo}/pulls/{pull_number}", "get_pull"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/files", "/repos/{owner}/{repo}/pulls/{pull_number}/files", "list_files"),
        ("POST", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/reviews", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "create_review"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/comments", "/repos/{owner}/{repo}/pulls/{pull_number}/comments", "list_review_comments"),
        ("POST", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/comments/(?P<c>\d+)/replies", "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies", "reply"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/(?P<n>\d+)/comments", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "list_issue_comments"),
        ("POST", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/(?P<n>\d+)/comments", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "create_issue_comment"),
        ("PATCH", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/comments/(?P<c>\d+)", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "edit_issue_comment"),
        ("POST", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/check-runs", "/repos/{owner}/{repo}/check-runs", "create_check_run"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/commits/(?P<ref>[^/]+)/check-runs",
         "/repos/{owner}/{repo}/commits/{ref}/check-runs", "list_check_runs"),
        ("PATCH", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/check-runs/(?P<c>\d+)", "/repos/{owner}/{repo}/check-runs/{check_run_id}", "edit_check_run"),
    ]

    def handle(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, dict, Any]:
        url = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path
        data = None
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                self.errors.append(f"{method} {path}: body is not JSON")
                return 400, {}, {"message": "Problems parsing JSON"}
        with self._lock:
            self.requests.append((method, path, data))
            if not path.startswith(self.prefix + "/"):
                self.errors.append(f"{method} {path}: not under the API prefix {self.prefix!r}")
                return 404, {}, {"message": "Not Found"}
            path = path[len(self.prefix):]
            if headers.get("Authorization") != f"token {self.token}" and headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {}, {"message": "Bad credentials"}
            for route_method, pattern, template, name in self.ROUTES:
                match = re.fullmatch(pattern, path)
                if route_method == method and match:
                    break
            else:
                self.errors.append(f"{method} {path}: no such route in the fake (or in the trimmed spec)")
                return 404, {}, {"message": "Not Found"}
            operation = SPEC["paths"][template][method.lower()]
            if data is not None or "requestBody" in operation:
                self._check_request(method, template, operation, data)
            if f"{match['o']}/{match['r']}" != self.repo:
                return self._respond(operation, method, template, 404, {}, {"message": "Not Found"})
            fault = self._fault(method, path)
            if fault is not None and not fault.after:
                return self._respond(operation, method, template, fault.status, fault.headers, fault.body)
            if method != "GET" and self.read_only:
                return self._respond(operation, method, template, 403, {}, {
                    "message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest"})
            status, extra, payload = getattr(self, name)(match, query, data)
            if fault is not None:
                return self._respond(operation, method, template, fault.status, fault.headers, fault.body)
            return self._respond(operation, method, template, status, extra, payload)

    def _fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.search(fault.path, path):
                fault.times -= 1
                return fault
        return None

    def _check_request(self, method, template, operation, data) -> None:
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            return
        for error in _validator(content["schema"]).iter_errors(data):
            self.errors.append(f"request {method} {template}: {error.message} at {list(error.absolute_path)}")

    def _respond(self, operation, method, template, status, headers, payload):
        documented = operation["responses"].get(str(status))
        if documented is None:
            if 200 <= status < 300:
                self.errors.append(f"response {status} to {method} {template} is not documented")
        else:
            content = _resolve(documented).get("content", {}).get("application/json")
            if content is not None:
                for error in _validator(content["schema"]).iter_errors(payload):
                    self.errors.append(
                        f"response {status} to {method} {template}: {error.message[:200]} at {list(error.absolute_path)}")
        return status, headers, payload

    # -- pagination ----------------------------------------------------------------------------------

    def _page(self, items: list, query: dict, path: str) -> tuple[int, dict, list]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        links = []
        if page * per_page < len(items):
            links.append(f'<{self.api_url}{path}?per_page={per_page}&page={page + 1}>; rel="next"')
            last = (len(items) + per_page - 1) // per_page
            links.append(f'<{self.api_url}{path}?per_page={per_page}&page={last}>; rel="last"')
        return 200, ({"Link": ", ".join(links)} if links else {}), chunk

    # -- handlers --------------------------------------------------------------------------------

    def _pull(self, match) -> Pull | None:
        return self.pulls.get(int(match["n"]))

    def get_pull(self, match, query, data):
        pull = self._pull(match)
        if pull is None:
            return 404, {}, {"message": "Not Found"}
        value = self._object("pull-request", number=pull.number, state="open")
        value["base"] = {**value["base"], "sha": pull.base_sha}
        value["base"]["repo"] = {**value["base"]["repo"], "full_name": self.repo}
        value["head"] = {**value["head"], "sha": pull.head_sha}
        value["head"]["repo"] = {**value["base"]["repo"], "full_name": pull.head_repo}
        return 200, {}, value

    def list_files(self, match, query, data):
        pull = self._pull(match)
        items = [
            self._object("diff-entry", sha="0" * 40, filename=f["filename"], status=f.get("status", "modified"),
                         **({"patch": f["patch"]} if f.get("patch") is not None else {}))
            for f in pull.files
        ]
        return self._page(items, query, f"/repos/{self.repo}/pulls/{pull.number}/files")

    def create_review(self, match, query, data):
        pull = self._pull(match)
        commit = data.get("commit_id", pull.head_sha)
        if commit != pull.head_sha:
            return 422, {}, {"message": "Unprocessable Entity", "errors": ["commit_id is not the head of the pull request"]}
        patches = {f["filename"]: f.get("patch") for f in pull.files}
        for comment in data.get("comments", []):
            lines = _diff_lines(patches.get(comment["path"]))
            wanted = [comment["line"]] + ([comment["start_line"]] if "start_line" in comment else [])
            hunk = {_hunk_of(patches.get(comment["path"]), line) for line in wanted}
            if any(line not in lines for line in wanted) or len(hunk) != 1:
                return 422, {}, {"message": "Unprocessable Entity",
                                 "errors": ["Pull request review thread line must be part of the diff"]}
        review_id = next(self._ids)
        for comment in data.get("comments", []):
            self.review_comments.append(self._review_comment(pull, review_id, comment, commit))
        review = self._object("pull-request-review", id=review_id, body=data.get("body", ""), state="COMMENTED",
                              commit_id=commit, user=self._user())
        self.reviews.append(review)
        return 200, {}, review

    def _review_comment(self, pull, review_id, comment, commit, in_reply_to=None) -> dict:
        comment_id = next(self._ids)
        value = self._object(
            "pull-request-review-comment", id=comment_id, pull_request_review_id=review_id,
            body=comment["body"], path=comment["path"], commit_id=commit, original_commit_id=commit,
            user=self._user(), url=f"{self.api_url}/repos/{self.repo}/pulls/comments/{comment_id}",
        )
        if comment.get("line") is not None:
            value["line"] = comment["line"]
        if comment.get("start_line") is not None:
            value["start_line"] = comment["start_line"]
        if in_reply_to is not None:
            value["in_reply_to_id"] = in_reply_to
        return value

    def list_review_comments(self, match, query, data):
        return self._page(copy.deepcopy(self.review_comments), query, f"/repos/{self.repo}/pulls/{match['n']}/comments")

    def reply(self, match, query, data):
        pull = self._pull(match)
        parent = next((c for c in self.review_comments if c["id"] == int(match["c"])), None)
        if parent is None:
            return 404, {}, {"message": "Not Found"}
        value = self._review_comment(pull, parent["pull_request_review_id"],
                                     {"body": data["body"], "path": parent["path"]}, pull.head_sha, parent["id"])
        self.review_comments.append(value)
        return 201, {}, value

    def list_issue_comments(self, match, query, data):
        return self._page(copy.deepcopy(self.issue_comments), query, f"/repos/{self.repo}/issues/{match['n']}/comments")

    def create_issue_comment(self, match, query, data):
        comment_id = next(self._ids)
        value = self._object("issue-comment", id=comment_id, body=data["body"], user=self._user(),
                             url=f"{self.api_url}/repos/{self.repo}/issues/comments/{comment_id}",
                             html_url=f"{self.root}/{self.repo}/pull/{match['n']}#issuecomment-{comment_id}")
        self.issue_comments.append(value)
        return 201, {}, value

    def edit_issue_comment(self, match, query, data):
        comment = next((c for c in self.issue_comments if c["id"] == int(match["c"])), None)
        if comment is None:
            return 404, {}, {"message": "Not Found"}
        comment["body"] = data["body"]
        return 200, {}, copy.deepcopy(comment)

    def create_check_run(self, match, query, data):
        run_id = next(self._ids)
        value = self._object("check-run", id=run_id, name=data["name"], head_sha=data["head_sha"],
                             status=data.get("status", "queued"), conclusion=data.get("conclusion"),
                             external_id=data.get("external_id"),
                             url=f"{self.api_url}/repos/{self.repo}/check-runs/{run_id}")
        value["_annotations"] = list(data.get("output", {}).get("annotations", []))
        self.check_runs[run_id] = value
        return 201, {}, {k: v for k, v in value.items() if not k.startswith("_")}

    def list_check_runs(self, match, query, data):
        runs = [{k: v for k, v in run.items() if not k.startswith("_")} for run in self.check_runs.values()
                if run["head_sha"] == match["ref"] and run["name"] == query.get("check_name", run["name"])]
        return 200, {}, {"total_count": len(runs), "check_runs": runs}

    def edit_check_run(self, match, query, data):
        run = self.check_runs.get(int(match["c"]))
        if run is None:
            return 404, {}, {"message": "Not Found"}
        run["_annotations"].extend(data.get("output", {}).get("annotations", []))
        return 200, {}, {k: v for k, v in run.items() if not k.startswith("_")}


def _diff_lines(patch: str | None) -> set[int]:
    lines: set[int] = set()
    for match in _HUNK.finditer(patch or ""):
        start, length = int(match[1]), int(match[2] or 1)
        lines.update(range(start, start + length))
    return lines


def _hunk_of(patch: str | None, line: int) -> int | None:
    for index, match in enumerate(_HUNK.finditer(patch or "")):
        start, length = int(match[1]), int(match[2] or 1)
        if start <= line < start + length:
            return index
    return None


def _handler(fake: FakeGitHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = fake.handle(self.command, self.path, self.headers, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, *args):
            pass

    return Handler
