"""Part 3: every malformed .arch-review.yml and rule file is one line on stderr that
names the file and the key path, and exit 2; YAML is only ever loaded safely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_many
from corpus import BAD_CONFIGS, BAD_RULES, SMELL


@pytest.fixture(scope="module")
def config_runs(tmp_path_factory: pytest.TempPathFactory, module_env):
    jobs = []
    for index, (_, data, _) in enumerate(BAD_CONFIGS):
        folder = tmp_path_factory.mktemp(f"config{index:02d}")
        (folder / ".arch-review.yml").write_bytes(data)
        (folder / "app.py").write_text(SMELL)
        jobs.append((["scan", "."], folder))
    return run_many(jobs, env=module_env)


@pytest.mark.parametrize("index", range(len(BAD_CONFIGS)), ids=[case[0] for case in BAD_CONFIGS])
def test_a_bad_config_is_one_line_naming_file_and_key(index: int, config_runs) -> None:
    line = assert_one_line_error(config_runs[index])
    assert re.search(BAD_CONFIGS[index][2], line), line
    assert len(line) < 300, line


@pytest.fixture(scope="module")
def rule_runs(tmp_path_factory: pytest.TempPathFactory, module_env):
    jobs = []
    for index, (_, data, _) in enumerate(BAD_RULES):
        folder = tmp_path_factory.mktemp(f"rules{index:02d}")
        (folder / "team-rules").mkdir()
        (folder / "team-rules" / "TEAM001.yaml").write_bytes(data)
        (folder / ".arch-review.yml").write_text("rules_dirs: [team-rules]\n")
        (folder / "app.py").write_text(SMELL)
        jobs.append((["scan", "."], folder))
    return run_many(jobs, env=module_env)


@pytest.mark.parametrize("index", range(len(BAD_RULES)), ids=[case[0] for case in BAD_RULES])
def test_a_bad_rule_file_is_one_line_naming_file_and_key(index: int, rule_runs) -> None:
    line = assert_one_line_error(rule_runs[index])
    assert re.search(BAD_RULES[index][2], line), line


def test_yaml_tags_never_construct_python_objects(config_runs, rule_runs) -> None:
    # The configs and rules above include !!python/object/apply:os.system ['touch /tmp/pwned'].
    assert not Path("/tmp/pwned").exists()
