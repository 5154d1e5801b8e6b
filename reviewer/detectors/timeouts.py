"""Calls that can wait forever: HTTP without a timeout, timeouts switched off,
child processes and gRPC calls without a deadline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import libcst as cst

from reviewer.detectors.local_calls import FeedsLocalCalls
from reviewer.detectors.remote_calls import (
    HTTP_VERBS,
    HTTPX_ASYNC,
    HTTPX_SYNC,
    REQUESTS_FUNCTIONS,
    REQUESTS_SESSION_METHODS,
    REQUESTS_SESSIONS,
    URLLIB3_CALLS,
    URLLIB3_POOLS,
    URLOPEN,
    is_grpc_stub_call,
)
from reviewer.engine.prefilter import root_and_last
from reviewer.engine.runner import call_fields
from reviewer.ruleset.conditions import ArgRef, find_argument, is_unknown, literal_value
from reviewer.ruleset.detector import Detector, register

_CALL_FIELDS = frozenset({"call", "callee", "method", "host", "target"})

_ADAPTERS = frozenset({"requests.adapters.HTTPAdapter", "requests.HTTPAdapter"})
# `session.request = functools.partial(session.request, timeout=...)` and friends.
_PARTIAL_TIMEOUT = re.compile(r"\.(request|get|post|put|patch|delete|head|options)\s*=\s*(functools\.)?partial\([^)]*timeout", re.S)


def argument(call: cst.Call, name: str, position: int | None = None) -> Any:
    """The expression passed for a parameter; None if absent; unknown (see is_unknown) if a splat may hold it."""
    if any(arg.star == "**" for arg in call.args):
        return _SPLAT
    has_star = any(arg.star == "*" for arg in call.args)
    return find_argument(call, ArgRef(name, position), has_star)


class _Splat:
    pass


_SPLAT = _Splat()


def passes(call: cst.Call, name: str, position: int | None = None) -> bool | None:
    """True if the call passes ``name``, False if it surely does not, None if unknown."""
    found = argument(call, name, position)
    if found is _SPLAT or is_unknown(found):
        return None
    return found is not None


def literal_none(call: cst.Call, name: str, position: int | None = None) -> bool:
    found = argument(call, name, position)
    return isinstance(found, cst.BaseExpression) and literal_value(found) is None


@dataclass
class _Pending:
    node: cst.Call
    symbol: str
    function: str
    fields: dict[str, str]
    needs: str  # "" | "session" | "urllib3" | "factory": module facts the finding depends on
    factory: str = ""  # the same-module helper the session comes from


class _DeferredDetector(Detector):
    """Collects findings during the walk and reports them once module-wide facts are known."""

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.pending: list[_Pending] = []

    def hold(self, node: cst.Call, qualified: str | None, needs: str = "", factory: str = "", **extra: str) -> None:
        context = self.scan.context
        fields = call_fields(self.scan, node, qualified)
        fields.update(extra)
        self.pending.append(_Pending(node, context.symbol, context.function_name, fields, needs, factory))

    def keep(self, pending: _Pending) -> bool:
        return True

    def finish(self) -> None:
        for item in self.pending:
            if self.keep(item):
                self.report(item.node, symbol=item.symbol, function=item.function, **item.fields)


_SESSION_REQUEST = frozenset(f"{session}.request" for session in REQUESTS_SESSIONS)
_SESSION_BUILT = re.compile(r"\b(Session|session)\(")


def _is_session(qualified: str) -> bool:
    return qualified in REQUESTS_SESSIONS


@register
class HttpCallWithoutTimeout(FeedsLocalCalls, _DeferredDetector):
    """requests, urlopen and urllib3 calls with no timeout.

    httpx, aiohttp, boto3 and the openai SDK have default timeouts and are never
    "missing" one. A module that mounts an HTTPAdapter subclass which sets a
    timeout, or wraps ``session.request`` in a partial with one, is trusted for
    its Session calls; a urllib3 pool built with ``timeout=`` covers its calls;
    ``socket.setdefaulttimeout(...)`` anywhere in the module covers them all.

    A Session built by a helper of the same module counts too: ``make_session().get(u)``,
    ``s = make_session(); s.get(u)`` and ``self.http = self._session()`` in one
    method with ``self.http.post(u)`` in another, when the helper returns a
    ``requests.Session`` (by annotation or a ``return``) (see local_calls).
    """

    name = "http-call-without-timeout"
    # Every call it checks (a Session from a same-module helper is a requests one, called
    # with a verb: among the session methods).
    tokens = tuple(sorted(set(map(root_and_last, REQUESTS_FUNCTIONS + REQUESTS_SESSION_METHODS + URLOPEN + URLLIB3_CALLS))))
    code_tokens = True
    fields = _CALL_FIELDS

    _requests = frozenset(REQUESTS_FUNCTIONS)
    _sessions = frozenset(REQUESTS_SESSION_METHODS)
    _urllib3 = frozenset(URLLIB3_CALLS)
    _pools = frozenset(URLLIB3_POOLS)

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.session_timeout_injected = "partial" in scan.text and bool(_PARTIAL_TIMEOUT.search(scan.text))
        self.pool_timeout_set = False
        # requests, urllib3 and urlopen all fall back to the socket default timeout.
        self.socket_default_set = "setdefaulttimeout(" in scan.text
        self.helper_results: dict[tuple[int, str], str] = {}  # (function, variable) -> helper it came from
        self.helper_attributes: dict[tuple[str, str], str] = {}  # (class, self attribute) -> helper
        if _SESSION_BUILT.search(scan.text):  # a helper can only return a Session the module builds
            self.use_local_calls()

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.calls is None or len(node.targets) != 1:
            return
        helper = self.calls.helper_of(node.value) if isinstance(node.value, cst.Call) else ""
        target = node.targets[0].target
        frame = self.scan.context.function
        if isinstance(target, cst.Name) and frame is not None:
            self._remember(self.helper_results, (id(frame.node), target.value), helper)
        elif isinstance(target, cst.Attribute) and self.calls.is_self(target.value):
            cls = self.scan.context.enclosing_class
            if cls is not None:
                self._remember(self.helper_attributes, (cls.name, target.attr.value), helper)

    @staticmethod
    def _remember(table: dict, key: tuple, helper: str) -> None:
        # Assigned from two places (or from something else): unknown.
        table[key] = helper if table.get(key, helper) == helper else ""

    def _session_helper(self, receiver: cst.BaseExpression) -> str:
        """The helper that built the Session ``receiver`` holds, if a helper did."""
        if isinstance(receiver, cst.Call):
            return self.calls.helper_of(receiver)
        frame = self.scan.context.function
        if isinstance(receiver, cst.Name) and frame is not None:
            return self.helper_results.get((id(frame.node), receiver.value), "")
        cls = self.scan.context.enclosing_class
        if isinstance(receiver, cst.Attribute) and self.calls.is_self(receiver.value) and cls is not None:
            return self.helper_attributes.get((cls.name, receiver.attr.value), "")
        return ""

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = {self.scan.names.qualify(base.value) for base in node.bases}
        if bases & _ADAPTERS and "timeout" in self.scan.code(node):
            self.session_timeout_injected = True

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        self.record_call(node, qualified)
        if qualified is None:
            self._check_helper_session(node)
            return
        if qualified in self._pools:
            if passes(node, "timeout") is not False:
                self.pool_timeout_set = True
            return
        if qualified in self._requests:
            if passes(node, "timeout") is False:
                self.hold(node, qualified)
        elif qualified in self._sessions:
            position = 8 if qualified in _SESSION_REQUEST else None
            if passes(node, "timeout", position) is False:
                self.hold(node, qualified, needs="session")
        elif qualified in URLOPEN:
            if passes(node, "timeout", 2) is False:
                self.hold(node, qualified)
        elif qualified in self._urllib3:
            if passes(node, "timeout") is False:
                self.hold(node, qualified, needs="urllib3")

    def _check_helper_session(self, node: cst.Call) -> None:
        func = node.func
        if self.calls is None or not isinstance(func, cst.Attribute) or func.attr.value not in HTTP_VERBS:
            return
        helper = self._session_helper(func.value)
        position = 8 if func.attr.value == "request" else None
        if helper and passes(node, "timeout", position) is False:
            self.hold(node, None, needs="factory", factory=helper)

    def keep(self, pending: _Pending) -> bool:
        if self.socket_default_set:
            return False
        if pending.needs == "factory":
            return not self.session_timeout_injected and self.calls.returns(pending.factory, _is_session)
        if pending.needs == "session":
            return not self.session_timeout_injected
        if pending.needs == "urllib3":
            return not self.pool_timeout_set
        return True


_HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
_HTTPX_TIMEOUT = frozenset({"httpx.Timeout"})
_AIOHTTP_TIMEOUT = frozenset({"aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout", "aiohttp.client_reqrep.ClientTimeout"})
_TIMEOUT_KWARG_CALLS = frozenset(REQUESTS_FUNCTIONS + REQUESTS_SESSION_METHODS + HTTPX_SYNC + HTTPX_ASYNC) | _HTTPX_CLIENTS


@register
class TimeoutDisabled(Detector):
    """A literal that switches a client's timeout off.

    Only a timeout that is off altogether counts: ``timeout=(5, None)``,
    ``httpx.Timeout(None, connect=5)`` and ``ClientTimeout(sock_connect=10)``
    keep a connect deadline (typical for streaming) and are not reported.
    """

    name = "timeout-disabled"
    # The roots of the clients checked below: each needs a None, but for aiohttp's
    # ClientTimeout(), which is off with no argument at all.
    tokens = (("requests", "None"), ("httpx", "None"), ("huggingface_hub", "None"), ("urllib", "None"),
              ("aiohttp", "ClientTimeout"))
    code_tokens = True
    fields = _CALL_FIELDS | frozenset({"setting"})

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        if qualified is None:
            return
        disabled: object
        if qualified in _TIMEOUT_KWARG_CALLS:
            disabled = _KEYWORD if literal_none(node, "timeout") else None
        elif qualified in URLOPEN:
            disabled = _KEYWORD if literal_none(node, "timeout", 2) else None
        elif qualified in _HTTPX_TIMEOUT:
            disabled = self._httpx_timeout_off(node)
        elif qualified in _AIOHTTP_TIMEOUT:
            disabled = self._aiohttp_timeout_off(node)
        else:
            return
        if disabled:
            fields = call_fields(self.scan, node, qualified)
            fields["setting"] = "timeout=None" if disabled is _KEYWORD else fields["code"]
            self.report(node, **fields)

    @staticmethod
    def _httpx_timeout_off(node: cst.Call) -> bool:
        return bool(node.args) and _all_none(node)

    @staticmethod
    def _aiohttp_timeout_off(node: cst.Call) -> bool:
        # Every field of ClientTimeout defaults to None: no argument means no limit at all.
        return _all_none(node)


_KEYWORD = "keyword"


def _all_none(node: cst.Call) -> bool:
    return not any(arg.star for arg in node.args) and all(literal_value(arg.value) is None for arg in node.args)


_SUBPROCESS_CALLS = frozenset({"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"})
_POPEN = frozenset({"subprocess.Popen"})
# Popen methods and the position their timeout may be passed at.
_POPEN_WAITS = {"subprocess.Popen.wait": 0, "subprocess.Popen.communicate": 1}

# Commands that talk to other machines, and (for multi-purpose tools) the subcommands that do.
_NETWORK_TOOLS: dict[str, frozenset[str] | None] = {
    **dict.fromkeys(("curl", "wget", "ssh", "scp", "sftp", "rsync", "aws", "gsutil", "gcloud", "az", "azcopy",
                     "kubectl", "helm", "huggingface-cli", "s3cmd", "rclone", "nc"), None),
    "git": frozenset({"clone", "fetch", "pull", "push", "ls-remote", "submodule", "lfs"}),
    "docker": frozenset({"pull", "push", "login"}),
    "podman": frozenset({"pull", "push", "login"}),
    "dvc": frozenset({"pull", "push", "fetch", "import", "import-url", "get", "get-url", "update"}),
    "pip": frozenset({"install", "download"}),
    "pip3": frozenset({"install", "download"}),
    "conda": frozenset({"install", "create", "update"}),
    "mamba": frozenset({"install", "create", "update"}),
    "npm": frozenset({"install", "ci"}),
}


def _command_words(node: cst.BaseExpression, scan) -> list[str] | None:
    """The leading literal words of a command (``["git", "clone"]``), or None if unknown."""
    if isinstance(node, (cst.List, cst.Tuple)):
        words = []
        for element in node.elements:
            value = literal_value(element.value) if not isinstance(element, cst.StarredElement) else None
            if isinstance(value, str):
                words.append(value)
            elif scan.names.qualify(element.value) == "sys.executable" and not words:
                words.append("python")
            else:
                break
        return words or None
    value = literal_value(node)
    if isinstance(value, str):
        return value.split()
    if isinstance(node, cst.FormattedString) and node.parts and isinstance(node.parts[0], cst.FormattedStringText):
        return node.parts[0].value.split()[:-1] or None  # the last word may run into a {placeholder}
    return None


def network_command(node: cst.BaseExpression | None, scan) -> str | None:
    """``"git clone"`` if the command goes over the network, else None (also when unknown)."""
    words = _command_words(node, scan) if node is not None else None
    if not words:
        return None
    tool = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    if tool.startswith("python") and rest[:2] == ["-m", "pip"]:
        tool, rest = "pip", rest[2:]
    if tool not in _NETWORK_TOOLS:
        return None
    subcommands = _NETWORK_TOOLS[tool]
    if subcommands is None:
        return tool
    sub = next((w for w in rest if not w.startswith("-")), None)
    return f"{tool} {sub}" if sub in subcommands else None


@register
class SubprocessWithoutTimeout(Detector):
    """Child processes that go over the network (``git clone``, ``pip install``,
    ``aws s3 cp``, ``curl``...) waited for with no timeout. A command that is not a
    literal is unknown and not reported."""

    name = "subprocess-without-timeout"
    tokens = ("subprocess",)
    code_tokens = True
    fields = _CALL_FIELDS | frozenset({"command"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.popen_commands: dict[str, str] = {}  # variable -> network command it runs

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._note_popen(node.targets[0].target.value, node.value)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                self._note_popen(item.asname.name.value, item.item)

    def _note_popen(self, name: str, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Call) and self.scan.names.qualify(value.func) in _POPEN:
            command = network_command(_command_argument(value), self.scan)
            if command:
                self.popen_commands[name] = command
            else:
                self.popen_commands.pop(name, None)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        if qualified in _SUBPROCESS_CALLS:
            command = network_command(_command_argument(node), self.scan)
            missing = passes(node, "timeout") is False
        elif qualified in _POPEN_WAITS:
            receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
            command = self.popen_commands.get(receiver.value) if isinstance(receiver, cst.Name) else None
            missing = passes(node, "timeout", _POPEN_WAITS[qualified]) is False
        else:
            return
        if missing and command:
            fields = call_fields(self.scan, node, qualified)
            fields["command"] = command
            self.report(node, **fields)


def _command_argument(call: cst.Call) -> cst.BaseExpression | None:
    found = find_argument(call, ArgRef("args", 0))
    return found if isinstance(found, cst.BaseExpression) else None


_READY_FUTURE = frozenset({"grpc.channel_ready_future.result"})
_STREAM_WORDS = re.compile(r"(?i)iter|stream|requests|queue")


def _request_stream(call: cst.Call) -> bool:
    """A client- or bidirectional-streaming call: its first argument is an iterator
    of requests (``iter(q.get, None)``, ``self._requests()``, ``request_iterator``),
    and such a session is meant to stay open."""
    first = next((a.value for a in call.args if a.keyword is None and not a.star), None)
    if first is None:
        return False
    if isinstance(first, cst.GeneratorExp):
        return True
    name = first.func if isinstance(first, cst.Call) else first
    written = name.attr.value if isinstance(name, cst.Attribute) else name.value if isinstance(name, cst.Name) else ""
    return bool(_STREAM_WORDS.search(written))


@register
class GrpcCallWithoutDeadline(Detector):
    """Unary or streaming calls on a ``FooStub(channel)`` object with no ``timeout``.

    Stub method names are CamelCase by protobuf convention; a lowercase method
    on a ``*Stub`` object is a hand-written helper and is left alone. A call
    iterated directly by a ``for`` is a response stream, and a call fed an
    iterator of requests is a client or bidirectional stream: both are meant to
    stay open and are left alone too.
    """

    name = "grpc-call-without-deadline"
    tokens = ("Stub", "channel_ready_future")
    fields = _CALL_FIELDS | frozenset({"service"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.streams: set[int] = set()

    def visit_For(self, node: cst.For) -> None:
        # `for reply in stub.Watch(req)`: a response stream, meant to stay open.
        if isinstance(node.iter, cst.Call):
            self.streams.add(id(node.iter))

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self.streams:
            return
        qualified = self.scan.names.qualify(node.func)
        if qualified in _READY_FUTURE:
            missing = passes(node, "timeout", 0) is False
        elif is_grpc_stub_call(qualified):
            missing = passes(node, "timeout", 1) is False and not _request_stream(node)
        else:
            return
        if missing:
            fields = call_fields(self.scan, node, qualified)
            parts = (qualified or "").split(".")
            stub = next((p for p in reversed(parts) if p.endswith("Stub")), "")
            fields["service"] = stub[: -len("Stub")] or "the service"
            self.report(node, **fields)
