"""Part 5: the code host misbehaving for the whole run. Whatever the API does, the job
ends in bounded time, every finding is in the local outputs (JSON, SARIF, step summary,
annotations) and the exit code follows --fail-level only."""

from __future__ import annotations

import json
import time

import pytest

from fault_proxy import Fault, FaultProxy
from tests.platforms.conftest import fake, pr, run_action  # noqa: F401 - fixtures

FAULTS = {
    "5xx storm": Fault("status", 502),
    "503 storm": Fault("status", 503),
    "403 everywhere": Fault("status", 403),
    "404 everywhere": Fault("status", 404),
    "malformed JSON": Fault("garbage"),
    "dropped connections": Fault("drop"),
    "slow answers": Fault("slow", seconds=0.5),
}
# ARCH_REVIEW_GITHUB_MAX_WAIT=0.01 (run_action) caps each backoff; the rest is the retries.
BOUND_SECONDS = 90


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_the_job_finishes_with_every_finding_local_whatever_the_api_does(fault, pr, fake, tmp_path) -> None:  # noqa: F811
    pr.checkout_merge()
    pr.sync(fake)
    with FaultProxy(fake.api_url, fault) as proxy:
        started = time.monotonic()
        done = run_action(pr, fake, tmp_path, "--fail-level", "high", env={"GITHUB_API_URL": proxy.url})
        elapsed = time.monotonic() - started
    assert proxy.requests > 0
    assert done.returncode == 1, done.stderr  # three high findings, fail-level high: 1, API or not
    assert "Traceback" not in done.stderr
    assert elapsed < BOUND_SECONDS, elapsed
    results = pr.work / "arch-review-results"
    assert len(json.loads((results / "arch-review.json").read_text())["findings"]) == 3
    assert len(json.loads((results / "arch-review.sarif").read_text())["runs"][0]["results"]) == 3
    assert "Found 3 findings" in (tmp_path / "step-summary.md").read_text()
    if fault.kind != "slow":
        assert done.stdout.count("::error file=") == 3, done.stdout  # the fallback: annotations


def test_with_fail_level_none_the_same_storm_exits_0(pr, fake, tmp_path) -> None:  # noqa: F811
    pr.checkout_merge()
    pr.sync(fake)
    with FaultProxy(fake.api_url, FAULTS["5xx storm"]) as proxy:
        done = run_action(pr, fake, tmp_path, "--fail-level", "none", env={"GITHUB_API_URL": proxy.url})
    assert done.returncode == 0, done.stderr
    assert len(json.loads((pr.work / "arch-review-results" / "arch-review.json").read_text())["findings"]) == 3


# --------------------------------------------------------------------------- GitLab

from gitlab_fixtures import gitlab_api, merge_request, ready  # noqa: E402,F401 - fixtures

GITLAB_FAULTS = {key: FAULTS[key] for key in ("5xx storm", "403 everywhere", "malformed JSON", "dropped connections")}


@pytest.mark.parametrize("fault", GITLAB_FAULTS.values(), ids=GITLAB_FAULTS.keys())
def test_gitlab_faults_keep_the_findings_local_and_the_exit_code(fault, ready, tmp_path) -> None:  # noqa: F811
    mr, api = ready
    with FaultProxy(api.url, fault) as proxy:
        started = time.monotonic()
        done = mr.run(api, tmp_path, "--fail-level", "high", CI_SERVER_URL=proxy.url, CI_API_V4_URL=proxy.url + "/api/v4")
        elapsed = time.monotonic() - started
    assert proxy.requests > 0
    assert done.returncode == 1, done.stderr  # four high findings, fail-level high
    assert "Traceback" not in done.stderr
    assert elapsed < BOUND_SECONDS, elapsed
    assert len(json.loads((mr.work / "arch-review-results" / "arch-review.json").read_text())["findings"]) == 4
