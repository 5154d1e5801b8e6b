"""Every rule's own examples, one test each (collected from rules/ automatically)."""

import pytest

from reviewer.ruleset.examples import example_cases, run_example
from reviewer.ruleset.loader import load_rules

RULES = load_rules()
CASES = [(rule, kind, index, example) for rule in RULES.values() for kind, index, example in example_cases(rule)]


@pytest.mark.parametrize(
    "rule, kind, index, example", CASES, ids=[f"{r.id}-{k}-{i}" for r, k, i, _ in CASES]
)
def test_rule_example(rule, kind, index, example):
    outcome = run_example(rule, kind, index, example)
    assert outcome.passed, f"{rule.meta.source} examples.{kind}[{index}]: {outcome.detail}\n--- code ---\n{example.code}"


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_rule_has_enough_examples(rule):
    # Team rules need two of each (the schema); built-in ones three, traps from real code among them.
    assert len(rule.flag_examples) >= 3 and len(rule.ok_examples) >= 3, rule.id
    if rule.change is not None:
        return  # its examples are changes to files, not Python code
    aliased = any(" as " in example.code for example in rule.flag_examples)
    assert aliased, f"{rule.id}: one flag example must go through an import alias"
