"""`arch-review diff [--base REF] [--head REF]`: review the change on this branch.

Three steps, in one direction: the code host (if publishing) says which commits the
change is made of; ``review`` turns the change into a RunResult; ``deliver`` writes it
and, when publishing, posts it. A platform is a module ``reviewer.commands.publish_<name>``
with two functions:

    prepare(args, root) -> Prepared   the PR/MR, and args.base/args.head pointed at its commits
    finish(args, setup, result, root, changes, prepared) -> int
                                      writes the report, publishes, returns the exit code

``Prepared`` has ``result`` (a report made elsewhere, published as given), ``changes``
(the change as the host lists it, when git cannot make it) and ``reviewed()``.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from types import ModuleType
from typing import Mapping

from reviewer.changes import GitChangeSource, add_change_findings
from reviewer.commands.common import Setup, emit, exit_code, load_setup, root_relative_excludes
from reviewer.commands.llm_pass import run_llm_pass
from reviewer.diff import FileChange
from reviewer.engine.files import Excludes
from reviewer.engine.pipeline import Target, analyze
from reviewer.git import changed_files, read_file_at, read_files_at, repo_root, resolve_base
from reviewer.scope import scope_findings
from reviewer.types import RunResult, Skipped

PLATFORMS = ("github", "gitlab")
# A dry-run format renders what a platform would post, so that platform's module writes it.
FORMAT_PLATFORMS = {"github-review-json": "github", "gitlab-discussions-json": "gitlab"}


def run(args: argparse.Namespace) -> int:
    setup = load_setup(args)
    root = repo_root(Path.cwd())
    platform = platform_module(args)
    prepared = platform.prepare(args, root) if platform is not None else None
    if prepared is not None and prepared.result is not None:  # --findings: a report made elsewhere
        return platform.finish(args, setup, prepared.result, root, prepared.reviewed(), prepared)
    base = None
    if prepared is not None and prepared.changes is not None:  # git could not get the commits: the host's list
        changes = prepared.changes
    else:
        base = resolve_base(root, args.base, args.head)
        changes = changed_files(root, base, args.head)
    reviewed = reviewed_changes(changes, setup, root)
    result = review(args, setup, root, reviewed)
    if base is not None:  # change-level rules read both revisions, so they need git
        add_change_findings(result, GitChangeSource(root, base, args.head, changes), setup.rules,
                            setup.config.adr_dirs, Excludes(root_relative_excludes(setup.config, root)))
    run_llm_pass(args, setup, result, read_source=lambda path: read_file_at(root, args.head, path), changes=reviewed)
    return deliver(args, setup, result, root, with_flagged_manifests(reviewed, changes, result), platform, prepared)


def with_flagged_manifests(
    reviewed: Mapping[str, FileChange], changes: list[FileChange], result: RunResult
) -> dict[str, FileChange]:
    """The reviewed files plus the non-Python files a change-level rule flagged, so a
    platform can comment on the manifest line that added a dependency."""
    flagged = {finding.path for finding in result.findings} - reviewed.keys()
    return {**reviewed, **{change.path: change for change in changes if change.path in flagged}}


def platform_module(args: argparse.Namespace) -> ModuleType | None:
    name = getattr(args, "publish", None) or FORMAT_PLATFORMS.get(args.format)
    if name is None:
        return None
    return importlib.import_module(f"reviewer.commands.publish_{name}")


def reviewed_changes(changes: list[FileChange], setup: Setup, root: Path) -> dict[str, FileChange]:
    """The changed Python files the review reads, by path."""
    excludes = Excludes(root_relative_excludes(setup.config, root))
    return {
        change.path: change
        for change in changes
        if change.status != "deleted"
        and not change.binary
        and change.path.endswith(".py")
        and not excludes.matches_file(change.path)
    }


def review(args: argparse.Namespace, setup: Setup, root: Path, reviewed: Mapping[str, FileChange]) -> RunResult:
    """The change -> findings scoped to it: everything the review concludes, before it is delivered."""
    # A link in the working tree is reviewed as what git stores (its target's
    # name), never followed: it could point outside the repository.
    links = sorted(path for path in reviewed if args.head is None and (root / path).is_symlink())
    targets = [
        Target(path, data=data)
        for path, data in read_files_at(root, args.head, [p for p in sorted(reviewed) if p not in links])
    ]
    result = analyze(targets, setup.rules, max_bytes=setup.config.max_file_size, jobs=args.jobs, file_timeout=setup.config.file_timeout)
    result.skipped.extend(Skipped(path, "symbolic link (not followed)") for path in links)
    result.sort()
    result.findings = scope_findings(result.findings, reviewed, setup.config.filter_mode)
    return result


def deliver(
    args: argparse.Namespace,
    setup: Setup,
    result: RunResult,
    root: Path,
    reviewed: Mapping[str, FileChange],
    platform: ModuleType | None,
    prepared,
) -> int:
    """Writes the report (and publishes it); the exit code depends on --fail-level only."""
    if platform is not None:
        return platform.finish(args, setup, result, root, reviewed, prepared)
    emit(args, setup, result, root)
    return exit_code(result, setup.config.fail_level)
