"""Terminal report: per finding its location, message, question and code; then a summary."""

from __future__ import annotations

import re
from typing import Callable

from reviewer.report.code_frame import CodeFrame, SourceFiles
from reviewer.report.context import ReportContext
from reviewer.report.summary import summary_line
from reviewer.types import Finding, RunResult, Severity, sorted_findings

INDENT = "  "
QUESTION_PREFIX = "? "

_BOLD, _DIM, _RED, _YELLOW, _BLUE, _CYAN = "1", "2", "31", "33", "34", "36"
_SEVERITY_COLOR = {Severity.HIGH: _RED, Severity.MEDIUM: _YELLOW, Severity.LOW: _CYAN}
# Repository text must not drive the terminal: no escape sequences, no carriage returns.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *codes: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


def render(result: RunResult, ctx: ReportContext) -> str:
    paint = _Painter(ctx.color)
    sources = SourceFiles(ctx.root)
    findings = sorted_findings(result.findings)
    blocks = [_finding_block(finding, paint, sources) for finding in findings]
    problems = [
        f"{paint(_printable(skipped.path), _BOLD)}: skipped ({_printable(skipped.reason)})"
        for skipped in sorted(result.skipped, key=lambda s: s.path)
    ]
    problems += [
        f"{paint(_printable(error.path), _BOLD)}: "
        f"rule {_printable(error.rule)} failed ({_printable(error.error)})"
        for error in sorted(result.rule_errors, key=lambda e: (e.path, e.rule))
    ]
    if problems:
        blocks.append("\n".join(problems))
    blocks.append(paint(summary_line(result), _BOLD))
    return "\n\n".join(blocks) + "\n"


def _finding_block(finding: Finding, paint: _Painter, sources: SourceFiles) -> str:
    loc = finding.location
    header = (
        f"{paint(_printable(loc.path), _BOLD)}:{loc.line}:{loc.column}: "
        f"{paint(_printable(finding.rule), _BOLD, _SEVERITY_COLOR[finding.severity])} "
        f"{_printable(finding.name)} "
        f"[{finding.severity.value}]"
    )
    lines = [header]
    lines += _indented(finding.message, INDENT)
    lines += _indented(finding.question, INDENT + QUESTION_PREFIX, paint=lambda t: paint(t, _BOLD))
    frame = sources.frame(loc)
    if frame is not None:
        lines += _frame_lines(frame, paint)
    return "\n".join(lines)


def _indented(text: str, first_prefix: str, paint: Callable[[str], str] = str) -> list[str]:
    rows = [_printable(row.rstrip()) for row in text.strip().splitlines()]
    continuation = " " * len(first_prefix)
    prefixes = [first_prefix] + [continuation] * (len(rows) - 1)
    return [(prefix + paint(row)).rstrip() for prefix, row in zip(prefixes, rows)]


def _frame_lines(frame: CodeFrame, paint: _Painter) -> list[str]:
    last_number = frame.first_line + len(frame.lines) - 1
    width = len(str(last_number))
    gutter = paint(" " * width + " |", _BLUE)
    rows = [INDENT + gutter]
    for number, code in enumerate(frame.lines, start=frame.first_line):
        rows.append(f"{INDENT}{paint(f'{number:>{width}} |', _BLUE)} {_printable(code)}".rstrip())
    if frame.caret is not None:
        offset, size = frame.caret
        rows.append(f"{INDENT}{gutter} {' ' * offset}{paint('^' * size, _BOLD, _RED)}")
    if frame.hidden_lines:
        more = "line" if frame.hidden_lines == 1 else "lines"
        rows.append(f"{INDENT}{gutter} {paint(f'... {frame.hidden_lines} more {more}', _DIM)}")
    return rows


def _printable(text: str) -> str:
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
