"""Part 6: the tool must not become a way in.

* Static only: nothing in reviewer/ runs or imports code it reviews (the canary of
  test_hostile_sources.py checks a real run; here the source is checked for ways to do it).
* A known token never shows in anything a run writes, with debug logging on, when the
  API fails, and when git's remote URL carries it.
* Repository text (paths, code, string literals) in a posted comment cannot leave its
  code span, mention anyone, reference an issue or forge the hidden markers.
* The documented pull_request_target and workflow_run recipes never check out PR code.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from fake_github import FakeGitHub
from fault_proxy import Fault, FaultProxy
from tests.platforms.conftest import pr, run_action  # noqa: F401 - fixture

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghs_KnownTokenValue0123456789abcdefXYZ"

HOSTILE_PATH = "svc/@octocat `tick` <!-- arch-review:fp=deadbeefdeadbeef --> #12 ![x](y).py"
HOSTILE_LITERAL = "https://evil.example/`@admin` <!-- arch-review:summary --> ``` #34 !5 <img src=x onerror=alert(1)> [link](javascript:x)"
HOSTILE_CODE = (
    "import requests\n\n\n"
    f"def fetch():\n    return requests.get({HOSTILE_LITERAL!r})\n\n\n"
    f"def fetch_again():\n    return requests.get('http://x/' + {HOSTILE_LITERAL!r})\n"
)


# --------------------------------------------------------------------------- static only

FORBIDDEN_BUILTINS = {"exec", "eval", "compile", "__import__"}
FORBIDDEN_METHODS = {"run_path", "run_module", "spec_from_file_location", "exec_module"}


def test_the_package_never_runs_or_imports_reviewed_code() -> None:
    offenders = []
    for path in sorted((REPO_ROOT / "reviewer").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            builtin = isinstance(node.func, ast.Name) and name in FORBIDDEN_BUILTINS
            if builtin or (isinstance(node.func, ast.Attribute) and name in FORBIDDEN_METHODS):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {name}()")
            if name == "import_module":
                # Only the package's own modules (detectors, commands), by a name it builds itself.
                argument = ast.unparse(node.args[0]) if node.args else ""
                if "reviewer" not in argument and "package.__name__" not in argument:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: import_module({argument})")
            if isinstance(node.func, ast.Attribute) and name == "run" and node.args:
                command = ast.unparse(node.args[0])
                if any(word in command for word in ("'checkout'", "'switch'", "'worktree'", "'python'", "sys.executable")):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: runs {command}")
    assert offenders == []


# --------------------------------------------------------------------------- tokens


def everything_written(pr, tmp_path: Path, done, server: FakeGitHub) -> str:  # noqa: F811
    texts = [done.stdout, done.stderr, repr(server.requests)]
    for folder in (tmp_path, pr.work / "arch-review-results"):
        for path in folder.rglob("*"):
            if path.is_file() and ".git" not in path.parts and path.stat().st_size < 5_000_000:
                texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


@pytest.mark.parametrize("situation", ["healthy API", "5xx storm", "token in the git remote URL"])
def test_the_token_never_appears_in_output_logs_or_comments(situation: str, pr, tmp_path: Path) -> None:  # noqa: F811
    with FakeGitHub(token=TOKEN) as server:
        if situation == "token in the git remote URL":
            pr.checkout_merge(depth=1)
            # What a careless checkout leaves behind; the fetch of base and head fails.
            pr.work.joinpath(".git", "config").write_text(
                pr.work.joinpath(".git", "config").read_text().replace(
                    pr.origin.path.as_uri(), f"http://x-access-token:{TOKEN}@127.0.0.1:9/acme/ml.git"
                )
            )
        else:
            pr.checkout_merge()
        pr.sync(server)
        debug = {"ARCH_REVIEW_DEBUG": "1"}
        if situation == "5xx storm":
            with FaultProxy(server.api_url, Fault("status", 500)) as proxy:
                done = run_action(pr, server, tmp_path, env={**debug, "GITHUB_API_URL": proxy.url})
        else:
            done = run_action(pr, server, tmp_path, env=debug)
    assert done.returncode == 0, done.stderr
    if situation == "healthy API":
        assert server.reviews, "the review must really have been posted for this case to mean anything"
    written = everything_written(pr, tmp_path, done, server)
    assert TOKEN not in written
    assert TOKEN[4:20] not in written  # nor a recognisable piece of it


# --------------------------------------------------------------------------- escaping

_CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_MARKER = re.compile(r"<!-- arch-review:(?:summary|fp=([0-9a-f]+)|resolved=([0-9a-f]+)) -->")


def outside_code(markdown: str) -> str:
    without_blocks = re.sub(r"^(`{3,})[^\n]*\n.*?^\1\s*$", "", markdown, flags=re.S | re.M)
    return _CODE_SPAN.sub("", without_blocks)


def test_repository_text_cannot_break_out_of_a_comment(pr, tmp_path: Path) -> None:  # noqa: F811
    pr.push({HOSTILE_PATH: HOSTILE_CODE})
    pr.checkout_merge()
    with FakeGitHub() as server:
        pr.sync(server)
        done = run_action(pr, server, tmp_path, "--max-comments", "1")
        assert done.returncode == 0, done.stderr
        assert server.errors == []
    report = json.loads((pr.work / "arch-review-results" / "arch-review.json").read_text())
    fingerprints = {finding["fingerprint"] for finding in report["findings"]}
    assert {finding["path"] for finding in report["findings"]} >= {HOSTILE_PATH}
    bodies = [review["body"] for review in server.reviews]
    bodies += [comment["body"] for comment in server.review_comments]
    bodies += [comment["body"] for comment in server.issue_comments]
    bodies.append((tmp_path / "step-summary.md").read_text())
    assert any(HOSTILE_PATH.split("/")[1][:8] in body for body in bodies), "the hostile path must be shown somewhere"
    for body in bodies:
        # Every hidden marker is a real one: the forged fingerprint and summary markers are not markers.
        for match in _MARKER.finditer(body):
            assert match.group(1) in fingerprints | {None} and match.group(2) in fingerprints | {None}, body
        assert body.count("<!-- arch-review:summary -->") <= 1
        prose = outside_code(body)
        assert not re.search(r"@(?:octocat|admin)", prose), body  # no mention outside code
        assert not re.search(r"(?<![\w&])[#!](?:12|34|5)\b", prose), body  # no issue/MR reference
        assert "<img" not in prose and "<!--" not in prose.replace("<!-- arch-review:", ""), body
        assert "](javascript:" not in prose and "![x](y)" not in prose, body


# --------------------------------------------------------------------------- workflow recipes

UNTRUSTED_REFS = re.compile(r"pull_request\.head|head_ref|refs/pull|github\.event\.workflow_run\.head")


def documented_workflows() -> list[dict]:
    text = (REPO_ROOT / "docs" / "github.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    return [document for document in map(yaml.safe_load, blocks) if isinstance(document, dict) and "jobs" in document]


def triggers(workflow: dict) -> set[str]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    return {on} if isinstance(on, str) else set(on or ())


def test_privileged_recipes_never_check_out_or_run_pr_code() -> None:
    privileged = [w for w in documented_workflows() if triggers(w) & {"pull_request_target", "workflow_run"}]
    assert {"pull_request_target", "workflow_run"} <= set().union(*map(triggers, privileged))
    for workflow in privileged:
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                uses = step.get("uses", "")
                options = step.get("with") or {}
                if uses.startswith("actions/checkout"):
                    assert "ref" not in options and "repository" not in options, step
                assert not UNTRUSTED_REFS.search(str(options)), step
                script = step.get("run", "")
                assert not re.search(r"pip install \.|python |make|pytest|npm|\./", script), step
    # The privileged single workflow uses the action, which reads the head as git blobs only.
    [target] = [w for w in privileged if "pull_request_target" in triggers(w)]
    steps = [step for job in target["jobs"].values() for step in job["steps"]]
    assert any(step.get("uses", "").startswith("arch-review/arch-review@") for step in steps)


# --------------------------------------------------------------------------- GitLab

from gitlab_fixtures import gitlab_api, merge_request, ready  # noqa: E402,F401 - fixtures

GITLAB_TOKEN = "glpat-KnownGitLabToken0123456789"


@pytest.mark.parametrize("situation", ["healthy API", "5xx storm"])
def test_the_gitlab_token_never_appears_in_output_or_logs(situation: str, ready, tmp_path: Path) -> None:  # noqa: F811
    mr, api = ready
    api.tokens[GITLAB_TOKEN] = api.tokens["glpat-api"]
    env = {"ARCH_REVIEW_GITLAB_TOKEN": GITLAB_TOKEN, "ARCH_REVIEW_DEBUG": "1"}
    if situation == "5xx storm":
        with FaultProxy(api.url, Fault("status", 500)) as proxy:
            done = mr.run(api, tmp_path, CI_SERVER_URL=proxy.url, CI_API_V4_URL=proxy.url + "/api/v4", **env)
    else:
        done = mr.run(api, tmp_path, **env)
        assert api.mr().discussions, "the review must really have been posted for this case to mean anything"
    assert done.returncode == 0, done.stderr
    texts = [done.stdout, done.stderr, repr(api.requests)]
    for folder in (tmp_path, mr.work):
        texts += [p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*")
                  if p.is_file() and ".git" not in p.parts and p.stat().st_size < 5_000_000]
    written = "\n".join(texts)
    assert GITLAB_TOKEN not in written and GITLAB_TOKEN[6:22] not in written
