"""`arch-review diff [--base REF] [--head REF]`: review the change on this branch."""

from __future__ import annotations

import argparse
from pathlib import Path

from reviewer.commands import publish_github
from reviewer.commands.common import emit, exit_code, load_setup, root_relative_excludes
from reviewer.engine.files import Excludes
from reviewer.engine.pipeline import Target, analyze
from reviewer.git import changed_files, read_file_at, repo_root, resolve_base
from reviewer.scope import scope_findings
from reviewer.types import Skipped


def run(args: argparse.Namespace) -> int:
    setup = load_setup(args)
    root = repo_root(Path.cwd())
    prepared = publish_github.prepare(args, root)
    if prepared.result is not None:  # --findings: a report made elsewhere, published here
        return publish_github.finish(args, setup, prepared.result, root, prepared.reviewed(), prepared)
    if prepared.changes is not None:  # git could not get the PR's commits: the host's file list
        changes = prepared.changes
    else:
        changes = changed_files(root, resolve_base(root, args.base, args.head), args.head)
    excludes = Excludes(root_relative_excludes(setup.config, root))
    reviewed = {
        change.path: change
        for change in changes
        if change.status != "deleted"
        and not change.binary
        and change.path.endswith(".py")
        and not excludes.matches_file(change.path)
    }
    # A link in the working tree is reviewed as what git stores (its target's
    # name), never followed: it could point outside the repository.
    links = sorted(path for path in reviewed if args.head is None and (root / path).is_symlink())
    targets = [
        Target(path, data=read_file_at(root, args.head, path))
        for path in sorted(reviewed)
        if path not in links
    ]
    result = analyze(targets, setup.rules, max_bytes=setup.config.max_file_size, jobs=args.jobs)
    result.skipped.extend(Skipped(path, "symbolic link (not followed)") for path in links)
    result.sort()
    result.findings = scope_findings(result.findings, reviewed, setup.config.filter_mode)
    if args.format == "github-review-json" or prepared.context is not None:
        return publish_github.finish(args, setup, result, root, reviewed, prepared)
    emit(args, setup, result, root)
    return exit_code(result, setup.config.fail_level)
