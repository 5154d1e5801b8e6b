"""Running a rule's own examples: each ``flag`` must be flagged, each ``ok`` not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from reviewer.changes import FilesChangeSource, change_findings
from reviewer.config import Config
from reviewer.engine.pipeline import Target, analyze
from reviewer.ruleset.schema import CompiledRule, Example


@dataclass(frozen=True)
class ExampleOutcome:
    rule: str
    kind: str  # "flag" | "ok"
    index: int
    passed: bool
    detail: str

    @property
    def test_id(self) -> str:
        return f"{self.rule}-{self.kind}-{self.index}"


def run_example(rule: CompiledRule, kind: str, index: int, example: Example) -> ExampleOutcome:
    if rule.change is not None:
        problems: list[str] = []
        source = FilesChangeSource(dict(example.before), dict(example.after))
        hits = change_findings(source, [rule], Config().adr_dirs)
    else:
        result = analyze(
            [Target(example.path, data=example.code.encode("utf-8"))],
            [rule],
            max_bytes=10_000_000,
        )
        problems = [f"skipped: {s.reason}" for s in result.skipped]
        problems += [f"rule error: {e.error}" for e in result.rule_errors]
        hits = [f for f in result.findings if f.rule == rule.id]
    if kind == "flag" and not hits:
        problems.append("expected a finding, got none")
    if kind == "ok" and hits:
        problems.append("expected no finding, got: " + "; ".join(f"line {f.line}: {f.message}" for f in hits))
    return ExampleOutcome(rule.id, kind, index, not problems, "; ".join(problems))


def example_cases(rule: CompiledRule) -> Iterator[tuple[str, int, Example]]:
    for index, example in enumerate(rule.flag_examples):
        yield "flag", index, example
    for index, example in enumerate(rule.ok_examples):
        yield "ok", index, example


def run_examples(rule: CompiledRule) -> list[ExampleOutcome]:
    return [run_example(rule, kind, index, example) for kind, index, example in example_cases(rule)]
