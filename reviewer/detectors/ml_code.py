"""What the single-gpu, no-checkpoint and swallowed-error detectors know about a module.

Their questions span the module ("is there a save anywhere this training loop reaches?",
"does this script ever call set_device?"), while the engine hands them one node at a time.
``ModuleCalls`` records every call and function definition during the engine's walk, with
the qualified name the resolver gives at that point and the loops and ``try`` bodies
around it; the detectors answer their questions in ``finish`` from that record.

Same-module calls are followed by name only: ``helper(...)`` reaches a function defined
in this module, ``self.helper(...)`` a method of the same class. Anything else is not
followed, and detectors treat what they cannot follow as unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

import libcst as cst

from reviewer.engine.names import assigned_names  # noqa: F401 - re-exported for detectors
from reviewer.ruleset.detector import Detector

if TYPE_CHECKING:
    from reviewer.engine.runner import FileScan

Loop = cst.For | cst.While

# Context managers and decorators that turn autograd off (set_grad_enabled only may).
NO_GRAD = ("torch.no_grad", "torch.inference_mode", "torch.set_grad_enabled", "torch.autograd.no_grad",
           "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode")

# Libraries that own device placement, data sharding and checkpointing for the user.
TRAINING_FRAMEWORKS = (
    "accelerate",
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "deepspeed",
    "colossalai",
    "ray.train",
    "composer",
    "fastai",
    "ignite",
    "torchtune",
    "megatron",
)


@dataclass(eq=False)
class FunctionSite:
    node: cst.FunctionDef
    owner_class: cst.ClassDef | None  # set for methods
    parent: "FunctionSite | None"  # the function a nested def is defined in
    loops: tuple[Loop, ...]  # loops around the def inside its parent
    calls: list["CallSite"] = field(default_factory=list)
    yields_in: list[tuple[Loop, ...]] = field(default_factory=list)  # loops around each yield

    @property
    def name(self) -> str:
        return self.node.name.value

    @property
    def method_owner(self) -> "FunctionSite | None":
        """The method this function is, or is nested in."""
        site: FunctionSite | None = self
        while site is not None and site.owner_class is None:
            site = site.parent
        return site

    @property
    def self_name(self) -> str | None:
        method = self.method_owner
        if method is None:
            return None
        params = [*method.node.params.posonly_params, *method.node.params.params]
        return params[0].name.value if params else None


@dataclass(eq=False)
class LoopSite:
    node: Loop
    function: FunctionSite | None
    outer: tuple[Loop, ...]  # enclosing loops in the same function, outermost first
    symbol: str


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    qualified: str | None
    name: str  # the called name's last segment: "backward", "save_pretrained"
    function: FunctionSite | None  # None at module level
    loops: tuple[Loop, ...]  # enclosing loops in the same function, outermost first
    try_bodies: tuple[cst.BaseSuite, ...]  # enclosing try bodies in the same function
    scan: "FileScan"
    _receiver: str | None = None

    @property
    def receiver(self) -> str:
        """The receiver's code for attribute calls, else "" (rendered on first ask: few
        calls are ever asked, and rendering every one costs more than the walk)."""
        if self._receiver is None:
            func = self.node.func
            self._receiver = self.scan.code(func.value) if isinstance(func, cst.Attribute) else ""
        return self._receiver


def called_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


class ModuleCalls:
    """Every call and function of a module, recorded in walk order.

    One instance per file is shared by the detectors that need it
    (``ModuleCalls.of(scan)``); each feeds it from its own hooks, so recording a node
    that is already recorded returns what the first detector recorded.
    """

    @classmethod
    def of(cls, scan: "FileScan") -> "ModuleCalls":
        return scan.shared("module_calls", cls)

    def __init__(self, scan: "FileScan") -> None:
        self.scan = scan
        self.calls: list[CallSite] = []
        self.call_sites: dict[int, CallSite] = {}
        self.loop_sites: dict[int, LoopSite] = {}
        self.yields: set[int] = set()
        self.functions: dict[int, FunctionSite] = {}
        self.functions_by_name: dict[str, list[FunctionSite]] = {}
        self.methods: dict[tuple[int, str], list[FunctionSite]] = {}
        self.loops: list[LoopSite] = []
        self.calls_by_try_body: dict[int, list[CallSite]] = {}
        # Local functions passed by name (mp.spawn(worker), fire.Fire(main)), by whom.
        self.passed_functions: list[tuple[str, FunctionSite | None]] = []

    # -- fed from the detector's visit_* hooks -------------------------------

    def record_function(self, node: cst.FunctionDef) -> None:
        """Call from visit_FunctionDef: the context still describes the def's surroundings."""
        if id(node) in self.functions:
            return
        parent, owner, loops = None, None, []
        for frame in reversed(self.scan.context.frames):
            if frame.kind == "function":
                parent = self.functions.get(id(frame.node))
                break
            if frame.kind == "class":
                owner = frame.node
                break
            if frame.kind == "loop":
                loops.append(frame.node)
        site = FunctionSite(node, owner, parent, tuple(reversed(loops)))  # type: ignore[arg-type]
        self.functions[id(node)] = site
        if owner is not None:
            self.methods.setdefault((id(owner), site.name), []).append(site)
        else:
            self.functions_by_name.setdefault(site.name, []).append(site)

    def record_call(self, node: cst.Call) -> CallSite:
        recorded = self.call_sites.get(id(node))
        if recorded is not None:
            return recorded
        function, loops, tries = self.surroundings()
        site = CallSite(node, self.scan.names.qualify(node.func), called_name(node), function, loops, tries, self.scan)
        self.call_sites[id(node)] = site
        self.calls.append(site)
        if function is not None:
            function.calls.append(site)
        for body in tries:
            self.calls_by_try_body.setdefault(id(body), []).append(site)
        for arg in node.args:
            if isinstance(arg.value, cst.Name) and self.scan.names.qualify(arg.value) is None:
                self.passed_functions.append((arg.value.value, function))
        return site

    def record_yield(self, node: cst.Yield) -> None:
        if id(node) in self.yields:
            return
        self.yields.add(id(node))
        function, loops, _ = self.surroundings()
        if function is not None:
            function.yields_in.append(loops)

    def record_loop(self, node: Loop) -> LoopSite:
        """Call from visit_For / visit_While, before the loop's own frame is pushed."""
        recorded = self.loop_sites.get(id(node))
        if recorded is not None:
            return recorded
        function, outer, _ = self.surroundings()
        site = LoopSite(node, function, outer, self.scan.context.symbol)
        self.loop_sites[id(node)] = site
        self.loops.append(site)
        return site

    def surroundings(self) -> tuple[FunctionSite | None, tuple[Loop, ...], tuple[cst.BaseSuite, ...]]:
        # Lambdas are looked through: a lambda in a loop runs as part of that loop.
        loops: list[Loop] = []
        tries: list[cst.BaseSuite] = []
        function = None
        for frame in reversed(self.scan.context.frames):
            if frame.kind == "function":
                function = self.functions.get(id(frame.node))
                break
            if frame.kind == "class":
                break
            if frame.kind == "loop":
                loops.append(frame.node)  # type: ignore[arg-type]
            elif frame.kind == "try":
                tries.append(frame.node)  # type: ignore[arg-type]
        return function, tuple(reversed(loops)), tuple(reversed(tries))

    # -- questions asked in finish() -------------------------------------------

    def targets(self, call: CallSite) -> list[FunctionSite]:
        """The functions of this module a call may run."""
        func = call.node.func
        if isinstance(func, cst.Name) and call.qualified is None:
            return list(self.functions_by_name.get(func.value, ()))
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and call.function is not None:
            method = call.function.method_owner
            if method is not None and func.value.value == call.function.self_name:
                return list(self.methods.get((id(method.owner_class), func.attr.value), ()))
        return []

    def script_functions(self) -> set[int]:
        """ids of the functions that run when this module is executed as a script.

        They are reached from module-level code (``if __name__ == "__main__": main()``,
        ``fire.Fire(main)``) or are CLI entry points (``@hydra.main``, ``@click.command``),
        and so is everything those call or hand over by name (``mp.spawn(worker)``). An
        attribute call on an object of unknown type (``trainer.fit()``) reaches every
        method of that name in the module.
        """
        by_method: dict[str, list[FunctionSite]] = {}
        for (_, name), sites in self.methods.items():
            by_method.setdefault(name, []).extend(sites)
        frontier = [f for f in self.functions.values() if _is_cli_entry(self.scan, f.node)]
        frontier += [f for name, by in self.passed_functions if by is None for f in self.functions_by_name.get(name, ())]
        for call in self.calls:
            if call.function is None:
                frontier += self._script_targets(call, by_method)
        seen: set[int] = set()
        while frontier:
            function = frontier.pop()
            if id(function) in seen:
                continue
            seen.add(id(function))
            for site in self._with_nested(function):
                for call in site.calls:
                    frontier += self._script_targets(call, by_method)
                frontier += [f for name, by in self.passed_functions if by is site
                             for f in self.functions_by_name.get(name, ())]
        return seen

    def _script_targets(self, call: CallSite, by_method: dict[str, list[FunctionSite]]) -> list[FunctionSite]:
        targets = self.targets(call)
        if not targets and isinstance(call.node.func, cst.Attribute) and call.qualified is None:
            targets = list(by_method.get(call.name, ()))
        return targets

    def callers(self, function: FunctionSite) -> list[CallSite]:
        return [call for call in self.calls if function in self.targets(call)]

    def reachable(self, start: Iterable[CallSite], max_depth: int = 6) -> Iterator[CallSite]:
        """The calls in ``start`` and every call in the same-module functions they run."""
        seen: set[int] = set()
        frontier = list(start)
        for _ in range(max_depth + 1):
            following: list[CallSite] = []
            for call in frontier:
                yield call
                for target in self.targets(call):
                    for function in self._with_nested(target):
                        if id(function) not in seen:
                            seen.add(id(function))
                            following.extend(function.calls)
            if not following:
                return
            frontier = following

    def _with_nested(self, function: FunctionSite) -> Iterator[FunctionSite]:
        yield function
        for site in self.functions.values():
            if site.parent is function:
                yield from self._with_nested(site)

    def in_loop(self, loop: Loop) -> list[CallSite]:
        """Calls lexically inside ``loop``, including in defs nested inside it."""
        inside = [call for call in self.calls if loop in call.loops]
        nested = [f for f in self.functions.values() if loop in f.loops]
        for function in nested:
            for site in self._with_nested(function):
                inside.extend(site.calls)
        return inside

    def in_try_body(self, body: cst.BaseSuite) -> list[CallSite]:
        """Calls in a ``try`` body, not counting defs nested in it."""
        return self.calls_by_try_body.get(id(body), [])


class ImportedNames:
    """Names bound by an import and never rebound by assignment in the module.

    The resolver names a variable after the call that produced it, so after
    ``model = nn.DataParallel(model)`` the call ``model(x)`` also resolves to
    ``torch.nn.DataParallel``. A constructor rule must only fire where the callee is
    reached through an import: ``nn.DataParallel(...)``, ``DP(...)``.
    """

    def __init__(self) -> None:
        self.imported: set[str] = set()
        self.assigned: set[str] = set()

    def record_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name):
                self.imported.add(bound.value)

    def record_assign(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.assigned.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.record_assign(element.value)

    def reaches_through_import(self, func: cst.BaseExpression) -> bool:
        while isinstance(func, cst.Attribute):
            func = func.value
        return isinstance(func, cst.Name) and func.value in self.imported and func.value not in self.assigned


def name_words(name: str) -> set[str]:
    """``hf_hub_download`` -> {hf, hub, download}; ``openTable`` -> {open, table}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return {word for word in spaced.lower().split("_") if word}


def mentions(scan: "FileScan", node: cst.CSTNode, words: Iterable[str]) -> bool:
    text = scan.code(node).lower()
    return any(word in text for word in words)


def uses_training_framework(scan: "FileScan") -> bool:
    return scan.names.imports_any(TRAINING_FRAMEWORKS)


def _is_cli_entry(scan: "FileScan", node: cst.FunctionDef) -> bool:
    return any(mentions(scan, d.decorator, ("main", "command", "cli")) for d in node.decorators)


class CallRecorder(Detector):
    """A detector that feeds the file's shared ModuleCalls with functions and calls."""

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.calls = ModuleCalls.of(scan)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.record_function(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.record_call(node)


class LoopRecorder(CallRecorder):
    """A CallRecorder that also records loops and yields (for questions about training runs)."""

    def visit_Yield(self, node: cst.Yield) -> None:
        self.calls.record_yield(node)

    def visit_For(self, node: cst.For) -> None:
        self.calls.record_loop(node)

    def visit_While(self, node: cst.While) -> None:
        self.calls.record_loop(node)
