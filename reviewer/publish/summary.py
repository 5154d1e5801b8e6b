"""The one summary comment: counts, what did not fit inline, skipped files, the head sha."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from reviewer.publish import markers
from reviewer.publish.plan import ReviewPlan
from reviewer.report.escape import code_span, escape_text, inline_markdown
from reviewer.report.generated import markdown_section
from reviewer.report.summary import SEVERITIES_HIGH_FIRST, plural, summary_line
from reviewer.types import Family, Finding, RunResult

TITLE = "## arch-review"
MAX_LISTED = 100
MAX_QUESTION = 300
MAX_BODY = 60_000


def render_summary(
    result: RunResult,
    plan: ReviewPlan,
    *,
    head_sha: str,
    version: str,
    resolved: Sequence[str] = (),
    notes: Sequence[str] = (),
    marker: bool = True,
) -> str:
    blocks = [TITLE, escape_text(summary_line(result))]
    if result.findings:
        blocks.append(_counts_table(result.findings))
    if result.llm_review is not None:
        blocks.append(markdown_section(result.llm_review))
    if plan.inline or plan.already_posted:
        blocks.append(
            f"{plural(len(plan.inline), 'new inline question')} in this run; "
            f"{len(plan.already_posted)} already asked earlier."
        )
    if plan.over_budget:
        title = f"Not posted inline (over the comment budget): {len(plan.over_budget)}"
        blocks.append(_finding_list(title, plan.over_budget))
    if plan.off_diff:
        blocks.append(_finding_list(f"Not on a line of the diff: {len(plan.off_diff)}", plan.off_diff))
    if resolved:
        blocks.append(f"Resolved since the last run: {len(resolved)}")
    if result.skipped:
        items = [f"- {code_span(s.path)}: {escape_text(s.reason)}" for s in result.skipped]
        blocks.append(_details(f"{plural(len(result.skipped), 'file')} skipped", items))
    blocks.extend(escape_text(note) for note in notes)
    blocks.append(f"<sub>Reviewed {code_span(head_sha)} with {escape_text('arch-review ' + version)}</sub>")
    if marker:
        blocks.append(markers.SUMMARY)
    return _fit("\n\n".join(blocks) + "\n")


def _counts_table(findings: Sequence[Finding]) -> str:
    counts = Counter((f.family, f.severity) for f in findings)
    rows = ["| Family | " + " | ".join(s.value for s in SEVERITIES_HIGH_FIRST) + " |", "|---|---:|---:|---:|"]
    for family in Family:
        cells = [counts[(family, severity)] for severity in SEVERITIES_HIGH_FIRST]
        if any(cells):
            rows.append(f"| {escape_text(family.title)} | " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(rows)


def _finding_list(title: str, findings: Sequence[Finding]) -> str:
    items = [
        f"- {code_span(f'{f.path}:{f.line}')} **{escape_text(f.rule)}** ({f.severity.value}): "
        f"{inline_markdown(_shortened(f.question or f.message))}"
        for f in findings[:MAX_LISTED]
    ]
    if len(findings) > MAX_LISTED:
        items.append(f"- and {len(findings) - MAX_LISTED} more: see the job's report, "
                     f"{code_span('arch-review-results/arch-review.json')}")
    return _details(title, items)


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUESTION else text[: MAX_QUESTION - 1].rstrip() + "…"


def _fit(body: str) -> str:
    """GitHub refuses a comment over 65536 characters (GitLab a note over 1,000,000); a long
    summary is cut, never refused."""
    if len(body) <= MAX_BODY:
        return body
    note = "\n\n…(cut to fit the comment size limit)\n\n"
    tail = body[body.rfind("<sub>"):] if "<sub>" in body else ""
    return body[: MAX_BODY - len(note) - len(tail)] + note + tail


def _details(summary: str, items: list[str]) -> str:
    return "\n".join(["<details>", f"<summary>{escape_text(summary)}</summary>", "", *items, "", "</details>"])
