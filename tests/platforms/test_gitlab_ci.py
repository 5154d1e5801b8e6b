"""End to end: `arch-review diff --publish gitlab` as the CI job runs it (subprocess, GitLab CI
variables, a shallow checkout of the pipeline's commit), python-gitlab talking HTTP to the
fake GitLab API, which validates positions, tokens and paging as GitLab does."""

from __future__ import annotations

import json

import pytest

from fake_gitlab import LINE_CODE_ERROR, FakeGitLab, Fault
from gitlab_fixtures import (  # noqa: F401 - fixtures
    CLIENT,
    HEAD_APP,
    BASE_APP,
    calls,
    gitlab_api,
    line_of,
    merge_request,
    ready,
)

GET_CALL = "    return requests.get(url)"


def positions(api: FakeGitLab) -> dict[tuple[str, int], dict]:
    return {(d["notes"][0]["position"]["new_path"], d["notes"][0]["position"]["new_line"]): d["notes"][0]["position"]
            for d in api.mr().discussions if "position" in d["notes"][0]}


def summaries(api: FakeGitLab) -> list[dict]:
    return [n for n in api.mr().notes if "<!-- arch-review:summary -->" in n["body"]]


def test_first_run_opens_one_discussion_per_finding_at_positions_gitlab_accepts(ready, tmp_path):
    mr, api = ready
    done = mr.run(api, tmp_path, "--format", "codeclimate", "--output", "gl-code-quality-report.json")
    assert done.returncode == 0, done.stderr
    found = positions(api)
    svc = calls(["fetch_a", "fetch_b"])
    assert set(found) == {("svc.py", 5), ("svc.py", 9), ("app.py", line_of(HEAD_APP, GET_CALL)),
                          ("client.py", line_of(CLIENT, GET_CALL))}
    assert line_of(svc, GET_CALL) == 5
    version = api.mr().latest
    for place in found.values():
        assert (place["base_sha"], place["start_sha"], place["head_sha"]) == \
            (version.base_sha, version.start_sha, version.head_sha)
        assert "old_line" not in place  # every one is on an added line
    assert found[("client.py", line_of(CLIENT, GET_CALL))]["old_path"] == "legacy.py"  # a renamed file
    assert found[("svc.py", 5)]["old_path"] == "svc.py"  # a new file: old_path = new_path
    assert all("<!-- arch-review:fp=" in d["notes"][0]["body"] for d in api.mr().discussions)
    [summary] = summaries(api)
    assert mr.head_sha in summary["body"] and summary["author"]["id"] == api.bot["id"]
    assert {"private-token"} == api.auth_headers
    report = json.loads((mr.work / "gl-code-quality-report.json").read_text())
    by_path = {issue["location"]["path"] for issue in report}
    assert by_path == {"svc.py", "app.py", "client.py"} and all(len(i["fingerprint"]) >= 16 for i in report)
    assert len(json.loads((mr.work / "arch-review-results/arch-review.json").read_text())["findings"]) == 4
    assert "4 new discussion(s)" in done.stderr


def test_rerun_reads_every_page_and_posts_nothing_new(ready, tmp_path):
    mr, api = ready
    quoted = api._note("our bot said:\n\n<!-- arch-review:summary -->", api.person)
    api.mr().notes.append(quoted)  # a person quoting the marker: their note is never edited
    assert mr.run(api, tmp_path).returncode == 0
    first = len(api.mr().discussions)
    api.mr().notes.append(api._note("unrelated system note", api.person, system=True))
    done = mr.run(api, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(api.mr().discussions) == first == 4
    assert len(summaries(api)) == 2 and len(api.writes("POST", r"/notes$")) == 1
    assert quoted["body"].startswith("our bot said") and len(api.writes("PUT", r"/notes/")) <= 1
    # four discussions, two per page: the rerun followed the Link header to page 2
    assert any("page" in q for q in api.page_queries("/discussions"))
    assert "0 new discussion(s), 4 already open" in done.stderr


def test_push_that_fixes_a_finding_resolves_its_discussion_with_a_note(ready, tmp_path):
    mr, api = ready
    assert mr.run(api, tmp_path).returncode == 0
    fixed = mr.push({"svc.py": calls(["fetch_a", "fetch_b"], timeout=("fetch_a",))})
    mr.sync(api)
    mr.checkout()
    api.faults.append(Fault("POST", r"/discussions/[0-9a-f]+/notes$", 502, after=True))  # noted, then a 502
    done = mr.run(api, tmp_path)
    assert done.returncode == 0, done.stderr
    by_line = {d["notes"][0]["position"]["new_line"]: d for d in api.mr().discussions
               if d["notes"][0]["position"]["new_path"] == "svc.py"}
    gone = by_line[5]
    assert gone["notes"][0]["resolved"] is True and len(gone["notes"]) == 2
    assert f"Resolved in {fixed}" in gone["notes"][1]["body"]
    assert not by_line[9]["notes"][0]["resolved"]
    assert len(api.mr().discussions) == 4 and len(summaries(api)) == 1
    assert "Resolved since the last run: 1" in summaries(api)[0]["body"]
    # a third run does not note or resolve it again
    assert mr.run(api, tmp_path).returncode == 0
    assert len(gone["notes"]) == 2


def test_stale_pipeline_posts_nothing_and_says_so(ready, tmp_path):
    mr, api = ready
    old_head = mr.head_sha
    newer = mr.push({"svc.py": calls(["fetch_a"])})
    mr.sync(api)
    done = mr.run(api, tmp_path, CI_COMMIT_SHA=old_head)
    assert done.returncode == 0, done.stderr
    assert not api.writes("POST") and not api.writes("PUT")
    assert f"moved on to {newer}" in done.stderr and "nothing posted" in done.stderr
    assert (mr.work / "arch-review-results/arch-review.json").exists()


@pytest.mark.parametrize("token_env", [
    {"ARCH_REVIEW_GITLAB_TOKEN": None},  # only CI_JOB_TOKEN: sent as JOB-TOKEN, refused
    {"ARCH_REVIEW_GITLAB_TOKEN": "glpat-read"},  # a token without the api scope: 403 on the first write
    {"ARCH_REVIEW_GITLAB_TOKEN": None, "CI_JOB_TOKEN": None},  # no token at all: no request
], ids=["job-token", "read-api-token", "no-token"])
def test_a_token_that_cannot_write_leaves_the_reports_and_one_line_naming_the_token(ready, tmp_path, token_env):
    mr, api = ready
    done = mr.run(api, tmp_path, "--format", "codeclimate", "--output", "gl-code-quality-report.json",
                  "--fail-level", "high", **token_env)
    assert done.returncode == 1, done.stderr  # the findings decide, not the API
    hints = [line for line in done.stderr.splitlines() if "ARCH_REVIEW_GITLAB_TOKEN" in line]
    assert len(hints) == 1 and "`api` scope" in hints[0] and "project access token" in hints[0]
    assert len(json.loads((mr.work / "gl-code-quality-report.json").read_text())) == 4
    assert (mr.work / "arch-review-results/arch-review.json").exists()
    assert api.mr().discussions == [] and api.mr().notes == []
    if "CI_JOB_TOKEN" in token_env:
        assert api.requests == [] and "no token" in hints[0]
    elif token_env["ARCH_REVIEW_GITLAB_TOKEN"] is None:
        assert api.auth_headers == {"job-token"} and "CI_JOB_TOKEN cannot write" in hints[0]
    else:
        assert len(api.writes("POST")) == 1  # stopped at the first refused write


def test_a_400_on_one_position_demotes_that_finding_to_the_summary(ready, tmp_path):
    mr, api = ready
    api.faults.append(Fault("POST", r"/discussions$", 400, body=LINE_CODE_ERROR))
    done = mr.run(api, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(api.mr().discussions) == 3
    [summary] = summaries(api)
    assert "Not on a line of the diff: 1" in summary["body"]
    assert "GitLab refused the position" in done.stderr and "line_code" in done.stderr


def test_context_line_gets_old_and_new_line(ready, tmp_path):
    """diff_context reports ping(), unchanged but inside the hunk: GitLab wants both lines."""
    mr, api = ready
    done = mr.run(api, tmp_path, "--filter-mode", "diff_context")
    assert done.returncode == 0, done.stderr
    place = positions(api)[("app.py", line_of(HEAD_APP, GET_CALL) + 4)]
    assert place["old_line"] == BASE_APP.splitlines().index(GET_CALL) + 1
    assert place["old_line"] != place["new_line"]
    assert len(api.mr().discussions) == 5


def test_transient_faults_are_retried_without_duplicates(ready, tmp_path):
    mr, api = ready
    api.faults += [
        Fault("GET", r"/merge_requests/1$", 429, headers={"Retry-After": "30"}),
        Fault("POST", r"/discussions$", 502, after=True),  # written, but the client saw a 502
        Fault("POST", r"/notes$", 409, body={"message": "409 Conflict"}),
        Fault("GET", r"/versions$", 503, times=2),
    ]
    done = mr.run(api, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(api.mr().discussions) == 4 and len(summaries(api)) == 1
    assert "waiting 0s" in done.stderr  # Retry-After honoured, capped by ARCH_REVIEW_GITLAB_MAX_WAIT
    assert all(fault.times == 0 for fault in api.faults)


def test_persistent_failure_keeps_the_exit_code_and_the_reports(ready, tmp_path):
    mr, api = ready
    api.faults.append(Fault("POST", r"/discussions$", 502, times=100))
    done = mr.run(api, tmp_path, "--fail-level", "high")
    assert done.returncode == 1, done.stderr
    assert "GitLab failed while opening a discussion" in done.stderr
    assert len(json.loads((mr.work / "arch-review-results/arch-review.json").read_text())["findings"]) == 4


def test_self_managed_instance_under_a_path_prefix(merge_request, tmp_path):
    with FakeGitLab(prefix="/gitlab") as api:
        merge_request.sync(api)
        merge_request.checkout()
        done = merge_request.run(api, tmp_path)
        assert done.returncode == 0, done.stderr
        assert len(api.mr().discussions) == 4 and len(summaries(api)) == 1
        assert merge_request.run(api, tmp_path).returncode == 0  # paging links keep the prefix
        assert len(api.mr().discussions) == 4
    assert api.errors == []
    assert api.url.endswith("/gitlab")


def test_laptop_flags_with_an_encoded_project_path(ready, tmp_path):
    mr, api = ready
    env = {name: None for name in ("GITLAB_CI", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_DIFF_BASE_SHA",
                                   "CI_COMMIT_SHA", "CI_PROJECT_ID", "CI_PROJECT_PATH", "CI_API_V4_URL",
                                   "CI_SERVER_URL", "CI_JOB_TOKEN")}
    done = mr.run(api, tmp_path, "--gitlab-url", api.api_url, "--project", "acme/ml", "--mr", "1", **env)
    assert done.returncode == 0, done.stderr
    assert len(api.mr().discussions) == 4
    assert {segment for _, path, segment, _ in api.requests if path.startswith("/projects/")} == {"acme%2Fml"}


def test_branch_pipeline_has_nothing_to_publish(ready, tmp_path):
    mr, api = ready
    done = mr.run(api, tmp_path, "--base", mr.base_sha, CI_MERGE_REQUEST_IID=None, CI_PIPELINE_SOURCE="push")
    assert done.returncode == 0, done.stderr
    assert "nothing to publish: this push pipeline is not for a merge request" in done.stderr
    assert api.requests == []


def test_the_dry_run_prints_exactly_the_discussions_that_are_opened(ready, tmp_path):
    mr, api = ready
    dry = mr.run(api, tmp_path, "--format", "gitlab-discussions-json", "--base", mr.base_sha, publish=False)
    assert dry.returncode == 0, dry.stderr
    assert api.requests == []
    planned = json.loads(dry.stdout)
    assert mr.run(api, tmp_path).returncode == 0
    posted = [body for _, _, _, body in api.writes("POST", r"/discussions$")]
    for discussion in planned + posted:
        discussion["position"].pop("start_sha")  # the dry run knows no target branch tip, only the merge-base
    assert planned == posted and len(posted) == 4


def test_findings_flag_is_refused_with_one_line(ready, tmp_path):
    mr, api = ready
    done = mr.run(api, tmp_path, "--findings", "report.json")
    assert done.returncode == 2 and "--findings is the GitHub fork recipe" in done.stderr
    assert "Traceback" not in done.stderr and api.requests == []
