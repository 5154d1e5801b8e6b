"""Calls between the functions of one module, to follow a call into the helper
that really does the work.

One ``LocalCalls`` per file (``local_calls(scan)``), fed during the walk by
whichever detector asked for it first (``feeds``), so several rules record the
module once. For each module-level function and each method of a top-level
class it keeps, in source order, the calls in its own body (not in nested
functions or lambdas, which run elsewhere or later) with their qualified
names as resolved in scope, its calls to same-module functions and methods,
and the qualified names of what it returns.

Which helper a call reaches:

- ``helper(...)``: a module-level function (not shadowed by a parameter or an
  import);
- ``self.helper(...)`` inside a method: a method of the same class;
- ``obj.helper(...)`` where ``obj`` is not a local of the caller and every
  assignment to that name in the module builds one class of the module
  (``controller = Controller(...)``).

A helper that is a generator, async, or decorated (the decorator may change
how it runs) is not followed, nor is a name defined twice: unknown is silence.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, TypeVar

import libcst as cst

from reviewer.engine.walk import descendants

KEY = "local-calls"
MAX_DEPTH = 3

# Decorators that leave a helper a plain synchronous call.
_TRANSPARENT_DECORATORS = frozenset({"builtins.staticmethod", "builtins.classmethod", "functools.cache",
                                     "functools.lru_cache", "functools.wraps"})
# `if SLEEP_FOR_TESTING: time.sleep(...)`: a hook for tests, off in production.
_TEST_SWITCH = re.compile(r"(?i)test")

T = TypeVar("T")


@dataclass
class LocalCall:
    node: cst.Call
    qualified: str | None
    helper: str  # the same-module function or method it reaches, or ""


@dataclass
class Function:
    node: cst.FunctionDef
    key: str  # "helper" or "Class.method"; "" for nested functions
    symbol: str
    decorators: tuple[str, ...]
    plain: bool  # sync, undecorated (or transparently decorated), defined at module or class level
    generator: bool = False  # its body runs when iterated, not when called
    calls: list[LocalCall] = field(default_factory=list)
    returns: list[str | None] = field(default_factory=list)
    _assigned: set[str] | None = None

    def assigned(self) -> set[str]:
        """Names the function's body binds (its locals)."""
        if self._assigned is None:
            self._assigned = _assigned_in(self.node)
        return self._assigned

    @property
    def is_async(self) -> bool:
        return self.node.asynchronous is not None


@dataclass
class Chain:
    """``handler`` -> ``helpers[0]`` -> ... -> the call that matched, in ``helpers[-1]``."""

    helpers: list[str]
    found: LocalCall
    value: object

    def describe(self, callee: str, line: int | str) -> str:
        """"`load()` (through `fetch()`) calls `requests.get` (line 42)"."""
        names = [f"`{key.rsplit('.', 1)[-1]}()`" for key in self.helpers]
        path = names[0] if len(names) == 1 else f"{names[0]} (through {', '.join(names[1:])})"
        return f"{path} calls `{callee}` (line {line})"


class LocalCalls:
    def __init__(self, scan) -> None:
        self.scan = scan
        self.feeder: object | None = None
        self.functions: dict[int, Function] = {}
        self.by_key: dict[str, Function] = {}
        self.test_guards: list[bool] = []
        self._instances: dict[str, str] | None = None

    def feeds(self, detector: object) -> bool:
        """Is ``detector`` the one that records the walk? (The first to ask.)"""
        if self.feeder is None:
            self.feeder = detector
        return self.feeder is detector

    # -- fed during the walk ----------------------------------------------------

    def enter_function(self, node: cst.FunctionDef) -> None:
        context = self.scan.context
        cls = context.enclosing_class
        if context.function is not None:
            key = ""
        elif cls is not None and any(statement is cls.node for statement in self.scan.module.body):
            key = f"{cls.name}.{node.name.value}"
        elif cls is None:
            key = node.name.value
        else:
            key = ""
        decorators = tuple(self.scan.names.qualify(d.decorator) or self.scan.code(d.decorator)
                           for d in node.decorators)
        function = Function(
            node=node,
            key=key,
            symbol=".".join(filter(None, (context.symbol, node.name.value))),
            decorators=decorators,
            plain=bool(key) and node.asynchronous is None and all(d in _TRANSPARENT_DECORATORS for d in decorators),
        )
        self.functions[id(node)] = function
        if key:
            if key in self.by_key:  # defined twice (if/else variants): follow neither
                self.by_key[key].plain = function.plain = False
            else:
                self.by_key[key] = function

    def enter_if(self, node: cst.If) -> None:
        self.test_guards.append(bool(_TEST_SWITCH.search(self.scan.code(node.test))))

    def leave_if(self, node: cst.If) -> None:
        self.test_guards.pop()

    def note_yield(self) -> None:
        function = self._current()
        if function is not None:
            function.generator = True

    def note_return(self, node: cst.Return) -> None:
        function = self._current()
        if function is not None and node.value is not None:
            function.returns.append(self.scan.names.qualify(node.value))

    def note_call(self, node: cst.Call, qualified: str | None) -> None:
        function = self._current()
        if function is None or any(self.test_guards):
            return
        function.calls.append(LocalCall(node, qualified, self._helper_key(node, function)))

    def _current(self) -> Function | None:
        frame = self.scan.context.function
        if frame is None or frame.kind != "function":
            return None
        return self.functions.get(id(frame.node))

    def helper_of(self, node: cst.Call) -> str:
        """The same-module function or method ``node`` calls, where the walk is now ("" if none)."""
        return self._helper_key(node, self._current())

    def is_self(self, node: cst.BaseExpression) -> bool:
        """Is ``node`` the ``self`` of the method the walk is in?"""
        frame = self.scan.context.function
        if not isinstance(node, cst.Name) or frame is None or frame.kind != "function":
            return False
        if self.scan.context.enclosing_class is None:
            return False
        params = [*frame.node.params.posonly_params, *frame.node.params.params]
        return bool(params) and params[0].name.value == node.value

    def _helper_key(self, node: cst.Call, caller: Function | None) -> str:
        func = node.func
        shadowing = param_names(caller.node) if caller is not None else set()
        if isinstance(func, cst.Name):
            name = func.value
            if name in self.scan.names.local_functions and name not in shadowing:
                if self.scan.names.lookup(name) is None:
                    return name
            return ""
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return ""
        cls = self.scan.context.enclosing_class
        if cls is not None and self.is_self(func.value):
            return f"{cls.name}.{func.attr.value}"
        receiver = func.value.value
        if (caller is not None and receiver not in shadowing and receiver not in caller.assigned()
                and self.scan.names.lookup(receiver) is None):
            return f"@{receiver}.{func.attr.value}"  # resolved after the walk (see instance_class)
        return ""

    # -- asked after the walk -------------------------------------------------------

    def function(self, key: str) -> Function | None:
        if key.startswith("@"):
            instance, _, method = key[1:].partition(".")
            cls = self.instance_class(instance)
            return self.by_key.get(f"{cls}.{method}") if cls else None
        return self.by_key.get(key)

    def instance_class(self, name: str) -> str | None:
        """The one module class every assignment to the module-level ``name`` constructs."""
        if self._instances is None:
            self._instances = self._module_instances()
        return self._instances.get(name) or None

    def _module_instances(self) -> dict[str, str]:
        classes = {s.name.value for s in self.scan.module.body if isinstance(s, cst.ClassDef)}
        found: dict[str, str] = {}
        if not classes:
            return found
        # Any scope: `controller = Controller(...)` in a set-up function, returned and unpacked at
        # module level, is still the only thing the name ever holds.
        assignments = [node for node in descendants(self.scan.module) if isinstance(node, cst.Assign)]
        for node in assignments:
            value = node.value
            built = value.func.value if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) else None
            for target in node.targets:
                if not isinstance(target.target, cst.Name):
                    continue  # `args, controller = setup()` says nothing either way
                name = target.target.value
                if built in classes and found.get(name, built) == built:
                    found[name] = built
                elif not (isinstance(value, cst.Name) and value.value == "None"):
                    found[name] = ""  # also assigned something else: unknown
        return found

    def follow(self, start: str, match: Callable[[LocalCall], T | None], depth: int = MAX_DEPTH) -> Chain | None:
        """The shortest chain of plain helpers from ``start`` to a call ``match`` accepts."""
        queue: deque[list[str]] = deque([[start]])
        seen = {start}
        while queue:
            chain = queue.popleft()
            function = self.function(chain[-1])
            if function is None or not function.plain or function.generator:
                continue
            for call in function.calls:
                value = match(call)
                if value is not None:
                    return Chain(chain, call, value)
            if len(chain) >= depth:
                continue
            for call in function.calls:
                if call.helper and call.helper not in seen:
                    seen.add(call.helper)
                    queue.append([*chain, call.helper])
        return None

    def returns(self, key: str, accept: Callable[[str], bool]) -> bool:
        """Does helper ``key`` return something ``accept`` likes (by its annotation or a ``return``)?"""
        function = self.function(key)
        if function is None or not function.plain or function.generator:
            return False
        if function.node.returns is not None:
            annotated = self.scan.names.annotation_type(function.node.returns)
            if annotated is not None and accept(annotated):
                return True
        return any(qualified is not None and accept(qualified) for qualified in function.returns)


def param_names(node: cst.FunctionDef) -> set[str]:
    params = node.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def _assigned_in(function: cst.FunctionDef) -> set[str]:
    names: set[str] = set()
    for node in descendants(function.body):
        if isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
            names.add(node.target.value)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For)) and isinstance(node.target, cst.Name):
            names.add(node.target.value)
        elif isinstance(node, cst.AsName) and isinstance(node.name, cst.Name):
            names.add(node.name.value)
    return names


def local_calls(scan) -> LocalCalls:
    return scan.shared(KEY, LocalCalls)


class FeedsLocalCalls:
    """Mixin for detectors that use ``LocalCalls``: the first of them in a file records the walk."""

    calls: LocalCalls | None = None
    _feeding = False

    def use_local_calls(self) -> None:
        self.calls = local_calls(self.scan)  # type: ignore[attr-defined]
        self._feeding = self.calls.feeds(self)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._feeding:
            self.calls.enter_function(node)

    def visit_If(self, node: cst.If) -> None:
        if self._feeding:
            self.calls.enter_if(node)

    def leave_If(self, node: cst.If) -> None:
        if self._feeding:
            self.calls.leave_if(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        if self._feeding:
            self.calls.note_yield()

    def visit_Return(self, node: cst.Return) -> None:
        if self._feeding:
            self.calls.note_return(node)

    def record_call(self, node: cst.Call, qualified: str | None) -> None:
        if self._feeding:
            self.calls.note_call(node, qualified)
