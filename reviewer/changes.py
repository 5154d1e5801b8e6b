"""Change-level rules: what a change adds to the system's dependencies, read from the diff.

Syntax-tree rules look at one file; these look at the change as a whole. A rule with
``match: {change: new-dependency}`` reports a dependency added to a manifest; one with
``match: {change: new-service-client}`` reports a datastore, queue, vector database or
model-serving client the change brings in, through a manifest or a first import. Both ask
whether the choice has an architecture decision record: a change that adds or edits a
file in the repository's ADR folder has one, and gets no finding.

The change is read through a ``ChangeSource``: git in ``arch-review diff``, two
dictionaries of files for a rule's own examples.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Protocol, Sequence

from reviewer.diff import FileChange, parse_unified_diff
from reviewer.engine.files import Excludes
from reviewer.engine.suppressions import find_suppressions
from reviewer.git import GitError, read_file_at
from reviewer.manifests import Dependency, dependencies, manifest_kind
from reviewer.questions import field_text, fill
from reviewer.service_clients import ServiceClient, client_for_distribution, client_used_on
from reviewer.types import Finding, Location, RunResult, fingerprint

if TYPE_CHECKING:
    from reviewer.ruleset.schema import CompiledRule

# Placeholders each kind of change rule fills (the common ones come from schema.py).
CHANGE_FIELDS: Mapping[str, frozenset[str]] = {
    "new-dependency": frozenset({"package", "manifest", "adr"}),
    "new-service-client": frozenset({"package", "manifest", "adr", "service", "kind"}),
}


class ChangeSource(Protocol):
    changes: Sequence[FileChange]

    def head_text(self, path: str) -> str | None: ...

    def base_text(self, path: str) -> str | None: ...

    def base_python_matches(self, pattern: str) -> bool:
        """Whether some Python file at the base matches ``pattern`` (unknown counts as yes)."""

    def head_has_files_under(self, directory: str) -> bool: ...


@dataclass(frozen=True)
class _Hit:
    path: str
    line: int
    text: str
    symbol: str
    fields: dict[str, str]


def change_findings(
    source: ChangeSource,
    rules: Iterable["CompiledRule"],
    adr_dirs: Sequence[str],
    excluded=lambda path: False,
) -> list[Finding]:
    """Findings of the change rules among ``rules`` on this change."""
    rules = [rule for rule in rules if rule.change is not None]
    if not rules:
        return []
    changed = [c for c in source.changes if c.status != "deleted" and not c.binary and not excluded(c.path)]
    adr = _adr_state(source, adr_dirs)
    if adr is None:
        return []
    added = _added_dependencies(source, excluded)
    hits = {"new-dependency": [], "new-service-client": []}
    for path, dependency, line_text in added:
        client = client_for_distribution(dependency.name)
        kind = "new-service-client" if client is not None else "new-dependency"
        hits[kind].append(_Hit(path, dependency.line, line_text, dependency.section,
                               _fields(dependency.name, path, adr, client)))
    hits["new-service-client"] += _first_client_imports(source, changed, {d.name for _, d, _ in added}, adr)
    findings: list[Finding] = []
    for rule in rules:
        findings += _to_findings(rule, hits[rule.change], source)
    return sorted(findings, key=Finding.sort_key)


def add_change_findings(result: RunResult, source: ChangeSource, rules, adr_dirs: Sequence[str], excludes: Excludes) -> None:
    """Adds the change rules' findings to a diff's result (config excludes apply to manifests too)."""
    result.findings.extend(change_findings(source, rules, adr_dirs, excludes.matches_file))
    result.sort()


def _adr_state(source: ChangeSource, adr_dirs: Sequence[str]) -> str | None:
    """The sentence about decision records for the question; None when the change adds one."""
    folders = [d.strip("/") for d in adr_dirs]
    for change in source.changes:
        if change.status != "deleted" and any(change.path.startswith(f + "/") for f in folders):
            return None
    existing = [f for f in folders if source.head_has_files_under(f)]
    if existing:
        return f"The repository records decisions in {existing[0]}/, and this change adds no record there."
    return "Is there an architecture decision record for this choice?"


def _fields(package: str, manifest: str, adr: str, client: ServiceClient | None) -> dict[str, str]:
    fields = {"package": package, "manifest": manifest, "adr": adr}
    if client is not None:
        fields.update(service=client.name, kind=client.kind)
    return fields


def _added_dependencies(source: ChangeSource, excluded) -> list[tuple[str, Dependency, str]]:
    """Runtime dependencies on added manifest lines that no manifest declared before."""
    manifests = [c for c in source.changes if manifest_kind(c.path) is not None and not excluded(c.path)]
    before = set()
    for change in manifests:
        old = source.base_text(change.old_path or change.path)
        if old is not None:
            before |= {d.name for d in dependencies(change.old_path or change.path, old)}
    added = []
    for change in manifests:
        if change.status == "deleted" or not change.added_lines:
            continue
        text = source.head_text(change.path)
        if text is None:
            continue
        lines = text.split("\n")
        for dependency in dependencies(change.path, text):
            if dependency.line in change.added_lines and not dependency.dev and dependency.name not in before:
                before.add(dependency.name)  # once per change, at its first added line
                added.append((change.path, dependency, lines[dependency.line - 1]))
    return added


def _first_client_imports(
    source: ChangeSource, changed: Sequence[FileChange], declared: set[str], adr: str
) -> list[_Hit]:
    """The first line of the change that starts using a service client the base never used."""
    seen: dict[str, _Hit | None] = {}
    for change in sorted(changed, key=lambda c: c.path):
        if not change.path.endswith(".py") or not change.added_lines:
            continue
        text = source.head_text(change.path)
        if text is None:
            continue
        lines = text.split("\n")
        for number in sorted(change.added_lines):
            if number > len(lines):
                continue
            client = client_used_on(lines[number - 1])
            if client is None or client.name in seen or client.distributions & declared:
                continue
            if source.base_python_matches(client.pattern):
                seen[client.name] = None  # already in use: not new
                continue
            package = min(client.distributions) if client.distributions else "boto3"
            seen[client.name] = _Hit(change.path, number, lines[number - 1], "",
                                     _fields(package, change.path, adr, client))
    return [hit for hit in seen.values() if hit is not None]


def _to_findings(rule: "CompiledRule", hits: Sequence[_Hit], source: ChangeSource) -> list[Finding]:
    meta = rule.meta
    findings = []
    suppressions = {}
    for hit in hits:
        if hit.path not in suppressions:
            suppressions[hit.path] = find_suppressions(source.head_text(hit.path) or "")
        if suppressions[hit.path].covers(hit.line, meta.id, meta.family.value):
            continue
        fields = {"path": hit.path, "symbol": hit.symbol, "function": "", "module": "",
                  "code": field_text(hit.text), **hit.fields}
        location = Location(hit.path, hit.line, 1, hit.line, len(hit.text.rstrip("\r")) + 1)
        findings.append(Finding(
            rule=meta.id, name=meta.name, family=meta.family, severity=meta.severity,
            location=location, symbol=hit.symbol,
            message=fill(meta.message, fields), question=fill(meta.question, fields),
            fingerprint=fingerprint(meta.id, hit.path, hit.symbol, hit.text),
        ))
    return findings


class GitChangeSource:
    """The change between two revisions of a git repository (head None: the working tree)."""

    def __init__(self, root: Path, base: str, head: str | None, changes: Sequence[FileChange]) -> None:
        self.root, self.base, self.head, self.changes = root, base, head, changes

    def head_text(self, path: str) -> str | None:
        return self._read(self.head, path)

    def base_text(self, path: str) -> str | None:
        return self._read(self.base, path)

    def _read(self, revision: str | None, path: str) -> str | None:
        try:
            return read_file_at(self.root, revision, path).decode("utf-8", errors="replace")
        except GitError:
            return None

    def base_python_matches(self, pattern: str) -> bool:
        done = subprocess.run(
            ["git", "grep", "-q", "-E", "-e", pattern, self.base, "--", "*.py"],
            cwd=self.root, capture_output=True, check=False,
        )
        return done.returncode != 1  # 0: found; anything but "not found" is unknown

    def head_has_files_under(self, directory: str) -> bool:
        if self.head is None:
            folder = self.root / directory
            return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))
        done = subprocess.run(
            ["git", "ls-tree", "-r", "--name-only", self.head, "--", directory + "/"],
            cwd=self.root, capture_output=True, check=False,
        )
        return done.returncode == 0 and bool(done.stdout.strip())


class FilesChangeSource:
    """A change given as the files before and after it (a rule's own examples, tests).

    ``after`` lists only what changed: a path mapped to None was deleted.
    """

    def __init__(self, before: Mapping[str, str], after: Mapping[str, str | None]) -> None:
        self.before = dict(before)
        self.after = {**self.before, **after}
        self.after = {path: text for path, text in self.after.items() if text is not None}
        diff = []
        for path in sorted(set(self.before) | set(after)):
            old, new = self.before.get(path), self.after.get(path)
            if old != new:
                diff += difflib.unified_diff(
                    (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                    "/dev/null" if old is None else f"a/{path}", "/dev/null" if new is None else f"b/{path}",
                )
                if diff and not diff[-1].endswith("\n"):
                    diff[-1] += "\n"
        self.diff = "".join(diff)
        self.changes = parse_unified_diff(self.diff)

    def head_text(self, path: str) -> str | None:
        return self.after.get(path)

    def base_text(self, path: str) -> str | None:
        return self.before.get(path)

    def base_python_matches(self, pattern: str) -> bool:
        return any(path.endswith(".py") and re.search(pattern, text, re.M)
                   for path, text in self.before.items())

    def head_has_files_under(self, directory: str) -> bool:
        return any(path.startswith(directory.strip("/") + "/") for path in self.after)
