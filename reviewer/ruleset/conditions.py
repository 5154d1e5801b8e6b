"""Conditions a rule puts on a call's arguments and on where it stands.

Both follow one principle: a condition that cannot be decided from the code
(a non-literal value, a ``**kwargs`` splat) is unknown, and unknown never
produces a finding.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

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

Predicate = Callable[[Context, NameResolver], bool]

SIMPLE_PLACES: dict[str, Predicate] = {
    "loop": lambda ctx, names: ctx.in_loop,
    "async_function": lambda ctx, names: ctx.in_async_function,
    "function": lambda ctx, names: ctx.function is not None,
    "module_level": lambda ctx, names: ctx.function is None,
    "try": lambda ctx, names: ctx.in_try_body,
    "except": lambda ctx, names: ctx.in_except_handler,
}

PATTERN_PLACES: dict[str, Callable[[Sequence[NamePattern]], Predicate]] = {
    "decorated_by": lambda ps: lambda ctx, names: ctx.decorated_by(ps),
    "class_bases": lambda ps: lambda ctx, names: ctx.class_based_on(ps),
    "with": lambda ps: lambda ctx, names: ctx.inside_with(ps),
}


@dataclass(frozen=True)
class Where:
    inside: tuple[Predicate, ...] = ()
    not_inside: tuple[Predicate, ...] = ()
    imports: tuple[str, ...] = ()
    not_imports: tuple[str, ...] = ()

    def holds(self, ctx: Context, names: NameResolver) -> bool:
        if self.imports and not names.imports_any(self.imports):
            return False
        if self.not_imports and names.imports_any(self.not_imports):
            return False
        if not all(p(ctx, names) for p in self.inside):
            return False
        return not any(p(ctx, names) for p in self.not_inside)
