"""The platform-neutral core: anchoring, budget, markers, summary; and the GitHub payload goldens."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from reviewer.diff import FileChange, Hunk
from reviewer.platforms.actions import annotate, write_outputs
from reviewer.platforms.github_context import NoPullRequest, api_base_url, load_context
from reviewer.platforms.github_payload import annotation_batches, review_payload
from reviewer.publish import markers
from reviewer.publish.plan import anchor_lines, plan_review
from reviewer.publish.summary import render_summary
from reviewer.types import Family, Finding, Location, RuleDocs, RuleMeta, RuleStatus, RunResult, Severity, Skipped

GOLDEN = Path(__file__).parent / "data" / "golden"
HEAD = "1" * 40


def finding(rule="TMO001", path="svc.py", line=3, end_line=None, severity=Severity.HIGH, fp=None,
            question="What deadline fits here?", message="`requests.get` has no timeout") -> Finding:
    return Finding(
        rule=rule, name="http-call-without-timeout", family=Family.NO_TIMEOUT, severity=severity,
        location=Location(path, line, 5, end_line or line, 20), symbol="svc.fetch",
        message=message, question=question, fingerprint=fp or f"{abs(hash((rule, path, line))):016x}"[:16],
    )


META = {
    "TMO001": RuleMeta("TMO001", "http-call-without-timeout", Family.NO_TIMEOUT, Severity.HIGH, RuleStatus.STABLE,
                       "m", "q", RuleDocs(what="w", why="Requests has no default timeout. More text here.")),
}


def change(path="svc.py", *hunks) -> FileChange:
    return FileChange(path, None, "modified", tuple(hunks))


def hunk(start, length) -> Hunk:
    return Hunk(start, length, start, length, frozenset(range(start, start + length)))


def test_a_span_keeps_its_start_line_only_inside_one_hunk():
    hunks = (hunk(1, 5), hunk(10, 5))
    assert anchor_lines(finding(line=2, end_line=4), hunks) == (2, 4)
    assert anchor_lines(finding(line=4, end_line=11), hunks) == (None, 4)
    assert anchor_lines(finding(line=7), hunks) is None


def test_budget_takes_highest_severity_first_and_skips_what_was_posted():
    findings = [finding(line=i, severity=sev, fp=f"{i:016x}")
                for i, sev in zip(range(1, 7), [Severity.LOW, Severity.HIGH, Severity.MEDIUM] * 2)]
    plan = plan_review(findings, {"svc.py": change("svc.py", hunk(1, 10))}, META, max_comments=2,
                       posted={f"{2:016x}"})
    assert [c.line for c in plan.inline] == [5, 3]  # the other high was posted before; then mediums
    assert [f.line for f in plan.already_posted] == [2]
    assert [f.line for f in plan.over_budget] == [6, 1, 4]


def test_a_file_without_a_patch_gets_no_inline_comment():
    plan = plan_review([finding()], {"svc.py": change("svc.py", hunk(1, 10))}, META, max_comments=5,
                       commentable={"svc.py": False})
    assert plan.inline == [] and len(plan.off_diff) == 1


def test_repository_text_cannot_forge_a_marker_or_ping_anyone():
    hostile = finding(question="<!-- arch-review:fp=deadbeefdeadbeef --> ask @octocat about #1",
                      fp="0123456789abcdef")
    (comment,) = plan_review([hostile], {"svc.py": change("svc.py", hunk(1, 10))}, META, max_comments=5).inline
    assert markers.fingerprint_in(comment.body) == "0123456789abcdef"
    assert "@octocat" not in comment.body and "<!--" not in comment.body.split("\n\n")[1]
    with pytest.raises(ValueError):
        markers.fingerprint_marker("--><script>")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ARCH_REVIEW_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed: rerun with ARCH_REVIEW_UPDATE_GOLDEN=1 if intended"


def _golden_case():
    findings = [
        finding(line=3, fp="a" * 16),
        finding(line=11, severity=Severity.LOW, fp="e" * 16, question="Who calls `fetch` with @someone's <b>url</b>?"),
        finding(line=7, end_line=9, severity=Severity.MEDIUM, fp="b" * 16),
        finding(rule="LOAD001", line=40, severity=Severity.LOW, fp="c" * 16, question="", message="reads `x` whole"),
    ]
    result = RunResult(findings=findings, skipped=[Skipped("bad.py", "syntax error at 3:7")])
    result.stats.files = 2
    plan = plan_review(findings, {"svc.py": change("svc.py", hunk(1, 12))}, META, max_comments=2)
    return result, plan


def test_review_payload_golden(monkeypatch):
    monkeypatch.delenv("ARCH_REVIEW_DOCS_URL", raising=False)
    result, plan = _golden_case()
    _golden("review-payload.json", json.dumps(review_payload(plan, HEAD), indent=2) + "\n")


def test_summary_golden(monkeypatch):
    monkeypatch.delenv("ARCH_REVIEW_DOCS_URL", raising=False)
    result, plan = _golden_case()
    _golden("summary.md", render_summary(result, plan, head_sha=HEAD, version="0.0.0", resolved=["d" * 16]))


def test_annotations_come_in_batches_of_50():
    batches = annotation_batches([finding(line=i) for i in range(1, 121)])
    assert [len(b) for b in batches] == [50, 50, 20]
    assert batches[0][0]["annotation_level"] == "failure"


def test_workflow_commands_escape_their_properties_and_data():
    out = io.StringIO()
    annotate([finding(path="a,b:c.py", question="line1\nline2 100%")], out)
    assert out.getvalue() == (
        "::error file=a%2Cb%3Ac.py,line=3,endLine=3,title=TMO001 http-call-without-timeout::line1%0Aline2 100%25\n")


def test_outputs_use_the_multiline_form(tmp_path):
    target = tmp_path / "out"
    assert write_outputs({"findings": "3"}, {"GITHUB_OUTPUT": str(target)})
    assert target.read_text() == "findings<<ARCH_REVIEW_EOF\n3\nARCH_REVIEW_EOF\n"


@pytest.mark.parametrize("given, expected", [
    ("https://ghe.example.com", "https://ghe.example.com/api/v3"),
    ("ghe.example.com/", "https://ghe.example.com/api/v3"),
    ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3"),
    ("https://github.com", "https://api.github.com"),
    ("https://api.github.com/", "https://api.github.com"),
])
def test_api_base_url(given, expected):
    assert api_base_url(given) == expected


def test_context_from_a_pull_request_target_event(tmp_path):
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"number": 5, "pull_request": {
        "number": 5, "base": {"sha": "b" * 40}, "head": {"sha": "c" * 40, "repo": {"full_name": "fork/ml"}}}}))
    ctx = load_context(environ={"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request_target",
                                "GITHUB_REPOSITORY": "acme/ml", "GITHUB_TOKEN": "t",
                                "GITHUB_API_URL": "https://ghe.example.com/api/v3"})
    assert (ctx.number, ctx.base_sha, ctx.head_sha, ctx.is_fork) == (5, "b" * 40, "c" * 40, True)
    assert ctx.api_url == "https://ghe.example.com/api/v3"


def test_a_push_event_has_nothing_to_publish(tmp_path):
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"ref": "refs/heads/main"}))
    with pytest.raises(NoPullRequest):
        load_context(environ={"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "push",
                              "GITHUB_REPOSITORY": "acme/ml"})


def test_a_huge_summary_stays_under_githubs_comment_limit_and_keeps_its_marker():
    findings = [finding(path=f"pkg/m{i}.py", line=1, fp=f"{i:016x}", question="why? " * 200) for i in range(3000)]
    result = RunResult(findings=findings, skipped=[Skipped(f"big{i}.py", "too large " * 30) for i in range(2000)])
    plan = plan_review(findings, {}, META, max_comments=25)
    body = render_summary(result, plan, head_sha=HEAD, version="0.0.0")
    assert len(body) < 65536 and markers.is_summary(body)
    assert "and 2900 more" in body
