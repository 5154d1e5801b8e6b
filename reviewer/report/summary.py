"""Counts and wording that several formats share, so they never disagree."""

from __future__ import annotations

from collections import Counter

from reviewer.types import Finding, RunResult, Severity

SEVERITIES_HIGH_FIRST = (Severity.HIGH, Severity.MEDIUM, Severity.LOW)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def severity_breakdown(findings: list[Finding]) -> str:
    counts = Counter(finding.severity for finding in findings)
    return ", ".join(f"{counts[sev]} {sev.value}" for sev in SEVERITIES_HIGH_FIRST if counts[sev])


def files_examined(result: RunResult) -> int:
    # A result built without stats (tests, baselines) still names the files its findings are in.
    return result.stats.files or len({finding.path for finding in result.findings})


def summary_line(result: RunResult) -> str:
    files = plural(files_examined(result), "file")
    if result.findings:
        head = (
            f"Found {plural(len(result.findings), 'finding')}"
            f" ({severity_breakdown(result.findings)}) in {files}"
        )
    else:
        head = f"No findings in {files}"
    tails = []
    if result.skipped:
        tails.append(f"{plural(len(result.skipped), 'file')} skipped")
    if result.rule_errors:
        tails.append(f"{plural(len(result.rule_errors), 'rule error')}")
    return "; ".join([head, *tails]) + "."


def message_with_question(finding: Finding, separator: str = "\n\n") -> str:
    """The finding's message followed by the question it asks, for formats with one text field."""
    return separator.join(part for part in (finding.message, finding.question) if part)
