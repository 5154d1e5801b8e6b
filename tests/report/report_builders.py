"""Builders for hand-made rules and findings."""

from __future__ import annotations

from reviewer.types import Family, Finding, Location, RuleDocs, RuleMeta, RuleStatus, Severity, fingerprint


def make_rule(rule_id: str, name: str, family: Family, severity: Severity, **overrides) -> RuleMeta:
    fields = dict(
        id=rule_id,
        name=name,
        family=family,
        severity=severity,
        status=RuleStatus.STABLE,
        message="`{call}` is flagged",
        question="What happens to {call} at 100x?",
        docs=RuleDocs(what=f"Flags {name}. More detail follows.", why="It breaks at scale."),
    )
    fields.update(overrides)
    return RuleMeta(**fields)


def make_finding(
    rule: RuleMeta,
    path: str,
    span: tuple[int, int, int, int],
    *,
    symbol: str = "",
    message: str | None = None,
    question: str | None = None,
    node_text: str | None = None,
) -> Finding:
    line, column, end_line, end_column = span
    return Finding(
        rule=rule.id,
        name=rule.name,
        family=rule.family,
        severity=rule.severity,
        location=Location(path, line, column, end_line, end_column),
        symbol=symbol,
        message=message if message is not None else f"{rule.name} at {path}:{line}",
        question=question if question is not None else "What happens at 100x?",
        fingerprint=fingerprint(rule.id, path, symbol, node_text or f"{line}:{column}"),
    )
