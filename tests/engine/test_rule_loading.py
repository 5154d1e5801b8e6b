"""The built-in rules read with libyaml's C parser are the rules the guarded loader reads."""

import pytest

from reviewer.config import parse_yaml
from reviewer.ruleset.loader import _read_yaml, builtin_rules_dir, load_rule_file, rule_files

BUILTIN = rule_files(builtin_rules_dir())


@pytest.mark.parametrize("path", BUILTIN, ids=lambda p: p.name)
def test_fast_and_guarded_reads_agree(path):
    text = path.read_text(encoding="utf-8")
    assert _read_yaml(text, path, trusted=True) == parse_yaml(text, path)
    display = f"rules/{path.name}"
    assert load_rule_file(path, display, trusted=True) == load_rule_file(path, display)


def test_a_broken_builtin_file_gets_the_guarded_message(tmp_path):
    from reviewer.ruleset.schema import RuleFileError

    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"rules/bad.yaml:\d+:\d+: invalid YAML"):
        load_rule_file(path, "rules/bad.yaml", trusted=True)
