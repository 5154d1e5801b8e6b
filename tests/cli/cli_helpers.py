"""Running arch-review as a user does: a subprocess, in a folder, with a clean environment.

Nothing here imports the product: the CLI is exercised only through its arguments,
its output, its exit code and the files it writes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
SARIF_SCHEMA = REPO_ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"

# DESIGN.md, "JSON output": the contract, written out here rather than imported.
TOP_LEVEL_KEYS = {"tool", "version", "findings", "skipped", "stats"}
FINDING_KEYS = {
    "rule", "name", "family", "severity", "path", "line", "column", "end_line",
    "end_column", "symbol", "message", "question", "fingerprint",
}  # fmt: skip
FAMILIES = {
    "unbounded-load", "no-timeout", "no-retry", "single-gpu", "no-checkpoint",
    "blocking-in-async", "unbounded-cache", "swallowed-error", "serving",
    "reproducibility", "hardcoded-config", "dependency",
}  # fmt: skip
SEVERITIES = {"high", "medium", "low"}

_INHERITED_GIT_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_COMMON_DIR",
)  # fmt: skip
_OUTPUT_VARIABLES = ("ARCH_REVIEW_DEBUG", "FORCE_COLOR", "CLICOLOR_FORCE", "PYTHONSTARTUP", "PYTHONWARNINGS")


def clean_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment that does not see the user's HOME, git config or colour settings.

    GIT_CEILING_DIRECTORIES stops git from finding a repository above ``home``, so a
    folder under it that is not a repository really is outside any repository.
    """
    env = dict(os.environ if base is None else base)
    for name in (*_INHERITED_GIT_VARIABLES, *_OUTPUT_VARIABLES):
        env.pop(name, None)
    cache = home / ".cache"
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(cache),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CEILING_DIRECTORIES=str(home),
        GIT_AUTHOR_NAME="Test Author",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test Author",
        GIT_COMMITTER_EMAIL="test@example.com",
        NO_COLOR="1",
        PYTHONIOENCODING="utf-8",
        LC_ALL="C.UTF-8",
    )
    # The checkout under test comes first, whatever else is installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass(frozen=True)
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    def describe(self) -> str:
        return (
            f"arch-review {' '.join(self.args)} -> exit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    executable: Sequence[str] | None = None,
    timeout: float = 120,
) -> CliResult:
    command = [*(executable or (sys.executable, "-m", "reviewer")), *args]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    result = CliResult(
        tuple(args),
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    # Whatever the outcome, a user never sees a Python traceback.
    assert "Traceback" not in result.stderr, result.describe()
    return result


def run_many(
    jobs: Sequence[tuple[Sequence[str], Path]],
    *,
    env: Mapping[str, str],
    executable: Sequence[str] | None = None,
) -> list[CliResult]:
    """Independent runs side by side (each is mostly interpreter start-up); results in order."""
    workers = max(2, min(len(jobs), os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: run_cli(job[0], cwd=job[1], env=env, executable=executable), jobs))


def assert_exit(result: CliResult, *codes: int) -> None:
    assert result.returncode in codes, result.describe()


def assert_one_line_error(result: CliResult, *fragments: str) -> str:
    """Exit 2 with exactly one line on stderr, 'arch-review: error: ...', naming ``fragments``."""
    assert result.returncode == 2, result.describe()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.describe()
    assert lines[0].startswith("arch-review: error: "), result.describe()
    for fragment in fragments:
        assert fragment in lines[0], result.describe()
    return lines[0]


def findings(result: CliResult, rule: str | None = None) -> list[dict[str, Any]]:
    found = result.json["findings"]
    return [f for f in found if rule is None or f["rule"] == rule]


def where(found: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(path, line) of each finding, sorted: what most assertions compare."""
    return sorted((f["path"], f["line"]) for f in found)


def without_seconds(document: str) -> str:
    """The JSON text with the one field that may change between runs blanked out."""
    blanked, count = re.subn(r'("seconds":\s*)[0-9.eE+-]+', r"\g<1>0", document)
    assert count == 1, document
    return blanked


def lines_of(text: str, needle: str) -> list[int]:
    """1-based numbers of the lines of ``text`` that contain ``needle``."""
    return [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
