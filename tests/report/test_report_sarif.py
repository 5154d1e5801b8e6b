"""SARIF output validates against the OASIS 2.1.0 schema and carries what GitHub code scanning reads."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from report_builders import make_finding, make_rule

from reviewer.report import render
from reviewer.types import Family, RuleError, RunResult, Severity, Skipped

SCHEMA_PATH = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def sarif(result, ctx) -> dict:
    return json.loads(render("sarif", result, ctx))


def assert_valid(validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_validates_against_the_schema(validator, result, ctx) -> None:
    assert_valid(validator, sarif(result, ctx))


def test_an_empty_run_validates(validator, ctx) -> None:
    log = sarif(RunResult(), ctx)
    assert_valid(validator, log)
    assert log["runs"][0]["results"] == []


def test_the_validator_does_reject_a_broken_log(validator, result, ctx) -> None:
    log = sarif(result, ctx)
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(validator.iter_errors(log))) == 2


def test_header_and_driver(result, ctx) -> None:
    log = sarif(result, ctx)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["semanticVersion"]) == ("arch-review", "0.1.0", "0.1.0")


def test_driver_rules_are_all_context_rules_sorted_by_id(result, ctx) -> None:
    rules = sarif(result, ctx)["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == sorted(ctx.rules)


def test_rule_descriptor_fields(result, ctx) -> None:
    rules = sarif(result, ctx)["runs"][0]["tool"]["driver"]["rules"]
    timeout = next(rule for rule in rules if rule["id"] == "TMO001")
    assert timeout["name"] == "http-call-without-timeout"
    assert timeout["shortDescription"]["text"] == "Flags HTTP calls made without a timeout."
    assert "retries pile up" in timeout["fullDescription"]["text"]
    assert timeout["defaultConfiguration"] == {"level": "error"}
    assert timeout["properties"] == {"tags": ["no-timeout"], "problem.severity": "error", "precision": "high"}
    markdown = timeout["help"]["markdown"]
    for heading in ("**What it does**", "**Why it matters**", "**Example**", "**Instead**", "**Question**"):
        assert heading in markdown
    assert "```python\nrequests.get(url, timeout=5)\n```" in markdown
    assert "What deadline fits here?" in timeout["help"]["text"]
    preview = next(rule for rule in rules if rule["id"] == "LOAD003")
    assert preview["properties"]["precision"] == "medium"
    assert "preview" in preview["properties"]["tags"]


def test_results_point_at_their_rule_and_span(result, ctx) -> None:
    run = sarif(result, ctx)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    findings = sorted(result.findings, key=lambda f: f.sort_key())
    assert len(run["results"]) == len(findings)
    for item, finding in zip(run["results"], findings):
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"] == finding.rule
        assert item["partialFingerprints"] == {"archReview/v1": finding.fingerprint}
        assert item["message"]["text"] == f"{finding.message}\n\n{finding.question}"
        physical = item["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding.path, "uriBaseId": "%SRCROOT%"}
        loc = finding.location
        assert physical["region"] == {
            "startLine": loc.line,
            "startColumn": loc.column,
            "endLine": loc.end_line,
            "endColumn": loc.end_column,
        }


@pytest.mark.parametrize(
    ("severity", "level"), [(Severity.HIGH, "error"), (Severity.MEDIUM, "warning"), (Severity.LOW, "note")]
)
def test_levels_follow_severity(severity, level, ctx) -> None:
    rule = make_rule("X001", "x", Family.SERVING, severity)
    log = sarif(RunResult(findings=[make_finding(rule, "a.py", (1, 1, 1, 2))]), ctx)
    assert log["runs"][0]["results"][0]["level"] == level


def test_a_finding_of_an_unknown_rule_still_gets_a_descriptor(validator, ctx) -> None:
    stranger = make_rule("ZZZ900", "from-a-team-pack", Family.DEPENDENCY, Severity.MEDIUM)
    log = sarif(RunResult(findings=[make_finding(stranger, "a.py", (1, 1, 1, 2))]), ctx)
    assert_valid(validator, log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["rules"][run["results"][0]["ruleIndex"]]["id"] == "ZZZ900"


def test_uris_are_relative_and_percent_encoded(validator, rules, ctx) -> None:
    finding = make_finding(rules["TMO001"], "src/my app/ünï.py", (1, 1, 1, 2))
    log = sarif(RunResult(findings=[finding]), ctx)
    assert_valid(validator, log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/my%20app/%C3%BCn%C3%AF.py"


def test_srcroot_is_the_repository_root_as_a_directory_uri(result, ctx) -> None:
    base = sarif(result, ctx)["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == ctx.root.absolute().as_uri() + "/"


def test_skipped_files_and_rule_errors_are_notifications(validator, result, ctx) -> None:
    result.rule_errors.append(RuleError("TMO001", "src/app.py", "KeyError: 'x'"))
    result.skipped.append(Skipped("big.py", "larger than 1 MiB"))
    log = sarif(result, ctx)
    assert_valid(validator, log)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert [note["level"] for note in notes] == ["warning", "warning", "error"]
    assert notes[0]["message"]["text"] == "big.py: skipped (larger than 1 MiB)"
    assert notes[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/broken.py"
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[notes[2]["associatedRule"]["index"]]["id"] == "TMO001"


def test_no_notifications_key_when_nothing_was_skipped(ctx) -> None:
    invocation = sarif(RunResult(), ctx)["runs"][0]["invocations"][0]
    assert invocation == {"executionSuccessful": True}
