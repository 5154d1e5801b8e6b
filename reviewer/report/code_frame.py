"""The source lines under a finding, for the terminal report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reviewer.types import Location

MAX_FRAME_LINES = 3
MAX_SOURCE_BYTES = 8 * 1024 * 1024
TAB_WIDTH = 4

# LibCST counts lines as the tokenizer does; str.splitlines would also split on \f, \x1c...
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class CodeFrame:
    first_line: int
    lines: tuple[str, ...]  # tabs expanded, trailing whitespace removed
    caret: tuple[int, int] | None  # (offset, width) under the only line, for one-line spans
    hidden_lines: int  # flagged lines past MAX_FRAME_LINES


class SourceFiles:
    """Reads each file at most once per report; a file that cannot be read has no frame."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lines: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            self._lines[path] = self._read(path)
        return self._lines[path]

    def _read(self, path: str) -> list[str] | None:
        try:
            file = self._root / path
            if file.stat().st_size > MAX_SOURCE_BYTES:
                return None
            text = file.read_bytes().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return None
        return _LINE_BREAK.split(text.removeprefix("\ufeff"))

    def frame(self, location: Location) -> CodeFrame | None:
        lines = self.lines(location.path)
        if lines is None or not 1 <= location.line <= location.end_line <= len(lines):
            return None
        flagged = lines[location.line - 1 : location.end_line]
        shown = flagged[:MAX_FRAME_LINES]
        caret = _caret(shown[0], location) if location.line == location.end_line else None
        return CodeFrame(
            first_line=location.line,
            lines=tuple(line.expandtabs(TAB_WIDTH).rstrip() for line in shown),
            caret=caret,
            hidden_lines=len(flagged) - len(shown),
        )


def _caret(line: str, location: Location) -> tuple[int, int]:
    start = max(location.column - 1, 0)
    end = max(location.end_column - 1, start + 1)
    offset = len(line[:start].expandtabs(TAB_WIDTH))
    width = len(line[:end].expandtabs(TAB_WIDTH)) - offset
    return offset, max(width, 1)
