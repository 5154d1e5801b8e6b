"""Unified diff text -> the files a change touched and the new-side lines it added.

Reads what ``git diff`` prints (any ``--unified=N``, with or without ``-M``/``-C``)
and plain ``diff -u`` output. The parser never raises on malformed text: what it
cannot read it skips, so a strange diff yields fewer files, never a crash.

Paths are ``str``. Quoted git paths (``"a/caf\\303\\251.py"``) are unescaped to
bytes and decoded as UTF-8 with ``surrogateescape``: the same rule ``os.fsdecode``
uses on POSIX, so a path that is not valid UTF-8 still names the file on disk.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

STATUSES = ("added", "modified", "renamed", "copied", "deleted", "type-changed")

SUBMODULE_MODE = "160000"
_FILE_TYPE_BITS = {"100644": "file", "100755": "file", "120000": "symlink", SUBMODULE_MODE: "submodule"}

# Bounded digits: int() refuses strings past 4300 digits, and no real file has 10**15 lines.
_HUNK_HEADER = re.compile(r"@@ -(\d{1,15})(?:,(\d{1,15}))? \+(\d{1,15})(?:,(\d{1,15}))? @@")
_PLAIN_BINARY = re.compile(r"Binary files (.+) and (.+) differ$")
_C_ESCAPES = {
    "a": 0x07, "b": 0x08, "t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D,
    '"': 0x22, "\\": 0x5C,
}  # fmt: skip


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    added: frozenset[int]

    @property
    def new_lines(self) -> range:
        return range(self.new_start, self.new_start + self.new_len)


@dataclass(frozen=True)
class FileChange:
    path: str
    old_path: str | None
    status: str
    hunks: tuple[Hunk, ...]
    binary: bool = False

    @functools.cached_property
    def added_lines(self) -> frozenset[int]:
        return frozenset().union(*(hunk.added for hunk in self.hunks))

    @functools.cached_property
    def context_lines(self) -> frozenset[int]:
        return frozenset().union(*(hunk.new_lines for hunk in self.hunks))


def parse_unified_diff(text: str) -> list[FileChange]:
    return _merge_type_changes(list(_DiffReader(text).files()))


@dataclass
class _Section:
    """One file's part of the diff while it is being read."""

    git: bool
    header_old: str | None = None
    header_new: str | None = None
    minus_path: str | None = None
    plus_path: str | None = None
    rename_from: str | None = None
    rename_to: str | None = None
    copy_from: str | None = None
    copy_to: str | None = None
    old_mode: str | None = None
    new_mode: str | None = None
    created: bool = False
    deleted: bool = False
    binary: bool = False
    file_lines_seen: bool = False  # the ---/+++ pair, which names files unambiguously
    hunks: list[Hunk] = field(default_factory=list)
    subproject_lines_only: bool = True

    def to_change(self) -> FileChange | None:
        old, new = self._paths()
        if not old and not new:
            return None
        if self.deleted or new is None:
            status = "deleted"
        elif self.created or old is None:
            status = "added"
        elif self.rename_to is not None or self.rename_from is not None:
            status = "renamed"
        elif self.copy_to is not None or self.copy_from is not None:
            status = "copied"
        elif _file_type(self.old_mode) != _file_type(self.new_mode):
            status = "type-changed"
        else:
            status = "modified"
        path = (old or new) if status == "deleted" else (new or old)
        assert path is not None  # at least one side is named, checked above
        keeps_old_path = status in ("renamed", "copied") and old != new
        hunks = tuple(self.hunks)
        if self._is_submodule(hunks):
            # "Subproject commit <sha>" lines are not lines of any file in this repo.
            hunks = ()
        return FileChange(
            path=path,
            old_path=old if keeps_old_path else None,
            status=status,
            hunks=hunks,
            binary=self.binary,
        )

    def _paths(self) -> tuple[str | None, str | None]:
        """Old and new path (None = /dev/null), trusting the unambiguous lines first.

        A "diff --git" header cannot be split reliably when names contain spaces,
        so it is the last resort; rename/copy lines and ---/+++ lines come first.
        """
        if self.file_lines_seen:
            old, new = _strip_prefixes(self.minus_path, self.plus_path)
        elif self.header_old is not None and self.header_new is not None:
            old, new = _strip_prefixes(self.header_old, self.header_new)
            if self.created:
                old = None
            if self.deleted:
                new = None
        else:
            old = new = None
        old = self.rename_from or self.copy_from or old
        new = self.rename_to or self.copy_to or new
        return old, new

    def _is_submodule(self, hunks: tuple[Hunk, ...]) -> bool:
        if SUBMODULE_MODE in (self.old_mode, self.new_mode):
            return True
        return bool(hunks) and self.subproject_lines_only


class _DiffReader:
    def __init__(self, text: str) -> None:
        # Only "\n" ends a line for git; str.splitlines would also split on \f, \x1c, \u2028...
        self.lines = text.split("\n")
        if self.lines[-1] == "":
            self.lines.pop()  # what follows the final newline is not a line
        self.index = 0

    def files(self) -> Iterator[FileChange]:
        section: _Section | None = None
        skipping = False  # inside a combined (merge) diff or a GIT binary patch body
        while self.index < len(self.lines):
            line = self.lines[self.index]
            header = line.rstrip("\r")
            self.index += 1
            if header.startswith("diff --git "):
                yield from _finish(section)
                section, skipping = _Section(git=True), False
                section.header_old, section.header_new = _split_git_header(header[len("diff --git ") :])
            elif header.startswith(("diff --cc ", "diff --combined ")):
                yield from _finish(section)
                section, skipping = None, True
            elif skipping:
                continue
            elif header.startswith("--- ") and self._next_starts_with("+++ "):
                if section is None or not section.git or section.file_lines_seen:
                    yield from _finish(section)
                    section = _Section(git=False)
                plus = self.lines[self.index].rstrip("\r")
                self.index += 1
                section.file_lines_seen = True
                section.minus_path = _diff_path(header[4:], side_by_side=True)
                section.plus_path = _diff_path(plus[4:], side_by_side=True)
                if section.minus_path is None:
                    section.created = True
                if section.plus_path is None:
                    section.deleted = True
            elif header.startswith("@@ ") and section is not None:
                hunk = self._read_hunk(header, section)
                if hunk is not None:
                    section.hunks.append(hunk)
            elif section is not None and section.git and not section.hunks:
                skipping = self._read_extended_header(header, section)
            elif header.startswith("Binary files ") and (section is None or not section.git):
                yield from _finish(section)
                section = _plain_binary_section(header)
        yield from _finish(section)

    def _next_starts_with(self, prefix: str) -> bool:
        return self.index < len(self.lines) and self.lines[self.index].startswith(prefix)

    def _read_extended_header(self, line: str, section: _Section) -> bool:
        """Record one git extended header line; True when a binary patch body follows."""
        key, _, value = line.partition(" ")
        if line.startswith("new file mode "):
            section.created, section.new_mode = True, line.rsplit(" ", 1)[-1]
        elif line.startswith("deleted file mode "):
            section.deleted, section.old_mode = True, line.rsplit(" ", 1)[-1]
        elif line.startswith("old mode "):
            section.old_mode = line.rsplit(" ", 1)[-1]
        elif line.startswith("new mode "):
            section.new_mode = line.rsplit(" ", 1)[-1]
        elif key == "index":
            parts = value.split(" ")
            if len(parts) == 2 and section.old_mode is None and section.new_mode is None:
                section.old_mode = section.new_mode = parts[1]
        elif line.startswith("rename from "):
            section.rename_from = _decode_path_field(line[len("rename from ") :])
        elif line.startswith("rename to "):
            section.rename_to = _decode_path_field(line[len("rename to ") :])
        elif line.startswith("copy from "):
            section.copy_from = _decode_path_field(line[len("copy from ") :])
        elif line.startswith("copy to "):
            section.copy_to = _decode_path_field(line[len("copy to ") :])
        elif line.startswith("Binary files ") and line.endswith(" differ"):
            section.binary = True
        elif line == "GIT binary patch":
            section.binary = True
            return True
        return False

    def _read_hunk(self, header: str, section: _Section) -> Hunk | None:
        match = _HUNK_HEADER.match(header)
        if match is None:
            return None
        old_start, new_start = int(match[1]), int(match[3])
        old_left = 1 if match[2] is None else int(match[2])
        new_left = 1 if match[4] is None else int(match[4])
        old_seen = new_seen = 0
        added: list[int] = []
        while (old_left > 0 or new_left > 0) and self.index < len(self.lines):
            line = self.lines[self.index]
            marker = line[:1]
            if marker == " " or (line in ("", "\r") and old_left > 0 and new_left > 0):
                # An empty line is a blank context line whose space was trimmed
                # (diff.suppressBlankEmpty, or an editor stripping trailing space).
                old_left, new_left = old_left - 1, new_left - 1
                old_seen, new_seen = old_seen + 1, new_seen + 1
            elif marker == "+" and new_left > 0:
                added.append(new_start + new_seen)
                new_left, new_seen = new_left - 1, new_seen + 1
            elif marker == "-" and old_left > 0:
                old_left, old_seen = old_left - 1, old_seen + 1
            elif marker != "\\":
                break  # truncated or malformed hunk: keep what was read
            if marker in (" ", "+", "-") and not line[1:].startswith("Subproject commit "):
                section.subproject_lines_only = False
            self.index += 1
        # "\ No newline at end of file" may follow the last counted line.
        while self._next_starts_with("\\"):
            self.index += 1
        # Lengths are what was actually read, so a truncated hunk never claims lines it lacks.
        return Hunk(old_start, old_seen, new_start, new_seen, frozenset(added))


def _finish(section: _Section | None) -> Iterator[FileChange]:
    if section is not None:
        change = section.to_change()
        if change is not None:
            yield change


def _plain_binary_section(line: str) -> _Section | None:
    match = _PLAIN_BINARY.match(line)
    if match is None:
        return None
    section = _Section(git=False, binary=True, file_lines_seen=True)
    section.minus_path = _diff_path(match[1], side_by_side=False)
    section.plus_path = _diff_path(match[2], side_by_side=False)
    section.created = section.minus_path is None
    section.deleted = section.plus_path is None
    return section


def _merge_type_changes(changes: list[FileChange]) -> list[FileChange]:
    """Fold git's delete-then-add pair for one path (file <-> symlink) into one change."""
    merged: list[FileChange] = []
    for change in changes:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.path == change.path
            and {previous.status, change.status} == {"deleted", "added"}
        ):
            created = change if change.status == "added" else previous
            merged[-1] = FileChange(created.path, None, "type-changed", created.hunks, created.binary)
        else:
            merged.append(change)
    return merged


def _file_type(mode: str | None) -> str | None:
    if mode is None:
        return None
    return _FILE_TYPE_BITS.get(mode, mode)


def _strip_prefixes(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Drop git's a/ and b/ prefixes, but only when both sides carry them.

    Diffs made with --no-prefix name files bare; stripping "a/" there would
    corrupt a real top-level folder called "a".
    """
    old_ok = old is None or old.startswith("a/")
    new_ok = new is None or new.startswith("b/")
    if old_ok and new_ok and not (old is None and new is None):
        return (old[2:] if old else None), (new[2:] if new else None)
    return old, new


def _diff_path(field: str, *, side_by_side: bool) -> str | None:
    """A name from a ---/+++ or "Binary files" line; None for /dev/null.

    After the name, git writes a tab when the name has a space, and plain
    diff writes a tab and a timestamp: either way the name ends at the tab.
    """
    if field.startswith('"'):
        name, _ = _read_quoted(field)
    else:
        name = field.split("\t", 1)[0] if side_by_side else field
    if not name or name == "/dev/null":
        return None
    return name


def _decode_path_field(field: str) -> str:
    if field.startswith('"'):
        name, rest = _read_quoted(field)
        if name is not None and not rest.strip():
            return name
    return field


def _split_git_header(names: str) -> tuple[str | None, str | None]:
    """Both names of "diff --git A B", quoted or not.

    Unquoted names may contain spaces, so "a/x y b/x y" is split where both
    halves name the same file (what git apply does); anything else falls back
    to the first " b/". Renames do not depend on this: they carry "rename" lines.
    """
    if names.startswith('"'):
        old, rest = _read_quoted(names)
        rest = rest.lstrip(" ")
        new = _read_quoted(rest)[0] if rest.startswith('"') else (rest or None)
        return old, new
    if names.endswith('"'):
        start = names.rfind(' "')
        if start != -1:
            return names[:start], _read_quoted(names[start + 1 :])[0]
    middle = len(names) // 2
    if len(names) % 2 == 1 and names[middle] == " ":
        old, new = names[:middle], names[middle + 1 :]
        if old[2:] == new[2:] or old == new:
            return old, new
    split = names.find(" b/")
    if split != -1:
        return names[:split], names[split + 1 :]
    old, _, new = names.partition(" ")
    return old or None, new or None


def _read_quoted(text: str) -> tuple[str | None, str]:
    """Decode one C-style quoted name at the start of text; return it and the rest.

    Git escapes bytes >= 0x80 as octal (\\303\\251 is "é" in UTF-8), so escapes
    are collected as bytes and decoded once at the end.
    """
    out = bytearray()
    i = 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return out.decode("utf-8", "surrogateescape"), text[i + 1 :]
        if char != "\\":
            out += _encode_char(char)
            i += 1
            continue
        escape = text[i + 1 : i + 2]
        octal = text[i + 1 : i + 4]
        if len(octal) == 3 and all(c in "01234567" for c in octal):
            out.append(int(octal, 8) & 0xFF)
            i += 4
        elif escape in _C_ESCAPES:
            out.append(_C_ESCAPES[escape])
            i += 2
        else:
            out += _encode_char(escape)
            i += 2
    return None, ""


def _encode_char(char: str) -> bytes:
    try:
        return char.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that surrogateescape did not make
        return char.encode("utf-8", "surrogatepass")
