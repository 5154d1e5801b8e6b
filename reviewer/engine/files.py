"""Which Python files `scan PATHS` analyses.

Rules, in the spirit of ruff:

* A path named explicitly that is a file is always selected, whatever its suffix,
  excludes or .gitignore say.
* A directory is walked. Inside a git work tree git lists the files, so .gitignore is
  respected: tracked files are always candidates; untracked, not-ignored files are
  candidates unless they sit in a hidden or tool directory (``.venv``, ``build``,
  ``node_modules``, ... see ``SKIPPED_DIR_NAMES``), because a fresh virtualenv that
  nobody ignored must not turn into ten thousand findings. Outside git the same
  directory skip list applies to everything. Only ``*.py`` files are selected;
  ``.pyi`` stubs have no behaviour to review.
* Config excludes apply to files and directories met during a walk, matched on their
  root-relative posix path (see ``compile_glob`` for the pattern language). The named
  directory itself is not matched, so ``scan tests/`` still works with ``exclude:
  [tests]``, while ``tests/**`` excludes the files in it.
* Symlinks: walks never follow or select them (a linked file inside the repository is
  analysed under its own name; one pointing outside is never read). A path under
  ``root`` that resolves outside it through a symlink is refused even when named
  explicitly, with a warning on this module's logger.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SKIPPED_DIR_NAMES = frozenset(
    {
        "__pycache__",
        ".git",
        ".hg",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "env",
        "node_modules",
        "build",
        "dist",
        "site-packages",
    }
)

PYTHON_SUFFIX = ".py"


class InvalidGlob(ValueError):
    """An exclude pattern that cannot be compiled; the message says why."""


@dataclass(frozen=True)
class Glob:
    """One exclude pattern, gitignore-like.

    * No slash except a trailing one: matches a file or directory name at any depth
      (``build``, ``*_pb2.py``).
    * A slash elsewhere: anchored at the root (``docs/**``, ``src/gen``, ``/setup.py``,
      ``./setup.py``).
    * A trailing slash: directories only (``build/``).
    * ``*``, ``?`` and ``[...]`` never match ``/``; ``**`` as a whole segment matches any
      number of directories (``**/migrations/*.py`` also matches ``migrations/0001.py``).
    * A matching directory excludes everything beneath it.
    * Negation (``!``) and ``..`` are not supported and are rejected.
    """

    pattern: str
    regex: re.Pattern[str]
    directories_only: bool

    def matches(self, relative_path: str, is_dir: bool) -> bool:
        if self.directories_only and not is_dir:
            return False
        return self.regex.fullmatch(relative_path) is not None


def compile_glob(pattern: str) -> Glob:
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidGlob("empty pattern")
    if pattern.startswith("!"):
        raise InvalidGlob("negation ('!') is not supported")
    body = pattern.strip()
    directories_only = body.endswith("/")
    body = body.rstrip("/")
    anchored = "/" in body
    if body.startswith("./"):
        body = body[2:]
    body = body.lstrip("/")
    segments = [segment for segment in body.split("/") if segment]
    if not segments:
        raise InvalidGlob("pattern matches nothing")
    if ".." in segments or "." in segments:
        raise InvalidGlob("'.' and '..' segments never match a root-relative path")
    if not anchored:
        segments.insert(0, "**")
    parts = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".+" if last else "(?:[^/]+/)*")
        else:
            parts.append(_segment_regex(segment))
            if not last:
                parts.append("/")
    return Glob(pattern, re.compile("".join(parts)), directories_only)


def _segment_regex(segment: str) -> str:
    out = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end, char_class = _char_class(segment, index)
            out.append(char_class)
            index = end
        elif char == "\\":
            if index + 1 == len(segment):
                raise InvalidGlob("pattern ends with an escape ('\\')")
            index += 1
            out.append(re.escape(segment[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def _char_class(segment: str, start: int) -> tuple[int, str]:
    """Translate ``[...]`` starting at ``start``; returns the index of ``]`` and a regex."""
    index = start + 1
    negate = index < len(segment) and segment[index] in "!^"
    if negate:
        index += 1
    members_start = index
    # A ']' right after '[' or '[!' is a member, as in fnmatch and gitignore.
    if index < len(segment) and segment[index] == "]":
        index += 1
    while index < len(segment) and segment[index] != "]":
        index += 1
    if index >= len(segment):
        raise InvalidGlob("unclosed '['")
    members = segment[members_start:index]
    escaped = "".join("\\" + c if c in "\\^[]" else c for c in members)
    if negate:
        return index, f"[^/{escaped}]"
    return index, f"[{escaped}]"


class Excludes:
    def __init__(self, patterns: Iterable[str]) -> None:
        self.globs = tuple(compile_glob(pattern) for pattern in patterns)

    def matches(self, relative_path: str, is_dir: bool) -> bool:
        """A pattern matches this one path (its parent directories are not looked at)."""
        return any(glob.matches(relative_path, is_dir) for glob in self.globs)

    def matches_file(self, relative_path: str) -> bool:
        """A pattern matches the file or one of its directories (``docs`` covers ``docs/a.py``)."""
        parts = relative_path.split("/")
        return any(
            self.matches("/".join(parts[:end]), True) for end in range(1, len(parts))
        ) or self.matches(relative_path, False)


def anchor_globs(patterns: Iterable[str], base: str) -> tuple[str, ...]:
    """Patterns written relative to the folder ``base`` (a config file's), as root-relative ones."""
    if not base or base == ".":
        return tuple(patterns)
    anchored = []
    for pattern in patterns:
        body = pattern.strip()
        is_anchored = "/" in body.rstrip("/")
        if body.startswith("./"):
            body = body[2:]
        if is_anchored:
            anchored.append(f"{base}/{body.lstrip('/')}")
        else:
            anchored.append(f"{base}/**/{body}")
    return tuple(anchored)


def relative_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes; absolute when outside ``root``."""
    absolute = _absolute(path)
    root_absolute = _absolute(root)
    try:
        return absolute.relative_to(root_absolute).as_posix()
    except ValueError:
        pass
    # Same place reached through different symlinked prefixes (e.g. /tmp vs /private/tmp);
    # the last component stays unresolved so a linked file keeps its own name.
    try:
        real = absolute.parent.resolve() / absolute.name
        return real.relative_to(root_absolute.resolve()).as_posix()
    except (ValueError, OSError):
        return absolute.as_posix()


def select_python_files(paths: Sequence[Path], root: Path, exclude: Sequence[str]) -> list[Path]:
    """Absolute, sorted, de-duplicated files to analyse for ``scan PATHS``.

    Relative ``paths`` are taken from the current directory. A path that does not
    exist raises ``FileNotFoundError``; ``InvalidGlob`` for a bad exclude pattern.
    """
    root_absolute = _absolute(root)
    root_real = root_absolute.resolve()
    excludes = Excludes(exclude)
    selected: set[Path] = set()
    for raw in paths:
        path = _absolute(raw)
        if _escapes_root(path, root_absolute, root_real):
            logger.warning("skipping %s: it resolves outside %s through a symlink", raw, root)
            continue
        if path.is_dir():
            selected.update(_walk(path, root_absolute, excludes))
        elif path.exists():
            selected.add(path)
        else:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(raw))
    return sorted(selected)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _escapes_root(path: Path, root_absolute: Path, root_real: Path) -> bool:
    if not path.is_relative_to(root_absolute):
        return False
    return not path.resolve().is_relative_to(root_real)


def _walk(directory: Path, root: Path, excludes: Excludes) -> Iterator[Path]:
    listing = _git_listing(directory)
    if listing is None:
        candidates = _os_walk(directory, root, excludes)
    else:
        tracked, untracked = listing
        candidates = [*tracked, *(path for path in untracked if not _in_skipped_dir(path))]
    for relative in candidates:
        path = directory / relative
        if not path.name.endswith(PYTHON_SUFFIX) or path.is_symlink() or not path.is_file():
            continue
        if listing is not None and _excluded_below(directory, relative, root, excludes):
            continue
        yield path


def _in_skipped_dir(relative: str) -> bool:
    return any(_is_skipped_dir_name(part) for part in relative.split("/")[:-1])


def _is_skipped_dir_name(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIR_NAMES or name.endswith(".egg-info")


def _excluded_below(directory: Path, relative: str, root: Path, excludes: Excludes) -> bool:
    """Whether ``relative`` (a file under ``directory``) or a directory between them is excluded."""
    if not excludes.globs or not directory.is_relative_to(root):
        return False
    parts = relative.split("/")
    current = directory
    for index, part in enumerate(parts):
        current = current / part
        is_dir = index < len(parts) - 1
        if excludes.matches(current.relative_to(root).as_posix(), is_dir):
            return True
    return False


def _git_listing(directory: Path) -> tuple[list[str], list[str]] | None:
    """Tracked and untracked-not-ignored paths under ``directory``, relative to it.

    None when ``directory`` is not in a git work tree or git is unavailable.
    """
    tracked = _git_ls_files(directory, "--cached")
    if tracked is None:
        return None
    untracked = _git_ls_files(directory, "--others", "--exclude-standard")
    if untracked is None:
        return None
    return tracked, untracked


def _git_ls_files(directory: Path, *options: str) -> list[str] | None:
    # Running inside the directory (rather than passing it as a pathspec) keeps glob
    # characters in its name literal and makes git print paths relative to it.
    try:
        completed = subprocess.run(
            ["git", "ls-files", "-z", *options, "--", "."],
            cwd=directory,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if completed.returncode != 0:
        return None
    names = (os.fsdecode(name) for name in completed.stdout.split(b"\0"))
    return [name for name in names if name and not name.endswith("/")]


def _os_walk(directory: Path, root: Path, excludes: Excludes) -> Iterator[str]:
    inside_root = directory.is_relative_to(root)
    for current, dir_names, file_names in os.walk(directory):
        current_path = Path(current)
        kept = []
        for name in dir_names:
            child = current_path / name
            if _is_skipped_dir_name(name) or child.is_symlink():
                continue
            if inside_root and excludes.matches(child.relative_to(root).as_posix(), True):
                continue
            kept.append(name)
        dir_names[:] = kept
        for name in file_names:
            if not name.endswith(PYTHON_SUFFIX):
                continue
            child = current_path / name
            if inside_root and excludes.matches(child.relative_to(root).as_posix(), False):
                continue
            yield child.relative_to(directory).as_posix()
