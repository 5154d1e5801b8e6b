"""The PR/MR's base and head commits in a CI checkout, which is often shallow or detached."""

from __future__ import annotations

import subprocess
from pathlib import Path


def ensure_commits(root: Path, shas: list[str | None]) -> bool:
    """Fetch the base and head commits and enough history for their merge-base; False if git cannot."""
    if not all(shas):
        return False
    missing = [sha for sha in shas if not has_commit(root, sha)]
    if missing:
        _git(root, "fetch", "--no-tags", "--quiet", "origin", *missing)
    if _git(root, "merge-base", *shas).returncode == 0:
        return True
    if _is_shallow(root):
        # The merge-base of base and head may be below the shallow boundary.
        _git(root, "fetch", "--no-tags", "--quiet", "--deepen=200", "origin", *shas)
        if _git(root, "merge-base", *shas).returncode != 0:
            _git(root, "fetch", "--no-tags", "--quiet", "--unshallow", "origin")
    return _git(root, "merge-base", *shas).returncode == 0


def has_commit(root: Path, sha: str) -> bool:
    return _git(root, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def rev_parse(root: Path, rev: str) -> str:
    done = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return done.stdout.decode().strip() or rev


def diff_text(root: Path, base: str, head: str | None, paths: list[str]) -> str:
    """`git diff` of these paths from base to head (to the working tree when head is None), renames followed."""
    done = _git(root, "diff", "-M", "--unified=3", "--no-color", "--no-ext-diff", base,
                *([head] if head else []), "--", *paths)
    return done.stdout.decode("utf-8", "surrogateescape")


def _is_shallow(root: Path) -> bool:
    done = _git(root, "rev-parse", "--is-shallow-repository")
    return done.stdout.strip() == b"true"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, stdin=subprocess.DEVNULL, check=False)
