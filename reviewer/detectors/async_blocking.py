"""Blocking work on the event loop: in an ``async def`` itself, or in a sync
helper of the same module that it calls.

The module's calls are recorded once per file (local_calls.LocalCalls, only
in files with an ``async def``). After the walk, every blocking call of the
rule's kind in an async function is reported, and every call it makes to a
sync helper of the module is followed (a few levels deep) to the first
blocking call of that kind; the finding sits on the call in the async
function and says where the blocking really happens.

A helper handed uncalled to ``run_in_executor``, ``asyncio.to_thread``,
``anyio.to_thread.run_sync`` or ``run_in_threadpool`` is not a call of it, so
it never matches. Which helpers are followed is local_calls' business.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from reviewer.detectors.local_calls import FeedsLocalCalls, Function, LocalCall
from reviewer.detectors.remote_calls import Blocking, blocking_kind, inference_call, model_load
from reviewer.engine.positions import node_spans
from reviewer.engine.runner import call_fields
from reviewer.ruleset.conditions import literal_value
from reviewer.ruleset.detector import Detector, register

INFERENCE = "inference"

# Async functions that run before or after serving, or set up and tear down an object
# once (nothing, or little, waits on the loop meanwhile).
_LIFECYCLE_NAMES = frozenset({"lifespan", "startup", "shutdown", "on_startup", "on_shutdown", "start", "_start",
                              "start_unsafe", "setup", "_setup", "close", "_close", "aclose", "stop",
                              "__aenter__", "__aexit__"})
# Startup hooks, and CLI commands (Typer/Click/asyncclick), which run their coroutine alone.
_LIFECYCLE_DECORATORS = ("on_event", "command")
_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run"})


class _BlockingInAsync(FeedsLocalCalls, Detector):
    kinds: ClassVar[frozenset[str]] = frozenset()
    # An async function in the code, written as __init__ looks for it.
    tokens = (("async", "async def"),)
    code_tokens = True
    fields = frozenset({"call", "callee", "host", "target", "blocking", "helper"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.entrypoints: set[str] = set()
        if "async def" in scan.text:  # no coroutine, nothing to block: skip the bookkeeping
            self.use_local_calls()

    def visit_Call(self, node: cst.Call) -> None:
        if self.calls is None:
            return
        self._note_entrypoint(node)
        self.record_call(node, self.scan.names.qualify(node.func))

    def _note_entrypoint(self, node: cst.Call) -> None:
        """``asyncio.run(main())``: the top-level coroutine of a script.

        It runs before and around the work it starts; a blocking call there
        delays the script, not concurrent requests, so it is not reported.
        """
        func = node.func
        runs_loop = (isinstance(func, cst.Attribute) and func.attr.value == "run_until_complete") or (
            self.scan.names.qualify(func) in _LOOP_RUNNERS
        )
        if runs_loop and node.args:
            first = node.args[0].value
            if isinstance(first, cst.Call) and isinstance(first.func, cst.Name):
                self.entrypoints.add(first.func.value)

    def _kind(self, call: LocalCall) -> str | None:
        """This rule's kind of blocking for a call, or None."""
        kind = blocking_kind(call.qualified)
        if kind is Blocking.SLEEP and call.node.args and literal_value(call.node.args[0].value) == 0:
            return None  # sleep(0) only yields the GIL
        if kind is None and model_load(call.node, call.qualified):
            kind = Blocking.DATA
        found = kind.value if kind is not None else INFERENCE if inference_call(call.node, call.qualified) else None
        return found if found in self.kinds else None

    def _handler(self, function: Function) -> bool:
        return (function.is_async and function.node.name.value not in _LIFECYCLE_NAMES
                and not any(d.rsplit(".", 1)[-1] in _LIFECYCLE_DECORATORS for d in function.decorators)
                and function.node.name.value not in self.entrypoints)

    # -- after the walk -------------------------------------------------------------

    def finish(self) -> None:
        if self.calls is None:
            return
        reports: list[tuple[Function, cst.Call, dict[str, str], object]] = []
        for function in self.calls.functions.values():
            if not self._handler(function):
                continue
            for call in function.calls:
                if self._kind(call):
                    fields = call_fields(self.scan, call.node, call.qualified)
                    fields["blocking"] = f"`{fields['call']}` blocks the event loop"
                    reports.append((function, call.node, fields, None))
                elif call.helper:
                    chain = self.calls.follow(call.helper, self._kind)
                    if chain is not None:
                        fields = call_fields(self.scan, chain.found.node, chain.found.qualified)
                        fields["helper"] = chain.helpers[0].rsplit(".", 1)[-1]
                        reports.append((function, call.node, fields, chain))
        lines = self._lines([chain.found.node for *_, chain in reports if chain is not None])
        for function, node, fields, chain in reports:
            if chain is not None:
                line = lines.get(id(chain.found.node), "?")
                fields["blocking"] = f"{chain.describe(fields['call'], line)}, which blocks the event loop"
            self.report(node, symbol=function.symbol, function=function.node.name.value, **fields)

    def _lines(self, nodes: list[cst.CSTNode]) -> dict[int, int]:
        if not nodes:
            return {}
        return {key: span.line for key, span in node_spans(self.scan.module, nodes).items()}


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
    kinds = frozenset({Blocking.FILE.value, Blocking.DATA.value, Blocking.PROCESS.value})


@register
class SyncInferenceInAsync(_BlockingInAsync):
    name = "sync-inference-in-async"
    kinds = frozenset({INFERENCE})
