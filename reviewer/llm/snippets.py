"""The code a finding is about, as the model sees it: the enclosing function, flagged lines marked."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

# A function longer than this is cut to a window around the finding (plus its `def` line).
MAX_FUNCTION_LINES = 60
CONTEXT_LINES = 8
MAX_LINE_CHARS = 200
FLAG = ">"


@dataclass(frozen=True)
class Snippet:
    text: str
    first_line: int
    last_line: int


def snippet(source: str, line: int, end_line: int) -> Snippet:
    """Numbered lines of ``source`` around ``line``..``end_line``; flagged lines carry '>'."""
    lines = source.splitlines()
    end_line = max(line, min(end_line, len(lines)))
    function = _enclosing_function(source, line, end_line)
    window = (max(1, line - CONTEXT_LINES), min(len(lines), end_line + CONTEXT_LINES))
    shown: list[int] = []
    if function is None:
        shown = list(range(window[0], window[1] + 1))
    elif function[1] - function[0] < MAX_FUNCTION_LINES:
        shown = list(range(function[0], function[1] + 1))
    else:
        start, stop = max(function[0], window[0]), min(function[1], window[1])
        shown = [function[0], *range(max(start, function[0] + 1), stop + 1)]
    numbered = []
    previous = None
    for number in shown:
        if previous is not None and number != previous + 1:
            numbered.append("      ...")
        mark = FLAG if line <= number <= end_line else " "
        numbered.append(f"{number:>5} {mark}| {_shortened(lines[number - 1])}")
        previous = number
    return Snippet("\n".join(numbered), shown[0] if shown else line, shown[-1] if shown else line)


def _enclosing_function(source: str, line: int, end_line: int) -> tuple[int, int] | None:
    """First and last line (decorators included) of the innermost def around the finding."""
    best: tuple[int, int] | None = None
    for start, stop in _function_spans(source):
        if start <= line and end_line <= stop and (best is None or start >= best[0]):
            best = (start, stop)
    return best


@functools.lru_cache(maxsize=4)
def _function_spans(source: str) -> tuple[tuple[int, int], ...]:
    # Cached: a file with several findings is parsed once.
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    return tuple(
        (min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)]), node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )


def _shortened(text: str) -> str:
    text = text.rstrip()
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 1] + "…"
