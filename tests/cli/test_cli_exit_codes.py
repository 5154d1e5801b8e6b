"""Exit codes (0 clean, 1 findings at or above the fail level, 2 usage/config error) and
the commands that describe the rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli_helpers import CliResult, assert_exit, assert_one_line_error, findings, run_many

HIGH_SMELL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
CLEAN = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5)\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "smelly.py").write_text(HIGH_SMELL, encoding="utf-8")
    (root / "clean.py").write_text(CLEAN, encoding="utf-8")
    (root / "unknown-key.yml").write_text("exclude: []\nllm:\n  enabled: false\n  tokens: 5\n", encoding="utf-8")
    (root / "unknown-top.yml").write_text("fail_levle: high\n", encoding="utf-8")
    return root


RUNS = {
    "high": ["scan", "smelly.py", "--select", "TMO001", "--fail-level", "high", "--format", "json"],
    "none": ["scan", "smelly.py", "--select", "TMO001", "--fail-level", "none"],
    "default": ["scan", "smelly.py", "--select", "TMO001"],
    "clean": ["scan", "clean.py", "--fail-level", "low", "--format", "json"],
    "bad-select": ["scan", "smelly.py", "--select", "NOPE999"],
    "bad-config": ["scan", "smelly.py", "--config", "unknown-key.yml"],
    "bad-config-top": ["scan", "smelly.py", "--config", "unknown-top.yml"],
    "missing-path": ["scan", "no_such_file.py"],
    "bad-flag": ["scan", "--fail-level", "fatal", "smelly.py"],
    "explain": ["explain", "TMO001"],
    "explain-nope": ["explain", "NOPE"],
    "rules-json": ["rules", "--format", "json"],
    "rules-all": ["rules", "--all"],
    "test-rules": ["test-rules"],
    "test-rules-nope": ["test-rules", "NOPE"],
    "no-command": [],
}


@pytest.fixture(scope="module")
def runs(project: Path, module_env) -> dict[str, CliResult]:
    results = run_many([(args, project) for args in RUNS.values()], env=module_env)
    return dict(zip(RUNS, results))


def test_fail_level_high_with_a_high_finding_exits_1(runs) -> None:
    assert_exit(runs["high"], 1)
    assert [(f["rule"], f["severity"]) for f in findings(runs["high"])] == [("TMO001", "high")]


def test_fail_level_none_and_the_default_exit_0(runs) -> None:
    assert_exit(runs["none"], 0)
    assert_exit(runs["default"], 0)
    assert "TMO001" in runs["none"].stdout and "TMO001" in runs["default"].stdout


def test_no_findings_exits_0_even_at_the_lowest_fail_level(runs) -> None:
    assert_exit(runs["clean"], 0)
    assert runs["clean"].json["findings"] == []
    assert runs["clean"].json["stats"]["files"] == 1


def test_an_unknown_selector_is_a_usage_error(runs) -> None:
    assert_one_line_error(runs["bad-select"], "NOPE999")
    assert runs["bad-select"].stdout == ""


def test_an_unknown_config_key_names_the_key_path(runs) -> None:
    assert_one_line_error(runs["bad-config"], "unknown-key.yml", "llm.tokens")
    assert_one_line_error(runs["bad-config-top"], "unknown-top.yml", "fail_levle", "fail_level")


def test_a_missing_path_is_a_usage_error(runs) -> None:
    assert_one_line_error(runs["missing-path"], "no_such_file.py")


def test_a_bad_flag_value_exits_2_with_usage(runs) -> None:
    result = runs["bad-flag"]
    assert_exit(result, 2)
    assert "usage:" in result.stderr and "fatal" in result.stderr
    assert_exit(runs["no-command"], 2)
    assert "usage:" in runs["no-command"].stderr


def test_explain_prints_every_section(runs) -> None:
    result = runs["explain"]
    assert_exit(result, 0)
    headings = [line.rstrip(":") for line in result.stdout.splitlines() if re.fullmatch(r"[A-Z][a-z ]+:", line)]
    assert headings[:5] == ["What it does", "Why it matters", "Example", "Instead", "Question"], result.stdout
    assert result.stdout.startswith("TMO001")
    assert "timeout" in result.stdout


def test_explain_an_unknown_rule_exits_2(runs) -> None:
    assert_one_line_error(runs["explain-nope"], "NOPE")
    assert runs["explain-nope"].stdout == ""


def test_rules_json_is_a_list_of_rules_with_ids(runs) -> None:
    result = runs["rules-json"]
    assert_exit(result, 0)
    listed = json.loads(result.stdout)
    assert isinstance(listed, list) and listed
    ids = [rule["id"] for rule in listed]
    assert "TMO001" in ids
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    for rule in listed:
        assert re.fullmatch(r"[A-Z]+[0-9]+", rule["id"]) and rule["name"] and rule["family"], rule


def test_rules_text_lines_up_ids_of_every_length_and_marks_preview(runs) -> None:
    result = runs["rules-all"]
    assert_exit(result, 0)
    lines = result.stdout.splitlines()
    name_columns = {len(line) - len(line.split("  ", 1)[1].lstrip()) for line in lines}
    assert len(name_columns) == 1, lines
    assert any(line.endswith("(preview)") for line in lines)
    assert all(line == line.rstrip() for line in lines)


def test_test_rules_runs_every_example_and_passes(runs) -> None:
    result = runs["test-rules"]
    assert_exit(result, 0)
    match = re.search(r"^(\d+) passed, 0 failed$", result.stdout, re.MULTILINE)
    assert match, result.describe()
    # TMO001 alone has 6 examples; every rule has at least four (two flag, two ok).
    assert int(match.group(1)) >= 6
    assert_exit(runs["test-rules-nope"], 2)

