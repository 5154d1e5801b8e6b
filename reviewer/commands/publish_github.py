"""`arch-review diff --publish github` and `--format github-review-json`.

Order matters: the findings are written locally first (the chosen --format, plus the
JSON and SARIF files the Action exposes), then published. The exit code depends on
--fail-level only: an API failure is logged and falls back to workflow annotations
and the step summary, it never fails the job.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from reviewer import __version__
from reviewer.commands.common import Setup, emit, exit_code, write_document
from reviewer.commands.errors import UsageError, warning
from reviewer.diff import FileChange
from reviewer.platforms import actions
from reviewer.platforms.github_context import NoPullRequest, PullContext, load_context
from reviewer.platforms.github_payload import review_payload
from reviewer.publish.commits import ensure_commits, has_commit, rev_parse
from reviewer.publish.plan import plan_review
from reviewer.publish.results import write_results
from reviewer.publish.summary import render_summary
from reviewer.report.jsonio import dump
from reviewer.types import RunResult, Severity

MAX_REPORT_FINDINGS = 5000
_FP = re.compile(r"[0-9a-f]{16,64}")
_RULE = re.compile(r"[A-Z][A-Z0-9]{1,15}")


@dataclass
class Prepared:
    context: PullContext | None
    head_sha: str | None
    # Set only when git could not provide the change: built from the PR files API.
    changes: list[FileChange] | None = None
    commentable: dict[str, bool] | None = None
    result: RunResult | None = None  # --findings: published as given, nothing analysed

    def reviewed(self) -> dict[str, FileChange]:
        return {change.path: change for change in self.changes or ()}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(args: argparse.Namespace, root: Path) -> Prepared:
    """Find the PR, and point --base/--head at its base and head commits (fetched if missing)."""
    if getattr(args, "publish", None) != "github":
        return Prepared(None, None)
    try:
        context = load_context(repo=args.repo, number=args.pr, github_url=args.github_url)
    except NoPullRequest as exc:
        log(f"arch-review: nothing to publish: {exc}")
        return Prepared(None, None)
    if context.head_sha is None:
        from reviewer.platforms.github import GitHubPublisher

        try:
            base, head, head_repo = GitHubPublisher(context, log=log).pull_shas()
        except Exception as exc:  # noqa: BLE001 - the message says what to fix
            raise UsageError(f"cannot read {context.repo}#{context.number} from {context.api_url}: {exc}") from None
        from dataclasses import replace

        context = replace(context, base_sha=base, head_sha=head, head_repo=head_repo)
    if getattr(args, "findings", None):
        return _from_report(args, root, context)
    # Findings and lines come from the PR head (where the comments anchor), compared
    # with its merge-base, never from the merge commit actions/checkout made.
    if args.base is None and args.head is None and not ensure_commits(root, [context.base_sha, context.head_sha]):
        return _from_files_api(args, root, context)
    if args.base is None:
        args.base = context.base_sha
    if args.head is None:
        args.head = context.head_sha
    return Prepared(context, context.head_sha)


def _from_files_api(args: argparse.Namespace, root: Path, context: PullContext) -> Prepared:
    """The change as the PR files API lists it (paged). A file without a patch (too
    large, binary) is reviewed whole but gets no inline comment."""
    from reviewer.platforms.github import GitHubPublisher

    log("arch-review: git cannot reach the PR's base and head commits: using the pull request files API")
    head_here = has_commit(root, context.head_sha)
    args.head = context.head_sha if head_here else None
    if not head_here:
        log("arch-review: the head commit is not in this checkout: files are read from the working tree")
    try:
        files = GitHubPublisher(context, log=log).pull_files()
    except Exception as exc:  # noqa: BLE001
        raise UsageError(f"cannot list the files of {context.repo}#{context.number}: {exc}; "
                         "check out the history (actions/checkout with fetch-depth: 0)") from None
    if not head_here:
        # The working tree is the merge commit: its line numbers are not the head's, so
        # the patches' lines do not apply. Changed files are reviewed whole, in the summary only.
        files = [(path, status, None) for path, status, _ in files]
    changes, commentable = changes_from_patches(files, lambda path: _line_count(root, args.head, path))
    return Prepared(context, context.head_sha, changes, commentable)


def _from_report(args: argparse.Namespace, root: Path, context: PullContext) -> Prepared:
    """The fork-PR recipe's trusted half: findings from an artifact, hunks from the files API.

    The report is untrusted data from a fork's run: it is validated finding by finding and
    never executed; if the PR moved on since it was made (--head differs), nothing is inline.
    """
    from reviewer.platforms.github import GitHubPublisher

    result = load_report(Path(args.findings))
    publisher = GitHubPublisher(context, log=log)
    try:
        files = publisher.pull_files()
    except Exception as exc:  # noqa: BLE001
        raise UsageError(f"cannot list the files of {context.repo}#{context.number}: {exc}") from None
    patches = [(path, status, patch) for path, status, patch in files]
    changes, commentable = changes_from_patches(patches, lambda path: 0)
    if args.head and args.head != context.head_sha:
        log(f"arch-review: the pull request moved on since {args.head}: findings go to the summary only")
        commentable = dict.fromkeys(commentable, False)
    return Prepared(context, context.head_sha, changes, commentable, result)


def load_report(path: Path) -> RunResult:
    import json

    from reviewer.types import Finding, Skipped

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--findings {path}: cannot read a JSON report: {exc}") from None
    result = RunResult()
    items = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise UsageError(f"--findings {path}: no 'findings' list (make it with --format json)")
    for item in items[:MAX_REPORT_FINDINGS]:
        try:
            finding = Finding.from_json(item)
            valid = (_FP.fullmatch(finding.fingerprint) and _RULE.fullmatch(finding.rule)
                     and all(isinstance(v, int) and v >= 1 for v in (finding.line, finding.location.end_line))
                     and isinstance(finding.path, str) and isinstance(finding.question, str))
        except (KeyError, TypeError, ValueError, AttributeError):
            valid = False
        if valid:
            result.findings.append(finding)
        else:
            warning(f"--findings {path}: skipped an entry that is not a valid finding")
    for item in (data.get("skipped") or [])[:MAX_REPORT_FINDINGS]:
        if isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("reason"), str):
            result.skipped.append(Skipped(item["path"], item["reason"]))
    result.sort()
    return result


def changes_from_patches(files, line_count) -> tuple[list[FileChange], dict[str, bool]]:
    from reviewer.diff import Hunk, parse_unified_diff

    changes: list[FileChange] = []
    commentable: dict[str, bool] = {}
    for path, status, patch in files:
        status = {"removed": "deleted", "changed": "modified"}.get(status, status)
        if status == "deleted":
            changes.append(FileChange(path, None, "deleted", ()))
            continue
        if patch:
            old = "/dev/null" if status == "added" else f"a/{path}"
            text = f"diff --git a/{path} b/{path}\n--- {old}\n+++ b/{path}\n{patch}\n"
            parsed = parse_unified_diff(text)
            if parsed:
                changes.append(FileChange(path, None, "added" if status == "added" else "modified", parsed[0].hunks))
                commentable[path] = True
                continue
        count = line_count(path)
        hunk = Hunk(0, 0, 1, count, frozenset(range(1, count + 1)))
        changes.append(FileChange(path, None, "modified", (hunk,) if count else ()))
        commentable[path] = False
    return changes, commentable


def _line_count(root: Path, rev: str | None, path: str) -> int:
    from reviewer.git import GitError, read_file_at

    try:
        data = read_file_at(root, rev, path)
    except GitError:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def finish(
    args: argparse.Namespace,
    setup: Setup,
    result: RunResult,
    root: Path,
    changes: Mapping[str, FileChange],
    prepared: Prepared,
) -> int:
    rules = {rule.id: rule.meta for rule in setup.rules}
    max_comments = getattr(args, "max_comments", None) or setup.config.max_comments
    code = exit_code(result, setup.config.fail_level)
    head_sha = prepared.head_sha or rev_parse(root, args.head or "HEAD")
    if args.format == "github-review-json":
        plan = plan_review(result.findings, changes, rules, max_comments=max_comments)
        write_document(args.output, dump(review_payload(plan, head_sha)))
    else:
        emit(args, setup, result, root)
    if prepared.context is None:
        return code
    files = write_results(setup, result, root, ("json", "sarif"))
    blocking = code != 0
    from reviewer.platforms.github import GitHubPublisher, Outcome

    outcome = Outcome()
    try:
        if not prepared.context.token:
            log("arch-review: no GITHUB_TOKEN: findings go to the job log and the step summary only")
            outcome.read_only = True
        else:
            publisher = GitHubPublisher(prepared.context, log=log)
            outcome = publisher.publish(
                result, changes, rules, max_comments=max_comments, head_sha=head_sha,
                version=__version__, blocking=blocking, commentable=prepared.commentable,
            )
    except Exception as exc:  # noqa: BLE001 - publishing never fails the job
        log(f"arch-review: publishing to GitHub failed ({type(exc).__name__}: {exc}); "
            "the findings are in the step summary, the JSON/SARIF files and this log")
        outcome.failures.append(str(exc))
    plan = outcome.plan or plan_review(result.findings, changes, rules, max_comments=max_comments,
                                       commentable=prepared.commentable)
    if outcome.fell_back:
        actions.annotate(result.findings, sys.stdout)
    actions.append_step_summary(render_summary(result, plan, head_sha=head_sha, version=__version__,
                                               resolved=outcome.resolved, marker=False))
    threshold = setup.config.fail_level
    actions.write_outputs({
        "findings": str(len(result.findings)),
        "blocking": str(sum(1 for f in result.findings
                            if threshold != "none" and f.severity.rank >= Severity(threshold).rank)),
        "sarif-file": str(files["sarif"]),
    })
    return code
