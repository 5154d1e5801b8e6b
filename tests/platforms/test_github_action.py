"""End to end: the CLI as the Action runs it (subprocess, Actions environment), PyGithub
talking HTTP to the fake API, which checks every request and response against the spec."""

from __future__ import annotations

import json

from tests.platforms.conftest import APP_AT_HEAD, calls, read_outputs, run_action

from fake_github import Fault


def fp_comments(fake):
    return [c for c in fake.review_comments if "arch-review:fp=" in c["body"] and "in_reply_to_id" not in c]


def test_first_run_posts_one_review_at_the_head_lines_and_a_summary(pr, fake, tmp_path):
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(fake.reviews) == 1 and fake.reviews[0]["commit_id"] == pr.head_sha
    review = fake.writes("POST", r"/reviews$")[0][2]
    assert review["event"] == "COMMENT"
    by_path = {(c["path"], c["line"]) for c in review["comments"]}
    # fetch_c is at this line in the head's app.py; the merge commit has it 3 lines lower.
    head_line = APP_AT_HEAD.splitlines().index("    return requests.get(url)") + 1
    assert ("app.py", head_line) in by_path
    assert {path for path, _ in by_path} == {"app.py", "svc.py"}
    assert len(review["comments"]) == 3
    assert all("<!-- arch-review:fp=" in c["body"] and "docs" in c["body"] for c in review["comments"])
    assert len(fake.issue_comments) == 1
    summary = fake.issue_comments[0]["body"]
    assert "<!-- arch-review:summary -->" in summary and pr.head_sha in summary
    assert len(fake.check_runs) == 1
    outputs = read_outputs(tmp_path)
    assert outputs["findings"] == "3" and outputs["blocking"] == "0"
    assert outputs["sarif-file"] == "arch-review-results/arch-review.sarif"
    assert json.loads((pr.work / outputs["sarif-file"]).read_text())["version"] == "2.1.0"
    assert "arch-review" in (tmp_path / "step-summary.md").read_text()


def test_rerun_posts_nothing_new_and_edits_the_summary_in_place(pr, fake, tmp_path):
    pr.checkout_merge()
    pr.sync(fake)
    assert run_action(pr, fake, tmp_path).returncode == 0
    before = len(fake.review_comments)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(fake.reviews) == 1 and len(fake.review_comments) == before
    assert len(fake.issue_comments) == 1
    assert not fake.writes("POST", r"/issues/\d+/comments$")[1:]


def test_push_that_fixes_one_finding_replies_resolved_and_one_that_adds_one_posts_only_it(pr, fake, tmp_path):
    pr.checkout_merge()
    pr.sync(fake)
    assert run_action(pr, fake, tmp_path).returncode == 0
    fixed_sha = pr.push({"svc.py": calls(["fetch_a", "fetch_b"], timeout=("fetch_a",))})
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    replies = [c for c in fake.review_comments if c.get("in_reply_to_id")]
    assert len(replies) == 1 and f"Resolved in {fixed_sha}" in replies[0]["body"]
    assert len(fake.reviews) == 1
    pr.push({"svc.py": calls(["fetch_a", "fetch_b", "fetch_d"], timeout=("fetch_a",))})
    pr.checkout_merge()
    pr.sync(fake)
    assert run_action(pr, fake, tmp_path).returncode == 0
    assert len(fake.reviews) == 2
    new = fake.writes("POST", r"/reviews$")[-1][2]["comments"]
    assert len(new) == 1 and new[0]["path"] == "svc.py"
    assert len([c for c in fake.review_comments if c.get("in_reply_to_id")]) == 1
    assert len(fake.issue_comments) == 1


def test_fork_pr_without_write_access_falls_back_to_annotations(pr, fake, tmp_path):
    fake.read_only = True
    pr.checkout_merge()
    pr.sync(fake, head_repo="someone/ml")
    done = run_action(pr, fake, tmp_path, "--fail-level", "high", head_repo="someone/ml")
    assert done.returncode == 1  # fail-level decides, not the API
    assert "pull-requests: write" in done.stderr
    assert done.stderr.count("cannot write") == 1
    assert done.stdout.count("::error file=") == 3
    assert "Found 3 findings" in (tmp_path / "step-summary.md").read_text()
    assert read_outputs(tmp_path)["blocking"] == "3"
    assert fake.reviews == [] and fake.issue_comments == []


def test_a_422_moves_the_questions_to_the_summary(pr, fake, tmp_path):
    fake.faults.append(Fault("POST", r"/reviews$", 422, body={
        "message": "Unprocessable Entity", "errors": ["Pull request review thread line must be part of the diff"],
        "documentation_url": "https://docs.github.com/rest"}))
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "422" in done.stderr
    assert fake.reviews == []
    assert "Not on a line of the diff: 3" in fake.issue_comments[0]["body"]


def test_a_502_after_the_review_was_created_does_not_post_it_twice(pr, fake, tmp_path):
    fake.faults.append(Fault("POST", r"/reviews$", 502, after=True))
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(fake.reviews) == 1 and len(fp_comments(fake)) == 3
    assert len(fake.writes("POST", r"/reviews$")) == 1


def test_secondary_rate_limit_is_waited_out(pr, fake, tmp_path):
    fake.faults.append(Fault("POST", r"/issues/\d+/comments$", 403, headers={"Retry-After": "1"}, body={
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        "documentation_url": "https://docs.github.com/rest"}))
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "rate limit" in done.stderr
    assert len(fake.issue_comments) == 1 and len(fake.reviews) == 1


def test_more_findings_than_max_comments_go_to_the_summary(pr, fake, tmp_path):
    pr.push({"svc.py": calls([f"fetch_{i}" for i in range(8)])})
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path, "--max-comments", "4")
    assert done.returncode == 0, done.stderr
    assert len(fake.writes("POST", r"/reviews$")[0][2]["comments"]) == 4
    assert "over the comment budget): 5" in fake.issue_comments[0]["body"]


def test_shallow_checkout_of_the_merge_commit_fetches_base_and_head(pr, fake, tmp_path):
    pr.checkout_merge(depth=1)
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(fake.writes("POST", r"/reviews$")[0][2]["comments"]) == 3


def test_enterprise_base_url(pr, tmp_path):
    from fake_github import FakeGitHub

    with FakeGitHub(prefix="/api/v3") as ghe:
        pr.checkout_merge()
        pr.sync(ghe)
        done = run_action(pr, ghe, tmp_path)
        assert done.returncode == 0, done.stderr
        assert len(ghe.reviews) == 1
        assert all(path.startswith("/api/v3/") for _, path, _ in ghe.requests)
    assert ghe.errors == []


def test_api_down_leaves_findings_locally_and_never_fails_the_job(pr, fake, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    pr.checkout_merge()
    done = run_action(pr, fake, tmp_path, env={"GITHUB_API_URL": closed})
    assert done.returncode == 0, done.stderr
    assert "step summary" in done.stderr
    assert done.stdout.count("::error file=") == 3
    assert "Found 3 findings" in (tmp_path / "step-summary.md").read_text()
    findings = json.loads((pr.work / "arch-review-results" / "arch-review.json").read_text())["findings"]
    assert len(findings) == 3


def test_without_a_token_it_annotates_and_says_so(pr, fake, tmp_path):
    pr.checkout_merge()
    done = run_action(pr, fake, tmp_path, env={"GITHUB_TOKEN": ""})
    assert done.returncode == 0, done.stderr
    assert "no GITHUB_TOKEN" in done.stderr and done.stdout.count("::error") == 3
    assert fake.requests == []


def test_check_run_conclusion_follows_fail_level(pr, fake, tmp_path):
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path, "--fail-level", "medium")
    assert done.returncode == 1
    (run,) = fake.check_runs.values()
    assert run["conclusion"] == "failure" and len(run["_annotations"]) == 3
    assert read_outputs(tmp_path)["blocking"] == "3"


def test_a_502_after_the_summary_was_created_does_not_create_a_second(pr, fake, tmp_path):
    fake.faults.append(Fault("POST", r"/issues/\d+/comments$", 502, after=True))
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(fake.issue_comments) == 1 and len(fake.writes("POST", r"/issues/\d+/comments$")) == 1


def test_no_checks_permission_only_skips_the_check_run(pr, fake, tmp_path):
    fake.faults.append(Fault("POST", r"/check-runs$", 403, body={
        "message": "Resource not accessible by integration", "documentation_url": "x"}))
    pr.checkout_merge()
    pr.sync(fake)
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "checks: write" in done.stderr and "::error" not in done.stdout
    assert len(fake.reviews) == 1 and len(fake.issue_comments) == 1 and fake.check_runs == {}


def test_a_502_after_a_resolved_reply_was_made_does_not_reply_twice(pr, fake, tmp_path):
    pr.checkout_merge()
    pr.sync(fake)
    assert run_action(pr, fake, tmp_path).returncode == 0
    pr.push({"svc.py": calls(["fetch_a", "fetch_b"], timeout=("fetch_a", "fetch_b"))})
    pr.checkout_merge()
    pr.sync(fake)
    fake.faults.append(Fault("POST", r"/replies$", 502, after=True))
    done = run_action(pr, fake, tmp_path)
    assert done.returncode == 0, done.stderr
    replies = [c for c in fake.review_comments if c.get("in_reply_to_id")]
    assert len(replies) == 2 and len({c["in_reply_to_id"] for c in replies}) == 2


def test_pull_request_target_reviews_the_head_without_checking_it_out(pr, fake, tmp_path):
    import subprocess

    # pull_request_target checks out the base branch; the head's files are only read as git blobs.
    subprocess.run(["git", "clone", "-q", "--depth=1", "--branch", "main", pr.origin.path.as_uri(), str(pr.work)],
                   check=True)
    pr.sync(fake, head_repo="someone/ml")
    done = run_action(pr, fake, tmp_path, head_repo="someone/ml", env={"GITHUB_EVENT_NAME": "pull_request_target"})
    assert done.returncode == 0, done.stderr
    assert not (pr.work / "svc.py").exists()
    assert len(fake.writes("POST", r"/reviews$")[0][2]["comments"]) == 3


def test_a_502_after_the_check_run_was_created_does_not_create_a_second(pr, fake, tmp_path):
    fake.faults.append(Fault("POST", r"/check-runs$", 502, after=True))
    pr.checkout_merge()
    pr.sync(fake)
    assert run_action(pr, fake, tmp_path).returncode == 0
    assert len(fake.check_runs) == 1
    assert any(method == "GET" and path.endswith(f"/commits/{pr.head_sha}/check-runs")
               for method, path, _ in fake.requests)
    assert run_action(pr, fake, tmp_path).returncode == 0  # a rerun on the same head makes its own
    assert len(fake.check_runs) == 2
