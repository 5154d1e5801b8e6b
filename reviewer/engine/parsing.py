"""Parsing a file with LibCST, or saying in a few words why it cannot be.

LibCST's native parser overflows its stack (and kills the process) on very
deeply nested brackets, which CPython itself refuses past 200 levels; such
files are checked with CPython's parser first, which fails cleanly.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import itertools
import re
import warnings
from typing import Iterator

import libcst as cst
from libcst._nodes.base import CSTNode

from reviewer.types import Skipped

# Deeper than CPython allows (200), shallower than where LibCST's native parser crashes.
MAX_SAFE_NESTING = 200
_BRACKETS = re.compile(r"[()\[\]{}]+")


def bracket_depth(text: str) -> int:
    """An upper bound of the nesting depth (brackets in strings and comments count too)."""
    brackets = "".join(_BRACKETS.findall(text))
    steps = (1 if c in "([{" else -1 for c in brackets)
    return max(itertools.accumulate(steps, initial=0))


def python_syntax_error(text: str) -> str | None:
    """CPython's own verdict, for a precise message: 'syntax error at 3:12: invalid syntax'."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as exc:
        where = f"{exc.lineno}:{exc.offset}" if exc.lineno else "?"
        return f"syntax error at {where}: {exc.msg}"
    except (RecursionError, MemoryError, ValueError):
        return "nested too deeply to parse"
    return None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one file is parsed and walked.

    A file's tree is some hundred thousand objects without reference cycles;
    collections triggered while it is built or walked traverse all of it again
    and again (a fifth of a scan). Reference counting still frees the tree.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _skip_validation(node: CSTNode) -> None:
    pass


@contextlib.contextmanager
def _unvalidated_nodes() -> Iterator[None]:
    """LibCST checks every node it constructs (``CSTNode.__post_init__``), a
    quarter of parsing; what its own parser builds from valid source is valid.
    Nodes made outside ``parse`` (by detectors) are still checked."""
    validate = CSTNode.__dict__["__post_init__"]
    CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign]
    try:
        yield
    finally:
        CSTNode.__post_init__ = validate  # type: ignore[method-assign]


def parse(path: str, text: str) -> cst.Module | Skipped:
    if bracket_depth(text) > MAX_SAFE_NESTING:
        problem = python_syntax_error(text)
        if problem is not None:
            return Skipped(path, problem)
    try:
        with collector_paused(), _unvalidated_nodes():
            return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        problem = python_syntax_error(text)
        if problem is not None:
            return Skipped(path, problem)
        return Skipped(path, f"LibCST cannot parse this file (at {exc.raw_line}:{exc.raw_column + 1})")
    except RecursionError:
        return Skipped(path, "nested too deeply to parse")
    except Exception as exc:  # noqa: BLE001 - the native parser may fail in its own ways
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Skipped(path, f"parser failed: {first_line}")
