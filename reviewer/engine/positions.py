"""Line and column of the few nodes that became findings.

LibCST's PositionProvider updates a line/column pair on every token and stores
a range for every node; on a large file that costs more than parsing it. Here
code is generated while only token indices are noted, and character positions
are worked out afterwards for the nodes asked about: for a node whose top-level
statement is known, only that statement's code, found in the source. The ranges
are the same as PositionProvider's (syntactic, whitespace excluded).
"""

from __future__ import annotations

import bisect
import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from reviewer.engine.walk import descendants

_NEWLINE = re.compile("\n")


@dataclass(frozen=True)
class Span:
    """1-based lines; 0-based columns, end exclusive (LibCST's convention)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=False)
class _TokenIndexState(CodegenState):
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        self.ranges.setdefault(id(node), (start, len(self.tokens)))

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> Iterator[None]:
        # No try/finally: when the file's time limit interrupts code generation, the
        # FileTimeout must reach the pipeline, not a KeyError for a range never recorded.
        start = len(self.tokens)
        yield
        end = len(self.tokens)
        if start_node is not None:
            start = self.ranges[id(start_node)][0]
        if end_node is not None:
            end = self.ranges[id(end_node)][1]
        self.ranges[id(node)] = (start, end)


def node_spans(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    *,
    source: str | None = None,
    statements: Mapping[int, int] | None = None,
) -> dict[int, Span]:
    """Spans of ``nodes`` (keyed by ``id(node)``).

    With ``source``, the text the module was parsed from, a node is located by generating
    the code of its top-level statement alone and finding that in ``source``, which is
    much cheaper than generating a large module. ``statements`` says which statement holds
    some nodes (a guess: it is checked); the others are looked for. Nodes that cannot be
    placed this way come from one code generation pass over the whole module.
    """
    wanted = {id(node) for node in nodes}
    spans: dict[int, Span] = {}
    if source is not None and module.body:
        by_statement: dict[int, set[int]] = {}
        for key in wanted:
            index = (statements or {}).get(key)
            if index is not None and 0 <= index < len(module.body):
                by_statement.setdefault(index, set()).add(key)
        unplaced = wanted.difference(*by_statement.values())
        if unplaced:
            _place(module, unplaced, by_statement)
        lines = _LineIndex(source)
        for index, keys in sorted(by_statement.items()):
            spans.update(_statement_spans(module, module.body[index], keys, source, lines))
    rest = wanted - spans.keys()
    if rest:
        state = _generate(module, module)
        spans.update(_spans(state, rest, _LineIndex("".join(state.tokens)), 0))
    return spans


def _place(module: cst.Module, keys: set[int], by_statement: dict[int, set[int]]) -> None:
    """Find the top-level statements holding ``keys`` (a walk is cheaper than code generation)."""
    left = set(keys)
    for index, statement in enumerate(module.body):
        found = left.intersection(itertools.chain((id(statement),), map(id, descendants(statement))))
        if found:
            by_statement.setdefault(index, set()).update(found)
            left -= found
            if not left:
                return


def _statement_spans(
    module: cst.Module, statement: cst.CSTNode, keys: set[int], source: str, lines: "_LineIndex"
) -> dict[int, Span]:
    state = _generate(module, statement)
    code = "".join(state.tokens)
    start = source.find(code)
    # Found once, the text is this statement's own; otherwise (twice, or not at all, as a
    # last line without its newline) the whole module is generated instead.
    if not code or start < 0 or source.find(code, start + 1) >= 0:
        return {}
    return _spans(state, keys, lines, start)


def _generate(module: cst.Module, node: cst.CSTNode) -> _TokenIndexState:
    state = _TokenIndexState(default_indent=module.default_indent, default_newline=module.default_newline)
    node._codegen(state)
    return state


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]


def _spans(state: _TokenIndexState, keys: Iterable[int], lines: _LineIndex, base: int) -> dict[int, Span]:
    """Spans of the nodes among ``keys`` that ``state`` generated, its code starting at ``base``."""
    offsets = list(itertools.accumulate(map(len, state.tokens), initial=base))
    spans = {}
    for key in keys:
        token_range = state.ranges.get(key)
        if token_range is None:
            continue
        # A module without a final newline drops its last token after its range was noted.
        start, end = (min(index, len(offsets) - 1) for index in token_range)
        start_line, start_col = lines.position(offsets[start])
        end_line, end_col = lines.position(offsets[end])
        spans[key] = Span(start_line, start_col, end_line, end_col)
    return spans
