"""Parsing a file with LibCST, or saying in a few words why it cannot be.

LibCST's native parser overflows its stack (and kills the process) on very
deeply nested brackets, which CPython itself refuses past 200 levels; such
files are checked with CPython's parser first, which fails cleanly. Long
operator chains (``-------1``, ``a.b.b.b...``, a 5 MB ``"a" + "a" + ...``) make
its time grow much faster than their length, or crash it; ``may_stall_native_parser``
spots them so the caller can parse them in a process that may be ended.
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

# Above this many chained operators LibCST takes tenths of a second and then
# grows steeply; real code stays far below (at most 231 in 3,000 site-packages files).
MAX_SAFE_CHAIN = 300
_OPERATOR_CHARS = ".+-*/%@&|^~<>=!:([{"
_OPERATOR_WORDS = ("and", "or", "not", "in", "is", "if", "else", "lambda", "await")
_LEXEMES = re.compile(
    r"\#[^\n]*"
    r"""|[rRbBuUfF]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')"""
    r"|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<sep>[,;])|(?P<newline>\n)"
    r"|(?P<op>\*\*|//|<<|>>|->|[-+*/%@&|^~<>.=!:]|\b(?:and|or|not|in|is|if|else|lambda|await)\b)"
)


def bracket_depth(text: str) -> int:
    """An upper bound of the nesting depth (brackets in strings and comments count too)."""
    brackets = "".join(_BRACKETS.findall(text))
    steps = (1 if c in "([{" else -1 for c in brackets)
    return max(itertools.accumulate(steps, initial=0))


def may_stall_native_parser(text: str) -> bool:
    """Whether an expression may chain more than MAX_SAFE_CHAIN operators (an upper bound:
    comments and strings are skipped; a comma, a semicolon or a line end outside brackets
    starts a new chain)."""
    rough = sum(text.count(c) for c in _OPERATOR_CHARS) + sum(text.count(w) for w in _OPERATOR_WORDS)
    if rough <= MAX_SAFE_CHAIN:
        return False
    bases = [0]
    chain = 0
    for lexeme in _LEXEMES.finditer(text):
        kind = lexeme.lastgroup
        if kind == "op" or kind == "open":
            chain += 1
            if chain > MAX_SAFE_CHAIN:
                return True
            if kind == "open":
                bases.append(chain)
        elif kind == "close":
            if len(bases) > 1:
                bases.pop()
        elif kind == "sep" or (kind == "newline" and len(bases) == 1):
            chain = bases[-1]
    return False


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
