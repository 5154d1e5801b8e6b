"""The exact JSON bodies arch-review sends to GitHub's REST API (and prints as a dry run)."""

from __future__ import annotations

from typing import Any, Sequence

from reviewer.publish.plan import InlineComment, ReviewPlan
from reviewer.report.summary import plural
from reviewer.types import Finding, Severity

ANNOTATION_LEVEL = {Severity.HIGH: "failure", Severity.MEDIUM: "warning", Severity.LOW: "notice"}
ANNOTATIONS_PER_REQUEST = 50


def review_payload(plan: ReviewPlan, head_sha: str) -> dict[str, Any]:
    count = len(plan.inline)
    body = f"arch-review asks {plural(count, 'question')} on this change; the summary comment has the rest."
    return {
        "commit_id": head_sha,
        "event": "COMMENT",
        "body": body,
        "comments": [comment_payload(comment) for comment in plan.inline],
    }


def comment_payload(comment: InlineComment) -> dict[str, Any]:
    payload: dict[str, Any] = {"path": comment.path, "body": comment.body, "line": comment.line, "side": "RIGHT"}
    if comment.start_line is not None:
        payload["start_line"] = comment.start_line
        payload["start_side"] = "RIGHT"
    return payload


def annotation(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    item: dict[str, Any] = {
        "path": loc.path,
        "start_line": loc.line,
        "end_line": max(loc.end_line, loc.line),
        "annotation_level": ANNOTATION_LEVEL[finding.severity],
        "title": f"{finding.rule} {finding.name}"[:255],
        "message": (finding.question or finding.message or finding.rule)[:64000],
    }
    if loc.end_line == loc.line and loc.end_column > loc.column:
        item["start_column"] = loc.column
        item["end_column"] = loc.end_column
    return item


def annotation_batches(findings: Sequence[Finding]) -> list[list[dict[str, Any]]]:
    items = [annotation(f) for f in findings]
    return [items[i : i + ANNOTATIONS_PER_REQUEST] for i in range(0, len(items), ANNOTATIONS_PER_REQUEST)] or [[]]
