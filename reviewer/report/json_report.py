"""The `--format json` document, exactly as DESIGN.md specifies it."""

from __future__ import annotations

from typing import Any

from reviewer.report.context import TOOL_NAME, ReportContext
from reviewer.report.jsonio import dump
from reviewer.types import RunResult, sorted_findings


def to_document(result: RunResult, ctx: ReportContext) -> dict[str, Any]:
    return {
        "tool": TOOL_NAME,
        "version": ctx.version,
        "findings": [finding.to_json() for finding in sorted_findings(result.findings)],
        "skipped": [skipped.to_json() for skipped in sorted(result.skipped, key=lambda s: s.path)],
        "stats": result.stats.to_json(),
    }


def render(result: RunResult, ctx: ReportContext) -> str:
    return dump(to_document(result, ctx))
