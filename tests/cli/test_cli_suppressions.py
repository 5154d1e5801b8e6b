"""`# arch-review: ignore[...]` comments, end to end through `scan` and `diff`."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import assert_exit, findings, lines_of, run_many, where
from tests.gitrepo import GitRepo

SOURCE = '''\
import requests


def on_the_line(url):
    return requests.get(url)  # arch-review: ignore[TMO001] the vendor SDK has its own deadline


def on_the_line_above(url):
    # arch-review: ignore[TMO001] retried by the queue with a visibility timeout
    return requests.get(url)


def by_family(url):
    return requests.get(url)  # arch-review: ignore[no-timeout]


def bare(url):
    return requests.get(url)  # arch-review: ignore


def several_targets(url):
    return requests.get(url)  # arch-review: ignore[RTY002, TMO001]


def unrelated_id(url):
    return requests.get(url)  # arch-review: ignore[RTY002] KEEP-1


def unrelated_family(url):
    return requests.get(url)  # arch-review: ignore[unbounded-load] KEEP-2


def two_lines_above(url):
    # arch-review: ignore[TMO001]

    return requests.get(url)  # KEEP-3


def in_a_string_not_a_comment(url):
    return requests.get(url, "# arch-review: ignore")  # KEEP-4


def on_the_line_below(url):
    return requests.get(url)  # KEEP-5
    # arch-review: ignore[TMO001]
'''


def test_suppressions_on_the_line_above_by_family_and_bare(tmp_path: Path, repo: GitRepo, env) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "service.py").write_text(SOURCE, encoding="utf-8")
    # The same file as a change on a branch: suppressions hold in diff too.
    repo.commit("start", {"README.md": "x\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("add the service", {"service.py": SOURCE})

    scanned, diffed = run_many(
        [
            (["scan", ".", "--select", "TMO001", "--format", "json", "--fail-level", "high"], folder),
            (["diff", "--select", "TMO001", "--format", "json"], repo.path),
        ],
        env=env,
    )
    kept = sorted(("service.py", line) for n in range(1, 6) for line in lines_of(SOURCE, f"KEEP-{n}"))
    assert len(kept) == 5
    assert_exit(scanned, 1)
    assert where(findings(scanned)) == kept
    assert where(findings(diffed)) == kept
