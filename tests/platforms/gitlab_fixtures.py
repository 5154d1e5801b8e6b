"""A merge request in a real git repository, GitLab CI's variables for it, and the fake API.

Imported by the GitLab test modules (the GitHub fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo, isolate_git
from tests.platforms.conftest import calls

from fake_gitlab import FakeGitLab, Version

REPO_ROOT = Path(__file__).resolve().parents[2]

LEGACY = "".join(f"def helper_{n}(value):\n    return value + {n}\n\n\n" for n in range(6))
BASE_APP = (
    "import json\nimport requests\n\n\ndef load(path):\n    with open(path) as f:\n        return json.load(f)\n"
    "\n\ndef ping(url):\n    return requests.get(url)\n"
)
HEAD_APP = BASE_APP.replace("\n\ndef ping", "\n\ndef fetch_c(url):\n    return requests.get(url)\n\n\ndef ping")
CLIENT = "import requests\n\n\n" + LEGACY + "def fetch_d(url):\n    return requests.get(url)\n"


def line_of(text: str, snippet: str) -> int:
    return text.splitlines().index(snippet) + 1


@dataclass
class MergeRequestRepo:
    """origin (main + feature) and a CI checkout of the pipeline's commit, as the runner makes it."""

    origin: GitRepo
    work: Path
    iid: int = 1

    @property
    def head_sha(self) -> str:
        return self.origin.sha("feature")

    @property
    def base_sha(self) -> str:
        return self.origin.git("merge-base", "main", "feature").strip()

    def push(self, files: dict[str, str], message: str = "push") -> str:
        self.origin.git("checkout", "-q", "feature")
        sha = self.origin.commit(message, files)
        self.origin.git("checkout", "-q", "main")
        return sha

    def checkout(self, depth: int = 2) -> None:
        """A shallow fetch of the source branch, detached at its head (GIT_DEPTH)."""
        if self.work.exists():
            subprocess.run(["rm", "-rf", str(self.work)], check=True)
        repo = GitRepo.init(self.work)
        repo.git("remote", "add", "origin", self.origin.path.as_uri())
        repo.git("fetch", "-q", "--no-tags", f"--depth={depth}", "origin", "+refs/heads/feature:refs/remotes/origin/feature")
        repo.git("checkout", "-q", "--detach", "refs/remotes/origin/feature")

    def sync(self, fake: FakeGitLab) -> None:
        """A new MR version when the source branch moved, with GitLab's per-file diffs."""
        mr = fake.mr(self.iid)
        if mr.versions and mr.versions[-1].head_sha == self.head_sha:
            return
        version = Version(len(mr.versions) + 100, self.base_sha, self.origin.sha("main"), self.head_sha,
                          self.diffs())
        mr.versions.append(version)

    def diffs(self) -> list[dict]:
        text = self.origin.git("diff", "-M", "--unified=3", self.base_sha, self.head_sha)
        entries = []
        for section in text.split("diff --git ")[1:]:
            lines = section.split("\n")
            old_path, new_path = (name[2:] for name in lines[0].split(" "))
            header = lines[: next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))]
            entries.append({
                "old_path": old_path, "new_path": new_path,
                "new_file": any(line.startswith("new file mode") for line in header),
                "renamed_file": any(line.startswith("rename from") for line in header),
                "deleted_file": any(line.startswith("deleted file mode") for line in header),
                "diff": "\n".join(lines[len(header):]),
            })
        return entries

    def ci_env(self, fake: FakeGitLab, tmp: Path, **overrides: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CI_", "GITLAB_", "ARCH_REVIEW_", "GITHUB_"))}
        env.update({
            "GITLAB_CI": "true",
            "CI": "true",
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_SERVER_URL": fake.url,
            "CI_API_V4_URL": fake.api_url,
            "CI_PROJECT_ID": str(fake.project_id),
            "CI_PROJECT_PATH": fake.project_path,
            "CI_PROJECT_DIR": str(self.work),
            "CI_MERGE_REQUEST_IID": str(self.iid),
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": self.base_sha,
            "CI_COMMIT_SHA": self.head_sha,
            "CI_DEFAULT_BRANCH": "main",
            "CI_JOB_TOKEN": "job-token-123",
            "ARCH_REVIEW_GITLAB_TOKEN": "glpat-api",
            "ARCH_REVIEW_GITLAB_MAX_WAIT": "0.01",
            "PYTHONPATH": str(REPO_ROOT),
            "XDG_CACHE_HOME": str(tmp / "cache"),
        })
        for name, value in overrides.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def run(self, fake: FakeGitLab, tmp: Path, *args: str, publish: bool = True,
            **env: str | None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "reviewer", "diff", "--jobs", "1"]
        command += ["--publish", "gitlab"] if publish else []
        return subprocess.run(
            [*command, *args],
            cwd=self.work, env=self.ci_env(fake, tmp, **env), capture_output=True, text=True, timeout=180,
        )


@pytest.fixture
def merge_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MergeRequestRepo:
    isolate_git(monkeypatch, tmp_path)
    origin = GitRepo.init(tmp_path / "origin")
    origin.commit("base", {"app.py": BASE_APP, "legacy.py": LEGACY, "README.md": "x\n"})
    origin.git("checkout", "-q", "-b", "feature")
    origin.git("mv", "legacy.py", "client.py")
    origin.commit("feature", {"svc.py": calls(["fetch_a", "fetch_b"]), "app.py": HEAD_APP, "client.py": CLIENT})
    origin.git("checkout", "-q", "main")
    origin.commit("main moves on", {"README.md": "y\n"})
    return MergeRequestRepo(origin, tmp_path / "work")


@pytest.fixture
def gitlab_api():
    with FakeGitLab() as server:
        yield server
    assert server.errors == [], "\n".join(server.errors)


@pytest.fixture
def ready(merge_request: MergeRequestRepo, gitlab_api: FakeGitLab) -> tuple[MergeRequestRepo, FakeGitLab]:
    merge_request.sync(gitlab_api)
    merge_request.checkout()
    return merge_request, gitlab_api
