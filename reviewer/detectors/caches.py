"""Detectors for the unbounded-cache family: in-process buffers that grow with traffic."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from reviewer.detectors.scale_signals import (
    BindingDetector,
    bound_names,
    grown_lists,
    argument,
    is_literal_collection,
    literal_text,
    names_in,
    short,
    walk,
)
from reviewer.engine.names import bound_values
from reviewer.ruleset.conditions import is_unknown, literal_value
from reviewer.ruleset.detector import Detector, register

# -- CCH001 --------------------------------------------------------------------

_UNBOUNDED_CACHES = frozenset({"functools.cache"})
_SIZED_CACHES = frozenset({"functools.lru_cache"})
_FEW_VALUED_TYPES = frozenset({"builtins.bool", "typing.Literal", "typing_extensions.Literal"})
# Parameter names that carry request or data values: one cache entry per user, prompt, document.
_DATA_WORDS = frozenset({
    "text", "texts", "input", "inputs", "prompt", "prompts", "query", "queries", "question", "questions",
    "sentence", "sentences", "doc", "docs", "document", "documents", "passage", "passages", "chunk",
    "content", "contents", "conversation", "utterance", "image", "images", "img", "audio",
    "user", "users", "customer", "session", "request", "req", "payload", "body", "embedding",
    "html", "snippet", "completion", "instruction", "caption", "review", "tweet", "comment", "email",
    "transcript", "title", "description", "sku", "product", "order", "account",
    "msg", "message", "messages", "shape", "dims", "url", "uri",
})
_ID_OWNERS = frozenset({"user", "customer", "session", "request", "doc", "document", "item", "product",
                        "query", "conversation", "chat", "order", "account", "client", "device_token"})
_ENUM_BASES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})


@register
class UnboundedMemoization(Detector):
    """``functools.cache`` / ``lru_cache(maxsize=None)`` keyed on request or data values
    (a ``text``, ``prompt``, ``user_id`` parameter); on a method every ``self`` is kept too."""

    name = "unbounded-memoization"
    # functools' decorators: the module is imported by name wherever they resolve, and
    # lru_cache is unbounded only with a literal maxsize=None.
    tokens = (("functools", "cache"), ("functools", "lru_cache", "None"))
    code_tokens = True
    fields = frozenset({"decorator", "keys"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.enums = _local_enum_classes(scan)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        decorator = next((d for d in node.decorators if self._is_unbounded_cache(d.decorator)), None)
        if decorator is None:
            return
        context = self.scan.context
        in_class = bool(context.frames) and context.frames[-1].kind == "class"
        if context.function is not None and not in_class:
            return  # a cache made per call of the enclosing function dies with it
        instance_method = in_class and not _is_static_or_class(node)
        params = _parameters(node, skip_first=in_class and not _is_static(node))
        open_ended = [p for p in params if not self._few_valued(p) and (_is_star(node, p) or _carries_data(p.name.value))]
        if instance_method:
            # Every instance the method is called on stays alive in the cache, whatever the keys.
            owner = context.frames[-1].name
            keys = f"`{owner}` instance it is called on"
            if open_ended:
                keys += " and every distinct " + _joined(open_ended)
        elif open_ended:
            keys = "distinct " + _joined(open_ended)
        else:
            return
        symbol = f"{context.symbol}.{node.name.value}" if context.symbol else node.name.value
        self.report(decorator, end=node.name, symbol=symbol, function=node.name.value,
                    decorator=short(self.scan.code(decorator.decorator)), keys=keys)

    def _is_unbounded_cache(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Call):
            if self.scan.names.qualify(expr.func) not in _SIZED_CACHES:
                return False
            maxsize = argument(expr, "maxsize", 0)
            return maxsize is not None and literal_value(maxsize) is None
        return self.scan.names.qualify(expr) in _UNBOUNDED_CACHES

    def _few_valued(self, param: cst.Param) -> bool:
        annotation = param.annotation.annotation if param.annotation is not None else None
        if annotation is None:
            return False
        if isinstance(annotation, cst.Subscript):
            annotation = annotation.value
        if isinstance(annotation, cst.Name) and annotation.value in self.enums:
            return True
        qualified = self.scan.names.qualify(annotation) if isinstance(annotation, (cst.Name, cst.Attribute)) else None
        return qualified in _FEW_VALUED_TYPES


def _is_star(node: cst.FunctionDef, param: cst.Param) -> bool:
    """``*args`` / ``**kwargs``: any value at all can be a key (a log message, a request)."""
    return param is node.params.star_arg or param is node.params.star_kwarg


def _carries_data(name: str) -> bool:
    """``text``, ``user_prompt``, ``query_text``, ``user_id``: named after request or data values."""
    parts = [p for p in name.lower().strip("_").split("_") if p]
    if not parts:
        return False
    if parts[-1] in _DATA_WORDS:
        return True
    return len(parts) >= 2 and parts[-1] in ("id", "ids", "str", "text", "key") and parts[-2] in _ID_OWNERS | _DATA_WORDS


def _parameters(node: cst.FunctionDef, skip_first: bool) -> list[cst.Param]:
    params = node.params
    positional = [*params.posonly_params, *params.params]
    if skip_first:
        positional = positional[1:]
    extra = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return [*positional, *params.kwonly_params, *extra]


def _joined(params: list[cst.Param]) -> str:
    names = [f"`{p.name.value}`" for p in params[:3]]
    return ", ".join(names) + (" ..." if len(params) > 3 else "")


def _is_static(node: cst.FunctionDef) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)


def _is_static_or_class(node: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value in ("staticmethod", "classmethod")
        for d in node.decorators
    )


def _local_enum_classes(scan) -> set[str]:
    enums = set()
    for statement in scan.module.body:
        if isinstance(statement, cst.ClassDef):
            bases = {scan.names.qualify(arg.value) for arg in statement.bases}
            if bases & _ENUM_BASES:
                enums.add(statement.name.value)
    return enums


# -- CCH003 --------------------------------------------------------------------

_QUEUE_CONSTRUCTORS = frozenset({
    "queue.Queue", "queue.LifoQueue", "queue.PriorityQueue",
    "asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "asyncio.queues.Queue",
    "multiprocessing.Queue", "multiprocessing.JoinableQueue", "multiprocessing.queues.Queue",
    "multiprocessing.get_context.Queue", "multiprocessing.get_context.JoinableQueue",
    "multiprocessing.Manager.Queue", "multiprocessing.Manager.JoinableQueue",
    "torch.multiprocessing.Queue", "torch.multiprocessing.JoinableQueue",
    "torch.multiprocessing.get_context.Queue", "janus.Queue", "gevent.queue.Queue",
})
_ALWAYS_UNBOUNDED = frozenset({
    "queue.SimpleQueue", "multiprocessing.SimpleQueue", "multiprocessing.get_context.SimpleQueue",
    "torch.multiprocessing.SimpleQueue", "gevent.queue.SimpleQueue",
})


@dataclass(frozen=True)
class _Scope:
    """Where a name lives: a class's attribute, a module global or a function's local."""

    kind: str  # "attr" | "global" | "local"
    owner: int | None  # the class or function node's id; None for module globals
    name: str


@dataclass
class _QueueMade:
    call: cst.Call
    scope: _Scope
    shown: str
    creator: int | None  # the function node that made it
    symbol: str
    function: str
    owner_class: str


# What the data plane is called: requests, jobs, batches, logs, metrics, uploads. A queue
# named so, or fed by a function named so, carries work that grows with traffic; the rest
# (host changes, heartbeats, launch orders) carry rare control events.
_DATA_PLANE = re.compile(
    r"(request|req\b|job|task|work|batch|item|data|log|metric|message|msg|record|upload|file|trace|span|"
    r"sample|episode|input|output|outq|in_q|chunk|telemetry|incoming|pending|fut|event|send|submit|put|"
    r"emit|write|deliver|enqueue|publish|push|forward|predict|execute|generate|process|flush|retry|"
    r"frame|packet|audio|image|prompt|produc|token|recv|receiv)",
    re.IGNORECASE,
)
# Classes whose instances live for one call or one response (a token streamer, a future):
# their queue holds one response, not traffic.
_PER_CALL_CLASSES = re.compile(r"(Stream|Streamer|Response|Iterator|Waiter|Future|Promise)")


@dataclass
class _Put:
    scopes: tuple[_Scope, ...]  # what the receiver may refer to, innermost first
    function: int | None
    function_name: str
    functions: tuple[int, ...]  # enclosing function node ids, innermost first
    loop: cst.For | cst.While | None  # the innermost loop around it in the same function
    receiver: str
    item: str  # what is put, as written


# Queues that carry results, acknowledgements or control messages back: one item per request
# or per worker, drained by whoever is waiting for it.
_CONTROL_QUEUE_NAMES = re.compile(
    r"(result|done|finish|complet|error|exception|exc\b|stop|shutdown|cancel|abort|ack|reply|response|"
    r"ready|idle|free|watch|control|command|signal|status|return|notif|wake|exit|close|kill|death|"
    r"heartbeat|ping|health|barrier|lock|token_queue|tokens_queue|stream)",
    re.IGNORECASE,
)


@register
class UnboundedQueue(Detector):
    """A queue with no ``maxsize`` that a producer elsewhere keeps feeding."""

    name = "unbounded-queue"
    # The constructors' own names, written wherever they are imported or called.
    tokens = ("Queue", "LifoQueue", "PriorityQueue", "JoinableQueue", "SimpleQueue")
    code_tokens = True
    fields = frozenset({"queue", "producer"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.targets: dict[int, cst.BaseExpression] = {}
        self.made: list[_QueueMade] = []
        self.puts: list[_Put] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            self.targets[id(node.value)] = node.targets[0].target

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.targets[id(node.value)] = node.target

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("put", "put_nowait"):
            if not _is_sentinel_put(node):
                self._record_put(func.value, self.scan.code(node.args[0].value))
            return
        qualified = self.scan.names.qualify(func)
        if qualified in _ALWAYS_UNBOUNDED or (qualified in _QUEUE_CONSTRUCTORS and _no_maxsize(node)):
            target = self.targets.get(id(node))
            scope = self._scope_of(target) if target is not None else None
            if scope is not None and not _CONTROL_QUEUE_NAMES.search(scope.name):
                context = self.scan.context
                function = context.function
                owner = context.enclosing_class
                self.made.append(_QueueMade(node, scope, self.scan.code(target), id(function.node) if function else None,
                                            context.symbol, context.function_name, owner.name if owner else ""))

    def _scope_of(self, target: cst.BaseExpression) -> _Scope | None:
        context = self.scan.context
        function = context.function
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = _instance_owner(context, target.value.value)
            return _Scope("attr", owner, target.attr.value) if owner is not None else None
        if isinstance(target, cst.Name):
            if function is None:
                if context.frames and context.frames[-1].kind == "class":
                    return _Scope("attr", id(context.frames[-1].node), target.value)
                return _Scope("global", None, target.value)
            return _Scope("local", id(function.node), target.value)
        return None

    def _record_put(self, receiver: cst.BaseExpression, item: str) -> None:
        context = self.scan.context
        functions = tuple(id(f.node) for f in reversed(context.frames) if f.kind in ("function", "lambda"))
        function = context.function
        scopes: list[_Scope] = []
        if isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name):
            owner = _instance_owner(context, receiver.value.value)
            if owner is not None:
                scopes.append(_Scope("attr", owner, receiver.attr.value))
        elif isinstance(receiver, cst.Name):
            scopes.extend(_Scope("local", owner, receiver.value) for owner in functions)
            scopes.append(_Scope("global", None, receiver.value))
        if not scopes:
            return
        loop = None
        for frame in reversed(context.frames):
            if frame.kind in ("function", "lambda"):
                break
            if frame.kind == "loop":
                loop = frame.node
                break
        self.puts.append(_Put(tuple(scopes), id(function.node) if function else None,
                              context.function_name, functions, loop, self.scan.code(receiver), item))

    def finish(self) -> None:
        for queue in self.made:
            if _PER_CALL_CLASSES.search(queue.owner_class):
                continue
            producers = [p for p in self.puts if self._feeds(p, queue)]
            producer = next((p for p in producers if _DATA_PLANE.search(p.function_name) or _DATA_PLANE.search(p.item)), None)
            if producer is None and _DATA_PLANE.search(queue.scope.name):
                producer = producers[0] if producers else None
            if producer is not None:
                self.report(queue.call, symbol=queue.symbol, function=queue.function,
                            queue=short(queue.shown), producer=producer.function_name)

    @staticmethod
    def _feeds(put: _Put, queue: _QueueMade) -> bool:
        if queue.scope not in put.scopes:
            return False
        if queue.scope.kind != "local":
            # Long-lived (an attribute or a global): any function but the constructor feeds it.
            return put.function != queue.creator
        if put.function != queue.creator:
            # A thread target or callback defined inside: a producer only if it loops;
            # a single put is a worker handing back its one result.
            return put.loop is not None
        # In the function that made it: a `while` loop that feeds but never drains it. A loop
        # that also takes from the queue is a worklist (BFS), filled and emptied in one place.
        return isinstance(put.loop, cst.While) and not _takes_from(put.loop, put.receiver)


def _is_sentinel_put(call: cst.Call) -> bool:
    """``q.put(None)``, ``q.put(STOP)``, ``q.put()``: a wake-up or stop signal, not data."""
    if not call.args:
        return True
    value = call.args[0].value
    if not is_unknown(literal_value(value)):
        return True
    return isinstance(value, cst.Name) and value.value.lstrip("_").isupper()


def _takes_from(loop: cst.CSTNode, receiver: str) -> bool:
    return any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("get", "get_nowait", "popleft", "pop")
        and cst.Module([]).code_for_node(node.func.value) == receiver
        for node in walk(loop, into_nested=True)
    )


def _no_maxsize(call: cst.Call) -> bool:
    if any(arg.star for arg in call.args):
        return False
    maxsize = argument(call, "maxsize", 0)
    if maxsize is None:
        return True
    value = literal_value(maxsize)
    return not is_unknown(value) and isinstance(value, int) and value <= 0


def _instance_owner(context, name: str) -> int | None:
    """The class whose instance ``name`` is: the first parameter of the nearest method
    (nested callbacks inside the method see it too)."""
    frames = context.frames
    for index in range(len(frames) - 1, 0, -1):
        if frames[index - 1].kind == "class" and frames[index].kind == "function":
            if _first_param(frames[index].node) == name and not _is_static_or_class(frames[index].node):
                return id(frames[index - 1].node)
            return None
    return None


def _first_param(node: cst.CSTNode) -> str | None:
    if not isinstance(node, cst.FunctionDef):
        return None
    params = [*node.params.posonly_params, *node.params.params]
    return params[0].name.value if params else None


# -- CCH004 --------------------------------------------------------------------

_EXECUTORS = frozenset({
    "concurrent.futures.ThreadPoolExecutor", "concurrent.futures.ProcessPoolExecutor",
    "concurrent.futures.thread.ThreadPoolExecutor", "concurrent.futures.process.ProcessPoolExecutor",
    "concurrent.futures.Executor", "concurrent.futures._base.Executor",
})
_GATHERERS = frozenset({"asyncio.gather", "asyncio.wait", "asyncio.as_completed", "asyncio.tasks.gather"})
_TASK_STARTERS = frozenset({
    "asyncio.create_task", "asyncio.ensure_future", "asyncio.get_event_loop.create_task",
    "asyncio.get_running_loop.create_task",
})
_TASK_GROUPS = frozenset({"asyncio.TaskGroup", "anyio.create_task_group"})
# Iterables that are small by design: a pool of workers, devices, or data already chunked.
_BOUNDED_ITERABLES = re.compile(
    r"(worker|thread|proc|gpu|device|rank|node|replica|chunk|batch|partition|shard|split|part|slot|host|"
    r"server|endpoint|region|provider|model|raylet|agent|sub_?question|tool|plugin|service|future|task|"
    r"state|session|connection)",
    re.IGNORECASE,
)
# Iterables named after data: their length is the size of a dataset, a crawl or a user's input.
_DATA_ITERABLES = re.compile(
    r"(text|doc|prompt|question|quer|url|uri|path|file|blob|key|record|row|item|sample|example|image|"
    r"img|input|payload|message|page|object|entr|\bids\b|_ids\b|pieces|location|sentence|walk|glob|"
    r"listdir|iterdir|scandir|payload|audio|video|user|customer|order|event|span|trace|output|response|completion|"
    r"answer)",
    re.IGNORECASE,
)
_DICT_VIEWS = re.compile(r"\.(items|keys|values)\(\)")
_CONCURRENCY_LIMITS = re.compile(r"(Semaphore|CapacityLimiter|Limiter|limit_per_host|max_concurrency|concurrency_limit)")

_EXECUTOR_WORDS = {
    "unit": "future", "units": "pending futures",
    "cost": "(each holding its arguments and, later, its result)",
    "instead": "a window of in-flight futures (`wait(..., FIRST_COMPLETED)`), or chunks",
}
_ASYNC_WORDS = {
    "unit": "task", "units": "coroutines",
    "cost": "(with as many open connections and buffered responses)",
    "instead": "an `asyncio.Semaphore`, a fixed set of worker tasks, or batches",
}


@register
class UnboundedFanout(BindingDetector):
    """One future or task per item of an open-ended iterable, all scheduled before any is consumed."""

    name = "unbounded-fanout"
    # Each call it reports, with the root of the module the call (or its receiver) resolves to.
    tokens = (("concurrent", "submit"), ("asyncio", "create_task"), ("asyncio", "start_soon"),
              ("anyio", "create_task"), ("anyio", "start_soon"),
              *(("asyncio", gatherer) for gatherer in ("gather", "wait", "as_completed")))
    code_tokens = True
    fields = frozenset({"call", "items", "unit", "units", "cost", "instead"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.limited = bool(_CONCURRENCY_LIMITS.search(scan.text))
        self.loop_targets: list[set[str]] = []
        self.filled_from_data: set[tuple[int | None, str]] = set()  # lists a loop over data appends to

    def visit_For(self, node: cst.For) -> None:
        self.loop_targets.append(set(bound_names(node.target)))
        if not self._open_ended(node.iter):
            return
        scope = self.bindings.scope_key()
        self.filled_from_data.update((scope, name) for name in grown_lists(node.body))
        if _windowed(node.body):
            return
        for call in _kept_calls(node.body, "submit"):
            if self.scan.names.qualify(call.func.value) in _EXECUTORS:  # type: ignore[attr-defined]
                self.report(call, call=self.scan.code(call.func), items=short(self.scan.code(node.iter)),
                            **_EXECUTOR_WORDS)
                return
        if self.limited:
            return
        for call in [*_kept_calls(node.body, "create_task"), *_kept_calls(node.body, "ensure_future")]:
            if self.scan.names.qualify(call.func) in _TASK_STARTERS:
                self.report(call, call=self.scan.code(call.func), items=short(self.scan.code(node.iter)),
                            **_ASYNC_WORDS)
                return
        for call in _spawned_calls(node.body):
            receiver = call.func.value  # type: ignore[attr-defined]
            if self.scan.names.qualify(receiver) in _TASK_GROUPS:
                self.report(call, call=self.scan.code(call.func), items=short(self.scan.code(node.iter)),
                            **_ASYNC_WORDS)
                return

    def leave_For(self, node: cst.For) -> None:
        self.loop_targets.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "submit":
            self._submit_in_comprehension(node)
            return
        if self.limited or self.scan.names.qualify(func) not in _GATHERERS or not node.args:
            return
        first = node.args[0]
        tasks = self.bindings.resolve(first.value)
        if not isinstance(tasks, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return
        if first.star != "*" and self.scan.names.qualify(func) == "asyncio.gather":
            return
        iterable = tasks.for_in.iter
        if self._open_ended(iterable) and isinstance(tasks.elt, (cst.Call, cst.Await)):
            self.report(node, call=self.scan.code(func), items=short(self.scan.code(iterable)), **_ASYNC_WORDS)

    def _size_checked(self, name: str) -> bool:
        function = self.scan.context.function
        return function is not None and _compares_length(function.node, name)

    def _submit_in_comprehension(self, node: cst.Call) -> None:
        frame = next((f for f in reversed(self.scan.context.frames)
                      if f.kind in ("comprehension", "loop", "function", "lambda")), None)
        if frame is None or frame.kind != "comprehension":
            return
        comprehension = frame.node
        iterable = comprehension.for_in.iter  # type: ignore[attr-defined]
        if self.scan.names.qualify(node.func.value) in _EXECUTORS and self._open_ended(iterable):  # type: ignore[attr-defined]
            self.report(node, call=self.scan.code(node.func), items=short(self.scan.code(iterable)), **_EXECUTOR_WORDS)

    def _open_ended(self, iterable: cst.BaseExpression) -> bool:
        """Not a literal, not a pool-sized or pre-chunked collection, not an outer loop's batch."""
        if is_literal_collection(iterable):
            return False
        text = _DICT_VIEWS.sub("", self.scan.code(iterable))
        if _BOUNDED_ITERABLES.search(text) or not _DATA_ITERABLES.search(text):
            return False
        if isinstance(iterable, cst.Name) and self._size_checked(iterable.value):
            return False  # the function compares len(items) with a limit: someone bounded it
        if isinstance(iterable, cst.Name) and _is_empty_list(self.bindings.value_of(iterable.value)):
            # Filled by this function: as open-ended as the loop that fills it, else unknown.
            return (self.bindings.scope_key(), iterable.value) in self.filled_from_data
        if isinstance(iterable, cst.Call) and self.scan.names.qualify(iterable.func) in ("builtins.range", "builtins.enumerate", "builtins.zip"):
            inner = [a.value for a in iterable.args]
            if any(not self._open_ended(a) for a in inner):
                return False
        outer = set().union(*self.loop_targets) if self.loop_targets else set()
        return not (set(names_in(iterable)) & outer)


def _compares_length(function: cst.CSTNode, name: str) -> bool:
    """``len(name) > N`` (or any comparison of ``len(name)``) somewhere in the function."""
    for node in walk(function):
        if isinstance(node, cst.Comparison):
            for side in (node.left, *(c.comparator for c in node.comparisons)):
                if isinstance(side, cst.Call) and isinstance(side.func, cst.Name) and side.func.value == "len" \
                        and side.args and isinstance(side.args[0].value, cst.Name) and side.args[0].value.value == name:
                    return True
    return False


def _kept_calls(body: cst.CSTNode, method: str) -> list[cst.Call]:
    """``x.<method>(...)`` calls in a loop body whose results are kept past the iteration:
    appended, added, stored in a dict, or bound to a name that is then appended or stored."""
    calls: list[cst.Call] = []
    kept_ids: set[int] = set()
    kept_names: set[str] = set()
    bound: dict[int, str] = {}
    for node in walk(body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value == method:
                calls.append(node)
            elif node.func.attr.value in ("append", "add", "put") and len(node.args) == 1:
                kept_ids.add(id(node.args[0].value))
                if isinstance(node.args[0].value, cst.Name):
                    kept_names.add(node.args[0].value.value)
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                if isinstance(target.target, cst.Subscript):
                    kept_ids.add(id(node.value))
                    for element in target.target.slice:
                        if isinstance(element.slice, cst.Index):
                            kept_ids.add(id(element.slice.value))
                            if isinstance(element.slice.value, cst.Name):
                                kept_names.add(element.slice.value.value)
                    if isinstance(node.value, cst.Name):
                        kept_names.add(node.value.value)
                elif isinstance(target.target, cst.Name):
                    bound[id(node.value)] = target.target.value
    return [c for c in calls if id(c) in kept_ids or bound.get(id(c)) in kept_names]


def _is_empty_list(value: cst.BaseExpression | None) -> bool:
    if isinstance(value, cst.List):
        return not value.elements
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "list" and not value.args


def _windowed(body: cst.CSTNode) -> bool:
    """The loop waits for some futures before submitting more (a bounded window)."""
    for node in walk(body, into_nested=True):
        if isinstance(node, cst.Call):
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            if name in ("wait", "as_completed", "result"):
                return True
    return False


def _spawned_calls(body: cst.CSTNode) -> list[cst.Call]:
    """``tg.create_task(...)`` / ``tg.start_soon(...)`` calls in a loop body."""
    return [
        node for node in walk(body)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("create_task", "start_soon")
    ]


# -- CCH002 --------------------------------------------------------------------

_EMPTY_CONTAINERS = frozenset({
    "builtins.dict", "builtins.list", "builtins.set", "collections.defaultdict", "collections.OrderedDict",
    "collections.Counter", "collections.deque",
})
_GROWING_METHODS = frozenset({"append", "add", "setdefault", "extend", "appendleft", "insert"})
# Functions that run once per process (building the app, the UI, the workers), not per request.
_SETUP_FUNCTIONS = re.compile(r"^_*(create|build|init|setup|set_up|register|start|main|lifespan|configure|install|load)")
_REGISTRAR_PARAMS = re.compile(r"^(func|fn|f|cls|klass|kls|handler|callback|hook|wrapped|decorated|method|plugin)$")


@register
class GrowingModuleCache(Detector):
    """A module-level dict/list/set that functions keep adding to, with no eviction anywhere."""

    name = "growing-module-cache"
    tokens = ("[", "append", "add", "setdefault")
    fields = frozenset({"name", "key"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.containers = _module_containers(scan)
        self.reported: set[str] = set()
        code = scan.text
        self.evicted = {name for name in self.containers if _evicts(code, name)}

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            subscript = target.target
            if not isinstance(subscript, cst.Subscript) or not isinstance(subscript.value, cst.Name):
                continue
            if len(subscript.slice) != 1 or not isinstance(subscript.slice[0].slice, cst.Index):
                continue
            key = subscript.slice[0].slice.value
            if literal_text(key) is None and is_unknown(literal_value(key)):
                self._grows(node, subscript.value.value, key, node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return
        if func.attr.value not in _GROWING_METHODS or not node.args:
            return
        key = node.args[0].value
        if func.attr.value == "setdefault" and not is_unknown(literal_value(key)):
            return
        value = node.args[-1].value
        self._grows(node, func.value.value, key, value)

    def _grows(self, node: cst.CSTNode, name: str, key: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if name not in self.containers or name in self.evicted or name in self.reported:
            return
        function = self.scan.context.function
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return
        if not self._is_module_binding(name):
            return
        if _is_registrar(function.node, key, value) or _SETUP_FUNCTIONS.match(function.node.name.value):
            return
        self.reported.add(name)
        self.report(node, name=name, key=short(self.scan.code(key), 40))

    def _is_module_binding(self, name: str) -> bool:
        # A parameter or local of the same name shadows the module-level container.
        function = self.scan.context.function
        assert function is not None and isinstance(function.node, cst.FunctionDef)
        params = function.node.params
        local = {p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]}
        return name not in local


def _module_containers(scan) -> set[str]:
    names = set()
    for statement in scan.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                value = small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                value = small.value
            else:
                continue
            target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
            if _is_empty_container(scan, value):
                names.add(target.value)  # type: ignore[attr-defined]
    return names


def _is_empty_container(scan, value: cst.BaseExpression) -> bool:
    if isinstance(value, (cst.Dict, cst.List)) and not value.elements:
        return True
    if isinstance(value, cst.Call) and scan.names.qualify(value.func) in _EMPTY_CONTAINERS:
        if scan.names.qualify(value.func) == "collections.deque" and argument(value, "maxlen", 1) is not None:
            return False
        return not value.args or scan.names.qualify(value.func) == "collections.defaultdict"
    return False


def _evicts(code: str, name: str) -> bool:
    escaped = re.escape(name)
    return bool(
        re.search(rf"\b{escaped}\.(pop|popitem|clear|remove|discard|popleft|__delitem__)\b", code)
        or re.search(rf"\bdel\s+{escaped}\[", code)
        or re.search(rf"\blen\(\s*{escaped}\s*\)", code)
        or re.search(rf"\bglobal\s+([\w\s,]*\b)?{escaped}\b", code)
    )


def _is_registrar(function: cst.FunctionDef, key: cst.BaseExpression, value: cst.BaseExpression) -> bool:
    """A decorator or registration hook: it stores a function/class handed to it."""
    params = {p.name.value for p in [*function.params.posonly_params, *function.params.params, *function.params.kwonly_params]}
    stored = set(names_in(key)) | set(names_in(value))
    if any(_REGISTRAR_PARAMS.match(p) for p in params & stored):
        return True
    returns_param = any(
        isinstance(n, cst.Return) and isinstance(n.value, cst.Name) and n.value.value in params
        for n in walk(function.body)
    )
    return returns_param


# -- CCH005 --------------------------------------------------------------------

# Methods that empty a cache only when someone calls them; they bound nothing.
_MANUAL_RESETS = re.compile(r"^_*(clear|reset|close|flush|shutdown|cleanup|teardown|invalidate|__exit__|__del__)",
                            re.IGNORECASE)
_CACHE_NAMES = re.compile(r"(cache|memo)", re.IGNORECASE)
# ``self.<a cache name>[: annotation] = {`` or ``= <a call>(``: how _dicts_made_in's
# assignment of an empty mapping (a dict display, or a call of dict, OrderedDict or
# defaultdict under any alias) is written.
_CACHE_ATTRIBUTE = re.compile(r"self[\s\\]*\.[\s\\]*\w*(?i:cache|memo)\w*[\s\\]*(?::[^=]*)?=[\s\\(]*(?:\{|[\w.]+[\s\\]*\()")
# Methods that report a size rather than act on it.
_SIZE_REPORTS = re.compile(r"^(__len__|__repr__|__str__|size|stats|count|__sizeof__)$")
# Keys drawn from a small fixed set: one entry per device, dtype, layer or configured name.
_CONFIG_KEYS = re.compile(r"(device|dtype|name|model|layer|module|mode|kind|type|split|lang|rank|dim|cls|class|"
                          r"func|\bfn\b|method|attr|field|column|\bcol\b|path|dir|level|backend|provider|rate|\bbs\b|batch_size)",
                          re.IGNORECASE)


@dataclass
class _InstanceDict:
    created: cst.CSTNode  # the assignment in __init__
    stores: list[str]  # keys stored under that are not configuration, as written
    looked_up: bool = False
    evicted: bool = False


@register
class GrowingInstanceCache(Detector):
    """A dict an object uses as a memo (named a cache, looked up by key, stored under a computed
    key) that nothing ever evicts: it grows with every distinct input for as long as the object lives."""

    name = "growing-instance-cache"
    # A self attribute named a cache, and the lookup half of the memo idiom.
    tokens = tuple((_CACHE_ATTRIBUTE, lookup) for lookup in (" in self.", ".get(", ".setdefault("))
    fields = frozenset({"name", "key", "owner"})

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        methods = [s for s in node.body.body if isinstance(s, cst.FunctionDef)]
        init = next((m for m in methods if m.name.value == "__init__"), None)
        if init is None:
            return
        # __init__ and the methods it calls on self (``self.reset()``) set the object up.
        called = {n.func.attr.value for n in walk(init.body) if isinstance(n, cst.Call) and _self_attribute(n.func)}
        setup = [init, *(m for m in methods if m.name.value in called)]
        dicts: dict[str, _InstanceDict] = {}
        for method in setup:
            dicts.update(self._dicts_made_in(method))
        # Named a cache by its author: registries and indexes also look keys up and store.
        dicts = {name: made for name, made in dicts.items() if _CACHE_NAMES.search(name)}
        if not dicts:
            return
        for method in methods:
            if method is not init:
                self._uses(method, dicts)
        context = self.scan.context
        prefix = f"{context.symbol}." if context.symbol else ""
        for name, made in dicts.items():
            if made.looked_up and made.stores and not made.evicted:
                self.report(made.created, symbol=f"{prefix}{node.name.value}.__init__", function="__init__",
                            name=name, key=short(made.stores[0], 40), owner=node.name.value)

    def _dicts_made_in(self, method: cst.FunctionDef) -> dict[str, _InstanceDict]:
        made: dict[str, _InstanceDict] = {}
        for node in walk(method.body):
            if isinstance(node, cst.Assign) and len(node.targets) == 1:
                target, value = node.targets[0].target, node.value
            elif isinstance(node, cst.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            name = _self_attribute(target)
            if name is not None and _is_empty_mapping(self.scan, value):
                made[name] = _InstanceDict(node, [])
        return made

    def _uses(self, method: cst.FunctionDef, dicts: dict[str, _InstanceDict]) -> None:
        manual = bool(_MANUAL_RESETS.match(method.name.value))
        for node in walk(method.body, into_nested=True):
            if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, cst.Subscript) and _self_attribute(target.value) in dicts:
                        key = target.slice[0].slice if len(target.slice) == 1 else None
                        if isinstance(key, cst.Index):
                            self._stored(dicts[_self_attribute(target.value)], key.value, method)
                    elif _self_attribute(target) in dicts and not manual:
                        dicts[_self_attribute(target)].evicted = True  # replaced while in use
            elif isinstance(node, cst.Del):
                for name in dicts:
                    if f"self.{name}" in self.scan.code(node):
                        dicts[name].evicted = True
            elif isinstance(node, cst.Comparison):
                for target in node.comparisons:
                    if isinstance(target.operator, (cst.In, cst.NotIn)) and _self_attribute(target.comparator) in dicts:
                        dicts[_self_attribute(target.comparator)].looked_up = True
            elif isinstance(node, cst.Call):
                self._method_use(node, dicts, method, manual, bool(_SIZE_REPORTS.match(method.name.value)))

    def _stored(self, made: _InstanceDict, key: cst.BaseExpression, method: cst.FunctionDef) -> None:
        """Records a store under ``key`` unless the key takes a handful of values: a literal, or
        one that names configuration, as written or in the local it is read from
        (``key = (dtype, device)``)."""
        if not is_unknown(literal_value(key)):
            return
        values = bound_values(method, key.value) if isinstance(key, cst.Name) else []
        value = values[0] if len(values) == 1 else None
        if not _CONFIG_KEYS.search(self.scan.code(value if value is not None else key)):
            made.stores.append(self.scan.code(key))

    def _method_use(self, node: cst.Call, dicts: dict[str, _InstanceDict], method_node: cst.FunctionDef,
                    manual: bool, report_only: bool) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            name = _self_attribute(func.value)
            if name not in dicts:
                return
            method = func.attr.value
            if method == "get":
                dicts[name].looked_up = True
            elif method == "setdefault":
                dicts[name].looked_up = True
                if node.args:
                    self._stored(dicts[name], node.args[0].value, method_node)
            elif method in ("pop", "popitem", "popleft", "__delitem__") or (method == "clear" and not manual):
                dicts[name].evicted = True
        elif isinstance(func, cst.Name) and func.value == "len" and node.args and not report_only:
            name = _self_attribute(node.args[0].value)
            if name in dicts:
                dicts[name].evicted = True  # a size check: something acts on the size


def _self_attribute(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _is_empty_mapping(scan, value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.Dict):
        return not value.elements
    if isinstance(value, cst.Call) and scan.names.qualify(value.func) in (
            "builtins.dict", "collections.OrderedDict", "collections.defaultdict"):
        return not value.args or scan.names.qualify(value.func) == "collections.defaultdict"
    return False
