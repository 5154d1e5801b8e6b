"""action.yml against GitHub's action metadata schema; the Dockerfile's shape; the entry's argv."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from reviewer.platforms.action_entry import build_argv, prepare_environment

ROOT = Path(__file__).resolve().parents[2]


def _action_schema() -> dict:
    try:
        from check_jsonschema.builtin_schemas import get_builtin_schema
    except ImportError:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema): it ships the "
                    "github-action metadata schema, which cannot be fetched offline")
    return get_builtin_schema("vendor.github-actions")


def test_action_yml_matches_the_github_action_metadata_schema():
    import jsonschema

    schema = _action_schema()
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    jsonschema.validate(action, schema)
    assert action["runs"]["using"] == "docker" and action["runs"]["image"] == "Dockerfile"
    assert set(action["inputs"]) == {"github-token", "config", "fail-level", "filter-mode", "max-comments",
                                     "llm", "working-directory"}
    assert set(action["outputs"]) == {"findings", "blocking", "sarif-file"}


def test_action_yml_inputs_are_what_the_cli_accepts():
    from reviewer.cli import FAIL_LEVELS, FILTER_MODES

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["inputs"]["fail-level"]["default"] in FAIL_LEVELS
    assert action["inputs"]["filter-mode"]["default"] in FILTER_MODES


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def test_dockerfile_base_is_slim_and_pinned():
    for keyword, rest in _instructions():
        if keyword == "FROM":
            image = rest.split()[0]
            assert "slim" in image, image
            assert "@sha256:" in image or re.search(r":\d+\.\d+\.\d+-", image), f"unpinned base {image}"
            assert not image.endswith(":latest")


def test_dockerfile_final_stage_runs_as_non_root_with_the_cli_as_entrypoint():
    rows = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(rows) if keyword == "FROM")
    final = rows[last_from:]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    assert json.loads(next(rest for keyword, rest in final if keyword == "ENTRYPOINT")) == ["arch-review"]


def test_dockerfile_final_stage_keeps_no_build_tools_or_caches():
    rows = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(rows) if keyword == "FROM")
    for keyword, rest in rows[last_from:]:
        if keyword != "RUN":
            continue
        assert not re.search(r"\b(gcc|g\+\+|build-essential|make|clang|python3-dev)\b", rest), rest
        if "apt-get install" in rest:
            assert "--no-install-recommends" in rest and "rm -rf /var/lib/apt/lists" in rest
        if "pip install" in rest:
            assert "--no-cache-dir" in rest


def test_dockerignore_keeps_the_context_to_the_package():
    lines = (ROOT / ".dockerignore").read_text().split()
    assert lines[0] == "**" and "!reviewer/**" in lines and "!rules/**" in lines


def test_entry_turns_inputs_into_one_diff_command():
    env = {"INPUT_FAIL-LEVEL": "high", "INPUT_MAX-COMMENTS": "10", "INPUT_CONFIG": "", "INPUT_FILTER-MODE": "added"}
    assert build_argv(env) == ["diff", "--publish", "github", "--fail-level", "high",
                               "--filter-mode", "added", "--max-comments", "10"]


def test_entry_passes_the_token_and_trusts_the_mounted_workspace():
    env = {"INPUT_GITHUB-TOKEN": "t0k", "GIT_CONFIG_COUNT": "1"}
    prepare_environment(env)
    assert env["GITHUB_TOKEN"] == "t0k"
    assert env["GIT_CONFIG_KEY_1"] == "safe.directory" and env["GIT_CONFIG_COUNT"] == "2"


def test_every_file_the_dockerfile_copies_exists_and_is_in_the_build_context():
    allowed = [line[1:] for line in (ROOT / ".dockerignore").read_text().split() if line.startswith("!")]
    copies = [rest for keyword, rest in _instructions() if keyword == "COPY" and not rest.startswith("--from")]
    assert copies
    for rest in copies:
        for source in rest.split()[:-1]:
            assert (ROOT / source).exists(), source
            assert source in allowed or f"{source}/**" in allowed, f"{source} is excluded by .dockerignore"
    # The wheel build reads the readme that pyproject.toml names.
    readme = re.search(r'^readme\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert readme is None or readme[1] in allowed
