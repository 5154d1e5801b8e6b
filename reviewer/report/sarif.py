"""SARIF 2.1.0, shaped for GitHub code scanning.

driver.rules lists every rule in the context (sorted by id), not only those with
results: code scanning then shows the full rule set with its help, and a rule's
index stays the same from one run to the next. A finding whose rule the context
does not know still gets a minimal descriptor, so every ruleIndex resolves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from reviewer.report.context import TOOL_NAME, ReportContext
from reviewer.report.jsonio import dump
from reviewer.report.rule_help import full_description, help_markdown, help_text, short_description
from reviewer.report.summary import message_with_question
from reviewer.types import (
    Finding,
    RuleDocs,
    RuleError,
    RuleMeta,
    RuleStatus,
    RunResult,
    Severity,
    Skipped,
    sorted_findings,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "archReview/v1"

LEVEL = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub code scanning's own severity scale for non-security alerts.
PROBLEM_SEVERITY = {
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "recommendation",
}
PRECISION = {RuleStatus.STABLE: "high", RuleStatus.PREVIEW: "medium"}


def render(result: RunResult, ctx: ReportContext) -> str:
    return dump(to_log(result, ctx))


def to_log(result: RunResult, ctx: ReportContext) -> dict[str, Any]:
    findings = sorted_findings(result.findings)
    rules = rules_for_driver(ctx.rules, findings)
    rule_index = {rule.id: index for index, rule in enumerate(rules)}
    run = {
        "tool": {"driver": _driver(ctx, rules)},
        "invocations": [_invocation(result, rule_index)],
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(ctx.root)}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, rule_index) for finding in findings],
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def rules_for_driver(known: Mapping[str, RuleMeta], findings: Iterable[Finding]) -> list[RuleMeta]:
    rules = dict(known)
    for finding in findings:
        rules.setdefault(finding.rule, _rule_from_finding(finding))
    return [rules[rule_id] for rule_id in sorted(rules)]


def _rule_from_finding(finding: Finding) -> RuleMeta:
    return RuleMeta(
        id=finding.rule,
        name=finding.name,
        family=finding.family,
        severity=finding.severity,
        status=RuleStatus.STABLE,
        message="",
        question="",
        docs=RuleDocs(what="", why=""),
    )


def _driver(ctx: ReportContext, rules: list[RuleMeta]) -> dict[str, Any]:
    return {
        "name": TOOL_NAME,
        "version": ctx.version,
        "semanticVersion": ctx.version,
        "rules": [_descriptor(rule) for rule in rules],
    }


def _descriptor(rule: RuleMeta) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": short_description(rule)},
        "fullDescription": {"text": full_description(rule)},
    }
    help_plain = help_text(rule)
    if help_plain:
        descriptor["help"] = {"text": help_plain, "markdown": help_markdown(rule)}
    descriptor["defaultConfiguration"] = {"level": LEVEL[rule.severity]}
    descriptor["properties"] = {
        "tags": [rule.family.value, *(["preview"] if rule.status is RuleStatus.PREVIEW else [])],
        "problem.severity": PROBLEM_SEVERITY[rule.severity],
        "precision": PRECISION[rule.status],
    }
    return descriptor


def _result(finding: Finding, rule_index: Mapping[str, int]) -> dict[str, Any]:
    loc = finding.location
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": _artifact(loc.path),
            "region": {
                "startLine": loc.line,
                "startColumn": loc.column,
                "endLine": loc.end_line,
                "endColumn": loc.end_column,
            },
        }
    }
    if finding.symbol:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.symbol}]
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index[finding.rule],
        "level": LEVEL[finding.severity],
        "message": {"text": message_with_question(finding)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }


def _invocation(result: RunResult, rule_index: Mapping[str, int]) -> dict[str, Any]:
    notifications = [_skipped_notification(s) for s in sorted(result.skipped, key=lambda s: s.path)]
    notifications += [
        _rule_error_notification(error, rule_index)
        for error in sorted(result.rule_errors, key=lambda e: (e.path, e.rule))
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _skipped_notification(skipped: Skipped) -> dict[str, Any]:
    return {
        "level": "warning",
        "message": {"text": f"{skipped.path}: skipped ({skipped.reason})"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(skipped.path)}}],
    }


def _rule_error_notification(error: RuleError, rule_index: Mapping[str, int]) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": error.rule}
    if error.rule in rule_index:
        rule["index"] = rule_index[error.rule]
    return {
        "level": "error",
        "message": {"text": f"{error.path}: rule {error.rule} failed ({error.error})"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(error.path)}}],
        "associatedRule": rule,
    }


def _artifact(path: str) -> dict[str, str]:
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _directory_uri(root: Path) -> str:
    uri = Path(root).absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"
