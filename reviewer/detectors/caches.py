"""Detectors for the unbounded-cache family: in-process buffers that grow with traffic."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from reviewer.detectors.scale_signals import (
    BindingDetector,
    argument,
    is_literal_collection,
    literal_text,
    names_in,
    short,
)
from reviewer.ruleset.conditions import is_unknown, literal_value
from reviewer.ruleset.detector import Detector, register

# -- CCH001 --------------------------------------------------------------------

_UNBOUNDED_CACHES = frozenset({"functools.cache"})
_SIZED_CACHES = frozenset({"functools.lru_cache"})
_FEW_VALUED_TYPES = frozenset({"builtins.bool", "typing.Literal", "typing_extensions.Literal"})
_ENUM_BASES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})


@register
class UnboundedMemoization(Detector):
    """``functools.cache`` / ``lru_cache(maxsize=None)`` on a function whose arguments can take
    open-ended values, or on an instance method (every ``self`` is kept)."""

    name = "unbounded-memoization"
    tokens = ("cache",)
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
        instance_method = in_class and not _is_static_or_class(node)
        params = _parameters(node, skip_first=in_class and not _is_static(node))
        open_ended = [p for p in params if not self._few_valued(p)]
        if instance_method:
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


@dataclass
class _Put:
    scopes: tuple[_Scope, ...]  # what the receiver may refer to, innermost first
    function: int | None
    function_name: str
    functions: tuple[int, ...]  # enclosing function node ids, innermost first
    in_while: bool


@register
class UnboundedQueue(Detector):
    """A queue with no ``maxsize`` that a producer elsewhere keeps feeding."""

    name = "unbounded-queue"
    tokens = ("Queue",)
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
            self._record_put(func.value)
            return
        qualified = self.scan.names.qualify(func)
        if qualified in _ALWAYS_UNBOUNDED or (qualified in _QUEUE_CONSTRUCTORS and _no_maxsize(node)):
            target = self.targets.get(id(node))
            scope = self._scope_of(target) if target is not None else None
            if scope is not None:
                context = self.scan.context
                function = context.function
                self.made.append(_QueueMade(node, scope, self.scan.code(target), id(function.node) if function else None,
                                            context.symbol, context.function_name))

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

    def _record_put(self, receiver: cst.BaseExpression) -> None:
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
        in_while = False
        for frame in reversed(context.frames):
            if frame.kind in ("function", "lambda"):
                break
            if frame.kind == "loop" and isinstance(frame.node, cst.While):
                in_while = True
        self.puts.append(_Put(tuple(scopes), id(function.node) if function else None,
                              context.function_name, functions, in_while))

    def finish(self) -> None:
        for queue in self.made:
            producer = next((p for p in self.puts if self._feeds(p, queue)), None)
            if producer is not None:
                self.report(queue.call, symbol=queue.symbol, function=queue.function,
                            queue=short(queue.shown), producer=producer.function_name)

    @staticmethod
    def _feeds(put: _Put, queue: _QueueMade) -> bool:
        if queue.scope not in put.scopes:
            return False
        # Filled and drained by the function that made it, a queue is a work list; a
        # producer elsewhere (another method, a thread target, a callback) or a `while`
        # loop keeps feeding it.
        return put.function != queue.creator or put.in_while


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
