"""A pull request in a real git repository, the Actions environment for it, and the fake API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.gitrepo import GitRepo, isolate_git  # noqa: E402

from fake_github import FakeGitHub, Pull  # noqa: E402

BASE_APP = "import json\n\n\ndef load(path):\n    with open(path) as f:\n        return json.load(f)\n"
APP_AT_HEAD = BASE_APP + "\n\nimport requests\n\n\ndef fetch_c(url):\n    return requests.get(url)\n"
MOVED_ON = "# a line the base branch added after the PR was opened\n" * 3


def calls(names, timeout=()) -> str:
    lines = ["import requests", ""]
    for name in names:
        arg = ", timeout=5" if name in timeout else ""
        lines += ["", f"def {name}(url):", f"    return requests.get(url{arg})", ""]
    return "\n".join(lines)


@dataclass
class PullRequest:
    """origin (main + feature) and a checkout of the merge commit, as actions/checkout makes."""

    origin: GitRepo
    work: Path
    number: int = 7
    base_sha: str = ""
    head_sha: str = ""
    outputs: dict = field(default_factory=dict)

    def push(self, files: dict[str, str], message: str = "push") -> str:
        self.origin.git("checkout", "-q", "feature")
        self.head_sha = self.origin.commit(message, files)
        self.origin.git("checkout", "-q", "main")
        return self.head_sha

    def move_base(self, files: dict[str, str]) -> str:
        self.origin.git("checkout", "-q", "main")
        self.base_sha = self.origin.commit("base moves on", files)
        return self.base_sha

    def checkout_merge(self, depth: int | None = None) -> None:
        """refs/pull/N/merge in origin, fetched into a fresh checkout (shallow if depth)."""
        o = self.origin
        o.git("checkout", "-q", "--detach", self.base_sha)
        o.git("merge", "-q", "--no-ff", "-m", "merge", self.head_sha)
        merge = o.git("rev-parse", "HEAD").strip()
        o.git("update-ref", f"refs/pull/{self.number}/merge", merge)
        o.git("checkout", "-q", "main")
        if self.work.exists():
            subprocess.run(["rm", "-rf", str(self.work)], check=True)
        repo = GitRepo.init(self.work)
        repo.git("remote", "add", "origin", self.origin.path.as_uri())
        fetch = ["fetch", "-q", "--no-tags"] + ([f"--depth={depth}"] if depth else [])
        repo.git(*fetch, "origin", f"+refs/pull/{self.number}/merge:refs/remotes/pull/{self.number}/merge")
        repo.git("checkout", "-q", "--detach", f"refs/remotes/pull/{self.number}/merge")

    def patches(self) -> list[dict]:
        merge_base = self.origin.git("merge-base", self.base_sha, self.head_sha).strip()
        names = self.origin.git("diff", "--name-status", merge_base, self.head_sha).split("\n")
        files = []
        for row in filter(None, names):
            status, name = row.split("\t")[0], row.split("\t")[-1]
            diff = self.origin.git("diff", "--unified=3", merge_base, self.head_sha, "--", name)
            patch = diff[diff.index("@@"):] if "@@" in diff else None
            files.append({"filename": name, "status": {"A": "added", "D": "removed"}.get(status, "modified"),
                          "patch": patch.rstrip("\n") if patch else None})
        return files

    def sync(self, fake: FakeGitHub, head_repo: str | None = None) -> None:
        fake.pulls[self.number] = Pull(self.number, self.base_sha, self.head_sha,
                                       head_repo or fake.repo, self.patches())

    def event(self, tmp: Path, head_repo: str = "acme/ml") -> Path:
        event = {
            "action": "synchronize",
            "number": self.number,
            "pull_request": {
                "number": self.number,
                "base": {"sha": self.base_sha, "ref": "main", "repo": {"full_name": "acme/ml"}},
                "head": {"sha": self.head_sha, "ref": "feature", "repo": {"full_name": head_repo}},
            },
            "repository": {"full_name": "acme/ml"},
        }
        path = tmp / "event.json"
        path.write_text(json.dumps(event))
        return path


@pytest.fixture
def pr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PullRequest:
    isolate_git(monkeypatch, tmp_path)
    origin = GitRepo.init(tmp_path / "origin")
    base = origin.commit("base", {"app.py": BASE_APP, "README.md": "x\n"})
    origin.git("checkout", "-q", "-b", "feature")
    head = origin.commit("feature", {"svc.py": calls(["fetch_a", "fetch_b"]), "app.py": APP_AT_HEAD})
    origin.git("checkout", "-q", "main")
    # The base branch moves on after the PR was opened: the merge commit's app.py is shifted by 3 lines.
    request = PullRequest(origin, tmp_path / "work", base_sha=base, head_sha=head)
    request.move_base({"app.py": MOVED_ON + BASE_APP})
    return request


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        yield server
    assert server.errors == [], "\n".join(server.errors)


def actions_env(pr: PullRequest, fake: FakeGitHub, tmp: Path, head_repo: str = "acme/ml") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ARCH_REVIEW_"))}
    summary, output = tmp / "step-summary.md", tmp / "github-output.txt"
    env.update({
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(pr.event(tmp, head_repo)),
        "GITHUB_REPOSITORY": "acme/ml",
        "GITHUB_API_URL": fake.api_url,
        "GITHUB_TOKEN": fake.token,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "ARCH_REVIEW_GITHUB_MAX_WAIT": "0.01",
        "PYTHONPATH": str(REPO_ROOT),
        "XDG_CACHE_HOME": str(tmp / "cache"),
    })
    return env


def run_action(pr: PullRequest, fake: FakeGitHub, tmp: Path, *args: str, head_repo: str = "acme/ml",
               env: dict | None = None) -> subprocess.CompletedProcess[str]:
    environment = actions_env(pr, fake, tmp, head_repo)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "diff", "--publish", "github", "--jobs", "1", *args],
        cwd=pr.work, env=environment, capture_output=True, text=True, timeout=120,
    )


def read_outputs(tmp: Path) -> dict[str, str]:
    text = (tmp / "github-output.txt").read_text()
    values, lines = {}, iter(text.splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        values[name] = next(lines)
        assert next(lines) == delimiter
    return values
