"""Filling a rule's message and question templates from what the code says."""

from __future__ import annotations

import re
import string
from typing import Mapping
from urllib.parse import urlsplit

_WHITESPACE = re.compile(r"\s+")
MAX_FIELD_CHARS = 60


def field_text(text: str) -> str:
    """Code as it may stand inside a template's backticks: one line, short, no backticks."""
    folded = _WHITESPACE.sub(" ", text).strip().replace("`", "'")
    if len(folded) > MAX_FIELD_CHARS:
        folded = folded[: MAX_FIELD_CHARS - 1].rstrip() + "…"
    return folded


def fill(template: str, fields: Mapping[str, str]) -> str:
    """Templates were validated at load time; a field no one supplied reads as '?'."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(fields.get(name) or "?")
    return "".join(out)


def host_of(url: str) -> str | None:
    """The host of a literal URL, for questions that name the remote service."""
    try:
        parts = urlsplit(url if "://" in url else f"//{url}")
        return parts.hostname or None
    except ValueError:
        return None
