"""The terminal report: findings with code frames, skipped files, and the summary line."""

from __future__ import annotations

from dataclasses import replace

import pytest
from report_builders import make_finding, make_rule

from reviewer.report import render
from reviewer.types import Family, RuleError, RunResult, Severity, Skipped, Stats

ESC = "\x1b["


def text(result, ctx) -> str:
    return render("text", result, ctx)


def test_matches_golden(golden, result, ctx) -> None:
    golden("report.txt", text(result, ctx))


def test_matches_golden_in_colour(golden, result, ctx) -> None:
    golden("report-color.txt", text(result, replace(ctx, color=True)))


def test_no_ansi_codes_without_colour(result, ctx) -> None:
    assert ESC not in text(result, ctx)


def test_ansi_codes_with_colour(result, ctx) -> None:
    output = text(result, replace(ctx, color=True))
    assert ESC + "1;31mTMO001" + ESC + "0m" in output  # high severity in red
    assert ESC + "1;33mLOAD001" + ESC + "0m" in output  # medium in yellow
    assert output.count(ESC) % 2 == 0  # every style is reset


def test_header_message_and_question(result, ctx) -> None:
    lines = text(result, ctx).splitlines()
    assert lines[0] == "src/app.py:5:16: TMO001 http-call-without-timeout [high]"
    assert lines[1] == "  `requests.get(url)` has no timeout"
    assert lines[2] == "  ? What does the caller see when this service is slow or down?"


def test_single_line_span_has_a_caret_under_it(result, ctx) -> None:
    output = text(result, ctx)
    assert "  5 |     response = requests.get(url)\n    |                ^^^^^^^^^^^^^^^^^\n" in output


def test_tabs_are_expanded_and_the_caret_follows(result, ctx) -> None:
    output = text(result, ctx)
    assert "  5 |     frame = pd.read_csv(path)\n    |             ^^^^^^^^^^^^^^^^^\n" in output


def test_multi_line_span_shows_three_lines_and_a_count(result, ctx) -> None:
    output = text(result, ctx)
    assert (
        "  10 |     data = requests.post(\n"
        "  11 |         request.url,\n"
        "  12 |         json=request.body,\n"
        "     | ... 2 more lines\n"
    ) in output
    assert "  13 |" not in output


def test_unreadable_or_short_files_get_no_frame(repo, rules, ctx) -> None:
    rule = rules["TMO001"]
    (repo / "tiny.py").write_text("x = 1\n", encoding="utf-8")
    (repo / "folder.py").mkdir()
    result = RunResult(
        findings=[
            make_finding(rule, "missing.py", (1, 1, 1, 2)),
            make_finding(rule, "tiny.py", (40, 1, 40, 2)),
            make_finding(rule, "folder.py", (1, 1, 1, 2)),
            make_finding(rule, "bad\x00name.py", (1, 1, 1, 2)),
        ]
    )
    output = text(result, ctx)
    assert " | " not in output
    assert output.count("TMO001 http-call-without-timeout") == 4


def test_undecodable_bytes_and_crlf_still_frame(repo, rules, ctx) -> None:
    (repo / "latin.py").write_bytes(b"a = 1\r\nb = '\xff'\r\n")
    finding = make_finding(rules["TMO001"], "latin.py", (2, 1, 2, 2))
    output = text(RunResult(findings=[finding]), ctx)
    assert "  2 | b = '\N{REPLACEMENT CHARACTER}'\n    | ^\n" in output


def test_terminal_control_characters_from_the_repository_are_replaced(rules, ctx) -> None:
    finding = make_finding(
        rules["TMO001"], "evil\x1b[2J.py", (1, 1, 1, 2), message="clear\x1b]0;title\x07 me", question="q\rr"
    )
    output = text(RunResult(findings=[finding], skipped=[Skipped("s\x1b.py", "why\x1b")]), ctx)
    assert "\x1b" not in output and "\r" not in output and "\x07" not in output


def test_skipped_files_and_rule_errors_are_listed(result, ctx) -> None:
    result.rule_errors.append(RuleError("LOAD001", "src/data/load.py", "ValueError: x"))
    output = text(result, ctx)
    assert "\nsrc/broken.py: skipped (syntax error at 3:7)\nsrc/data/load.py: rule LOAD001 failed (ValueError: x)\n" in output


@pytest.mark.parametrize(
    ("severities", "skipped", "files", "expected"),
    [
        ([], 0, 5, "No findings in 5 files."),
        ([], 1, 1, "No findings in 1 file; 1 file skipped."),
        ([Severity.HIGH], 0, 1, "Found 1 finding (1 high) in 1 file."),
        (
            [Severity.HIGH, Severity.MEDIUM, Severity.HIGH],
            2,
            5,
            "Found 3 findings (2 high, 1 medium) in 5 files; 2 files skipped.",
        ),
        ([Severity.LOW, Severity.MEDIUM], 0, 3, "Found 2 findings (1 medium, 1 low) in 3 files."),
    ],
)
def test_summary_line(severities, skipped, files, expected, ctx) -> None:
    findings = [
        make_finding(make_rule(f"X00{i}", "x", Family.SERVING, severity), "gone.py", (i + 1, 1, i + 1, 2))
        for i, severity in enumerate(severities)
    ]
    result = RunResult(
        findings=findings,
        skipped=[Skipped(f"s{i}.py", "syntax error") for i in range(skipped)],
        stats=Stats(files=files, parsed=files - skipped),
    )
    assert text(result, ctx).splitlines()[-1] == expected


def test_summary_counts_files_from_findings_when_stats_are_missing(rules, ctx) -> None:
    rule = rules["TMO001"]
    findings = [make_finding(rule, "a.py", (1, 1, 1, 2)), make_finding(rule, "b.py", (1, 1, 1, 2))]
    assert text(RunResult(findings=findings), ctx).splitlines()[-1] == "Found 2 findings (2 high) in 2 files."


def test_clean_run_is_just_the_summary(ctx) -> None:
    assert text(RunResult(stats=Stats(files=4, parsed=4)), ctx) == "No findings in 4 files.\n"
