"""Repository text in Markdown renders as written and cannot break out."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewer.report.escape import ZERO_WIDTH_SPACE as ZWSP
from reviewer.report.escape import code_block, code_span, escape_text, inline_markdown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("src/app.py", "`src/app.py`"),
        ("a`b", "``a`b``"),
        ("a``b`c", "```a``b`c```"),
        ("`start", "`` `start ``"),
        ("end`", "`` end` ``"),
        (" both ", "`  both  `"),
        ("", "` `"),
        ("two\nlines", "`two lines`"),
        ("<script>@x</script>", "`<script>@x</script>`"),
    ],
)
def test_code_span(text, expected) -> None:
    assert code_span(text) == expected


def test_code_span_content_is_recoverable_by_commonmark_rules() -> None:
    for text in ["a`b", "``x``", "`", "x `y` z", "```"]:
        span = code_span(text)
        fence = re.match(r"`+", span).group()
        inner = span[len(fence) : -len(fence)]
        if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
            inner = inner[1:-1]
        assert inner == text
        assert fence not in inner


def test_code_block_fence_outgrows_the_content() -> None:
    assert code_block("x = 1") == "```\nx = 1\n```"
    assert code_block("s = '````'\n", "python") == "`````python\ns = '````'\n`````"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ping @someone", f"ping @{ZWSP}someone"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a & b", "a &amp; b"),
        ("*bold* _it_ [link](x) ![img](y) a|b ~~s~~", r"\*bold\* \_it\_ \[link\](x) !\[img\](y) a\|b \~\~s\~\~"),
        ("back\\slash", r"back\\slash"),
        ("fixes #12 and !3", f"fixes #{ZWSP}12 and !{ZWSP}3"),
        ("# not a heading", r"\# not a heading"),
        ("- not a list", r"\- not a list"),
        ("1. not a list", r"1\. not a list"),
        ("=== not a setext", r"\=== not a setext"),
        ("line one\n\n# two", "line one # two"),  # folded onto one line, so "#" no longer starts one
    ],
)
def test_escape_text(text, expected) -> None:
    assert escape_text(text) == expected


def test_inline_markdown_keeps_code_spans_and_escapes_the_rest() -> None:
    text = "`requests.get(url)` has no timeout; ask @lead <b>now</b>"
    assert inline_markdown(text) == f"`requests.get(url)` has no timeout; ask @{ZWSP}lead &lt;b&gt;now&lt;/b&gt;"


def test_inline_markdown_code_with_backticks_and_html_stays_literal() -> None:
    assert inline_markdown("call ``f(`x`)`` here") == "call ``f(`x`)`` here"
    assert inline_markdown("see `<script>` and `@x`") == "see `<script>` and `@x`"


def test_inline_markdown_lone_backtick_is_literal() -> None:
    assert inline_markdown("a ` b") == r"a \` b"
    assert inline_markdown("`open") == r"\`open"


hostile_text = st.text(alphabet=st.sampled_from(list("`@<>&#!*_[]|~\\-=1. \nab")), max_size=40)


@given(hostile_text)
def test_escaped_text_has_no_live_syntax(text) -> None:
    escaped = escape_text(text)
    assert "\n" not in escaped and "<" not in escaped and ">" not in escaped
    assert all(escaped[i + 1 : i + 2] == ZWSP for i, char in enumerate(escaped) if char == "@")
    assert not re.search(r"(?<!\\)[`*_\[\]|~]", escaped.replace("\\\\", ""))


@given(hostile_text)
def test_code_span_always_round_trips(text) -> None:
    span = code_span(text)
    fence = re.match(r"`+", span).group()
    assert span.endswith(fence)
    inner = span[len(fence) : -len(fence)]
    assert fence not in inner and "\n" not in inner
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    # A hidden-marker opener is broken by a zero-width space; everything else is verbatim.
    assert inner == (text.replace("\n", " ").replace("<!--", "<" + ZWSP + "!--") or " ")


@given(hostile_text)
def test_inline_markdown_is_one_line_without_html(text) -> None:
    rendered = inline_markdown(text)
    outside_code = re.sub(r"(`+).*?\1", "", rendered)
    assert "\n" not in rendered and "<" not in outside_code
