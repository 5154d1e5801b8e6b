"""A rule's documentation as plain text and as Markdown, for formats that carry rule help."""

from __future__ import annotations

import ast
import re
import warnings

from reviewer.report.escape import code_block, escape_text, inline_markdown
from reviewer.types import RuleMeta

_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)", re.DOTALL)
_BLANK_LINES = re.compile(r"\n\s*\n")
_PLAIN_URL = re.compile(r"^https?://[^\s<>]+$")


def short_description(rule: RuleMeta) -> str:
    what = " ".join(rule.docs.what.split())
    match = _FIRST_SENTENCE.match(what)
    return match.group(1) if match else (what or rule.name)


def full_description(rule: RuleMeta) -> str:
    parts = [part.strip() for part in (rule.docs.what, rule.docs.why)]
    return "\n\n".join(part for part in parts if part) or rule.name


def help_text(rule: RuleMeta) -> str:
    sections = [(title, body.strip()) for title, body in _sections(rule) if body.strip()]
    if rule.docs.references:
        sections.append(("References", "\n".join(rule.docs.references)))
    return "\n\n".join(f"{title}:\n{body}" for title, body in sections)


def help_markdown(rule: RuleMeta, with_question: bool = True) -> str:
    blocks = []
    for title, body in _sections(rule):
        if title == "Question" and not with_question:
            continue
        if not body.strip():
            continue
        is_code = title in _CODE_SECTIONS and _looks_like_python(body)
        rendered = code_block(body.strip("\n"), "python") if is_code else _prose(body)
        blocks.append(f"**{title}**\n\n{rendered}")
    if rule.docs.references:
        links = "\n".join(f"- {_reference(ref)}" for ref in rule.docs.references)
        blocks.append(f"**References**\n\n{links}")
    return "\n\n".join(blocks)


_CODE_SECTIONS = frozenset({"Example", "Instead"})


def _sections(rule: RuleMeta) -> list[tuple[str, str]]:
    docs = rule.docs
    return [
        ("What it does", docs.what),
        ("Why it matters", docs.why),
        ("Example", docs.example),
        ("Instead", docs.instead),
        ("Question", rule.question),
    ]


def _looks_like_python(text: str) -> bool:
    # Docs write "example"/"instead" either as code or as a sentence; only code goes in a block.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" in prose
            tree = ast.parse(text.strip())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        return not isinstance(tree.body[0].value, ast.Name)  # a single word is prose
    return bool(tree.body)


def _prose(text: str) -> str:
    return "\n\n".join(inline_markdown(paragraph) for paragraph in _BLANK_LINES.split(text.strip()))


def _reference(ref: str) -> str:
    ref = ref.strip()
    return f"<{ref}>" if _PLAIN_URL.match(ref) else escape_text(ref)
