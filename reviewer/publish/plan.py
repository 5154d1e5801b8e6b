"""Which findings become inline comments, on which lines, and which go to the summary.

A comment is only placed on a line the host shows in the diff (a hunk's new side), so
the host never rejects the review for a bad position. A multi-line span keeps its
start line only when both ends lie in the same hunk. New comments are budgeted
(highest severity first); findings that already have a comment cost nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Collection, Mapping, Sequence

from reviewer.diff import FileChange, Hunk
from reviewer.publish import markers
from reviewer.report.escape import escape_text, inline_markdown
from reviewer.types import Finding, RuleMeta

DEFAULT_DOCS_URL = "https://github.com/arch-review/arch-review/blob/main/docs/rules.md"


@dataclass(frozen=True)
class InlineComment:
    finding: Finding
    path: str
    line: int
    start_line: int | None
    body: str


@dataclass
class ReviewPlan:
    inline: list[InlineComment] = field(default_factory=list)
    over_budget: list[Finding] = field(default_factory=list)  # on the diff, but past max_comments
    off_diff: list[Finding] = field(default_factory=list)  # no line of the diff to anchor to
    already_posted: list[Finding] = field(default_factory=list)

    @property
    def not_inline(self) -> list[Finding]:
        return self.over_budget + self.off_diff


def docs_url() -> str:
    return os.environ.get("ARCH_REVIEW_DOCS_URL") or DEFAULT_DOCS_URL


def plan_review(
    findings: Sequence[Finding],
    changes: Mapping[str, FileChange],
    rules: Mapping[str, RuleMeta],
    *,
    max_comments: int,
    posted: Collection[str] = (),
    commentable: Mapping[str, bool] | None = None,
) -> ReviewPlan:
    """``commentable`` maps a path to False when its diff is unknown (no patch from the host)."""
    plan = ReviewPlan()
    for finding in sorted(findings, key=priority):
        if finding.fingerprint in posted:
            plan.already_posted.append(finding)
            continue
        change = changes.get(finding.path)
        anchor = None
        if change is not None and (commentable is None or commentable.get(finding.path, True)):
            anchor = anchor_lines(finding, change.hunks)
        if anchor is None:
            plan.off_diff.append(finding)
        elif len(plan.inline) >= max_comments:
            plan.over_budget.append(finding)
        else:
            start, line = anchor
            body = comment_body(finding, rules.get(finding.rule))
            plan.inline.append(InlineComment(finding, finding.path, line, start, body))
    return plan


def priority(finding: Finding) -> tuple:
    return (-finding.severity.rank, *finding.sort_key())


def anchor_lines(finding: Finding, hunks: Sequence[Hunk]) -> tuple[int | None, int] | None:
    """(start_line or None, line) on the new side, or None when the finding is not in the diff."""
    loc = finding.location
    for hunk in hunks:
        lines = hunk.new_lines
        if loc.line in lines:
            if loc.end_line > loc.line and loc.end_line in lines:
                return loc.line, loc.end_line
            return None, loc.line
    return None


def comment_body(finding: Finding, meta: RuleMeta | None) -> str:
    title = f"**{escape_text(finding.rule)}** {escape_text(finding.name)} ({finding.severity.value})"
    parts = [title, inline_markdown(finding.question or finding.message)]
    why = _one_line_why(finding, meta)
    if why:
        parts.append(f"_Why:_ {inline_markdown(why)}")
    anchor = meta.docs_anchor if meta else f"{finding.rule.lower()}-{finding.name}"
    parts.append(f"[{escape_text(finding.rule)} docs]({docs_url()}#{_url_fragment(anchor)})")
    parts.append(markers.fingerprint_marker(finding.fingerprint))
    return "\n\n".join(parts)


def _one_line_why(finding: Finding, meta: RuleMeta | None) -> str:
    if meta is not None and meta.docs.why:
        text = " ".join(meta.docs.why.split())
        first, dot, _ = text.partition(". ")
        return first + ("." if dot else "")
    return finding.message if finding.question else ""


def _url_fragment(anchor: str) -> str:
    return "".join(char for char in anchor.lower() if char.isalnum() or char in "-_")
