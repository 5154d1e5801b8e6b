"""One file, every rule, one walk.

The file is parsed once; a single walk keeps the context stack and the name
resolver up to date and hands each node to the rules that asked for its type.
Positions are worked out only for the nodes that became findings. A rule that
raises is reported once for the file and stops there; the others go on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable, Mapping, Sequence, TypeVar

import libcst as cst

from reviewer.engine.context import Context, Frame
from reviewer.engine.files import Excludes
from reviewer.engine.names import NameResolver
from reviewer.engine.parsing import collector_paused
from reviewer.engine.positions import node_spans
from reviewer.engine.walk import walk
from reviewer.questions import field_text, fill, host_of
from reviewer.ruleset.conditions import literal_value
from reviewer.ruleset.detector import Detector, load_detectors
from reviewer.ruleset.schema import CompiledRule
from reviewer.types import Finding, Location, RuleError, Skipped, fingerprint


T = TypeVar("T")


@dataclass
class FileOutcome:
    findings: list[Finding] = field(default_factory=list)
    rule_errors: list[RuleError] = field(default_factory=list)
    skipped: Skipped | None = None
    parsed: bool = False


@dataclass
class _Report:
    rule: CompiledRule
    node: cst.CSTNode
    end: cst.CSTNode | None
    symbol: str
    fields: dict[str, str]
    statement: int | None  # the top-level statement being walked when it was reported


class _RuleFailed(Exception):
    pass


def module_name(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def applies_to(rule: CompiledRule, path: str) -> bool:
    if rule.include and not _globs(rule.include).matches_file(path):
        return False
    return not (rule.exclude and _globs(rule.exclude).matches_file(path))


@functools.lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> Excludes:
    return Excludes(patterns)


class FileScan:
    """What a detector sees of the file being analysed."""

    def __init__(self, path: str, module: cst.Module, text: str = "") -> None:
        self.path = path
        self.module = module
        self.text = text  # the source as read: search it instead of regenerating code
        self.module_name = module_name(path)
        self.names = NameResolver(module)
        self.context = Context(self.module_name)
        self._reports: list[_Report] = []
        self.statement: int | None = None  # index in module.body of the statement being walked
        self._shared: dict[str, Any] = {}
        # A node's code never changes, and rules ask for the same node's code again
        # (half of the asks); the node is kept so that its id is not reused.
        self._code: dict[int, tuple[cst.CSTNode, str]] = {}

    def shared(self, key: str, make: Callable[["FileScan"], T]) -> T:
        """The file's one instance of an analysis several detectors use, made on first ask
        (so two rules of a family record the module's calls once, not twice)."""
        if key not in self._shared:
            self._shared[key] = make(self)
        return self._shared[key]

    def code(self, node: cst.CSTNode) -> str:
        known = self._code.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        text = self.module.code_for_node(node)
        self._code[id(node)] = (node, text)
        return text

    def report(
        self,
        rule: CompiledRule,
        node: cst.CSTNode,
        *,
        end: cst.CSTNode | None = None,
        symbol: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        if not rule.where.holds(self.context, self.names):
            return
        values = {
            "function": self.context.function_name,
            "symbol": symbol or self.context.symbol,
            "path": self.path,
            "module": self.module_name,
        }
        values.update({k: v for k, v in (fields or {}).items() if v})
        self._reports.append(_Report(rule, node, end, values["symbol"], values, self.statement))


class _PatternRules:
    """All YAML call and method rules of a run, checked with one lookup per call."""

    def __init__(self, scan: FileScan, rules: Sequence[CompiledRule]) -> None:
        self.scan = scan
        self.by_name: dict[str, list[CompiledRule]] = {}
        self.wildcard: list[tuple[Any, CompiledRule]] = []
        self.by_method: dict[str, list[CompiledRule]] = {}
        for rule in rules:
            for pattern in rule.call:
                if pattern.regex is None:
                    self.by_name.setdefault(pattern.text, []).append(rule)
                else:
                    self.wildcard.append((pattern, rule))
            for method in rule.method:
                self.by_method.setdefault(method, []).append(rule)

    def visit_Call(self, node: cst.Call) -> None:
        names = self.scan.names
        qualified = names.qualify(node.func)
        candidates: list[CompiledRule] = []
        if qualified is not None:
            candidates.extend(self.by_name.get(qualified, ()))
            candidates.extend(rule for pattern, rule in self.wildcard if pattern.matches(qualified))
        if isinstance(node.func, cst.Attribute):
            for rule in self.by_method.get(node.func.attr.value, ()):
                if rule.receiver:
                    receiver = names.qualify(node.func.value)
                    if receiver is None or not any(p.matches(receiver) for p in rule.receiver):
                        continue
                candidates.append(rule)
        for rule in candidates:
            try:
                if rule.args.hold(node):
                    self.scan.report(rule, node, fields=call_fields(self.scan, node, qualified))
            except Exception as exc:  # noqa: BLE001 - isolate one rule's failure
                raise _RuleFailed(rule.id, exc) from exc


def call_fields(scan: FileScan, call: cst.Call, qualified: str | None) -> dict[str, str]:
    func = call.func
    fields = {
        "call": field_text(scan.code(func)),
        "callee": qualified or "",
        "method": func.attr.value if isinstance(func, cst.Attribute) else "",
        "code": field_text(scan.code(call)),
        "host": "the remote service",
    }
    positional = [a for a in call.args if a.keyword is None and not a.star]
    first = positional[0].value if positional else None
    url = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "url"), first)
    if first is not None:
        fields["target"] = field_text(scan.code(first))
    if url is not None:
        host = _literal_host(url, scan.names)
        if host:
            fields["host"] = host
    return fields


def _literal_host(node: cst.BaseExpression, names: NameResolver) -> str | None:
    """The host of a URL written as a literal, a module constant, or an f-string starting with either."""
    text = _leading_text(node, names)
    if text and "://" in text:
        host = host_of(text)
        return host if host and "." in host else None
    return None


def _leading_text(node: cst.BaseExpression, names: NameResolver) -> str | None:
    if isinstance(node, cst.Name):
        return names.string_constants.get(node.value) or None
    value = literal_value(node)
    if isinstance(value, str):
        return value
    if isinstance(node, cst.FormattedString) and node.parts:
        first = node.parts[0]
        if isinstance(first, cst.FormattedStringText):
            return first.value.split("{", 1)[0]
        if isinstance(first, cst.FormattedStringExpression) and isinstance(first.expression, cst.Name):
            head = names.string_constants.get(first.expression.value, "")
            tail = node.parts[1].value if len(node.parts) > 1 and isinstance(node.parts[1], cst.FormattedStringText) else ""
            return head + tail if head else None
    return None


def _instantiate(scan: FileScan, rules: Sequence[CompiledRule], failed: list[RuleError]) -> list[tuple[str, Any]]:
    detectors = load_detectors()
    handlers: list[tuple[str, Any]] = []
    patterns = [r for r in rules if r.detector is None]
    if patterns:
        handlers.append(("", _PatternRules(scan, patterns)))
    for rule in rules:
        if rule.detector is not None:
            try:
                handlers.append((rule.id, detectors[rule.detector](scan, rule, rule.options)))
            except Exception as exc:  # noqa: BLE001 - isolate one rule's failure
                failed.append(RuleError(rule.id, scan.path, f"{type(exc).__name__}: {exc}"))
    return handlers


@functools.lru_cache(maxsize=None)
def _hooks(cls: type) -> tuple[tuple[str, type, bool], ...]:
    hooks = []
    for attr in dir(cls):
        for prefix, leaving in (("visit_", False), ("leave_", True)):
            if attr.startswith(prefix):
                node_type = getattr(cst, attr[len(prefix):], None)
                if isinstance(node_type, type) and issubclass(node_type, cst.CSTNode):
                    hooks.append((attr, node_type, leaving))
    return tuple(hooks)


class _Walker:
    """Keeps context and names in step with the walk and dispatches to rules."""

    def __init__(self, scan: FileScan, handlers: list[tuple[str, Any]], outcome: FileOutcome) -> None:
        self.scan = scan
        self.outcome = outcome
        self.on_enter: dict[type, list[tuple[str, Callable]]] = {}
        self.on_leave: dict[type, list[tuple[str, Callable]]] = {}
        self.failed: set[str] = set()
        for rule_id, handler in handlers:
            for attr, node_type, leaving in _hooks(type(handler)):
                table = self.on_leave if leaving else self.on_enter
                table.setdefault(node_type, []).append((rule_id, getattr(handler, attr)))
        # Bodies that open a frame, by id: a function's, lambda's or class's (entered
        # after decorators, defaults and bases, which belong to the enclosing scope;
        # with its owner, for names) and a try's (owner None).
        self.bodies: dict[int, tuple[Frame, cst.CSTNode | None]] = {}
        self._enter_tracking: dict[type, Callable[[Any], None]] = {
            cst.Import: self._import, cst.ImportFrom: self._import,
            cst.FunctionDef: self._function, cst.Lambda: self._lambda, cst.ClassDef: self._class,
            cst.For: self._for, cst.While: self._while,
            cst.ListComp: self._comprehension, cst.SetComp: self._comprehension,
            cst.DictComp: self._comprehension, cst.GeneratorExp: self._comprehension,
            cst.With: self._with, cst.Try: self._try, cst.TryStar: self._try,
            cst.ExceptHandler: self._except, cst.ExceptStarHandler: self._except,
        }
        self._leave_tracking: dict[type, Callable[[Any], None]] = {
            **dict.fromkeys((cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp,
                             cst.With, cst.ExceptHandler, cst.ExceptStarHandler), self._pop_frame),
            cst.Assign: self._assign, cst.AnnAssign: self._ann_assign,
            cst.AugAssign: self._aug_assign, cst.NamedExpr: self._named_expr,
        }

    def dispatch(self, table: dict[type, list[tuple[str, Callable]]], node: cst.CSTNode) -> None:
        for rule_id, callback in table.get(type(node), ()):
            if rule_id in self.failed:
                continue
            try:
                callback(node)
            except _RuleFailed as failure:
                self._fail(failure.args[0], failure.args[1])
            except Exception as exc:  # noqa: BLE001 - isolate one rule's failure
                self._fail(rule_id, exc)

    def _fail(self, rule_id: str, exc: BaseException) -> None:
        if rule_id not in self.failed:
            self.failed.add(rule_id)
            self.outcome.rule_errors.append(RuleError(rule_id, self.scan.path, f"{type(exc).__name__}: {exc}"))

    def walk(self, module: cst.Module) -> None:
        # One top-level statement at a time, so a report knows which one it was made in
        # (most findings are then located without generating the whole module's code).
        enter_types = self.on_enter.keys() | self._enter_tracking.keys()
        leave_types = self.on_leave.keys() | self._leave_tracking.keys()
        if cst.Module in enter_types:
            self.enter(module)
        for index, statement in enumerate(module.body):
            self.scan.statement = index
            walk(statement, self.enter, self.leave, enter_types=enter_types, leave_types=leave_types,
                 marked=self.bodies)
        self.scan.statement = None
        if cst.Module in leave_types:
            self.leave(module)

    def enter(self, node: cst.CSTNode) -> None:
        # A body is inside its scope (a lambda's body may itself be a call), so
        # the frame opens before the body node's own callbacks run.
        opened = self.bodies.get(id(node))
        if opened is not None:
            frame, owner = opened
            self.scan.context.push(frame)
            if type(owner) is cst.ClassDef:
                self.scan.names.enter_class(owner)  # type: ignore[arg-type]
            elif owner is not None:
                self.scan.names.enter_function(owner)  # type: ignore[arg-type]
        if type(node) in self.on_enter:
            self.dispatch(self.on_enter, node)
        track = self._enter_tracking.get(type(node))
        if track is not None:
            track(node)

    def leave(self, node: cst.CSTNode) -> None:
        opened = self.bodies.get(id(node))
        if opened is not None:
            self.dispatch(self.on_leave, node)
            self.scan.context.pop()
            if opened[1] is not None:
                self.scan.names.leave_scope()
            return
        track = self._leave_tracking.get(type(node))
        if track is not None:
            track(node)
        if type(node) in self.on_leave:
            self.dispatch(self.on_leave, node)

    # -- keeping names and context in step (dispatched by exact node type) ----

    def _function(self, node: cst.FunctionDef) -> None:
        names = self.scan.names
        decorators = tuple(filter(None, (names.qualify(d.decorator) for d in node.decorators)))
        frame = Frame("function", node, node.name.value, node.asynchronous is not None, decorators)
        self.bodies[id(node.body)] = (frame, node)

    def _lambda(self, node: cst.Lambda) -> None:
        self.bodies[id(node.body)] = (Frame("lambda", node), node)

    def _class(self, node: cst.ClassDef) -> None:
        bases = tuple(filter(None, (self.scan.names.qualify(a.value) for a in node.bases)))
        self.bodies[id(node.body)] = (Frame("class", node, node.name.value, names=bases), node)

    def _for(self, node: cst.For) -> None:
        self.scan.names.record_unknown(node.target)
        self.scan.context.push(Frame("loop", node))

    def _while(self, node: cst.While) -> None:
        self.scan.context.push(Frame("loop", node))

    def _comprehension(self, node: cst.CSTNode) -> None:
        self.scan.context.push(Frame("comprehension", node))

    def _with(self, node: cst.With) -> None:
        names = self.scan.names
        items = tuple(filter(None, (names.qualify(item.item) for item in node.items)))
        for item in node.items:
            if item.asname is not None:
                names.record_assign([item.asname.name], item.item)
        self.scan.context.push(Frame("with", node, names=items))

    def _try(self, node: cst.Try | cst.TryStar) -> None:
        self.bodies[id(node.body)] = (Frame("try", node.body), None)

    def _except(self, node: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
        if node.name is not None:
            self.scan.names.record_unknown(node.name.name)
        self.scan.context.push(Frame("except", node))

    def _pop_frame(self, node: cst.CSTNode) -> None:
        self.scan.context.pop()

    def _assign(self, node: cst.Assign) -> None:
        self.scan.names.record_assign([t.target for t in node.targets], node.value)

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.value, cst.Call):
            self.scan.names.record_assign([node.target], node.value)
        else:
            self.scan.names.record_annotation(node.target, node.annotation)

    def _aug_assign(self, node: cst.AugAssign) -> None:
        self.scan.names.record_unknown(node.target)

    def _named_expr(self, node: cst.NamedExpr) -> None:
        self.scan.names.record_assign([node.target], node.value)

    def _import(self, node: cst.Import | cst.ImportFrom) -> None:
        self.scan.names.record_import(node)


def analyze_module(path: str, module: cst.Module, source_text: str, rules: Sequence[CompiledRule]) -> FileOutcome:
    outcome = FileOutcome(parsed=True)
    rules = [r for r in rules if applies_to(r, path)]
    if not rules:
        return outcome
    with collector_paused():
        return _analyze(path, module, source_text, rules, outcome)


def _analyze(path: str, module: cst.Module, source_text: str, rules: list[CompiledRule], outcome: FileOutcome) -> FileOutcome:
    scan = FileScan(path, module, source_text)
    handlers = _instantiate(scan, rules, outcome.rule_errors)
    walker = _Walker(scan, handlers, outcome)
    walker.walk(module)
    for rule_id, handler in handlers:
        if isinstance(handler, Detector) and rule_id not in walker.failed:
            try:
                handler.finish()
            except Exception as exc:  # noqa: BLE001
                walker._fail(rule_id, exc)
    reports = [r for r in scan._reports if r.rule.id not in walker.failed]
    outcome.findings = _findings(scan, reports, source_text)
    return outcome


def _findings(scan: FileScan, reports: list[_Report], source_text: str) -> list[Finding]:
    if not reports:
        return []
    from reviewer.engine.suppressions import find_suppressions

    suppressions = find_suppressions(source_text)
    nodes = [r.node for r in reports] + [r.end for r in reports if r.end is not None]
    statements = {
        id(node): r.statement for r in reports if r.statement is not None for node in (r.node, r.end) if node is not None
    }
    spans = node_spans(scan.module, nodes, source=source_text, statements=statements)
    findings: list[Finding] = []
    seen: dict[tuple[str, str, str], int] = {}
    located = []
    for report in reports:
        start = spans.get(id(report.node))
        end = spans.get(id(report.end)) if report.end is not None else start
        if start is None or end is None:
            continue
        located.append((start.line, start.column, report, start, end))
    located.sort(key=lambda item: (item[0], item[1], item[2].rule.id))
    emitted: set[tuple[str, int]] = set()
    for _, _, report, start, end in located:
        meta = report.rule.meta
        if (meta.id, id(report.node)) in emitted:
            continue
        emitted.add((meta.id, id(report.node)))
        if suppressions.covers(start.line, meta.id, meta.family.value):
            continue
        text = header_text(scan, report.node)
        key = (meta.id, report.symbol, text)
        seen[key] = seen.get(key, 0) + 1
        fields = {**report.fields}
        fields.setdefault("code", field_text(text))
        findings.append(
            Finding(
                rule=meta.id,
                name=meta.name,
                family=meta.family,
                severity=meta.severity,
                location=Location(scan.path, start.line, start.column + 1, end.end_line, end.end_column + 1),
                symbol=report.symbol,
                message=fill(meta.message, fields),
                question=fill(meta.question, fields),
                fingerprint=fingerprint(meta.id, scan.path, report.symbol, text, seen[key]),
            )
        )
    return findings


def header_text(scan: FileScan, node: cst.CSTNode) -> str:
    """The text a finding is identified by: a compound statement by its header only,
    so editing a loop's body does not make its finding new."""
    code = scan.code
    if isinstance(node, cst.For):
        return f"for {code(node.target)} in {code(node.iter)}"
    if isinstance(node, cst.While):
        return f"while {code(node.test)}"
    if isinstance(node, cst.FunctionDef):
        return f"def {node.name.value}({code(node.params)})"
    if isinstance(node, cst.ClassDef):
        return f"class {node.name.value}"
    if isinstance(node, cst.With):
        return "with " + ", ".join(code(item.item) for item in node.items)
    if isinstance(node, cst.If):
        return f"if {code(node.test)}"
    return code(node)
