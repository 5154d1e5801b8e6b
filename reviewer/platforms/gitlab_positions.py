"""Positions GitLab accepts for a discussion on a line of a merge request's diff.

GitLab checks a position against its own diff of the MR version named by the three
shas: an added line has new_line only, an unchanged (context) line both old_line and
new_line, a removed line old_line only; any other combination is refused with a 400
whose message is about ``line_code``. So the old/new line pairs come from GitLab's
diff of the version, not from a local one, and a line it does not show gets no position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from reviewer.publish.plan import InlineComment, ReviewPlan

_HUNK = re.compile(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class DiffRefs:
    base_sha: str
    start_sha: str
    head_sha: str


@dataclass(frozen=True)
class DiffFile:
    old_path: str
    new_path: str
    # new line -> old line for every line GitLab shows on the new side; None for an added line
    lines: Mapping[int, int | None] = field(default_factory=dict)


def line_pairs(diff: str) -> dict[int, int | None]:
    pairs: dict[int, int | None] = {}
    old = new = 0
    for text in diff.splitlines():
        header = _HUNK.match(text)
        if header:
            old, new = int(header[1]), int(header[2])
        elif not new or not text:
            continue  # before the first hunk, or an empty line GitLab never sends inside one
        elif text[0] == "+":
            pairs[new] = None
            new += 1
        elif text[0] == "-":
            old += 1
        elif text[0] == " ":
            pairs[new] = old
            old += 1
            new += 1
    return pairs


def diff_files(entries: Iterable[Mapping[str, Any]]) -> dict[str, DiffFile]:
    """By new path, from the ``diffs`` of an MR version (deleted files have no new side)."""
    files = {}
    for entry in entries:
        if entry.get("deleted_file"):
            continue
        new_path = entry["new_path"]
        files[new_path] = DiffFile(entry.get("old_path") or new_path, new_path, line_pairs(entry.get("diff") or ""))
    return files


def position(refs: DiffRefs, file: DiffFile, line: int) -> dict[str, Any] | None:
    if line not in file.lines:
        return None
    place: dict[str, Any] = {
        "position_type": "text",
        "base_sha": refs.base_sha,
        "start_sha": refs.start_sha,
        "head_sha": refs.head_sha,
        "old_path": file.old_path,
        "new_path": file.new_path,
        "new_line": line,
    }
    old_line = file.lines[line]
    if old_line is not None:
        place["old_line"] = old_line
    return place


def discussion_payloads(plan: ReviewPlan, files: Mapping[str, DiffFile],
                        refs: DiffRefs) -> list[tuple[InlineComment, dict[str, Any]]]:
    """The body of each new discussion as it is POSTed, on the finding's first line; a
    comment with no position GitLab would accept moves to the summary (plan.off_diff)."""
    payloads = []
    for comment in list(plan.inline):
        file = files.get(comment.path)
        place = position(refs, file, comment.finding.line) if file is not None else None
        if place is None:
            demote(plan, comment)
        else:
            payloads.append((comment, {"body": comment.body, "position": place}))
    return payloads


def demote(plan: ReviewPlan, comment: InlineComment) -> None:
    plan.inline.remove(comment)
    plan.off_diff.append(comment.finding)
