"""A small, hand-built run: four findings in two families, one skipped file, real source files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from report_builders import make_finding, make_rule
from reviewer.report import ReportContext
from reviewer.types import Family, Finding, RuleDocs, RuleMeta, RuleStatus, RunResult, Severity, Skipped, Stats

GOLDEN_DIR = Path(__file__).parent / "golden"

APP_PY = """\
import requests


def fetch_features(url):
    response = requests.get(url)
    return response.json()


async def handler(request):
    data = requests.post(
        request.url,
        json=request.body,
        headers={"x": "y"},
    )
    return data
"""

# Tab-indented on purpose: the caret must line up after tab expansion.
LOAD_PY = "import pandas as pd\n\n\ndef load_table(path):\n\tframe = pd.read_csv(path)\n\treturn frame\n"


@pytest.fixture
def rules() -> dict[str, RuleMeta]:
    catalog = [
        make_rule(
            "TMO001",
            "http-call-without-timeout",
            Family.NO_TIMEOUT,
            Severity.HIGH,
            message="`{call}` has no timeout",
            question="If {host} accepts the connection and never answers, this worker waits forever. "
            "What deadline fits here?",
            docs=RuleDocs(
                what="Flags HTTP calls made without a timeout. Requests waits forever by default.",
                why="A hung server holds the worker, and retries pile up behind it.",
                example="import requests\nrequests.get(url)\n",
                instead="requests.get(url, timeout=5)\n",
                references=("https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",),
            ),
        ),
        make_rule(
            "LOAD001",
            "pandas-full-read",
            Family.UNBOUNDED_LOAD,
            Severity.MEDIUM,
            message="`{call}` reads the whole file",
            docs=RuleDocs(
                what="Flags whole-file pandas reads.",
                why="Memory grows with the file.",
                instead="Read in chunks with `chunksize`.",
            ),
        ),
        make_rule(
            "LOAD003",
            "db-fetch-all",
            Family.UNBOUNDED_LOAD,
            Severity.LOW,
            status=RuleStatus.PREVIEW,
        ),
        make_rule("CACHE001", "lru-cache-unbounded", Family.UNBOUNDED_CACHE, Severity.LOW),
    ]
    return {rule.id: rule for rule in catalog}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "src" / "data").mkdir(parents=True)
    (tmp_path / "src" / "app.py").write_text(APP_PY, encoding="utf-8")
    (tmp_path / "src" / "data" / "load.py").write_text(LOAD_PY, encoding="utf-8")
    return tmp_path  # src/db.py is left missing: its finding must render without a code frame


@pytest.fixture
def findings(rules: dict[str, RuleMeta]) -> list[Finding]:
    # Deliberately not in sort order.
    return [
        make_finding(
            rules["LOAD001"],
            "src/data/load.py",
            (5, 10, 5, 27),
            symbol="load_table",
            message="`pd.read_csv(path)` reads the whole file",
            question="At 100x today's size, should `read_csv(path)` stream with `chunksize`?",
        ),
        make_finding(
            rules["TMO001"],
            "src/app.py",
            (10, 12, 14, 6),
            symbol="handler",
            message="`requests.post(...)` has no timeout",
            question="If the host accepts the connection and never answers, this worker waits forever. "
            "What deadline fits here?",
        ),
        make_finding(rules["LOAD003"], "src/db.py", (7, 5, 7, 20), symbol="rows"),
        make_finding(
            rules["TMO001"],
            "src/app.py",
            (5, 16, 5, 33),
            symbol="fetch_features",
            message="`requests.get(url)` has no timeout",
            question="What does the caller see when this service is slow or down?",
        ),
    ]


@pytest.fixture
def result(findings: list[Finding]) -> RunResult:
    return RunResult(
        findings=list(findings),
        skipped=[Skipped("src/broken.py", "syntax error at 3:7")],
        stats=Stats(files=5, parsed=4, seconds=0.12345),
    )


@pytest.fixture
def ctx(repo: Path, rules: dict[str, RuleMeta]) -> ReportContext:
    return ReportContext(root=repo, rules=rules, version="0.1.0")


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare with tests/report/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead."""

    def check(name: str, actual: str) -> None:
        path = GOLDEN_DIR / name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual.encode("utf-8"))
            return
        assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 to create it"
        expected = path.read_bytes().decode("utf-8")
        assert actual == expected, f"output differs from {path}; run with UPDATE_GOLDEN=1 if intended"

    return check
