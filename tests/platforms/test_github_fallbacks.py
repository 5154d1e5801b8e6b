"""Runs where git cannot give the change, runs from a laptop, retries, and the dry run."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.platforms.conftest import APP_AT_HEAD, actions_env, calls, read_outputs, run_action

from fake_github import Fault, FakeGitHub
from reviewer.platforms.github import Gate, GitHubPublisher
from reviewer.platforms.github_context import PullContext


def _cut_origin(pr):
    pr.work.joinpath(".git").exists()
    subprocess.run(["git", "remote", "set-url", "origin", str(pr.work.parent / "gone")], cwd=pr.work, check=True)


def test_400_files_from_the_paged_files_api_when_git_cannot_fetch(pr, fake, tmp_path):
    files = {f"pkg/mod_{i:03}.py": calls([f"fetch_{i}"]) for i in range(400)}
    pr.push(files)
    pr.checkout_merge(depth=2)  # base and head tips, not their merge-base
    _cut_origin(pr)
    pr.sync(fake)
    no_patch = next(f for f in fake.pulls[pr.number].files if f["filename"] == "pkg/mod_399.py")
    no_patch["patch"] = None  # GitHub omits the patch of a very large diff
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "files API" in done.stderr
    assert len([r for r in fake.requests if r[0] == "GET" and r[1].endswith("/files")]) == 5  # 403 files, 100 a page
    comments = fake.writes("POST", r"/reviews$")[0][2]["comments"]
    assert len(comments) == 25 and all(c["path"] != "pkg/mod_399.py" for c in comments)
    assert read_outputs(tmp_path)["findings"] == "403"
    (run,) = fake.check_runs.values()
    assert len(run["_annotations"]) == 403
    assert len(fake.writes("PATCH", r"/check-runs/")) == 8  # 50 per request
    assert "Not on a line of the diff" in fake.issue_comments[0]["body"]


def test_without_the_head_commit_nothing_is_anchored_inline(pr, fake, tmp_path):
    pr.checkout_merge(depth=1)
    _cut_origin(pr)
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert fake.reviews == []
    # Reviewed whole (the merge commit's lines are not the head's): every finding of the changed files.
    assert "Not on a line of the diff: 3" in fake.issue_comments[0]["body"]
    at_head = APP_AT_HEAD.splitlines().index("    return requests.get(url)") + 1
    assert f"app.py:{at_head + 3}" in fake.issue_comments[0]["body"]  # the merge commit's line


def test_from_a_laptop_with_flags_against_an_enterprise_host(pr, tmp_path):
    with FakeGitHub(prefix="/api/v3") as ghe:
        pr.checkout_merge()
        pr.sync(ghe)
        env = actions_env(pr, ghe, tmp_path)
        for name in ("GITHUB_ACTIONS", "GITHUB_EVENT_PATH", "GITHUB_EVENT_NAME", "GITHUB_REPOSITORY",
                     "GITHUB_API_URL", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
            env.pop(name)
        done = subprocess.run(
            [sys.executable, "-m", "reviewer", "diff", "--publish", "github", "--repo", "acme/ml",
             "--pr", str(pr.number), "--github-url", ghe.root, "--jobs", "1"],
            cwd=pr.work, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert ghe.requests[0][:2] == ("GET", f"/api/v3/repos/acme/ml/pulls/{pr.number}")
        assert ghe.reviews[0]["commit_id"] == pr.head_sha
    assert ghe.errors == []


def test_the_dry_run_prints_exactly_the_review_that_is_posted(pr, fake, tmp_path):
    pr.checkout_merge()
    pr.sync(fake)
    env = actions_env(pr, fake, tmp_path)
    dry = subprocess.run(
        [sys.executable, "-m", "reviewer", "diff", "--format", "github-review-json", "--jobs", "1",
         "--base", pr.base_sha, "--head", pr.head_sha],
        cwd=pr.work, env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert fake.requests == []
    assert run_action(pr, fake, tmp_path).returncode == 0
    assert json.loads(dry.stdout) == fake.writes("POST", r"/reviews$")[0][2]


def _publisher(fake, sleeps):
    context = PullContext(repo="acme/ml", number=7, api_url=fake.api_url, token=fake.token)
    return GitHubPublisher(context, gate=Gate(sleep=sleeps.append, log=lambda m: None, max_wait=120))


def test_retry_after_is_waited_exactly_and_5xx_back_off(fake):
    sleeps: list[float] = []
    fake.faults += [
        Fault("GET", r"/issues/7/comments$", 403, headers={"Retry-After": "7"},
              body={"message": "You have exceeded a secondary rate limit", "documentation_url": "x"}),
        Fault("GET", r"/issues/7/comments$", 503, body={"message": "busy"}, times=2),
    ]
    assert _publisher(fake, sleeps).summary_comment() is None
    assert sleeps == [7.0, 2.0, 4.0]


def test_primary_rate_limit_waits_until_reset_capped(fake):
    sleeps: list[float] = []
    fake.faults.append(Fault("GET", r"/issues/7/comments$", 403,
                             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9999999999"},
                             body={"message": "API rate limit exceeded", "documentation_url": "x"}))
    assert _publisher(fake, sleeps).summary_comment() is None
    assert sleeps == [120]


def test_fork_recipe_publishes_the_artifact_from_a_trusted_workflow_run(pr, fake, tmp_path):
    pr.checkout_merge()
    pr.sync(fake, head_repo="someone/ml")
    env = actions_env(pr, fake, tmp_path, head_repo="someone/ml")
    untrusted = {k: v for k, v in env.items() if k != "GITHUB_TOKEN"}
    made = subprocess.run(
        [sys.executable, "-m", "reviewer", "diff", "--base", pr.base_sha, "--head", pr.head_sha,
         "--format", "json", "--output", str(tmp_path / "artifact.json"), "--jobs", "1"],
        cwd=pr.work, env=untrusted, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    report = json.loads((tmp_path / "artifact.json").read_text())
    report["findings"].append({**report["findings"][0], "fingerprint": "--><img src=x>"})
    (tmp_path / "artifact.json").write_text(json.dumps(report))
    # The trusted job checks out only the default branch, never the PR's code.
    trusted = tmp_path / "trusted"
    subprocess.run(["git", "clone", "-q", str(pr.origin.path), str(trusted)], check=True)
    (tmp_path / "run-event.json").write_text(json.dumps({"workflow_run": {"event": "pull_request", "id": 1}}))
    env.update({"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": str(tmp_path / "run-event.json")})
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", "diff", "--publish", "github", "--pr", str(pr.number),
         "--findings", str(tmp_path / "artifact.json"), "--head", pr.head_sha],
        cwd=trusted, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "not a valid finding" in done.stderr
    assert len(fake.reviews) == 1 and fake.reviews[0]["commit_id"] == pr.head_sha
    assert len(fake.writes("POST", r"/reviews$")[0][2]["comments"]) == 3
    assert len(fake.issue_comments) == 1
