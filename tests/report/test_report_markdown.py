"""The Markdown review comment: layout, grouping and escaping."""

from __future__ import annotations

from dataclasses import replace

from report_builders import make_finding, make_rule

from reviewer.report import render
from reviewer.report.escape import ZERO_WIDTH_SPACE as ZWSP
from reviewer.types import Family, RuleError, RunResult, Severity, Skipped, Stats


def test_matches_golden(golden, result, ctx) -> None:
    golden("review.md", render("markdown", result, ctx))


def test_matches_golden_when_clean(golden, ctx) -> None:
    golden("clean.md", render("markdown", RunResult(stats=Stats(files=12, parsed=12)), ctx))


def test_heading_and_summary(result, ctx) -> None:
    lines = render("markdown", result, replace(ctx, title="Architecture review <b>")).splitlines()
    assert lines[0] == "## Architecture review &lt;b&gt;"
    assert lines[2] == "Found 4 findings (2 high, 1 medium, 1 low) in 5 files; 1 file skipped."


def test_families_appear_in_enum_order_with_their_titles(result, ctx) -> None:
    output = render("markdown", result, ctx)
    load = output.index("### Unbounded loads (2)")
    timeout = output.index("### Calls without a timeout (2)")
    assert load < timeout  # Family order, not path order: src/app.py sorts first
    assert "### Caches and queues that only grow" not in output


def test_each_finding_shows_location_rule_question_and_message(result, ctx) -> None:
    output = render("markdown", result, ctx)
    assert (
        "- `src/app.py:5` **TMO001** http-call-without-timeout (high)\n"
        "  > What does the caller see when this service is slow or down?\n"
        "\n"
        "  `requests.get(url)` has no timeout\n"
    ) in output


def test_skipped_files_and_rule_errors_are_collapsed_at_the_end(result, ctx) -> None:
    result.rule_errors.append(RuleError("TMO001", "src/app.py", "boom <x>"))
    output = render("markdown", result, ctx)
    assert output.index("<details>") > output.index("### Calls without a timeout")
    assert "<summary>1 file skipped</summary>\n\n- `src/broken.py`: syntax error at 3:7\n\n</details>" in output
    assert "<summary>1 rule error</summary>" in output
    assert "- `src/app.py`: rule TMO001 failed: boom &lt;x&gt;" in output
    assert output.endswith("</details>\n")


def test_hostile_repository_text_is_neutralised(ctx) -> None:
    rule = make_rule("TMO001", "http-call-without-timeout", Family.NO_TIMEOUT, Severity.HIGH)
    finding = make_finding(
        rule,
        "src/we`ird``name.py",
        (3, 1, 3, 5),
        message="`requests.get(u)` called by @someone <script>alert(1)</script>",
        question="Should @org/team review </details> this?",
    )
    result = RunResult(findings=[finding], skipped=[Skipped("x`y.py", "<img src=x onerror=alert(1)>")])
    output = render("markdown", result, ctx)
    assert "- ```src/we`ird``name.py:3``` **TMO001**" in output
    assert f"called by @{ZWSP}someone &lt;script&gt;alert(1)&lt;/script&gt;" in output
    assert f"> Should @{ZWSP}org/team review &lt;/details&gt; this?" in output
    assert "- ``x`y.py``: &lt;img src=x onerror=alert(1)&gt;" in output
    for raw in ("<script>", "<img", "</details> this", "@someone", "@org"):
        assert raw not in output


def test_multiline_messages_cannot_start_new_blocks(ctx) -> None:
    rule = make_rule("TMO001", "x", Family.NO_TIMEOUT, Severity.HIGH)
    finding = make_finding(rule, "a.py", (1, 1, 1, 2), message="first\n# heading\n---", question="q\n\n- item")
    output = render("markdown", RunResult(findings=[finding]), ctx)
    assert "  first # heading ---\n" in output
    assert "  > q - item\n" in output
    assert [line for line in output.splitlines() if line.startswith("#")] == [
        "## arch-review",
        "### Calls without a timeout (1)",
    ]
