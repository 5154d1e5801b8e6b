"""What the unbounded-load and unbounded-cache detectors read off the code.

Small, syntactic facts: the literal text of a path or query, the arguments of a
call, the method chain behind a receiver, the name a call's result is bound to.
Each answers "unknown" (None) rather than guess.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from reviewer.engine.names import assigned_names
from reviewer.engine.walk import child_nodes

from reviewer.ruleset.conditions import ArgRef, find_argument, is_unknown, literal_value

from reviewer.ruleset.detector import Detector

if TYPE_CHECKING:
    from reviewer.engine.runner import FileScan

# Path words that mark a file as small and fixed: a lookup, not data that grows.
SMALL_FILE_WORDS = re.compile(
    r"(config|conf|settings|param|label|vocab|lookup|mapping|meta|schema|sample|example|"
    r"test|dummy|toy|tiny|small|fixture|template|readme|license|requirements|mock|ignore|lexicon|"
    r"version|sizes?\b|_len\b|count|index|hostfile|host_file|environ|secret|credential|auth|token_file|^/(proc|sys|etc|dev)/)",
    re.IGNORECASE,
)
# Words that say a file holds data that grows: training sets, corpora, logs, dumps.
DATA_FILE_WORDS = re.compile(
    r"((?<!pre)train|valid|\bdev\b|eval|data|corpus|corpora|jsonl|csv|tsv|tokens|shard|sentence|caption|"
    r"annotation|manifest|wiki|conll|cnll|\blogs?\b|_logs?\b|\.log\b|chat|convs?\b|conversation|dump|\brecords?\b|_records?\b|\brecords_|tfrecord|raw_text|"
    r"text_file|"
    r"transcript|dialog|review|tweet|crawl|scrape)",
    re.IGNORECASE,
)


def literal_text(node: cst.BaseExpression | None) -> str | None:
    """A string literal's value; an f-string's text with each hole as ``{}``."""
    if node is None:
        return None
    value = literal_value(node)
    if isinstance(value, str):
        return value
    if isinstance(node, cst.FormattedString):
        parts = []
        for part in node.parts:
            parts.append(part.value if isinstance(part, cst.FormattedStringText) else "{}")
        return "".join(parts)
    return None


def argument(call: cst.Call, name: str, position: int | None = None) -> cst.BaseExpression | None:
    """The expression passed for a parameter; None when absent or unknowable."""
    splat_args = any(arg.star == "*" for arg in call.args)
    found = find_argument(call, ArgRef(name, position), splat_args)
    return None if found is None or is_unknown(found) else found


def keywords(call: cst.Call) -> set[str]:
    return {arg.keyword.value for arg in call.args if arg.keyword is not None}


def has_splat(call: cst.Call) -> bool:
    return any(arg.star for arg in call.args)


def positional_count(call: cst.Call) -> int:
    return sum(1 for arg in call.args if arg.keyword is None and not arg.star)


def method_chain(expr: cst.BaseExpression) -> list[tuple[str, cst.Call | None]]:
    """``a.b(x)[k].c().d`` -> [("d", None), ("c", Call), ("[]", None), ("b", Call)], outermost first."""
    chain: list[tuple[str, cst.Call | None]] = []
    node = expr
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            chain.append((node.func.attr.value, node))
            node = node.func.value
        elif isinstance(node, cst.Attribute):
            chain.append((node.attr.value, None))
            node = node.value
        elif isinstance(node, cst.Subscript):
            chain.append(("[]", None))
            node = node.value
        else:
            return chain


def qualify_through_subscripts(scan: "FileScan", expr: cst.BaseExpression) -> str | None:
    """Like ``names.qualify``, but ``df[cols].x()`` keeps going through the subscript
    (as ``df.[].x``), where the resolver gives up."""
    qualified = scan.names.qualify(expr)
    if qualified is not None:
        return qualified
    chain = method_chain(expr)
    if not any(method == "[]" for method, _ in chain):
        return None
    root = scan.names.qualify(chain_root(expr))
    if root is None:
        return None
    return ".".join([root, *(method for method, _ in reversed(chain))])


def chain_segments(qualified: str, root: str) -> list[str]:
    """The methods applied after ``root`` in a qualified name built from a chain."""
    if qualified == root:
        return []
    if not qualified.startswith(root + "."):
        return []
    return qualified[len(root) + 1:].split(".")


def is_literal_collection(node: cst.BaseExpression) -> bool:
    """A list/tuple/set/dict display, or ``range`` of a literal: a fixed, visible size."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
        return True
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range":
        return all(not is_unknown(literal_value(arg.value)) for arg in node.args)
    return literal_text(node) is not None


def short(text: str, limit: int = 50) -> str:
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1].rstrip() + "…"


class Bindings:
    """Simple assignments seen so far: ``df = spark.read.parquet(p)`` keeps the call.

    Per function, with the module as the fallback, last assignment wins; good
    enough to follow a name back to the expression that made it. Detectors
    forward ``visit_Assign``/``leave_Assign`` here. The runner visits an
    assignment before its value, so while a call is visited the name it is
    being assigned to is known (``target_of``).
    """

    def __init__(self, scan: "FileScan") -> None:
        self.scan = scan
        self._values: dict[int | None, dict[str, cst.BaseExpression]] = {}
        self._pending: list[tuple[cst.BaseExpression, str | None, list[cst.BaseExpression]]] = []

    def scope_key(self) -> int | None:
        function = self.scan.context.function
        return id(function.node) if function is not None else None

    def enter(self, node: cst.Assign | cst.AnnAssign) -> None:
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        name = targets[0].value if len(targets) == 1 and isinstance(targets[0], cst.Name) else None
        value = node.value
        if isinstance(value, cst.Await):
            value = value.expression
        if value is None:
            self._pending.append((cst.Name("None"), None, []))
        else:
            self._pending.append((value, name, targets))

    def leave(self) -> None:
        # Bound after the value was visited: in ``df = df.toPandas()`` the call still sees
        # the old ``df``.
        if not self._pending:
            return
        value, name, targets = self._pending.pop()
        scope = self._values.setdefault(self.scope_key(), {})
        for target in targets:
            for bound in bound_names(target):
                scope.pop(bound, None)
        if name is not None:
            scope[name] = value

    def enter_with(self, node: cst.With) -> None:
        scope = self._values.setdefault(self.scope_key(), {})
        for item in node.items:
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                scope[item.asname.name.value] = item.item

    def target_of(self, value: cst.BaseExpression) -> str | None:
        """The name the assignment being visited binds ``value`` to."""
        if self._pending and self._pending[-1][0] is value:
            return self._pending[-1][1]
        return None

    def value_of(self, name: str) -> cst.BaseExpression | None:
        for key in (self.scope_key(), None):
            scope = self._values.get(key)
            if scope is not None and name in scope:
                return scope[name]
            if key is None:
                break
        return None

    def resolve(self, node: cst.BaseExpression | None, depth: int = 4) -> cst.BaseExpression | None:
        """Follow a bare name back through assignments to the expression behind it."""
        while isinstance(node, cst.Name) and depth > 0:
            value = self.value_of(node.value)
            if value is None:
                return node
            node, depth = value, depth - 1
        return node

    def string(self, node: cst.BaseExpression | None) -> str | None:
        return literal_text(self.resolve(node))

    def full_chain(self, expr: cst.BaseExpression, depth: int = 4) -> list[tuple[str, cst.Call | None]]:
        """``method_chain`` continued through the assignments of its root name."""
        return self.origin(expr, depth)[0]

    def origin(
        self, expr: cst.BaseExpression, depth: int = 4
    ) -> tuple[list[tuple[str, cst.Call | None]], cst.BaseExpression]:
        """The full method chain behind ``expr`` (outermost first) and the expression it starts from."""
        chain = method_chain(expr)
        root = chain_root(expr)
        while isinstance(root, cst.Name) and depth > 0:
            value = self.value_of(root.value)
            if value is None or value is expr:
                break
            chain.extend(method_chain(value))
            root, depth = chain_root(value), depth - 1
        return chain, root


def chain_root(expr: cst.BaseExpression) -> cst.BaseExpression:
    node = expr
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        elif isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        else:
            return node


bound_names = assigned_names


def walk(node: cst.CSTNode, into_nested: bool = False) -> Iterator[cst.CSTNode]:
    """``node`` and everything under it; without ``into_nested``, a nested ``def``, ``lambda``
    or ``class`` is yielded but not entered (its body runs some other time)."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        yield current
        if not into_nested and current is not node and isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        stack.extend(child_nodes(current))


def grown_lists(body: cst.BaseSuite) -> set[str]:
    """Names a loop body appends to, extends or ``+=``s, outside nested functions."""
    grown: set[str] = set()
    for node in walk(body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value in ("append", "extend") and isinstance(node.func.value, cst.Name):
                grown.add(node.func.value.value)
        elif isinstance(node, cst.AugAssign) and isinstance(node.operator, cst.AddAssign):
            if isinstance(node.target, cst.Name) and isinstance(node.value, (cst.List, cst.ListComp, cst.Subscript)):
                grown.add(node.target.value)
    return grown


def names_in(node: cst.CSTNode) -> Iterator[str]:
    """Every variable name read or bound in an expression (not attribute or keyword names)."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current.value
        elif isinstance(current, cst.Attribute):
            stack.append(current.value)
        elif isinstance(current, cst.Arg):
            stack.append(current.value)
        else:
            stack.extend(child_nodes(current))


class BindingDetector(Detector):
    """A detector that follows names back to their assignments (``self.bindings``)."""

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.bindings = Bindings(scan)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.bindings.enter(node)

    def leave_Assign(self, node: cst.Assign) -> None:
        self.bindings.leave()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.bindings.enter(node)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.bindings.leave()

    def visit_With(self, node: cst.With) -> None:
        self.bindings.enter_with(node)
