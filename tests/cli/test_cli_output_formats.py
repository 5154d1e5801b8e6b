"""`arch-review scan examples/` from the repository root, in every output format."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest

from cli_helpers import (
    EXAMPLES,
    FAMILIES,
    FINDING_KEYS,
    REPO_ROOT,
    SARIF_SCHEMA,
    SEVERITIES,
    TOP_LEVEL_KEYS,
    CliResult,
    assert_exit,
    findings,
    run_many,
    where,
    without_seconds,
)

HEX = re.compile(r"[0-9a-f]{16,}")
RULE_ID = re.compile(r"[A-Z]+[0-9]+")


FORMATS = ("json", "sarif", "codeclimate", "markdown", "text")


@pytest.fixture(scope="module")
def runs(module_env: dict[str, str]) -> dict[str, CliResult]:
    """One run per format, plus a second json run, side by side; shared by the tests."""
    names = [*FORMATS, "json-again"]
    jobs = [(["scan", "examples/", "--format", name.split("-")[0]], REPO_ROOT) for name in names]
    results = dict(zip(names, run_many(jobs, env=module_env)))
    for result in results.values():
        assert_exit(result, 0, 1)
    return results


def int_at_least_one(value: object) -> bool:
    return type(value) is int and value >= 1


def test_json_has_exactly_the_design_keys_and_types(runs) -> None:
    result = runs["json"]
    document = result.json
    assert set(document) == TOP_LEVEL_KEYS
    assert document["tool"] == "arch-review"
    assert isinstance(document["version"], str) and re.fullmatch(r"\d+\.\d+\.\d+\S*", document["version"])
    assert isinstance(document["findings"], list) and document["findings"], result.describe()
    assert isinstance(document["skipped"], list)
    for finding in document["findings"]:
        assert set(finding) == FINDING_KEYS, finding
        assert RULE_ID.fullmatch(finding["rule"]), finding
        assert isinstance(finding["name"], str) and finding["name"], finding
        assert finding["family"] in FAMILIES, finding
        assert finding["severity"] in SEVERITIES, finding
        path = finding["path"]
        assert isinstance(path, str) and path.startswith("examples/"), finding
        assert "\\" not in path and not path.startswith(("/", "./")) and "/../" not in path, finding
        assert (REPO_ROOT / path).is_file(), finding
        for key in ("line", "column", "end_line", "end_column"):
            assert int_at_least_one(finding[key]), (key, finding)
        assert (finding["end_line"], finding["end_column"]) > (finding["line"], finding["column"]), finding
        assert isinstance(finding["symbol"], str), finding
        assert isinstance(finding["message"], str) and finding["message"].strip(), finding
        assert isinstance(finding["question"], str) and finding["question"].strip(), finding
        assert isinstance(finding["fingerprint"], str) and HEX.fullmatch(finding["fingerprint"]), finding
    for skipped in document["skipped"]:
        assert set(skipped) == {"path", "reason"}, skipped
        assert isinstance(skipped["reason"], str) and skipped["reason"], skipped
    stats = document["stats"]
    assert set(stats) == {"files", "parsed", "seconds"}
    assert int_at_least_one(stats["files"]) and type(stats["parsed"]) is int
    assert 0 <= stats["parsed"] <= stats["files"]
    assert stats["files"] == len(list(EXAMPLES.rglob("*.py")))
    assert isinstance(stats["seconds"], (int, float)) and stats["seconds"] >= 0


def test_json_finds_the_bundled_timeouts_at_the_flagged_call(runs) -> None:
    tmo = findings(runs["json"], "TMO001")
    paths = {f["path"] for f in tmo}
    assert {"examples/ml-project/data/loader.py", "examples/ml-project/serving/app.py"} <= paths
    for finding in tmo:
        text = (REPO_ROOT / finding["path"]).read_text(encoding="utf-8").splitlines()
        flagged = text[finding["line"] - 1][finding["column"] - 1 :]
        assert re.match(r"[A-Za-z_][\w.]*\(", flagged), (finding, flagged)  # the call, not its line
        assert finding["family"] == "no-timeout" and finding["name"] == "http-call-without-timeout"


def test_fingerprints_are_unique(runs) -> None:
    prints = [f["fingerprint"] for f in findings(runs["json"])]
    assert len(prints) == len(set(prints))


def test_two_runs_give_the_same_bytes_except_seconds(runs) -> None:
    first, second = runs["json"], runs["json-again"]
    assert second.returncode == first.returncode
    assert without_seconds(second.stdout) == without_seconds(first.stdout)
    assert second.stdout.endswith("\n")


def test_sarif_validates_against_the_2_1_0_schema(runs) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    log = runs["sarif"].json
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    json_findings = findings(runs["json"])
    assert sorted(r["ruleId"] for r in results) == sorted(f["rule"] for f in json_findings)
    sarif_prints = {value for r in results for value in r["partialFingerprints"].values()}
    assert sarif_prints == {f["fingerprint"] for f in json_findings}
    for r in results:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("examples/") and "\\" not in uri, r


def test_codeclimate_is_an_array_of_issues_with_the_json_fingerprints(runs) -> None:
    issues = runs["codeclimate"].json
    assert isinstance(issues, list) and issues
    json_findings = findings(runs["json"])
    assert len(issues) == len(json_findings)
    for issue in issues:
        assert issue["type"] == "issue"
        assert isinstance(issue["fingerprint"], str) and HEX.fullmatch(issue["fingerprint"]), issue
        assert issue["location"]["path"].startswith("examples/"), issue
        assert int_at_least_one(issue["location"]["lines"]["begin"]), issue
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}, issue
    assert {i["fingerprint"] for i in issues} == {f["fingerprint"] for f in json_findings}
    assert sorted((i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues) == where(json_findings)


def test_markdown_and_text_render_every_finding(runs) -> None:
    json_findings = findings(runs["json"])
    markdown = runs["markdown"]
    text = runs["text"]
    assert markdown.returncode == text.returncode == runs["json"].returncode
    for output in (markdown.stdout, text.stdout):
        assert output.strip()
        assert "\x1b[" not in output  # not a terminal, NO_COLOR: no escape codes
        for finding in json_findings:
            assert finding["rule"] in output
            assert finding["path"] in output
    for finding in json_findings:
        assert f"{finding['path']}:{finding['line']}:{finding['column']}" in text.stdout
    assert markdown.stdout.lstrip().startswith(("#", "<!--", "**", "|", ">")), markdown.stdout[:200]


def test_output_file_gets_the_report_and_stdout_stays_empty(runs, module_env, tmp_path: Path) -> None:
    targets = {fmt: tmp_path / "reports" / f"report.{fmt}" for fmt in ("json", "text")}  # no folder yet
    results = run_many(
        [(["scan", "examples/", "--format", fmt, "--output", str(target)], REPO_ROOT) for fmt, target in targets.items()],
        env=module_env,
    )
    for (fmt, target), result in zip(targets.items(), results):
        assert result.returncode == runs[fmt].returncode, result.describe()
        assert result.stdout == ""
        written = target.read_text(encoding="utf-8")
        if fmt == "json":
            assert without_seconds(written) == without_seconds(runs["json"].stdout)
        else:
            assert written == runs["text"].stdout  # no colour codes in a file either


def test_fingerprint_is_the_design_hash_and_ignores_line_moves(tmp_path: Path, module_env) -> None:
    """sha256 of rule|path|symbol|flagged text; moving the code down keeps it."""
    body = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
    moved = "# moved\n\n\n" + body.replace("import requests\n", "import requests\nX = 1\n")
    projects = []
    for name, text in (("before", body), ("after", moved)):
        (tmp_path / name / "pkg").mkdir(parents=True)
        (tmp_path / name / "pkg" / "app.py").write_text(text, encoding="utf-8")
        projects.append(tmp_path / name)
    args = ["scan", ".", "--select", "TMO001", "--format", "json"]
    before, after = run_many([(args, project) for project in projects], env=module_env)
    [old], [new] = findings(before), findings(after)
    expected = hashlib.sha256(b"TMO001|pkg/app.py|pkg.app.fetch|requests.get(url)").hexdigest()
    assert old["symbol"] == "pkg.app.fetch"
    assert expected.startswith(old["fingerprint"])
    assert (old["line"], new["line"]) == (5, 9)
    assert new["fingerprint"] == old["fingerprint"]
