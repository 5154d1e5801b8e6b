"""Line and column of the few nodes that became findings.

LibCST's PositionProvider updates a line/column pair on every token and stores
a range for every node; on a large file that costs more than parsing it. Here
the module's code is generated once while only token indices are noted, and
character positions are worked out afterwards for the nodes asked about. The
ranges are the same as PositionProvider's (syntactic, whitespace excluded).
"""

from __future__ import annotations

import bisect
import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

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


def node_spans(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Spans of ``nodes`` (keyed by ``id(node)``), from one code generation pass."""
    wanted = {id(node) for node in nodes}
    if not wanted:
        return {}
    state = _TokenIndexState(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    offsets = [0, *itertools.accumulate(map(len, state.tokens))]
    code = "".join(state.tokens)
    line_starts = [0, *(match.end() for match in _NEWLINE.finditer(code))]

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1]

    spans = {}
    for key in wanted:
        token_range = state.ranges.get(key)
        if token_range is None:
            continue
        start_line, start_col = position(offsets[token_range[0]])
        end_line, end_col = position(offsets[token_range[1]])
        spans[key] = Span(start_line, start_col, end_line, end_col)
    return spans
