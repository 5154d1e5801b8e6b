"""Put repository text into Markdown (GitHub, GitLab) so that it shows as written.

Paths, code and messages come from the repository under review, so they may hold
backticks, HTML, @mentions or Markdown syntax. Everything here returns text that
renders literally and cannot open a tag, ping a person or break the comment's layout,
and never holds ``<!--``: the hidden markers a later run looks for cannot be forged.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"

_NEWLINES = re.compile(r"\r\n|\r|\n")
_WHITESPACE = re.compile(r"\s+")
_BACKTICK_RUN = re.compile(r"`+")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Emphasis, links/images, tables, strikethrough, code and the escape character itself.
_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]|~])")
# GitHub and GitLab turn "#123" / "!123" into cross-references that notify the target.
_REFERENCE = re.compile(r"([#!])(?=\w)")
_BLOCK_MARKER = re.compile(r"^(?:([#+=-])|(\d+)([.)]))")
_COMMENT_OPENER = "<!--"
# Shown the same in code, but no longer the start of a hidden marker.
_BROKEN_OPENER = "<" + ZERO_WIDTH_SPACE + "!--"
# What GitHub and GitLab turn into a link without any Markdown: a scheme or "www.".
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto|file|javascript|data|vbscript)(:)|\b(www)(\.)")
_BULLET = re.compile(r"\s*[-*+]\s+")


def code_span(text: str) -> str:
    """An inline code span showing ``text`` verbatim, whatever backticks it holds."""
    text = _NEWLINES.sub(" ", text).replace(_COMMENT_OPENER, _BROKEN_OPENER)
    if not text:
        return "` `"
    fence = "`" * (_longest_backtick_run(text) + 1)
    # CommonMark strips one space from each side, and a backtick at the edge would join the fence.
    needs_padding = text[0] == "`" or text[-1] == "`" or (
        text[0] == " " and text[-1] == " " and text.strip(" ")
    )
    pad = " " if needs_padding else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """A fenced code block; its fence is longer than any backtick run inside."""
    text = text.replace(_COMMENT_OPENER, _BROKEN_OPENER)
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{language}\n{body}{fence}"


def escape_text(text: str) -> str:
    """Plain prose on one line: no Markdown, HTML, mention or reference takes effect."""
    return _escape_prose(_WHITESPACE.sub(" ", text).strip())


def inline_markdown(text: str) -> str:
    """Prose whose `code spans` (as rule messages write them) stay code; the rest is escaped."""
    text = _WHITESPACE.sub(" ", text).strip()
    pieces: list[str] = []
    prose_start = search_from = 0
    while opener := _BACKTICK_RUN.search(text, search_from):
        closer = _closing_run(text, opener)
        if closer is None:
            search_from = opener.end()
            continue
        pieces.append(_escape_prose(text[prose_start : opener.start()]))
        pieces.append(code_span(_strip_code_padding(text[opener.end() : closer.start()])))
        prose_start = search_from = closer.end()
    pieces.append(_escape_prose(text[prose_start:]))
    return "".join(pieces)


def defang_links(text: str) -> str:
    """Text in which no URL becomes a link (a zero-width space splits the scheme from its colon)."""
    return _AUTOLINK.sub(_split_link, text)


def prose_block(text: str) -> str:
    """Paragraphs and "- " bullets of untrusted prose (generated text): each line escaped as
    inline_markdown does, and no URL becomes a link."""
    lines: list[str] = []
    for line in _NEWLINES.split(defang_links(text)):
        bullet = _BULLET.match(line)
        if bullet:
            lines.append("- " + inline_markdown(line[bullet.end() :]))
        elif line.strip():
            lines.append(inline_markdown(line))
        elif lines and lines[-1]:
            lines.append("")
    return "\n".join(lines).strip("\n")


def _split_link(match: re.Match[str]) -> str:
    word, separator = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return word + ZERO_WIDTH_SPACE + separator


def _escape_prose(text: str) -> str:
    text = "".join(_HTML.get(char, char) for char in text)
    text = _INLINE_SYNTAX.sub(r"\\\1", text)
    text = text.replace("@", "@" + ZERO_WIDTH_SPACE)
    text = _REFERENCE.sub(r"\1" + ZERO_WIDTH_SPACE, text)
    return _BLOCK_MARKER.sub(_escape_block_marker, text)


def _closing_run(text: str, opener: re.Match[str]) -> re.Match[str] | None:
    width = len(opener.group())
    for run in _BACKTICK_RUN.finditer(text, opener.end()):
        if len(run.group()) == width:
            return run
    return None


def _strip_code_padding(code: str) -> str:
    if len(code) >= 2 and code[0] == " " and code[-1] == " " and code.strip(" "):
        return code[1:-1]
    return code


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)


def _escape_block_marker(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return match.group(2) + "\\" + match.group(3)
