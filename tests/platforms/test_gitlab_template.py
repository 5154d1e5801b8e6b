"""templates/arch-review.yml: valid against GitLab's CI schema (as check-jsonschema ships it,
offline), its inputs all used, and its script run by sh with the CI variables as the job runs
it, against the fake GitLab API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fake_gitlab import FakeGitLab
from gitlab_fixtures import (  # noqa: F401 - fixtures
    REPO_ROOT,
    MergeRequestRepo,
    gitlab_api,
    merge_request,
    ready,
)

TEMPLATE = REPO_ROOT / "templates" / "arch-review.yml"
INPUTS = {"stage", "image", "fail_level", "filter_mode", "max_comments", "config"}
_INPUT = re.compile(r"\$\[\[\s*inputs\.([a-z_]+)\s*\]\]")


def documents() -> tuple[dict, dict]:
    header, jobs = yaml.safe_load_all(TEMPLATE.read_text())
    return header, jobs


def check_schema(tmp_path: Path, *docs: dict) -> subprocess.CompletedProcess[str]:
    files = []
    for number, doc in enumerate(docs):
        path = tmp_path / f"doc{number}.json"
        path.write_text(json.dumps(doc))
        files.append(str(path))
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", *files],
                          capture_output=True, text=True, timeout=120)


def test_both_documents_validate_against_gitlab_ci_schema(tmp_path):
    done = check_schema(tmp_path, *documents())
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_job_with_inputs_interpolated_validates(tmp_path):
    """What GitLab validates after include: the inputs' values in place (max_comments is a number)."""
    header, _ = documents()
    text = TEMPLATE.read_text().split("\n---\n", 1)[1]
    for name, spec in header["spec"]["inputs"].items():
        value = spec["default"] if name != "config" else ".arch-review.yml"
        text = re.sub(r"\$\[\[\s*inputs\." + name + r"\s*\]\]", str(value), text)
    jobs = yaml.safe_load(text)
    assert jobs["arch-review"]["variables"]["ARCH_REVIEW_MAX_COMMENTS"] == 25
    done = check_schema(tmp_path, jobs)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_can_fail(tmp_path):
    header, jobs = documents()
    jobs["arch-review"]["artifacts"]["when"] = "sometimes"
    header["spec"]["inputs"]["fail_level"]["type"] = "colour"
    done = check_schema(tmp_path, header, jobs)
    assert done.returncode == 1 and done.stdout.count("doc") >= 2, done.stdout


def test_inputs_are_the_documented_ones_and_all_used():
    header, _ = documents()
    inputs = header["spec"]["inputs"]
    assert set(inputs) == INPUTS
    assert set(_INPUT.findall(TEMPLATE.read_text())) == INPUTS
    assert inputs["max_comments"]["default"] == 25 and inputs["fail_level"]["default"] == "none"
    assert set(inputs["filter_mode"]["options"]) == {"added", "diff_context", "file", "nofilter"}


def test_job_runs_on_merge_requests_and_the_default_branch_and_reports_code_quality():
    _, jobs = documents()
    job = jobs["arch-review"]
    conditions = [rule["if"] for rule in job["rules"]]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in conditions
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in conditions
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always"
    assert job["image"]["entrypoint"] == [""]  # the image's entrypoint is the CLI, GitLab needs a shell


def test_the_image_has_the_gitlab_extra():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs and all("gitlab" in line for line in installs)


def job_environment(mr: MergeRequestRepo, api: FakeGitLab, tmp: Path, **overrides: str | None) -> dict[str, str]:
    """The job's variables with the inputs' defaults interpolated, and arch-review on PATH."""
    header, jobs = documents()
    defaults = {name: str(spec["default"]) for name, spec in header["spec"]["inputs"].items()}
    env = mr.ci_env(api, tmp, **overrides)
    for name, value in jobs["arch-review"]["variables"].items():
        env[name] = _INPUT.sub(lambda m: defaults[m[1]], str(value))
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "arch-review"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reviewer "$@"\n')
    shim.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_job(mr: MergeRequestRepo, api: FakeGitLab, tmp: Path, **overrides: str | None) -> list[subprocess.CompletedProcess]:
    _, jobs = documents()
    env = job_environment(mr, api, tmp, **overrides)
    done = []
    for line in jobs["arch-review"]["script"]:
        step = subprocess.run(["sh", "-ec", line], cwd=mr.work, env=env, capture_output=True, text=True, timeout=300)
        done.append(step)
        if step.returncode != 0:
            break
    return done


def test_merge_request_pipeline_runs_the_job_script(ready, tmp_path):
    mr, api = ready
    steps = run_job(mr, api, tmp_path)
    assert [s.returncode for s in steps] == [0, 0], "\n".join(s.stderr for s in steps)
    report = json.loads((mr.work / "gl-code-quality-report.json").read_text())
    # the whole project: ping() in app.py predates the MR and is in the report (GitLab compares by fingerprint)
    assert {issue["location"]["path"] for issue in report} == {"app.py", "svc.py", "client.py"}
    assert len(report) == 5
    assert len(api.mr().discussions) == 4 and len(api.mr().notes) == 1
    assert (mr.work / "arch-review-results" / "arch-review.json").exists()


def test_job_token_only_still_writes_code_quality_json_and_one_hint(ready, tmp_path):
    mr, api = ready
    steps = run_job(mr, api, tmp_path, ARCH_REVIEW_GITLAB_TOKEN=None)
    assert [s.returncode for s in steps] == [0, 0], "\n".join(s.stderr for s in steps)
    assert len(json.loads((mr.work / "gl-code-quality-report.json").read_text())) == 5
    assert (mr.work / "arch-review-results" / "arch-review.json").exists()
    log = steps[1].stderr
    assert sum("ARCH_REVIEW_GITLAB_TOKEN" in line for line in log.splitlines()) == 1, log
    assert api.mr().discussions == []


def test_default_branch_pipeline_writes_only_the_base_report(ready, tmp_path):
    mr, api = ready
    steps = run_job(mr, api, tmp_path, CI_MERGE_REQUEST_IID=None, CI_PIPELINE_SOURCE="push",
                    CI_COMMIT_BRANCH="main")
    assert [s.returncode for s in steps] == [0, 0]
    assert len(json.loads((mr.work / "gl-code-quality-report.json").read_text())) == 5
    assert api.requests == []


@pytest.mark.parametrize("config", ["", "ci/arch-review.yml"])
def test_config_input_is_passed_only_when_set(ready, tmp_path, config):
    mr, api = ready
    (mr.work / "ci").mkdir()
    (mr.work / "ci" / "arch-review.yml").write_text("ignore: [no-timeout]\n")
    header, jobs = documents()
    env = job_environment(mr, api, tmp_path, ARCH_REVIEW_GITLAB_TOKEN=None)
    env["ARCH_REVIEW_CONFIG"] = config
    line = jobs["arch-review"]["script"][0]
    done = subprocess.run(["sh", "-ec", line], cwd=mr.work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads((mr.work / "gl-code-quality-report.json").read_text())
    assert len(report) == (0 if config else 5)
