"""Configuration files found and obeyed end to end: .arch-review.yml and [tool.arch-review]."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import assert_exit, findings, run_many, where
from tests.gitrepo import GitRepo

SMELL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
EXCLUDING = 'exclude: ["gen/**"]\n'


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


TREE = {
    ".arch-review.yml": EXCLUDING,
    "src/app.py": SMELL,
    "gen/client.py": SMELL,
    "gen/deep/nested.py": SMELL,
    "src/gen/not_at_root.py": SMELL,  # "gen/**" is anchored at the root: this one stays
}


@pytest.mark.parametrize("kind", ["git", "plain"])
def test_exclude_skips_walked_files_but_not_files_named_explicitly(kind, tmp_path: Path, env) -> None:
    root = tmp_path / "project"
    write_tree(root, TREE)
    if kind == "git":
        repo = GitRepo.init(root)
        repo.commit("tree")
    args = ["--select", "TMO001", "--format", "json"]
    walked, both = run_many(
        [
            (["scan", ".", *args], root),
            (["scan", ".", "gen/deep/nested.py", *args], root),
        ],
        env=env,
    )
    for result in (walked, both):
        assert_exit(result, 0)
    assert where(findings(walked)) == [("src/app.py", 5), ("src/gen/not_at_root.py", 5)]
    assert walked.json["stats"]["files"] == 2
    assert where(findings(both)) == [("gen/deep/nested.py", 5), ("src/app.py", 5), ("src/gen/not_at_root.py", 5)]


def test_exclude_in_a_nested_config_is_relative_to_that_config(repo: GitRepo, env) -> None:
    repo.commit("monorepo", {"svc/.arch-review.yml": EXCLUDING, "svc/src/app.py": SMELL, "svc/gen/client.py": SMELL})
    [result] = run_many([(["scan", ".", "--select", "TMO001", "--format", "json"], repo.path / "svc")], env=env)
    assert where(findings(result)) == [("svc/src/app.py", 5)]


def test_diff_respects_exclude_too(repo: GitRepo, env) -> None:
    repo.commit("start", {".arch-review.yml": EXCLUDING, "README.md": "x\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("generated and hand-written", {"gen/client.py": SMELL, "src/app.py": SMELL})
    [result] = run_many([(["diff", "--select", "TMO001", "--format", "json"], repo.path)], env=env)
    assert where(findings(result)) == [("src/app.py", 5)]


def test_pyproject_table_is_found_from_a_subfolder(repo: GitRepo, env) -> None:
    repo.commit(
        "project",
        {
            "pyproject.toml": (
                '[project]\nname = "demo"\nversion = "0"\n\n'
                '[tool.arch-review]\nexclude = ["gen/**"]\nfail_level = "low"\n'
                'severity = { TMO001 = "low" }\n'
            ),
            "src/app.py": SMELL,
            "gen/client.py": SMELL,
        },
    )
    [result] = run_many([(["scan", "..", "--select", "TMO001", "--format", "json"], repo.path / "src")], env=env)
    assert_exit(result, 1)  # fail_level low from the table, and a (now low) finding
    assert [(f["path"], f["severity"]) for f in findings(result)] == [("src/app.py", "low")]


def test_severity_override_changes_the_reported_severity_and_the_exit_code(tmp_path: Path, env) -> None:
    root = tmp_path / "project"
    write_tree(root, {".arch-review.yml": "severity:\n  TMO001: low\n", "app.py": SMELL})
    other = tmp_path / "no-override.yml"
    other.write_text("exclude: []\n", encoding="utf-8")
    args = ["scan", "app.py", "--select", "TMO001", "--format", "json"]
    lowered, at_high, at_low, explicit_config = run_many(
        [
            (args, root),
            ([*args, "--fail-level", "high"], root),
            ([*args, "--fail-level", "low"], root),
            ([*args, "--config", str(other), "--fail-level", "high"], root),
        ],
        env=env,
    )
    assert [f["severity"] for f in findings(lowered)] == ["low"]
    assert_exit(at_high, 0)
    assert_exit(at_low, 1)
    # --config replaces the discovered file: the rule's own severity again.
    assert [f["severity"] for f in findings(explicit_config)] == ["high"]
    assert_exit(explicit_config, 1)
