"""Part 3: every malformed .arch-review.yml and rule file is one line on stderr that
names the file and the key path, and exit 2; YAML is only ever loaded safely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_many
from corpus import BAD_CONFIGS, BAD_RULES, SMELL


def scan_each(tmp_path_factory: pytest.TempPathFactory, env, trees: list[dict[str, bytes]]):
    """`arch-review scan .` in a fresh folder per tree (relative path -> bytes), beside a smelly app.py."""
    jobs = []
    for index, files in enumerate(trees):
        folder = tmp_path_factory.mktemp(f"case{index:02d}")
        for relative, data in {**files, "app.py": SMELL.encode()}.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(data)
        jobs.append((["scan", "."], folder))
    return run_many(jobs, env=env)


@pytest.fixture(scope="module")
def config_runs(tmp_path_factory: pytest.TempPathFactory, module_env):
    return scan_each(tmp_path_factory, module_env, [{".arch-review.yml": data} for _, data, _ in BAD_CONFIGS])


@pytest.mark.parametrize("index", range(len(BAD_CONFIGS)), ids=[case[0] for case in BAD_CONFIGS])
def test_a_bad_config_is_one_line_naming_file_and_key(index: int, config_runs) -> None:
    line = assert_one_line_error(config_runs[index])
    assert re.search(BAD_CONFIGS[index][2], line), line
    assert len(line) < 300, line


@pytest.fixture(scope="module")
def rule_runs(tmp_path_factory: pytest.TempPathFactory, module_env):
    trees = [{"team-rules/TEAM001.yaml": data, ".arch-review.yml": b"rules_dirs: [team-rules]\n"} for _, data, _ in BAD_RULES]
    return scan_each(tmp_path_factory, module_env, trees)


@pytest.mark.parametrize("index", range(len(BAD_RULES)), ids=[case[0] for case in BAD_RULES])
def test_a_bad_rule_file_is_one_line_naming_file_and_key(index: int, rule_runs) -> None:
    line = assert_one_line_error(rule_runs[index])
    assert re.search(BAD_RULES[index][2], line), line


def test_yaml_tags_never_construct_python_objects(config_runs, rule_runs) -> None:
    # The configs and rules above include !!python/object/apply:os.system ['touch /tmp/pwned'].
    assert not Path("/tmp/pwned").exists()
