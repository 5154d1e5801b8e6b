"""Code Climate issues as GitLab Code Quality reads them."""

from __future__ import annotations

import json

import pytest
from report_builders import make_finding, make_rule

from reviewer.report import render
from reviewer.types import Family, RunResult, Severity

# GitLab's documented required fields, plus "type" from the Code Climate spec.
REQUIRED = ("type", "check_name", "description", "fingerprint", "severity", "location")


def issues(result, ctx) -> list[dict]:
    return json.loads(render("codeclimate", result, ctx))


def test_one_issue_per_finding_with_the_required_fields(result, ctx) -> None:
    report = issues(result, ctx)
    assert isinstance(report, list) and len(report) == 4
    for issue in report:
        for key in REQUIRED:
            assert key in issue, key
        assert issue["type"] == "issue"
        assert isinstance(issue["location"]["path"], str)
        assert isinstance(issue["location"]["lines"]["begin"], int)


def test_issue_fields_come_from_the_finding(result, ctx) -> None:
    first = issues(result, ctx)[0]
    finding = sorted(result.findings, key=lambda f: f.sort_key())[0]
    assert first["check_name"] == "TMO001"
    assert first["fingerprint"] == finding.fingerprint
    assert first["location"] == {"path": "src/app.py", "lines": {"begin": 5, "end": 5}}
    assert first["description"] == f"{finding.message} — {finding.question}"
    body = first["content"]["body"]
    assert body.startswith(finding.question)
    assert "**Why it matters**" in body and "```python" in body


def test_multi_line_findings_report_their_end_line(result, ctx) -> None:
    second = issues(result, ctx)[1]
    assert second["location"]["lines"] == {"begin": 10, "end": 14}


def test_fingerprints_are_unique(result, ctx) -> None:
    fingerprints = [issue["fingerprint"] for issue in issues(result, ctx)]
    assert len(set(fingerprints)) == len(fingerprints)


@pytest.mark.parametrize(
    ("severity", "expected"), [(Severity.HIGH, "major"), (Severity.MEDIUM, "minor"), (Severity.LOW, "info")]
)
def test_severity_mapping(severity, expected, ctx) -> None:
    rule = make_rule("X001", "x", Family.SERVING, severity)
    assert issues(RunResult(findings=[make_finding(rule, "a.py", (1, 1, 1, 2))]), ctx)[0]["severity"] == expected


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        (Family.UNBOUNDED_LOAD, "Performance"),
        (Family.UNBOUNDED_CACHE, "Performance"),
        (Family.BLOCKING_IN_ASYNC, "Performance"),
        (Family.SINGLE_GPU, "Performance"),
        (Family.NO_TIMEOUT, "Bug Risk"),
        (Family.SWALLOWED_ERROR, "Bug Risk"),
        (Family.NO_CHECKPOINT, "Bug Risk"),
    ],
)
def test_categories_by_family(family, expected, ctx) -> None:
    rule = make_rule("X001", "x", family, Severity.LOW)
    issue = issues(RunResult(findings=[make_finding(rule, "a.py", (1, 1, 1, 2))]), ctx)[0]
    assert issue["categories"] == [expected]


def test_unknown_rule_has_the_question_as_its_body(ctx) -> None:
    rule = make_rule("ZZZ900", "x", Family.SERVING, Severity.LOW)
    finding = make_finding(rule, "a.py", (1, 1, 1, 2), question="Who calls @ops <b>now</b>?")
    body = issues(RunResult(findings=[finding]), ctx)[0]["content"]["body"]
    assert body == "Who calls @\u200bops &lt;b&gt;now&lt;/b&gt;?"


def test_empty_run_is_an_empty_array(ctx) -> None:
    assert render("codeclimate", RunResult(), ctx) == "[]\n"
