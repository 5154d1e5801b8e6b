"""Blocking work on the event loop: in an ``async def`` itself, or in a sync
helper of the same module that it calls.

During the walk every function gets a summary: the blocking calls in its own
body (not in nested functions or lambdas, which run elsewhere or later) and
its calls to same-module functions and same-class methods. After the walk,
each async function's direct blocking calls are reported, and each call it
makes to a sync helper is followed (a few levels deep) to the first blocking
call of the rule's kind; the finding sits on the call in the async function
and says where the blocking really happens.

A helper handed uncalled to ``run_in_executor``, ``asyncio.to_thread``,
``anyio.to_thread.run_sync`` or ``run_in_threadpool`` is not a call of it, so
it never matches. Helpers that are generators, async, or decorated (the
decorator may change how they run) are not followed: unknown is silence.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from reviewer.detectors.remote_calls import Blocking, blocking_kind, inference_call
from reviewer.engine.positions import node_spans
from reviewer.engine.runner import call_fields
from reviewer.ruleset.conditions import literal_value
from reviewer.ruleset.detector import Detector, register

INFERENCE = "inference"
MAX_DEPTH = 3

# Async functions that run before or after serving, or set up and tear down an object
# once (nothing, or little, waits on the loop meanwhile).
_LIFECYCLE_NAMES = frozenset({"lifespan", "startup", "shutdown", "on_startup", "on_shutdown", "start", "_start",
                              "start_unsafe", "setup", "_setup", "close", "_close", "aclose", "stop",
                              "__aenter__", "__aexit__"})
# Startup hooks, and CLI commands (Typer/Click/asyncclick), which run their coroutine alone.
_LIFECYCLE_DECORATORS = ("on_event", "command")
_TEST_SWITCH = re.compile(r"(?i)test")
_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run"})
# Decorators that leave a helper a plain synchronous call.
_TRANSPARENT_DECORATORS = frozenset({"builtins.staticmethod", "builtins.classmethod", "functools.cache",
                                     "functools.lru_cache"})


@dataclass
class _Site:
    call: cst.Call
    kind: str
    written: str  # the callee as written: requests.get
    fields: dict[str, str]


@dataclass
class _Summary:
    node: cst.FunctionDef
    key: str
    symbol: str
    is_async: bool
    plain: bool  # sync, undecorated (or transparently decorated), defined at module or class level
    lifecycle: bool
    generator: bool = False  # its body runs when iterated, not when called
    sites: list[_Site] = field(default_factory=list)
    helper_calls: list[tuple[cst.Call, str]] = field(default_factory=list)
    events: list[_Site | tuple[cst.Call, str]] = field(default_factory=list)  # both, in source order


def _param_names(node: cst.FunctionDef) -> set[str]:
    params = node.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


class _BlockingInAsync(Detector):
    kinds: ClassVar[frozenset[str]] = frozenset()
    tokens = ("async",)
    fields = frozenset({"call", "callee", "host", "target", "blocking", "helper"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.summaries: dict[int, _Summary] = {}
        self.by_key: dict[str, _Summary] = {}
        self.entrypoints: set[str] = set()
        self.test_guards: list[bool] = []  # one per enclosing `if`: does its test name a test switch?

    # -- the walk ---------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        context = self.scan.context
        outer = context.function
        cls = context.enclosing_class
        if outer is not None:
            key = ""  # nested functions are not followed
        elif cls is not None and any(statement is cls.node for statement in self.scan.module.body):
            key = f"{cls.name}.{node.name.value}"
        elif cls is None:
            key = node.name.value
        else:
            key = ""
        decorators = [self.scan.names.qualify(d.decorator) or self.scan.code(d.decorator) for d in node.decorators]
        is_async = node.asynchronous is not None
        summary = _Summary(
            node=node,
            key=key,
            symbol=".".join(filter(None, (context.symbol, node.name.value))),
            is_async=is_async,
            plain=bool(key) and not is_async and all(d in _TRANSPARENT_DECORATORS for d in decorators),
            lifecycle=node.name.value in _LIFECYCLE_NAMES
            or any(d.rsplit(".", 1)[-1] in _LIFECYCLE_DECORATORS for d in decorators),
        )
        self.summaries[id(node)] = summary
        if key:
            # A name defined twice (if/else variants) is ambiguous: follow neither.
            self.by_key[key] = summary if key not in self.by_key else _ambiguous(summary)

    def visit_If(self, node: cst.If) -> None:
        self.test_guards.append(bool(_TEST_SWITCH.search(self.scan.code(node.test))))

    def leave_If(self, node: cst.If) -> None:
        self.test_guards.pop()

    def visit_Yield(self, node: cst.Yield) -> None:
        frame = self.scan.context.function
        if frame is not None and frame.kind == "function" and id(frame.node) in self.summaries:
            self.summaries[id(frame.node)].generator = True

    def visit_Call(self, node: cst.Call) -> None:
        self._note_entrypoint(node)
        frame = self.scan.context.function
        if frame is None or frame.kind != "function":
            return
        summary = self.summaries.get(id(frame.node))
        if summary is None:
            return
        qualified = self.scan.names.qualify(node.func)
        kind = self._kind(node, qualified)
        if kind is not None and any(self.test_guards):
            return  # `if SLEEP_FOR_TESTING_S: time.sleep(...)`: a hook for tests, off in production
        if kind is not None:
            fields = call_fields(self.scan, node, qualified)
            site = _Site(node, kind, fields["call"], fields)
            summary.sites.append(site)
            summary.events.append(site)
            return
        helper = self._helper_key(node, summary)
        if helper:
            summary.helper_calls.append((node, helper))
            summary.events.append((node, helper))

    def _note_entrypoint(self, node: cst.Call) -> None:
        """``asyncio.run(main())``: the top-level coroutine of a script.

        It runs before and around the work it starts; a blocking call there
        delays the script, not concurrent requests, so it is not reported.
        """
        func = node.func
        runs_loop = self.scan.names.qualify(func) in _LOOP_RUNNERS or (
            isinstance(func, cst.Attribute) and func.attr.value == "run_until_complete"
        )
        if runs_loop and node.args:
            first = node.args[0].value
            if isinstance(first, cst.Call) and isinstance(first.func, cst.Name):
                self.entrypoints.add(first.func.value)

    def _kind(self, node: cst.Call, qualified: str | None) -> str | None:
        kind = blocking_kind(qualified)
        if kind is Blocking.SLEEP and node.args and literal_value(node.args[0].value) == 0:
            return None  # sleep(0) only yields the GIL
        if kind is not None:
            return kind.value
        if inference_call(node, qualified):
            return INFERENCE
        return None

    def _helper_key(self, node: cst.Call, caller: _Summary) -> str:
        func = node.func
        if isinstance(func, cst.Name):
            name = func.value
            if name in self.scan.names.local_functions and name not in _param_names(caller.node):
                if self.scan.names.lookup(name) is None:
                    return name
            return ""
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            cls = self.scan.context.enclosing_class
            params = [*caller.node.params.posonly_params, *caller.node.params.params]
            if cls is not None and params and func.value.value == params[0].name.value and "." in caller.key:
                return f"{cls.name}.{func.attr.value}"
        return ""

    # -- after the walk -------------------------------------------------------------

    def finish(self) -> None:
        reports: list[tuple[_Summary, cst.Call, dict[str, str], _Site | None]] = []
        for summary in self.summaries.values():
            if not summary.is_async or summary.lifecycle or summary.node.name.value in self.entrypoints:
                continue
            # One question per rule and function: the first blocking call in source order.
            for event in summary.events:
                if isinstance(event, _Site):
                    if event.kind in self.kinds:
                        fields = dict(event.fields)
                        fields["blocking"] = f"`{event.written}` blocks the event loop"
                        reports.append((summary, event.call, fields, None))
                        break
                    continue
                call, key = event
                found = self._follow(key)
                if found is not None:
                    chain, site = found
                    fields = dict(site.fields)
                    fields["helper"] = chain[0].rsplit(".", 1)[-1]
                    fields["blocking"] = self._through(chain, site)
                    reports.append((summary, call, fields, site))
                    break
        lines = self._lines([site.call for *_, site in reports if site is not None])
        for summary, call, fields, site in reports:
            if site is not None:
                fields["blocking"] = fields["blocking"].replace("{line}", str(lines.get(id(site.call), "?")))
            self.report(call, symbol=summary.symbol, function=summary.node.name.value, **fields)

    def _follow(self, start: str) -> tuple[list[str], _Site] | None:
        """The shortest chain of helper names from ``start`` to a blocking call of this rule's kind."""
        queue: deque[tuple[str, list[str]]] = deque([(start, [start])])
        seen = {start}
        while queue:
            key, chain = queue.popleft()
            summary = self.by_key.get(key)
            if summary is None or not summary.plain or summary.generator:
                continue
            for site in summary.sites:
                if site.kind in self.kinds:
                    return chain, site
            if len(chain) >= MAX_DEPTH:
                continue
            for _, callee in summary.helper_calls:
                if callee not in seen:
                    seen.add(callee)
                    queue.append((callee, [*chain, callee]))
        return None

    @staticmethod
    def _through(chain: list[str], site: _Site) -> str:
        names = [f"`{key.rsplit('.', 1)[-1]}()`" for key in chain]
        path = names[0] if len(names) == 1 else f"{names[0]} (through {', '.join(names[1:])})"
        return f"{path} calls `{site.written}` (line {{line}}), which blocks the event loop"

    def _lines(self, nodes: list[cst.CSTNode]) -> dict[int, int]:
        if not nodes:
            return {}
        return {key: span.line for key, span in node_spans(self.scan.module, nodes).items()}


def _ambiguous(summary: _Summary) -> _Summary:
    return _Summary(summary.node, summary.key, summary.symbol, summary.is_async, plain=False,
                    lifecycle=summary.lifecycle)


@register
class BlockingNetworkOrSleepInAsync(_BlockingInAsync):
    name = "blocking-network-or-sleep-in-async"
    kinds = frozenset({Blocking.NETWORK.value, Blocking.SLEEP.value})


@register
class BlockingDataIoOrProcessInAsync(_BlockingInAsync):
    """Whole-dataset and model reads and writes, directory-tree copies and child processes.

    Plain ``open()`` of small files (lock files, ignore files, indexes) was most of
    the noise on real code and is what ruff's ASYNC230 already asks about.
    """

    name = "blocking-data-io-or-process-in-async"
    kinds = frozenset({Blocking.DATA.value, Blocking.PROCESS.value})


@register
class SyncInferenceInAsync(_BlockingInAsync):
    name = "sync-inference-in-async"
    kinds = frozenset({INFERENCE})
