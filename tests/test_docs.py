"""docs/rules.md is generated from rules/ and must be kept up to date."""

import os
from pathlib import Path

from reviewer.ruleset.docs import rules_markdown
from reviewer.ruleset.loader import load_rules

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_rules_doc_is_up_to_date():
    expected = rules_markdown(load_rules().values())
    if os.environ.get("UPDATE_DOCS"):
        DOC.write_text(expected, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is stale: run `arch-review rules --format markdown > docs/rules.md`"
    )


def test_every_rule_has_a_section():
    text = DOC.read_text(encoding="utf-8")
    for rule_id in load_rules():
        assert f"### {rule_id} " in text
