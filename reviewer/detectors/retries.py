"""Retries that hurt: hand-written retry loops with no pause or no end, and
retry policies (tenacity, backoff, retrying, urllib3) that never give up or
retry immediately.

A hand-written retry loop is recognised by its shape, not its name:

- the header is ``for <var> in range(...)`` (and the loop variable is not used
  inside the ``try``, so the loop repeats one call instead of walking items)
  or a ``while`` loop;
- a ``try`` directly in the loop body wraps a remote call (see remote_calls),
  or catches a network error (``requests.ConnectionError``, ``TimeoutError``,
  ``openai.APIError``...) around any call;
- success leaves the loop (``break``/``return`` in the ``try`` or its
  ``else``, or after it when failures ``continue``);
- an ``except`` handler goes round again (it does not end in
  ``raise``/``return``/``break``).

or, without a ``try``: ``resp = <remote call>`` followed by an ``if`` on the
response's status that leaves the loop on success (or ``continue``s on a
status, with a ``break`` after it).

A polling or daemon loop that never leaves on success is not a retry loop.
A pause only counts as backoff when it can grow or vary between attempts
(it depends on the attempt number, a variable the loop changes, ``**`` or
``*``, or a random/jitter/backoff helper); ``time.sleep(5)`` retries in
lockstep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from reviewer.detectors.remote_calls import (
    AIOHTTP,
    HTTP_VERBS,
    HTTPX_ASYNC,
    HTTPX_SYNC,
    REQUESTS_FUNCTIONS,
    REQUESTS_SESSION_METHODS,
    URLOPEN,
    is_llm_api_call,
    is_remote_call,
    is_sleep,
)
from reviewer.detectors.timeouts import network_command, passes
from reviewer.engine.names import bound_values, dotted_name
from reviewer.engine.prefilter import root_and_last
from reviewer.engine.runner import call_fields
from reviewer.engine.walk import child_nodes, descendants
from reviewer.questions import field_text
from reviewer.ruleset.conditions import ArgRef, find_argument, literal_value
from reviewer.ruleset.detector import Detector, register

# A call whose name says it waits is trusted to pause between attempts.
_DELAY_WORDS = ("sleep", "wait", "backoff", "delay", "pause")
_EXIT_CALLS = frozenset({"sys.exit", "builtins.exit", "builtins.quit", "os._exit", "os.abort"})
# Inside a retry loop, the loop already says "this fails sometimes"; these names say "over the network".
_REMOTE_WORD = r"(?:download|upload|fetch|request|http|api_?call)"
_REMOTE_WORDS = re.compile("(?i)" + _REMOTE_WORD)
_REMOTE_METHODS = frozenset({*HTTP_VERBS, "send"})
_REMOTE_RECEIVERS = re.compile(r"(?i)session|http")
_CLIENT_RECEIVERS = re.compile(r"(?i)client")
_WRITE_VERBS = frozenset(HTTP_VERBS) - {"get", "delete", "head", "options"}
# Exceptions that say "the network failed": by package when the name resolves, by name when it does not.
_NETWORK_ERROR_PACKAGES = frozenset({"requests", "urllib3", "urllib", "http", "httpx", "aiohttp", "socket", "openai",
                                     "anthropic", "botocore", "boto3", "grpc", "redis", "pymongo", "psycopg2",
                                     "huggingface_hub", "websocket", "websockets", "ssl"})
_NETWORK_BUILTINS = frozenset({"builtins.ConnectionError", "builtins.ConnectionResetError",
                               "builtins.ConnectionRefusedError", "builtins.ConnectionAbortedError",
                               "builtins.TimeoutError", "builtins.BrokenPipeError"})
_NETWORK_ERROR_NAMES = re.compile(
    r"ConnectionError|ConnectError|TimeoutError|HTTPError|RequestException|RequestError|TransportError|URLError"
    r"|APIError|APIConnectionError|RateLimitError|OpenAIError|ServiceUnavailable|ProtocolError"
    r"|ChunkedEncodingError|RemoteDisconnected"
)
# A loop that polls a server until it is up retries at a fixed interval on purpose.
_READINESS = re.compile(r"(?i)health|readyz|livez|_ready\b|is_ready|ready\(|is_alive|startup|wait_for|wait_until"
                        r"|server_up|\bping\b|until the server|server to (start|be ready)")
_READY_FUNCTION = re.compile(r"(?i)wait|ready|health|launch|startup|alive|ping")
_GROWTH_OPERATORS = (cst.Power, cst.Multiply, cst.LeftShift)
_VARYING_WORDS = re.compile(r"(?i)random|uniform|jitter|backoff|expon")
_SUCCESS_TESTS = re.compile(r"\.(status_code|status|ok)\b|raise_for_status")


@dataclass
class _LoopFacts:
    delayed: bool = False
    growing_delay: bool = False


@dataclass
class RetryLoop:
    loop: cst.For | cst.While
    attempt: cst.CSTNode  # the try, or the statement making the call
    remote: cst.Call
    remote_name: str | None
    unbounded: bool
    delayed: bool
    growing_delay: bool
    readiness: bool  # waits for a server to come up (health checks, wait_for_server)


def _walk(node: cst.CSTNode, *, into_loops: bool = True) -> Iterator[cst.CSTNode]:
    """Descendants of ``node`` in the same function (and, optionally, not in nested loops)."""
    stack = child_nodes(node)
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        if not into_loops and isinstance(current, (cst.For, cst.While)):
            # A nested loop's own break belongs to it; its return and raise still leave ours.
            stack.extend(n for n in _walk(current) if isinstance(n, (cst.Return, cst.Raise)))
            continue
        stack.extend(child_nodes(current))


def _exits(node: cst.CSTNode, *, raises: bool = True) -> bool:
    """Does anything under ``node`` leave the enclosing loop (break, return, raise, sys.exit)?"""
    for current in _walk(node, into_loops=False):
        if isinstance(current, (cst.Break, cst.Return)):
            return True
        if raises and isinstance(current, cst.Raise):
            return True
    return False


def _leaves_on_success(node: cst.CSTNode) -> bool:
    return any(isinstance(n, (cst.Break, cst.Return)) for n in _walk(node, into_loops=False))


def _last_statement(block: cst.BaseSuite) -> cst.CSTNode | None:
    if isinstance(block, cst.IndentedBlock):
        if not block.body:
            return None
        last = block.body[-1]
    else:
        last = block
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return last.body[-1] if last.body else None
    return last


def _ends_with(block: cst.BaseSuite, kinds: tuple[type, ...]) -> bool:
    return isinstance(_last_statement(block), kinds)


def _names_in(node: cst.CSTNode) -> set[str]:
    return {n.value for n in _walk(node) if isinstance(n, cst.Name)}


class ImportAliases(Detector):
    """Remembers the names that ``import ... as name`` binds in the module."""

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.aliases: set[str] = set()

    def visit_Import(self, node: cst.Import) -> None:
        self._note(node.names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not isinstance(node.names, cst.ImportStar):
            self._note(node.names)

    def _note(self, names) -> None:
        for alias in names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases.add(alias.asname.name.value)

    def constructs(self, call: cst.Call, qualified: str) -> bool:
        """``Retrying(...)`` itself, not ``retryer(...)`` on an object it made.

        The resolver names both after the constructor; only the first is written
        with the constructor's own name (or an import alias of it).
        """
        func = call.func
        if isinstance(func, cst.Attribute):
            return func.attr.value == qualified.rsplit(".", 1)[-1]
        return isinstance(func, cst.Name) and (
            func.value == qualified.rsplit(".", 1)[-1] or func.value in self.aliases
        )


# What a file needs before one of its loops can be a retry loop: a loop that can retry
# (``for ... in range(...)`` or ``while``), an attempt (a ``try``, or a test of a response's
# status) and evidence that the call is remote, one for each way RetryLoopTracker._remote
# and _catches_network_error can say so. Names first: they are cheaper than the patterns.
_LOOPS = ("range", "while")
_ATTEMPTS = ("try", _SUCCESS_TESTS)
_CODE_END = r"(?:\s|\\|#[^\n]*\n)*"  # what may sit between a name and the next token
_REMOTE_EVIDENCE = (
    # the roots of remote calls (remote_calls), subprocess, and of network errors
    *((root,) for root in sorted(_NETWORK_ERROR_PACKAGES | {"boto3", "redis", "psycopg", "pymysql", "MySQLdb",
                                                             "mysql", "subprocess"})),
    *((builtin.rpartition(".")[2],) for builtin in sorted(_NETWORK_BUILTINS)),
    (_NETWORK_ERROR_NAMES,), (re.compile("Stub"),),  # gRPC stubs: <Name>Stub(channel)
    ("completions", "create"), ("embeddings", "create"),  # is_llm_api_call's chains
    # a call named like a download or fetch, and a verb called on a session, http or client
    # (the receiver's name is followed by ``.verb`` or, when it is called, by ``(``)
    (re.compile("(?i)" + _REMOTE_WORD + r"\w*" + _CODE_END + r"\("),),
    *((verb, re.compile(r"(?i)(?:session|http|client)\w*" + _CODE_END + r"[.(]"))
      for verb in sorted(_REMOTE_METHODS)),
)
REMOTE_TOKENS = tuple((loop, attempt, *evidence) for loop in _LOOPS for attempt in _ATTEMPTS
                      for evidence in _REMOTE_EVIDENCE)


class RetryLoopTracker(ImportAliases):
    """Finds retry loops; subclasses decide which of them are findings."""

    tokens = REMOTE_TOKENS
    code_tokens = True
    fields = frozenset({"call", "callee", "host", "target", "attempts", "pause"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.remote_in_try: dict[int, tuple[cst.Call, str | None]] = {}  # try body -> first remote call
        self.remote_calls: dict[int, str | None] = {}  # remote calls directly in a loop, not in a try
        self.loops: dict[int, _LoopFacts] = {}
        self.exit_calls: set[int] = set()  # handlers calling sys.exit and friends

    def visit_For(self, node: cst.For) -> None:
        self.loops[id(node)] = _LoopFacts()

    def visit_While(self, node: cst.While) -> None:
        self.loops[id(node)] = _LoopFacts()

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        local = list(self._local_frames())
        in_loop = any(frame.kind == "loop" for frame in local)
        if in_loop and self._remote(node, qualified):
            for frame in local:
                if frame.kind == "try":
                    self.remote_in_try.setdefault(id(frame.node), (node, qualified))
            self.remote_calls[id(node)] = qualified
        func = node.func
        written = (func.attr.value if isinstance(func, cst.Attribute) else
                   func.value if isinstance(func, cst.Name) else "").lower()
        if is_sleep(qualified) or any(word in written for word in _DELAY_WORDS):
            for frame in local:
                if frame.kind == "loop" and id(frame.node) in self.loops:
                    facts = self.loops[id(frame.node)]
                    facts.delayed = True
                    facts.growing_delay = facts.growing_delay or _varying_delay(node, written, frame.node)
        if qualified in _EXIT_CALLS:
            for frame in local:
                if frame.kind == "except":
                    self.exit_calls.add(id(frame.node))

    def _remote(self, node: cst.Call, qualified: str | None) -> bool:
        if is_remote_call(qualified) or is_llm_api_call(node):
            return True
        if qualified is not None and qualified.startswith("subprocess."):
            return network_command(node.args[0].value if node.args else None, self.scan) is not None
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = _receiver_name(func.value)
            if method in _REMOTE_METHODS and (
                _REMOTE_RECEIVERS.search(receiver)
                or (method in _WRITE_VERBS and _CLIENT_RECEIVERS.search(receiver))
            ):
                return True
            return method[:1].islower() and bool(_REMOTE_WORDS.search(method))
        # `fetch_page(...)`, not `ServiceConnectorRequest(...)`, which only builds a request
        return isinstance(func, cst.Name) and func.value[:1].islower() and bool(_REMOTE_WORDS.search(func.value))

    def _local_frames(self):
        for frame in reversed(self.scan.context.frames):
            if frame.kind in ("function", "lambda"):
                return
            yield frame

    def leave_For(self, node: cst.For) -> None:
        if self._counted_attempts(node):
            self._check(node, unbounded_header=False)
        else:
            self.loops.pop(id(node), None)

    def leave_While(self, node: cst.While) -> None:
        forever = literal_value(node.test) in (True, 1)
        self._check(node, unbounded_header=forever)

    def _counted_attempts(self, node: cst.For) -> bool:
        iterator = node.iter
        if not (isinstance(iterator, cst.Call) and self.scan.names.qualify(iterator.func) == "builtins.range"):
            return False
        if not isinstance(node.target, cst.Name) or not 1 <= len(iterator.args) <= 2:
            return False
        bounds = [literal_value(a.value) for a in iterator.args]
        if all(isinstance(b, int) for b in bounds):
            start, stop = (0, bounds[0]) if len(bounds) == 1 else bounds
            return stop - start > 1
        return True

    def _check(self, loop: cst.For | cst.While, unbounded_header: bool) -> None:
        facts = self.loops.pop(id(loop), _LoopFacts())
        body = loop.body
        if not isinstance(body, cst.IndentedBlock):
            return
        statements = list(body.body)
        target = loop.target.value if isinstance(loop, cst.For) and isinstance(loop.target, cst.Name) else None
        for index, statement in enumerate(statements):
            if isinstance(statement, cst.Try):
                found = self._try_attempt(statement, statements, index, target)
            else:
                found = self._status_attempt(statement, statements, index, target)
            if found is None:
                continue
            if found is _NOT_A_RETRY:
                return
            remote, gives_up = found
            readiness = bool(_READY_FUNCTION.search(self.scan.context.function_name)
                             or _READINESS.search(self.scan.code(loop)))
            self.found(RetryLoop(loop, statement, remote[0], remote[1], unbounded_header and not gives_up,
                                 facts.delayed, facts.growing_delay, readiness))
            return

    def _try_attempt(self, statement: cst.Try, statements, index: int, target: str | None):
        remote = self.remote_in_try.get(id(statement.body))
        if remote is None and any(self._catches_network_error(h) for h in statement.handlers):
            first = next((n for n in descendants(statement.body) if isinstance(n, cst.Call)), None)
            remote = (first, None) if first is not None else None
        if remote is None:
            return None
        if target is not None and _walks_items(target, statement.body):
            return _NOT_A_RETRY
        retrying = [h for h in statement.handlers if not _ends_with(h.body, (cst.Raise, cst.Return, cst.Break))]
        if not retrying:
            return None
        after = statements[index + 1:]
        before = statements[:index]
        failures_continue = all(_ends_with(h.body, (cst.Continue,)) for h in retrying)
        on_success = _leaves_on_success(statement.body) or (
            statement.orelse is not None and _leaves_on_success(statement.orelse)
        ) or (failures_continue and any(_leaves_on_success(s) for s in after))
        if not on_success:
            return None
        if not failures_continue and any(_exits(s) for s in after if not isinstance(s, cst.If)):
            return None  # a failure falls through to an unconditional exit: not a retry
        gives_up = (
            any(_exits(h) or id(h) in self.exit_calls for h in retrying)
            or any(_exits(s) for s in before)
            or (not failures_continue and any(_exits(s) for s in after))
            or any(isinstance(n, cst.Raise) for n in _walk(statement.body))
        )
        return remote, gives_up

    def _status_attempt(self, statement: cst.CSTNode, statements, index: int, target: str | None):
        """``resp = remote(...)`` then ``if resp.status_code == 200: break`` (or ``if <status>: continue``
        with a ``break`` after it)."""
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
            return None
        assign = statement.body[0]
        if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)):
            return None
        call = next((n for n in _walk(assign.value) if isinstance(n, cst.Call) and id(n) in self.remote_calls),
                    None)
        if isinstance(assign.value, cst.Call) and id(assign.value) in self.remote_calls:
            call = assign.value
        if call is None:
            return None
        if target is not None and _walks_items(target, assign.value):
            return _NOT_A_RETRY
        response = assign.targets[0].target.value
        after = statements[index + 1:]
        checks = [s for s in after if isinstance(s, cst.If) and response in _names_in(s.test)
                  and _SUCCESS_TESTS.search(self.scan.code(s.test))]
        if not checks:
            return None
        check = checks[0]
        rest = after[after.index(check) + 1:]
        if _ends_with(check.body, (cst.Break, cst.Return)) and check.orelse is None:
            # success leaves; the loop goes round unless something after always leaves
            if any(_exits(s) for s in rest if not isinstance(s, cst.If)):
                return None
            gives_up = any(_exits(s) for s in rest) or any(isinstance(n, cst.Raise) for s in rest for n in _walk(s))
        elif _ends_with(check.body, (cst.Continue,)) and check.orelse is None:
            if not any(_leaves_on_success(s) for s in rest):
                return None
            gives_up = any(_exits(s, raises=True) for s in _statements_of(check.body))
        else:
            return None
        return (call, self.remote_calls[id(call)]), gives_up

    def _catches_network_error(self, handler: cst.ExceptHandler) -> bool:
        caught = handler.type
        if caught is None:
            return False
        kinds = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        for kind in kinds:
            qualified = self.scan.names.qualify(kind)
            if qualified is None:
                if _NETWORK_ERROR_NAMES.search(self.scan.code(kind)):
                    return True
            elif qualified in _NETWORK_BUILTINS or qualified.partition(".")[0] in _NETWORK_ERROR_PACKAGES:
                return True
        return False

    def found(self, retry: RetryLoop) -> None:
        raise NotImplementedError

    def loop_fields(self, retry: RetryLoop) -> dict[str, str]:
        fields = call_fields(self.scan, retry.remote, retry.remote_name)
        if isinstance(retry.loop, cst.For):
            fields["attempts"] = f"`{self.scan.code(retry.loop.iter)}` attempts"
        else:
            fields["attempts"] = "attempts until it succeeds" if retry.unbounded else "repeated attempts"
        fields["pause"] = (
            "with a growing pause" if retry.growing_delay
            else "with the same fixed pause" if retry.delayed else "with no pause"
        )
        return fields


_NOT_A_RETRY = object()


def _receiver_name(receiver: cst.BaseExpression) -> str:
    """``self.session`` for ``self.session.get``, ``get_session`` for ``get_session().post``."""
    if isinstance(receiver, cst.Call):
        receiver = receiver.func
    return dotted_name(receiver) or ""


def _walks_items(target: str, node: cst.CSTNode) -> bool:
    """Does the attempt use the loop variable as an item (``urls[i]``, ``fetch(i)``) rather than
    as an attempt counter (``if i > 0``, ``f"attempt {i}"``)?"""
    for current in _walk(node):
        if isinstance(current, cst.SubscriptElement) and target in _names_in(current):
            return True
        if isinstance(current, cst.Arg) and isinstance(current.value, cst.Name) and current.value.value == target:
            return True
    return False


def _statements_of(block: cst.BaseSuite) -> list[cst.CSTNode]:
    return list(block.body) if isinstance(block, cst.IndentedBlock) else [block]


def _varying_delay(call: cst.Call, written: str, loop: cst.CSTNode) -> bool:
    """Can this pause differ between attempts (exponential, jittered, from the attempt number)?"""
    if _VARYING_WORDS.search(written):
        return True
    if not call.args:
        return True  # a waiting helper that decides its own pause: trust it
    changing = _loop_changed_names(loop)
    for arg in call.args:
        for node in [arg.value, *_walk(arg.value)]:
            if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, _GROWTH_OPERATORS):
                return True
            if isinstance(node, (cst.Name, cst.Attribute)) and dotted_name(node) in changing:
                return True
            if isinstance(node, cst.Call):
                name = node.func.attr.value if isinstance(node.func, cst.Attribute) else (
                    node.func.value if isinstance(node.func, cst.Name) else "")
                if _VARYING_WORDS.search(name):
                    return True
    return False


def _loop_changed_names(loop: cst.CSTNode) -> set[str]:
    """The loop variable and what the loop body assigns (``delay *= 2``, ``self.sleep_time *= 2``)."""
    names: set[str] = set()
    if isinstance(loop, cst.For):
        names.update(n.value for n in [loop.target, *_walk(loop.target)] if isinstance(n, cst.Name))
    for node in _walk(loop.body):
        if isinstance(node, (cst.AugAssign, cst.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        else:
            continue
        names.update(filter(None, (dotted_name(t) for t in targets)))
    return names


@register
class RetryLoopWithoutBackoff(RetryLoopTracker):
    name = "retry-loop-without-backoff"

    def found(self, retry: RetryLoop) -> None:
        # A loop that never gives up is the unbounded-retry rule's finding.
        if not retry.growing_delay and not retry.unbounded and not retry.readiness:
            self.report(retry.loop, **self.loop_fields(retry))


@register
class UnboundedRetry(RetryLoopTracker):
    """``while True`` retry loops that never give up, and retry decorators without a stop."""

    name = "unbounded-retry"
    tokens = (*REMOTE_TOKENS, "tenacity", "backoff", "retrying")  # the roots of _STOP_KEYWORDS
    fields = RetryLoopTracker.fields | frozenset({"policy"})

    def found(self, retry: RetryLoop) -> None:
        if retry.unbounded:
            self.report(retry.loop, policy="this loop", **self.loop_fields(retry))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            if isinstance(decorator.decorator, cst.Call):
                policy = self._policy(decorator.decorator)
                if policy is not None and _unbounded(decorator.decorator, policy):
                    self.report(decorator, end=node.name, policy=f"`@{self.scan.code(decorator.decorator.func)}`",
                                **self._decorator_fields(node))
            else:
                qualified = self.scan.names.qualify(decorator.decorator)
                if qualified in _STOP_KEYWORDS:  # bare @retry: no stop at all
                    self.report(decorator, end=node.name, policy=f"`@{self.scan.code(decorator.decorator)}`",
                                **self._decorator_fields(node))

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        # Decorator calls are handled with their function; here only retrying objects.
        policy = self._policy(node)
        if policy in _RETRYING_OBJECTS and _unbounded(node, policy):
            fields = call_fields(self.scan, node, policy)
            fields.update(policy=f"`{fields['call']}`", call="the wrapped call", host=_SOME_SERVICE)
            self.report(node, **fields)

    def _policy(self, node: cst.Call) -> str | None:
        qualified = self.scan.names.qualify(node.func)
        return qualified if qualified in _STOP_KEYWORDS and self.constructs(node, qualified) else None

    def _decorator_fields(self, node: cst.FunctionDef) -> dict[str, str]:
        return {"call": f"{node.name.value}()", "host": _SOME_SERVICE}


_SOME_SERVICE = "the service it calls"


# Each retry helper, and the keywords that bound its attempts.
_STOP_KEYWORDS: dict[str, tuple[str, ...]] = {
    "tenacity.retry": ("stop",),
    "tenacity.Retrying": ("stop",),
    "tenacity.AsyncRetrying": ("stop",),
    "tenacity.asyncio.AsyncRetrying": ("stop",),
    "backoff.on_exception": ("max_tries", "max_time"),
    "backoff.on_predicate": ("max_tries", "max_time"),
    "retrying.retry": ("stop", "stop_max_attempt_number", "stop_max_delay", "stop_func"),
    "retrying.Retrying": ("stop", "stop_max_attempt_number", "stop_max_delay", "stop_func"),
}
_RETRYING_OBJECTS = frozenset({"tenacity.Retrying", "tenacity.AsyncRetrying", "tenacity.asyncio.AsyncRetrying",
                               "retrying.Retrying"})


def _unbounded(node: cst.Call, policy: str) -> bool:
    return all(passes(node, keyword) is False for keyword in _STOP_KEYWORDS[policy])


_URLLIB3_RETRY = frozenset({
    "urllib3.Retry", "urllib3.util.Retry", "urllib3.util.retry.Retry", "requests.adapters.Retry",
    "requests.packages.urllib3.util.retry.Retry", "requests.packages.urllib3.Retry",
    "requests.packages.urllib3.util.Retry",
})
_HTTP_ADAPTERS = frozenset({"requests.adapters.HTTPAdapter", "requests.HTTPAdapter"})
_WAIT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "tenacity.retry": ("wait",),
    "tenacity.Retrying": ("wait",),
    "tenacity.AsyncRetrying": ("wait",),
    "tenacity.asyncio.AsyncRetrying": ("wait",),
    "retrying.retry": ("wait", "wait_fixed", "wait_random_min", "wait_random_max", "wait_incrementing_start",
                       "wait_incrementing_increment", "wait_exponential_multiplier", "wait_exponential_max",
                       "wait_func"),
    "retrying.Retrying": ("wait", "wait_fixed", "wait_random_min", "wait_random_max", "wait_incrementing_start",
                          "wait_incrementing_increment", "wait_exponential_multiplier", "wait_exponential_max",
                          "wait_func"),
}


@register
class UnsafeRetryPolicy(ImportAliases):
    """Retry policies that retry immediately: tenacity or retrying with a stop but no
    wait, urllib3 ``Retry`` without ``backoff_factor``, ``HTTPAdapter(max_retries=3)``.

    A policy with no stop at all is the unbounded-retry rule's finding, not this one.
    """

    name = "unsafe-retry-policy"
    tokens = ("retry", "Retry", "Retrying", "max_retries")
    fields = frozenset({"call", "callee", "host", "target", "policy"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.decorators: dict[int, tuple[cst.Decorator, cst.FunctionDef]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            if isinstance(decorator.decorator, cst.Call):
                self.decorators[id(decorator.decorator)] = (decorator, node)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        if qualified is None or not self.constructs(node, qualified):
            return
        if qualified in _WAIT_KEYWORDS:
            if not _unbounded(node, qualified) and all(passes(node, k) is False for k in _WAIT_KEYWORDS[qualified]):
                self._report_policy(node, qualified, "retries with no wait between attempts")
        elif qualified in _URLLIB3_RETRY:
            if self._retries_without_backoff(node):
                self._report_policy(node, qualified, "retries with no backoff (`backoff_factor` defaults to 0)")
        elif qualified in _HTTP_ADAPTERS:
            found = find_argument(node, ArgRef("max_retries", 2))
            value = literal_value(found) if found is not None else None
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                self._report_policy(node, qualified, f"retries {value} times with no backoff")

    @staticmethod
    def _retries_without_backoff(node: cst.Call) -> bool:
        if any(arg.star for arg in node.args) or passes(node, "backoff_factor") is not False:
            return False
        if len([a for a in node.args if a.keyword is None]) > 1:
            return False  # positional layouts differ between urllib3 versions
        total = find_argument(node, ArgRef("total", 0))
        if total is None:
            return True  # the default is 10 attempts
        value = literal_value(total)
        return not (value is None or value is False or value == 0)

    def _report_policy(self, node: cst.Call, qualified: str, policy: str) -> None:
        fields = call_fields(self.scan, node, qualified)
        fields["policy"] = policy
        decorated = self.decorators.get(id(node))
        if decorated is not None:
            decorator, function = decorated
            fields["call"] = f"{function.name.value}()"
            self.report(decorator, end=function.name, **fields)
        else:
            self.report(node, **fields)


# Clients with no retries of their own; boto3, the openai and anthropic SDKs and
# huggingface_hub's download helpers retry transient failures by default.
_NO_DEFAULT_RETRY = frozenset(REQUESTS_FUNCTIONS + REQUESTS_SESSION_METHODS + HTTPX_SYNC + HTTPX_ASYNC + AIOHTTP
                              + URLOPEN + ("urllib.request.urlretrieve",))
# Any of these in the module says someone thought about retries here.
_RETRY_POLICY_WORDS = re.compile(r"tenacity|backoff|retrying|stamina|Retry\(|max_retries|retries\s*=|@retry|retry_")
_RETRY_NAMES = re.compile(r"(?i)retr|backoff|attempt")


@register
class BatchRemoteCallWithoutRetry(Detector):
    """A remote call made once per item of a loop (``for url in urls: requests.get(url)``)
    with no retry policy anywhere around it.

    Silent when the module mentions a retry library or policy (tenacity, backoff,
    urllib3 ``Retry``, ``max_retries``, httpx transport ``retries=``), when the call
    is inside a ``try`` (its failure is handled, one way or another), when an
    enclosing function is decorated by something named like a retry or by a
    decorator of the module that loops around a ``try``, and for clients that
    retry by default (boto3, openai, anthropic). A loop over a literal ``range`` or
    over a collection written out in the code walks a fixed few items, not a data set.
    """

    name = "batch-remote-call-without-retry"
    tokens = tuple(sorted(set(map(root_and_last, _NO_DEFAULT_RETRY))))
    code_tokens = True
    fields = frozenset({"call", "callee", "host", "target", "items"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.policy_in_module = bool(_RETRY_POLICY_WORDS.search(scan.text))

    def visit_Call(self, node: cst.Call) -> None:
        if self.policy_in_module:
            return
        qualified = self.scan.names.qualify(node.func)
        if qualified not in _NO_DEFAULT_RETRY:
            return
        loop = None
        for frame in reversed(self.scan.context.frames):
            if frame.kind in ("function", "lambda"):
                if frame.kind == "function" and self._retrying_decorator(frame.node):
                    return
                break
            if frame.kind in ("try", "except"):
                return
            if frame.kind == "loop" and loop is None:
                loop = frame.node
        if not isinstance(loop, cst.For) or not self._per_item(loop, node):
            return
        fields = call_fields(self.scan, node, qualified)
        fields["items"] = field_text(self.scan.code(loop.iter))
        self.report(node, **fields)

    def _per_item(self, loop: cst.For, call: cst.Call) -> bool:
        """The loop walks items (not attempts) and the call uses the item."""
        iterator = loop.iter
        if isinstance(iterator, cst.Call) and self.scan.names.qualify(iterator.func) == "builtins.range":
            if all(isinstance(literal_value(a.value), int) for a in iterator.args):
                return False  # a fixed count: attempts, pages or a demo, not a data set
        targets = {n.value for n in [loop.target, *_walk(loop.target)] if isinstance(n, cst.Name)}
        used = {n.value for arg in call.args for n in [arg.value, *_walk(arg.value)] if isinstance(n, cst.Name)}
        return bool(targets & used) and not self._written_out(iterator)  # a written-out few: a fixed count too

    def _written_out(self, iterable: cst.BaseExpression) -> bool:
        """A collection written out element by element in the code: a display, or a
        module or class constant bound once to one and never grown."""
        if isinstance(iterable, cst.Call) and not iterable.args and isinstance(iterable.func, cst.Attribute) \
                and iterable.func.attr.value in _DICT_VIEWS:
            iterable = iterable.func.value
        if isinstance(iterable, cst.Name):
            name, scope = iterable.value, self.scan.module
            if any(name in _parameters(frame.node) for frame in self.scan.context.frames
                   if frame.kind in ("function", "lambda")):
                return False
        elif isinstance(iterable, cst.Attribute) and isinstance(iterable.value, cst.Name) \
                and iterable.value.value in ("self", "cls") and self.scan.context.enclosing_class is not None:
            name, scope = iterable.attr.value, self.scan.context.enclosing_class.node
        else:
            return _display(iterable)
        values = bound_values(scope, name)
        grown = re.search(rf"\b{re.escape(name)}\s*(\[[^\]\n]*\]\s*=[^=]|\.(append|extend|insert|update|setdefault|add)\()",
                          self.scan.text)
        return len(values) == 1 and _display(values[0]) and not grown

    def _retrying_decorator(self, function: cst.FunctionDef) -> bool:
        for decorator in function.decorators:
            expression = decorator.decorator
            name = expression.func if isinstance(expression, cst.Call) else expression
            if _RETRY_NAMES.search(self.scan.code(name)):
                return True
            if isinstance(name, cst.Name):
                helper = self.scan.names.local_functions.get(name.value)
                if helper is not None and _loops_around_try(helper):
                    return True  # a retry decorator of the module, whatever its name
        return False


_DICT_VIEWS = frozenset({"items", "keys", "values"})


def _display(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return not any(isinstance(e, cst.StarredElement) for e in node.elements)
    if isinstance(node, cst.Dict):
        return not any(isinstance(e, cst.StarredDictElement) for e in node.elements)
    return False


def _parameters(function: cst.FunctionDef | cst.Lambda) -> set[str]:
    return {n.name.value for n in descendants(function.params) if isinstance(n, cst.Param)}


def _loops_around_try(function: cst.FunctionDef) -> bool:
    return any(isinstance(loop, (cst.For, cst.While)) and any(isinstance(n, cst.Try) for n in descendants(loop))
               for loop in descendants(function))
