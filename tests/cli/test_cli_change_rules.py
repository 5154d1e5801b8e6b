"""Change-level rules (family `dependency`) through `arch-review diff`, on throwaway git repos."""

from __future__ import annotations

from cli_helpers import assert_exit, run_cli
from tests.gitrepo import GitRepo

SELECT = ("--select", "DEP001,DEP002", "--format", "json")


def repo_with(tmp_path, files: dict[str, str]) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("base", files)
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def diff(repo: GitRepo, env, *extra: str) -> list[dict]:
    result = run_cli(["diff", "--base", "main", *SELECT, *extra], cwd=repo.path, env=env)
    assert_exit(result, 0, 1)
    return result.json["findings"]


def test_new_dependency_and_new_datastore_client_are_asked_about(tmp_path, env):
    repo = repo_with(tmp_path, {
        "requirements.txt": "torch==2.3.1\nnumpy==1.26.4\n",
        "app/cache.py": "x = 1\n",
        "docs/adr/0001-use-torch.md": "# Use torch\n",
    })
    repo.commit("feature", {
        "requirements.txt": "torch==2.3.1\nnumpy==2.0.0\npolars==1.2.0\n",  # bump + new
        "app/cache.py": "import redis as r\n\nx = 1\nclient = r.Redis(host='cache')\n",
    })

    found = diff(repo, env)

    by_rule = {f["rule"]: f for f in found}
    assert sorted(by_rule) == ["DEP001", "DEP002"], found
    dep = by_rule["DEP001"]
    assert (dep["path"], dep["line"], dep["family"]) == ("requirements.txt", 3, "dependency")
    assert "`polars`" in dep["message"]
    assert "docs/adr/" in dep["question"] and "adds no record" in dep["question"]
    client = by_rule["DEP002"]
    assert (client["path"], client["line"]) == ("app/cache.py", 1)
    assert "Redis" in client["message"] and len(client["fingerprint"]) >= 16


def test_a_change_that_records_the_decision_gets_no_question(tmp_path, env):
    repo = repo_with(tmp_path, {"pyproject.toml": '[project]\nname = "svc"\ndependencies = []\n',
                                "docs/adr/0001-start.md": "# Start\n"})
    repo.commit("feature", {
        "pyproject.toml": '[project]\nname = "svc"\ndependencies = [\n    "qdrant-client>=1.9",\n]\n',
        "docs/adr/0002-qdrant-for-retrieval.md": "# Qdrant for retrieval\n",
    })

    assert diff(repo, env) == []


def test_configured_adr_folder_and_no_folder_at_all(tmp_path, env):
    repo = repo_with(tmp_path, {"requirements.txt": "torch\n", "architecture/decisions/0001.md": "# x\n",
                                ".arch-review.yml": "adr_dirs: [architecture/decisions]\n"})
    repo.commit("feature", {"requirements.txt": "torch\nhttpx\n"})
    [finding] = diff(repo, env)
    assert "architecture/decisions/" in finding["question"]

    bare = repo_with(tmp_path / "bare", {"requirements.txt": "torch\n"})
    bare.commit("feature", {"requirements.txt": "torch\nhttpx\n"})
    [finding] = diff(bare, env)
    assert "Is there an architecture decision record" in finding["question"]


def test_client_already_used_at_the_base_is_not_new(tmp_path, env):
    repo = repo_with(tmp_path, {"app/store.py": "import pymongo\n", "app/api.py": "x = 1\n"})
    repo.commit("feature", {"app/api.py": "from pymongo import MongoClient\nx = 1\n"})

    assert diff(repo, env) == []


def test_suppression_in_the_manifest_and_scan_ignores_change_rules(tmp_path, env):
    repo = repo_with(tmp_path, {"requirements.txt": "torch\n"})
    repo.commit("feature", {"requirements.txt": "torch\nrich  # arch-review: ignore[DEP001] CLI colours only\n"})
    assert diff(repo, env) == []

    scanned = run_cli(["scan", ".", *SELECT], cwd=repo.path, env=env)
    assert_exit(scanned, 0)
    assert scanned.json["findings"] == []


def test_working_tree_change_and_sarif_output(tmp_path, env):
    repo = repo_with(tmp_path, {"environment.yml": "name: x\ndependencies:\n  - python=3.11\n"})
    repo.write("environment.yml", "name: x\ndependencies:\n  - python=3.11\n  - pip:\n    - confluent-kafka==2.4\n")

    result = run_cli(["diff", "--base", "main", "--select", "DEP002", "--format", "sarif"], cwd=repo.path, env=env)

    assert_exit(result, 0, 1)
    [sarif_result] = result.json["runs"][0]["results"]
    assert sarif_result["ruleId"] == "DEP002"
    region = sarif_result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 5


def test_a_dependency_question_is_an_inline_comment_on_the_manifest_line(tmp_path, env):
    repo = repo_with(tmp_path, {"requirements.txt": "torch==2.3.1\n"})
    repo.commit("feature", {"requirements.txt": "torch==2.3.1\npolars==1.2.0\n"})

    result = run_cli(["diff", "--base", "main", "--select", "DEP001", "--format", "github-review-json"],
                     cwd=repo.path, env=env)

    assert_exit(result, 0, 1)
    [comment] = result.json["comments"]
    assert (comment["path"], comment["line"], comment["side"]) == ("requirements.txt", 2, "RIGHT")
    assert "`polars`" in comment["body"]
