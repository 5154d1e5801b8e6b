"""Part 1 of the hostile-input issue: files no reviewer should choke on.

Each case of corpus.py goes through `arch-review scan` as a subprocess: a file is
either skipped with the expected reason or analysed (its one finding on the expected
line); the good file beside them is always reviewed; nothing prints a traceback;
the run ends in bounded time; the JSON is the same with one worker or two.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from cli_helpers import CliResult, run_cli, without_seconds
from corpus import SourceCase, big_sources, quick_sources, slow_analysis_source, stopped_sources, write_tree

SCAN = ["scan", ".", "--select", "TMO001", "--format", "json", "--no-cache"]


def check_outcomes(result: CliResult, cases: list[SourceCase]) -> None:
    assert result.returncode == 0, result.describe()
    skipped = {entry["path"]: entry["reason"] for entry in result.json["skipped"]}
    lines: dict[str, list[int]] = {}
    for finding in result.json["findings"]:
        lines.setdefault(finding["path"], []).append(finding["line"])
    for case in cases:
        if case.skipped:
            assert case.name in skipped, f"{case.name} ({case.what}) was not skipped\n{result.describe()}"
            assert re.search(case.reason, skipped[case.name]), (case.name, skipped[case.name])
            assert case.name not in lines
        else:
            assert case.name not in skipped, (case.name, skipped.get(case.name))
            assert lines.get(case.name, []) == ([case.line] if case.line else []), (case.name, lines.get(case.name))
    assert result.json["stats"]["files"] == len(cases)


@pytest.fixture(scope="module")
def quick_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quick")
    write_tree(root, quick_sources())
    return root


def test_each_quick_case_is_skipped_with_its_reason_or_analysed(quick_tree: Path, module_env, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    env = {**module_env, "HOSTILE_CANARY": str(canary)}
    result = run_cli([*SCAN, "--jobs", "1"], cwd=quick_tree, env=env)
    check_outcomes(result, quick_sources())
    # The reviewed code is read, never run: its import-time side effects did not happen.
    assert not canary.exists() and not Path(f"{canary}.system").exists()


def test_worker_count_does_not_change_a_byte(quick_tree: Path, module_env) -> None:
    # Enough copies that two workers really are used (a pool needs 8 files per worker).
    tree = quick_tree.parent / "many"
    for copy in range(2):
        write_tree(tree / f"copy{copy}", quick_sources())
    runs = {
        (fmt, jobs): run_cli(["scan", ".", "--select", "TMO001", "--format", fmt, "--no-cache", "--jobs", jobs], cwd=tree, env=module_env)
        for fmt in ("json", "sarif")
        for jobs in ("1", "2")
    }
    assert runs["json", "1"].json["skipped"] and runs["json", "1"].json["findings"]
    assert without_seconds(runs["json", "1"].stdout) == without_seconds(runs["json", "2"].stdout)
    assert runs["sarif", "1"].stdout == runs["sarif", "2"].stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_that_stalls_or_crashes_the_parser_is_stopped_and_the_run_goes_on(jobs: str, tmp_path: Path, module_env) -> None:
    cases = [*quick_sources()[:2], *stopped_sources()]
    write_tree(tmp_path, cases)
    # With two workers, enough good files that a pool is used and the crash breaks it.
    for index in range(16):
        (tmp_path / f"filler_{index:02d}.py").write_text("x = 1\n")
    started = time.monotonic()
    result = run_cli([*SCAN, "--jobs", jobs, "--file-timeout", "2"], cwd=tmp_path, env=module_env, timeout=120)
    elapsed = time.monotonic() - started
    check_outcomes(result, cases + [SourceCase(f"filler_{i:02d}.py", b"", "") for i in range(16)])
    # Each stopped file costs at most the hard limit (2 s + 1 s grace) plus a fresh worker.
    assert elapsed < 60, elapsed


def test_big_files_are_skipped_by_the_size_cap(tmp_path: Path, module_env) -> None:
    cases = [quick_sources()[0], *big_sources()]
    write_tree(tmp_path, cases)
    check_outcomes(run_cli([*SCAN, "--jobs", "1"], cwd=tmp_path, env=module_env), cases)


def test_with_the_cap_raised_the_time_limit_stops_them(tmp_path: Path, module_env) -> None:
    cases = [
        quick_sources()[0],
        *(SourceCase(c.name, c.data, c.what, reason=STOPPED_OR_TOO_DEEP) for c in big_sources()),
        slow_analysis_source(),
    ]
    write_tree(tmp_path, cases)
    (tmp_path / ".arch-review.yml").write_text("max_file_size: 30000000\nfile_timeout: 1\n")
    started = time.monotonic()
    result = run_cli([*SCAN, "--jobs", "1"], cwd=tmp_path, env=module_env, timeout=180)
    check_outcomes(result, cases)
    assert time.monotonic() - started < 90


STOPPED_OR_TOO_DEEP = r"^(stopped after 1 s \(file_timeout\)|the analysis process crashed.*)$"
