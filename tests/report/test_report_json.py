"""--format json matches the schema in DESIGN.md field for field."""

from __future__ import annotations

import json
import re

from report_builders import make_finding

from reviewer.report import render
from reviewer.types import Family, Finding, RunResult, Severity

FINDING_FIELDS = {
    "rule": str,
    "name": str,
    "family": str,
    "severity": str,
    "path": str,
    "line": int,
    "column": int,
    "end_line": int,
    "end_column": int,
    "symbol": str,
    "message": str,
    "question": str,
    "fingerprint": str,
}


def test_top_level_has_exactly_the_design_keys_in_order(result, ctx) -> None:
    document = json.loads(render("json", result, ctx))
    assert list(document) == ["tool", "version", "findings", "skipped", "stats"]
    assert document["tool"] == "arch-review"
    assert document["version"] == "0.1.0"


def test_each_finding_has_every_field_with_its_type(result, ctx) -> None:
    document = json.loads(render("json", result, ctx))
    assert len(document["findings"]) == 4
    for finding in document["findings"]:
        assert list(finding) == list(FINDING_FIELDS)
        for key, kind in FINDING_FIELDS.items():
            assert type(finding[key]) is kind, key
        assert Family(finding["family"])
        assert finding["severity"] in {s.value for s in Severity}
        assert re.fullmatch(r"[0-9a-f]{16,}", finding["fingerprint"])
        assert "\\" not in finding["path"] and not finding["path"].startswith("/")


def test_findings_round_trip_and_come_sorted(result, ctx) -> None:
    document = json.loads(render("json", result, ctx))
    parsed = [Finding.from_json(item) for item in document["findings"]]
    assert parsed == sorted(result.findings, key=Finding.sort_key)


def test_skipped_and_stats(result, ctx) -> None:
    document = json.loads(render("json", result, ctx))
    assert document["skipped"] == [{"path": "src/broken.py", "reason": "syntax error at 3:7"}]
    assert document["stats"] == {"files": 5, "parsed": 4, "seconds": 0.123}
    assert type(document["stats"]["files"]) is int and type(document["stats"]["seconds"]) is float


def test_layout_is_two_space_indent_and_unicode_is_kept(rules, ctx) -> None:
    finding = make_finding(rules["TMO001"], "src/app.py", (5, 16, 5, 33), message="größe — 大きい")
    output = render("json", RunResult(findings=[finding]), ctx)
    assert output.startswith('{\n  "tool": "arch-review",\n')
    assert "größe — 大きい" in output
    assert output.endswith("}\n")
