"""A rule's documentation as text (explain) and as the generated docs/rules.md."""

from __future__ import annotations

from typing import Iterable

from reviewer.ruleset.schema import CompiledRule
from reviewer.types import Family, RuleStatus

SECTIONS = (("What it does", "what"), ("Why it matters", "why"), ("Example", "example"), ("Instead", "instead"))


def explain_text(rule: CompiledRule) -> str:
    meta = rule.meta
    lines = [
        f"{meta.id} {meta.name}",
        f"family: {meta.family.value}   severity: {meta.severity.value}   status: {meta.status.value}",
        "",
    ]
    for title, key in SECTIONS:
        body = getattr(meta.docs, key)
        lines.append(f"{title}:")
        lines.extend(f"    {line}" if line else "" for line in body.splitlines())
        lines.append("")
    lines.append("Question:")
    lines.append(f"    {meta.question}")
    if meta.docs.references:
        lines.append("")
        lines.append("References:")
        lines.extend(f"    {ref}" for ref in meta.docs.references)
    return "\n".join(lines) + "\n"


def rules_markdown(rules: Iterable[CompiledRule]) -> str:
    ordered = sorted(rules, key=lambda r: (list(Family).index(r.meta.family), r.id))
    out = [
        "# Rules",
        "",
        "Generated from `rules/` by `arch-review rules --format markdown`; do not edit by hand.",
        "Preview rules run only when selected by id (`--select ID`).",
        "",
        "| ID | Name | Family | Severity | Status |",
        "|---|---|---|---|---|",
    ]
    for rule in ordered:
        meta = rule.meta
        out.append(f"| [{meta.id}](#{meta.docs_anchor}) | {meta.name} | {meta.family.value} | {meta.severity.value} | {meta.status.value} |")
    for family in Family:
        members = [r for r in ordered if r.meta.family is family]
        if not members:
            continue
        out += ["", f"## {family.title} (`{family.value}`)"]
        for rule in members:
            meta = rule.meta
            preview = " (preview)" if meta.status is RuleStatus.PREVIEW else ""
            out += ["", f"### {meta.id} {meta.name}{preview}", "", f"Severity: {meta.severity.value}.", ""]
            for title, key in SECTIONS:
                body = getattr(meta.docs, key)
                out.append(f"**{title}.**")
                out.append("")
                if key in ("example", "instead"):
                    out += ["```python", body, "```"]
                else:
                    out.append(body)
                out.append("")
            out += ["**Question.**", "", f"> {meta.question}"]
            if meta.docs.references:
                out += ["", "References: " + ", ".join(f"<{ref}>" for ref in meta.docs.references)]
    return "\n".join(out) + "\n"
