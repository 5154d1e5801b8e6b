"""Loading rule files: YAML errors, bombs, duplicates, team folders, selection."""

import pytest

from reviewer.ruleset.loader import load_rule_file, load_rules, select_rules
from reviewer.ruleset.schema import RuleFileError

RULE = """\
id: {id}
name: team-rule
family: no-timeout
severity: low
match: {{call: [mylib.fetch]}}
message: "`{{call}}` x"
question: "What happens when {{host}} is slow?"
docs: {{what: w, why: y, example: e, instead: i}}
examples:
  flag: ["import mylib as m\\nm.fetch(1)\\n", "from mylib import fetch\\nfetch(1)\\n"]
  ok: ["fetch(1)\\n", "import mylib\\nmylib.other(1)\\n"]
"""


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(RuleFileError, match=r"^team/bad.yaml:\d+:\d+: invalid YAML"):
        load_rule_file(path, "team/bad.yaml")


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RuleFileError, match="bomb.yaml"):
        load_rule_file(path, "team/bomb.yaml")


def test_non_utf8_rule_file(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(RuleFileError, match="team/latin.yaml: .*UTF-8"):
        load_rule_file(path, "team/latin.yaml")


def test_team_rules_load_and_duplicate_ids_are_errors(tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "TEAM001.yaml").write_text(RULE.format(id="TEAM001"))
    rules = load_rules([team])
    assert "TEAM001" in rules and "TMO001" in rules
    (team / "dup.yaml").write_text(RULE.format(id="TEAM001"))
    with pytest.raises(RuleFileError, match="id: TEAM001 is already defined"):
        load_rules([team])


def test_missing_rules_dir_is_an_error(tmp_path):
    with pytest.raises(RuleFileError, match="rules directory does not exist"):
        load_rules([tmp_path / "nope"])


def test_selection_by_id_prefix_family_and_preview():
    rules = load_rules()
    stable = select_rules(rules).rules
    assert stable and all(r.meta.status.value == "stable" for r in stable)
    by_family = select_rules(rules, select=["no-timeout"]).rules
    assert by_family and all(r.meta.family.value == "no-timeout" for r in by_family)
    by_prefix = select_rules(rules, select=["TMO"]).rules
    assert {r.id for r in by_prefix} == {r.id for r in by_family if r.id.startswith("TMO")}
    ignored = select_rules(rules, ignore=["TMO001"]).rules
    assert "TMO001" not in {r.id for r in ignored}
    assert select_rules(rules, select=["NOPE"]).unknown_selectors == ("NOPE",)
    preview = [r for r in rules.values() if r.meta.status.value == "preview"]
    if preview:
        rule = preview[0]
        assert rule.id not in {r.id for r in select_rules(rules, select=[rule.meta.family.value]).rules}
        assert rule.id in {r.id for r in select_rules(rules, select=[rule.id]).rules}
