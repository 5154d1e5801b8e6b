"""The review as one Markdown comment: findings grouped by family, each led by its question."""

from __future__ import annotations

from reviewer.report.context import ReportContext
from reviewer.report.escape import code_span, escape_text, inline_markdown
from reviewer.report.generated import markdown_section
from reviewer.report.summary import plural, summary_line
from reviewer.types import Family, Finding, RunResult, sorted_findings

ITEM_INDENT = "  "


def render(result: RunResult, ctx: ReportContext) -> str:
    findings = sorted_findings(result.findings)
    blocks = [f"## {escape_text(ctx.title)}", summary_line(result)]
    if result.llm_review is not None:
        blocks.append(markdown_section(result.llm_review))
    for family in Family:
        group = [finding for finding in findings if finding.family is family]
        if group:
            blocks.append(f"### {escape_text(family.title)} ({len(group)})")
            blocks.extend(_finding_item(finding) for finding in group)
    blocks.extend(_problem_details(result))
    return "\n\n".join(blocks) + "\n"


def _finding_item(finding: Finding) -> str:
    where = code_span(f"{finding.path}:{finding.line}")
    rule = f"**{escape_text(finding.rule)}** {escape_text(finding.name)}"
    lines = [f"- {where} {rule} ({finding.severity.value})"]
    if finding.question:
        lines.append(f"{ITEM_INDENT}> {inline_markdown(finding.question)}")
    if finding.message:
        lines += ["", f"{ITEM_INDENT}{inline_markdown(finding.message)}"]
    return "\n".join(lines)


def _problem_details(result: RunResult) -> list[str]:
    sections = []
    if result.skipped:
        items = [
            f"- {code_span(skipped.path)}: {escape_text(skipped.reason)}"
            for skipped in sorted(result.skipped, key=lambda s: s.path)
        ]
        sections.append(_details(f"{plural(len(result.skipped), 'file')} skipped", items))
    if result.rule_errors:
        items = [
            f"- {code_span(error.path)}: "
            f"rule {escape_text(error.rule)} failed: {escape_text(error.error)}"
            for error in sorted(result.rule_errors, key=lambda e: (e.path, e.rule))
        ]
        sections.append(_details(plural(len(result.rule_errors), "rule error"), items))
    return sections


def _details(summary: str, items: list[str]) -> str:
    # The blank lines let GitHub and GitLab render the Markdown list inside the HTML block.
    return "\n".join(["<details>", f"<summary>{summary}</summary>", "", *items, "", "</details>"])
