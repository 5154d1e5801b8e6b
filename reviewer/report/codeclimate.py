"""Code Climate issues, as GitLab Code Quality reads them (artifacts:reports:codequality)."""

from __future__ import annotations

from typing import Any

from reviewer.report.context import ReportContext
from reviewer.report.escape import inline_markdown
from reviewer.report.jsonio import dump
from reviewer.report.rule_help import help_markdown
from reviewer.report.summary import message_with_question
from reviewer.types import Family, Finding, RunResult, Severity, sorted_findings

SEVERITY = {Severity.HIGH: "major", Severity.MEDIUM: "minor", Severity.LOW: "info"}
# Families whose failure mode is running out of memory, time or hardware as load grows.
PERFORMANCE_FAMILIES = frozenset(
    {Family.UNBOUNDED_LOAD, Family.UNBOUNDED_CACHE, Family.BLOCKING_IN_ASYNC, Family.SINGLE_GPU}
)


def render(result: RunResult, ctx: ReportContext) -> str:
    return dump([_issue(finding, ctx) for finding in sorted_findings(result.findings)])


def category(family: Family) -> str:
    return "Performance" if family in PERFORMANCE_FAMILIES else "Bug Risk"


def _issue(finding: Finding, ctx: ReportContext) -> dict[str, Any]:
    return {
        "type": "issue",
        "check_name": finding.rule,
        "description": message_with_question(finding, separator=" — "),
        "content": {"body": _body(finding, ctx)},
        "categories": [category(finding.family)],
        "location": {
            "path": finding.path,
            "lines": {"begin": finding.line, "end": finding.location.end_line},
        },
        "severity": SEVERITY[finding.severity],
        "fingerprint": finding.fingerprint,
    }


def _body(finding: Finding, ctx: ReportContext) -> str:
    parts = [inline_markdown(finding.question)] if finding.question else []
    rule = ctx.rules.get(finding.rule)
    if rule is not None:
        parts.append(help_markdown(rule, with_question=not finding.question))
    return "\n\n".join(part for part in parts if part)
