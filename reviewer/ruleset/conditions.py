"""Conditions a rule puts on a call's arguments and on where it stands.

Both follow one principle: a condition that cannot be decided from the code
(a non-literal value, a ``**kwargs`` splat) is unknown, and unknown never
produces a finding.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Callable

import libcst as cst

from reviewer.engine.context import Context
from reviewer.engine.names import NameResolver
from reviewer.engine.patterns import NamePattern

_UNKNOWN = object()


@dataclass(frozen=True)
class ArgRef:
    """A parameter by keyword name and, if it can be passed positionally, its index."""

    name: str
    position: int | None = None
    none_counts_as_missing: bool = False


@dataclass(frozen=True)
class ValueTest:
    arg: ArgRef
    equals: tuple[Any, ...] = ()
    matches: re.Pattern[str] | None = None
    compare: tuple[tuple[str, float], ...] = ()

    def holds(self, value: Any) -> bool:
        if self.equals and not any(_same_literal(value, e) for e in self.equals):
            return False
        if self.matches is not None and not (isinstance(value, str) and self.matches.search(value)):
            return False
        for op, bound in self.compare:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            if not _COMPARATORS[op](value, bound):
                return False
        return True


_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _same_literal(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class ArgConditions:
    missing: tuple[ArgRef, ...] = ()
    values: tuple[ValueTest, ...] = ()

    def hold(self, call: cst.Call) -> bool:
        has_splat_kwargs = any(arg.star == "**" for arg in call.args)
        has_splat_args = any(arg.star == "*" for arg in call.args)
        for ref in self.missing:
            if has_splat_kwargs:
                return False
            found = find_argument(call, ref, has_splat_args)
            if found is _UNKNOWN:
                return False
            if found is not None:
                if not ref.none_counts_as_missing or literal_value(found) is not None:
                    return False
        for test in self.values:
            found = find_argument(call, test.arg, has_splat_args)
            if found is None or found is _UNKNOWN:
                return False
            value = literal_value(found)
            if value is _UNKNOWN or not test.holds(value):
                return False
        return True


def find_argument(call: cst.Call, ref: ArgRef, has_splat_args: bool = False) -> Any:
    """The value expression passed for ``ref``; None if absent; _UNKNOWN if a *splat may fill it."""
    positional = 0
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == ref.name:
                return arg.value
        elif not arg.star:
            if ref.position is not None and positional == ref.position:
                return arg.value
            positional += 1
    if ref.position is not None and has_splat_args:
        return _UNKNOWN
    return None


def literal_value(node: cst.BaseExpression) -> Any:
    """The Python value of a literal expression, or _UNKNOWN."""
    if isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        return {"None": None, "True": True, "False": False}[node.value]
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)):
        try:
            return ast.literal_eval(cst.Module([]).code_for_node(node))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return _UNKNOWN
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal_value(node.expression)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner
    return _UNKNOWN


def is_unknown(value: Any) -> bool:
    return value is _UNKNOWN


# -- where a node stands -------------------------------------------------------

SIMPLE_PLACES = ("loop", "async_function", "function", "module_level", "try", "except")
PATTERN_PLACES = ("decorated_by", "class_bases", "with")


@dataclass(frozen=True)
class Place:
    """One ``inside``/``not_inside`` entry; plain data so rules pickle into worker processes."""

    kind: str
    patterns: tuple[NamePattern, ...] = ()

    def holds(self, ctx: Context) -> bool:
        kind = self.kind
        if kind == "loop":
            return ctx.in_loop
        if kind == "async_function":
            return ctx.in_async_function
        if kind == "function":
            return ctx.function is not None
        if kind == "module_level":
            return ctx.function is None
        if kind == "try":
            return ctx.in_try_body
        if kind == "except":
            return ctx.in_except_handler
        if kind == "decorated_by":
            return ctx.decorated_by(self.patterns)
        if kind == "class_bases":
            return ctx.class_based_on(self.patterns)
        if kind == "with":
            return ctx.inside_with(self.patterns)
        raise ValueError(f"unknown place {kind!r}")


@dataclass(frozen=True)
class Where:
    inside: tuple[Place, ...] = ()
    not_inside: tuple[Place, ...] = ()
    imports: tuple[str, ...] = ()
    not_imports: tuple[str, ...] = ()

    def holds(self, ctx: Context, names: NameResolver) -> bool:
        if self.imports and not names.imports_any(self.imports):
            return False
        if self.not_imports and names.imports_any(self.not_imports):
            return False
        if not all(place.holds(ctx) for place in self.inside):
            return False
        return not any(place.holds(ctx) for place in self.not_inside)
