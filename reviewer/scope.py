"""Which findings of the changed files a diff review reports (reviewdog's filter modes)."""

from __future__ import annotations

from typing import Mapping, Sequence

from reviewer.diff import FileChange
from reviewer.types import Finding

FILTER_MODES = ("added", "diff_context", "file", "nofilter")


def scope_findings(findings: Sequence[Finding], changes: Mapping[str, FileChange], mode: str) -> list[Finding]:
    """``added``: the finding starts on an added line; ``diff_context``: inside a hunk;
    ``file``: anywhere in a changed file; ``nofilter``: everything that was analysed."""
    if mode == "nofilter":
        return list(findings)
    kept = []
    for finding in findings:
        change = changes.get(finding.path)
        if change is None:
            continue
        if mode == "file":
            kept.append(finding)
        elif mode == "diff_context" and finding.line in change.context_lines:
            kept.append(finding)
        elif mode == "added" and finding.line in change.added_lines:
            kept.append(finding)
    return kept
