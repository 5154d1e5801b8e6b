"""The GitLab pieces that need no server: the CI context, line pairs and positions, bounded retries."""

from __future__ import annotations

import pytest

from reviewer.commands.errors import UsageError
from reviewer.platforms.gitlab_context import NoMergeRequest, load_context, server_url
from reviewer.platforms.gitlab_positions import DiffRefs, diff_files, line_pairs, position
from reviewer.publish.retry import Retrier, Transient, parse_retry_after

SHA_A, SHA_B = "a" * 40, "b" * 40
CI = {
    "GITLAB_CI": "true",
    "CI_PROJECT_ID": "42",
    "CI_MERGE_REQUEST_IID": "7",
    "CI_MERGE_REQUEST_DIFF_BASE_SHA": SHA_A,
    "CI_COMMIT_SHA": SHA_B,
    "CI_API_V4_URL": "https://git.example.com/gitlab/api/v4",
    "CI_SERVER_URL": "https://git.example.com/gitlab",
    "CI_JOB_TOKEN": "job",
}


@pytest.mark.parametrize("given, expected", [
    ("gitlab.example.com", "https://gitlab.example.com"),
    ("https://host/gitlab/", "https://host/gitlab"),
    ("https://host/gitlab/api/v4", "https://host/gitlab"),
    ("http://127.0.0.1:8080/api/v4/", "http://127.0.0.1:8080"),
])
def test_server_url(given, expected):
    assert server_url(given) == expected


def test_context_from_ci_variables_with_a_path_prefix():
    context = load_context(environ={**CI, "ARCH_REVIEW_GITLAB_TOKEN": "glpat", "GITLAB_TOKEN": "other"})
    assert context.api_url == "https://git.example.com/gitlab/api/v4"
    assert (context.project, context.iid, context.base_sha, context.pipeline_sha) == ("42", 7, SHA_A, SHA_B)
    assert context.token == "glpat" and not context.job_token


def test_token_fallbacks():
    assert load_context(environ={**CI, "GITLAB_TOKEN": "g"}).token == "g"
    job = load_context(environ=CI)
    assert job.token == "job" and job.job_token
    assert load_context(environ={k: v for k, v in CI.items() if k != "CI_JOB_TOKEN"}).token is None


def test_merged_results_pipeline_reviews_the_source_branch_head():
    context = load_context(environ={**CI, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "c" * 40})
    assert context.pipeline_sha == "c" * 40


def test_flags_win_and_leave_the_shas_to_the_api():
    context = load_context(url="https://other.example", project="group/sub/name", iid=3, environ=CI)
    assert (context.server_url, context.project, context.iid) == ("https://other.example", "group/sub/name", 3)
    assert context.base_sha is None and context.pipeline_sha is None


def test_branch_pipeline_is_not_an_error_but_a_laptop_without_mr_is():
    with pytest.raises(NoMergeRequest, match="push pipeline"):
        load_context(environ={"GITLAB_CI": "true", "CI_PROJECT_ID": "42", "CI_PIPELINE_SOURCE": "push"})
    with pytest.raises(UsageError, match="--mr IID"):
        load_context(project="acme/ml", environ={})
    with pytest.raises(UsageError, match="--project"):
        load_context(project="acme ml", iid=1, environ={})


DIFF = """@@ -1,4 +1,5 @@
 import json
-import os
+import sys
+import requests
 
 
@@ -10,3 +11,4 @@ def f():
     a = 1
+    b = 2
     return a
"""


def test_line_pairs_follow_each_hunk():
    assert line_pairs(DIFF) == {1: 1, 2: None, 3: None, 4: 3, 5: 4, 11: 10, 12: None, 13: 11}


def test_line_pairs_skip_file_headers_and_no_newline_markers():
    text = "--- a/x.py\n+++ b/x.py\n@@ -1 +1,2 @@\n-x\n\\ No newline at end of file\n+y\n+z\n"
    assert line_pairs(text) == {1: None, 2: None}


def test_positions_for_added_context_renamed_and_unknown_lines():
    refs = DiffRefs("base", "start", "head")
    files = diff_files([
        {"old_path": "old.py", "new_path": "new.py", "renamed_file": True, "diff": DIFF},
        {"old_path": "gone.py", "new_path": "gone.py", "deleted_file": True, "diff": "@@ -1 +0,0 @@\n-x\n"},
    ])
    assert set(files) == {"new.py"}
    added = position(refs, files["new.py"], 12)
    assert added == {"position_type": "text", "base_sha": "base", "start_sha": "start", "head_sha": "head",
                     "old_path": "old.py", "new_path": "new.py", "new_line": 12}
    assert position(refs, files["new.py"], 13)["old_line"] == 11
    assert position(refs, files["new.py"], 8) is None  # between hunks: GitLab has no line code for it


def test_retry_after_is_honoured_but_capped_and_attempts_are_bounded():
    waits, lines = [], []
    calls = iter([Transient("HTTP 429", retry_after=3600.0), Transient("HTTP 502")] + [Transient("HTTP 502")] * 9)

    class Boom(Exception):
        pass

    def action():
        raise Boom()

    retrier = Retrier("GitLab", lambda exc: next(calls), max_wait=5.0, sleep=waits.append, log=lines.append)
    with pytest.raises(Boom):
        retrier.call("posting", action)
    assert waits[0] == 5.0  # an hour asked, five seconds allowed
    assert len(waits) == 1 + 3 and max(waits) <= 5.0  # one rate-limit wait, then 3 backoffs before the 4th failure
    assert "rate limit on posting" in lines[0]


def test_a_permanent_error_is_not_retried_and_a_recheck_stops_retrying():
    sleeps = []
    retrier = Retrier("GitLab", lambda exc: None if isinstance(exc, KeyError) else Transient("HTTP 502"),
                      max_wait=1.0, sleep=sleeps.append, log=lambda _: None)
    with pytest.raises(KeyError):
        retrier.call("x", lambda: {}["missing"])
    assert sleeps == []

    def write():
        raise RuntimeError("502 after the write")

    assert retrier.call("x", write, recheck=lambda: "already there") == "already there"
    assert len(sleeps) == 1


@pytest.mark.parametrize("header, seconds", [("7", 7.0), ("-3", 0.0), ("Wed, 21 Oct 2026 07:28:00 GMT", 60.0),
                                             (None, 60.0)])
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def test_the_instance_ca_file_verifies_tls(tmp_path):
    from reviewer.platforms.gitlab import make_client

    ca = tmp_path / "ca.pem"
    context = load_context(environ={**CI, "CI_SERVER_TLS_CA_FILE": str(ca), "ARCH_REVIEW_GITLAB_TOKEN": "t"})
    client = make_client(context, last_response={})
    assert client.ssl_verify == str(ca) and client.api_url == "https://git.example.com/gitlab/api/v4"
    assert make_client(load_context(environ=CI), last_response={}).ssl_verify is True


def test_no_wait_runs_past_the_publishing_deadline(monkeypatch):
    now = [0.0]
    waits, lines = [], []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    class RateLimited(Exception):
        pass

    def action():
        raise RateLimited()

    monkeypatch.setenv("ARCH_REVIEW_PUBLISH_DEADLINE", "100")
    retrier = Retrier("GitLab", lambda exc: Transient("HTTP 429", retry_after=60.0), max_wait=60.0,
                      sleep=sleep, log=lines.append, clock=lambda: now[0])
    with pytest.raises(RateLimited):
        retrier.call("posting", action)
    assert waits == [60.0]  # a second 60 s wait would end at 120 s, past the 100 s deadline
    assert "publishing deadline reached, giving up on posting" in lines[-1]
    with pytest.raises(RateLimited):  # the deadline is the run's, not the call's
        retrier.call("the summary", action)
    assert waits == [60.0]
