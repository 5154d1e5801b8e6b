"""Asking git what a change is: the repository, the base commit, the changed files.

Every failure becomes a ``GitError`` whose message is one line saying what to fix;
callers print it and exit 2, never a traceback.

git runs with ``LC_ALL=C`` (its messages are matched here, so they must be English)
and with ``GIT_OPTIONAL_LOCKS=0`` (a review must not take the index lock from an
editor or a concurrent ``git commit``). Its output is captured as bytes. Paths are
decoded as UTF-8 with ``surrogateescape``, the rule ``os.fsdecode`` follows on POSIX,
so any path git reports can be opened again with ``root / path``. A path that is
not valid UTF-8 therefore holds lone surrogates: encode it with
``errors="surrogateescape"`` (or "replace" for display) when writing it out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from reviewer.diff import FileChange, Hunk, parse_unified_diff

DEFAULT_BRANCH_CANDIDATES = ("main", "master", "origin/main", "origin/master")

# Beyond this an untracked file is listed as added but its lines are not enumerated:
# a stray dataset must not turn into a set of millions of line numbers.
MAX_UNTRACKED_BYTES = 16 * 1024 * 1024

# git's own test for "binary": a NUL byte in the first 8000 bytes.
_BINARY_SNIFF_BYTES = 8000

# Pin every setting that changes how diff output looks, whatever the user configured.
_CONFIG_OVERRIDES = (
    "core.quotePath=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.suppressBlankEmpty=false",
    "color.ui=never",
)
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--submodule=short",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    # Renames, so moved code is not "added"; no -C: a copied file is new code to review.
    "-M",
)
_SHA = re.compile(r"[0-9a-f]{7,64}")
_NOT_A_REPO = "not a git repository: run arch-review scan, or cd into a git checkout"


class GitError(Exception):
    """One-line, user-facing message saying what to fix."""


def repo_root(cwd: Path) -> Path:
    if not Path(cwd).is_dir():
        raise GitError(f"{cwd} is not a directory: cd into a git checkout")
    done = _run(cwd, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        message = _stderr(done)
        if "work tree" in message and "dubious ownership" not in message:
            raise GitError(
                f"{cwd} has no working tree (a .git folder or a bare repository): cd into a checkout"
            )
        raise GitError(_explain(message, "git rev-parse --show-toplevel"))
    top = done.stdout.rstrip(b"\n")
    if not top:
        raise GitError(f"{cwd} has no working tree (a .git folder or a bare repository): cd into a checkout")
    return Path(os.fsdecode(top))


def default_branch(root: Path) -> str:
    """The branch a change is reviewed against: origin/HEAD, else main, else master."""
    done = _run(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    origin_head = _decode(done.stdout).strip()
    if done.returncode == 0 and origin_head and _commit_sha(root, origin_head) is not None:
        return origin_head
    for name in DEFAULT_BRANCH_CANDIDATES:
        full = f"refs/remotes/{name}" if name.startswith("origin/") else f"refs/heads/{name}"
        if _commit_sha(root, full) is not None:
            return name
    if _is_shallow(root):
        raise GitError(
            "could not find a default branch (origin/HEAD, main, master) in this shallow clone: "
            f"pass --base REF, or {_fetch_advice(root, 'main', role=None)}"
        )
    raise GitError("could not find a default branch (origin/HEAD, main, master): pass --base REF")


def resolve_base(root: Path, base: str | None, head: str | None = None) -> str:
    """The merge-base of base (default: the default branch) and head (default: HEAD)."""
    head_sha = _head_sha(root, head)
    base_ref = default_branch(root) if base is None else base
    base_sha = _commit_sha(root, _checked_ref(base_ref, "base"))
    if base_sha is None:
        raise GitError(_unknown_ref_message(root, base_ref, "base"))
    done = _run(root, "merge-base", base_sha, head_sha)
    if done.returncode == 0:
        return _decode(done.stdout).strip()
    head_name = head or "HEAD"
    if done.returncode == 1 and not _stderr(done):
        if _is_shallow(root):
            raise GitError(
                f"'{base_ref}' and {head_name} meet below the history this shallow clone has: "
                "run `git fetch --deepen=200` (repeat until it works) or `git fetch --unshallow`"
            )
        raise GitError(f"'{base_ref}' and {head_name} share no history: pass a --base on the same history")
    raise GitError(_explain(_stderr(done), "git merge-base"))


def changed_files(root: Path, base_sha: str, head: str | None, *, unified: int = 3) -> list[FileChange]:
    """Files changed from base_sha to head, or to the working tree when head is None.

    The working tree includes staged and unstaged edits and untracked files that
    are not ignored (listed as added, every line added).
    """
    if _commit_sha(root, _checked_ref(base_sha, "base")) is None:
        raise GitError(_unknown_ref_message(root, base_sha, "base"))
    revisions = [base_sha]
    if head is not None:
        if _commit_sha(root, _checked_ref(head, "head")) is None:
            raise GitError(_unknown_ref_message(root, head, "head"))
        revisions.append(head)
    done = _run(root, "diff", *_DIFF_OPTIONS, f"--unified={unified}", *revisions, "--")
    if done.returncode != 0:
        raise GitError(_explain(_stderr(done), "git diff"))
    changes = parse_unified_diff(_decode(done.stdout))
    if head is None:
        untracked = {change.path: change for change in _untracked_changes(root)}
        # A file removed from the index but kept on disk shows up twice (deleted, untracked):
        # the copy on disk is what the change leaves behind, so it wins.
        changes = [change for change in changes if change.path not in untracked]
        changes.extend(untracked.values())
    return sorted(changes, key=lambda change: change.path)


def read_file_at(root: Path, rev: str | None, path: str) -> bytes:
    if rev is None:
        try:
            return (Path(root) / path).read_bytes()
        except FileNotFoundError:
            raise GitError(f"'{path}' is not in the working tree") from None
        except OSError as error:
            raise GitError(f"cannot read '{path}': {error.strerror}") from None
    done = _run(root, "cat-file", "blob", f"{_checked_ref(rev, 'revision')}:{path}")
    if done.returncode != 0:
        if _commit_sha(root, rev) is None:
            raise GitError(_unknown_ref_message(root, rev, "revision"))
        raise GitError(f"'{path}' is not a file at {rev}")
    return done.stdout


def read_files_at(root: Path, rev: str | None, paths: Sequence[str]) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) for each path, in order: one ``git cat-file`` for all of them, not one per file.

    Paths with a newline, which the batch protocol cannot carry on old git, are read one by one.
    """
    if rev is None:
        for path in paths:
            yield path, read_file_at(root, None, path)
        return
    ref = _checked_ref(rev, "revision")
    batched = [path for path in paths if "\n" not in path]
    request = b"".join(f"{ref}:{path}\n".encode("utf-8", "surrogateescape") for path in batched)
    done = _run(root, "cat-file", "--batch", input=request)
    if done.returncode != 0:
        raise GitError(_explain(_stderr(done), "git cat-file"))
    blobs = dict(zip(batched, _batch_blobs(done.stdout)))
    for path in paths:
        blob = blobs.get(path)
        yield path, blob if blob is not None else read_file_at(root, rev, path)


def _batch_blobs(output: bytes) -> Iterator[bytes | None]:
    """The contents in ``git cat-file --batch`` output; None for a missing object or a non-blob."""
    position = 0
    while position < len(output):
        end = output.index(b"\n", position)
        header = output[position:end].split(b" ")
        position = end + 1
        if len(header) != 3 or header[1] == b"missing":
            yield None
            continue
        size = int(header[2])
        yield output[position : position + size] if header[1] == b"blob" else None
        position += size + 1


def _untracked_changes(root: Path) -> list[FileChange]:
    done = _run(root, "ls-files", "-z", "--others", "--exclude-standard")
    if done.returncode != 0:
        raise GitError(_explain(_stderr(done), "git ls-files"))
    changes = []
    for raw in done.stdout.split(b"\0"):
        # A trailing slash marks a nested repository: not files of this one.
        if not raw or raw.endswith(b"/"):
            continue
        change = _untracked_change(root, _decode(raw))
        if change is not None:
            changes.append(change)
    return changes


def _untracked_change(root: Path, path: str) -> FileChange | None:
    full = Path(root) / path
    try:
        if full.is_symlink():
            # git stores a symlink as the text of its target; so do we.
            content = os.fsencode(os.readlink(full))
        else:
            with full.open("rb") as handle:
                content = handle.read(MAX_UNTRACKED_BYTES + 1)
    except OSError:
        return None  # vanished or unreadable since git listed it; nothing to review
    if b"\0" in content[:_BINARY_SNIFF_BYTES]:
        return FileChange(path, None, "added", (), binary=True)
    if len(content) > MAX_UNTRACKED_BYTES:
        return FileChange(path, None, "added", ())
    line_count = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
    if line_count == 0:
        return FileChange(path, None, "added", ())
    hunk = Hunk(0, 0, 1, line_count, frozenset(range(1, line_count + 1)))
    return FileChange(path, None, "added", (hunk,))


def _head_sha(root: Path, head: str | None) -> str:
    if head is None:
        sha = _commit_sha(root, "HEAD")
        if sha is None:
            raise GitError("HEAD has no commits yet: commit first, or run arch-review scan")
        return sha
    sha = _commit_sha(root, _checked_ref(head, "head"))
    if sha is None:
        raise GitError(_unknown_ref_message(root, head, "head"))
    return sha


def _commit_sha(root: Path, ref: str) -> str | None:
    done = _run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode != 0:
        # --quiet silences "no such ref"; anything still said is a broken repository.
        if _stderr(done):
            raise GitError(_explain(_stderr(done), "git rev-parse"))
        return None
    return _decode(done.stdout).strip() or None


def _checked_ref(ref: str, role: str) -> str:
    # A ref is passed to git as an argument; one starting with "-" would be read as an option.
    if not ref or ref.startswith("-") or "\0" in ref:
        raise GitError(f"invalid {role} ref {ref!r}: pass a branch, tag or commit")
    return ref


def _unknown_ref_message(root: Path, ref: str, role: str) -> str:
    if not _is_shallow(root):
        return (
            f"unknown {role} ref '{ref}': "
            "not a branch, tag or commit here (check the name, or `git fetch` it)"
        )
    if _SHA.fullmatch(ref):
        return f"{role} '{ref}' is not in this shallow clone: run `git fetch --unshallow`"
    return f"{role} '{ref}' is not in this shallow clone: {_fetch_advice(root, ref, role)}"


def _fetch_advice(root: Path, branch_ref: str, role: str | None) -> str:
    """The one fetch that makes a merge-base with branch_ref findable in a shallow clone.

    --deepen (not --depth) also deepens HEAD's side, which a merge-base needs; the
    explicit destination matters because a single-branch clone's refspec would
    leave the fetched branch only in FETCH_HEAD.
    """
    remotes = _decode(_run(root, "remote").stdout).split()
    remote = next((name for name in remotes if branch_ref.startswith(f"{name}/")), None)
    branch = branch_ref[len(remote) + 1 :] if remote else branch_ref
    remote = remote or ("origin" if "origin" in remotes or not remotes else remotes[0])
    tracking = f"{remote}/{branch}"
    fetch = f"`git fetch --deepen=200 {remote} {branch}:refs/remotes/{tracking}`"
    if tracking == branch_ref or role is None:
        then = ""
    elif role in ("base", "head"):
        then = f" and pass --{role} {tracking}"
    else:
        then = f" and use {tracking}"
    return f"run {fetch}{then}, or `git fetch --unshallow` (in CI, check out full history: fetch-depth: 0)"


def _is_shallow(root: Path) -> bool:
    done = _run(root, "rev-parse", "--is-shallow-repository")
    return done.returncode == 0 and done.stdout.strip() == b"true"


def _run(cwd: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = ["git"]
    for setting in _CONFIG_OVERRIDES:
        command += ["-c", setting]
    env = {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(
            [*command, *args],
            cwd=cwd,
            env=env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        if shutil.which("git") is None:
            raise GitError(
                "git is not installed or not on PATH: install git, or run arch-review scan"
            ) from None
        raise GitError(f"{cwd} is not a directory: cd into a git checkout") from None
    except OSError as error:
        raise GitError(f"cannot run git: {error.strerror}") from None


def _stderr(done: subprocess.CompletedProcess[bytes]) -> str:
    return _decode(done.stderr).strip()


def _explain(stderr: str, what: str) -> str:
    if "dubious ownership" in stderr:
        directory = re.search(r"repository at '([^']*)'", stderr)
        target = directory[1] if directory else "<repo>"
        return (
            "git refuses a repository owned by another user: "
            f"run `git config --global --add safe.directory {target}`"
        )
    if "not a git repository" in stderr:
        return _NOT_A_REPO
    lines = [line for line in stderr.splitlines() if line.strip()]
    reason = next(
        (line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else ""
    )
    reason = reason.removeprefix("fatal: ").removeprefix("error: ").strip()
    return f"{what} failed: {reason}" if reason else f"{what} failed"


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")
