"""`arch-review diff --publish gitlab`: the review as merge request discussions and a summary note.

Order matters: the chosen --format is written first (the job log, or the --output file),
then arch-review-results/arch-review.json, then the review is published. The exit code
depends on --fail-level only: no API failure, missing token or stale pipeline changes it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from reviewer import __version__
from reviewer.commands.common import Setup, emit, exit_code, write_document
from reviewer.commands.errors import UsageError
from reviewer.diff import FileChange
from reviewer.platforms.gitlab_context import (
    TOKEN_VARIABLES,
    MergeRequestContext,
    NoMergeRequest,
    load_context,
)
from reviewer.platforms.gitlab_positions import DiffFile, DiffRefs, discussion_payloads, line_pairs
from reviewer.publish.commits import diff_text, ensure_commits, rev_parse
from reviewer.publish.plan import plan_review
from reviewer.publish.results import write_results
from reviewer.report.jsonio import dump
from reviewer.types import RunResult

DRY_RUN_FORMAT = "gitlab-discussions-json"


@dataclass
class Prepared:
    context: MergeRequestContext | None
    changes: list[FileChange] | None = None  # git always makes the change here
    result: RunResult | None = None  # no --findings recipe on GitLab

    def reviewed(self) -> dict[str, FileChange]:
        return {}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(args: argparse.Namespace, root: Path) -> Prepared:
    """Find the MR, and point --base/--head at its diff base and the pipeline's commit."""
    if args.publish != "gitlab":  # the dry run alone: nothing to find
        return Prepared(None)
    if getattr(args, "findings", None):
        raise UsageError("--findings is the GitHub fork recipe; GitLab runs the review in the merge request's pipeline")
    try:
        context = load_context(url=args.gitlab_url, project=args.project, iid=args.mr)
    except NoMergeRequest as exc:
        log(f"arch-review: nothing to publish: {exc}")
        return Prepared(None)
    if context.base_sha is None or context.pipeline_sha is None:
        context = _shas_from_api(context)
    if args.base is None and args.head is None and not ensure_commits(root, [context.base_sha, context.pipeline_sha]):
        raise UsageError(
            f"git cannot reach the merge request's base {context.base_sha} and head {context.pipeline_sha} "
            "from this checkout: fetch them (in GitLab CI, set GIT_DEPTH: 0 for the job)"
        )
    if args.base is None:
        args.base = context.base_sha
    if args.head is None:
        args.head = context.pipeline_sha
    return Prepared(context)


def _shas_from_api(context: MergeRequestContext) -> MergeRequestContext:
    """Outside a merge request pipeline (flags on a laptop), the MR's diff base and head from the API."""
    from reviewer.platforms.gitlab import GitLabPublisher

    if not context.token:
        raise UsageError(f"reading merge request {context.name} needs a token: set {TOKEN_VARIABLES[0]}")
    try:
        state = GitLabPublisher(context, log=log).state()
    except Exception as exc:  # noqa: BLE001 - the message says what to fix
        raise UsageError(f"cannot read merge request {context.name} from {context.api_url}: {exc}") from None
    return replace(context, base_sha=state.refs.base_sha, pipeline_sha=state.head_sha)


def finish(
    args: argparse.Namespace,
    setup: Setup,
    result: RunResult,
    root: Path,
    changes: Mapping[str, FileChange],
    prepared: Prepared,
) -> int:
    code = exit_code(result, setup.config.fail_level)
    if args.format == DRY_RUN_FORMAT:
        write_document(args.output, dump(dry_run(args, setup, result, root, changes)))
    else:
        emit(args, setup, result, root)
    context = prepared.context
    if context is None:
        return code
    files = write_results(setup, result, root, ("json",))
    log(f"arch-review: {len(result.findings)} finding(s) on the change; report: {files['json']}")
    if not context.token:
        from reviewer.platforms.gitlab import TOKEN_HINT

        log(f"arch-review: no token: nothing posted to merge request {context.name}; {TOKEN_HINT}")
        return code
    publish(args, setup, result, changes, context)
    return code


def publish(args: argparse.Namespace, setup: Setup, result: RunResult, changes: Mapping[str, FileChange],
            context: MergeRequestContext) -> None:
    from reviewer.platforms.gitlab import GitLabPublisher

    try:
        outcome = GitLabPublisher(context, log=log).publish(
            result, changes, {rule.id: rule.meta for rule in setup.rules},
            max_comments=getattr(args, "max_comments", None) or setup.config.max_comments,
            pipeline_sha=context.pipeline_sha, version=__version__,
        )
    except Exception as exc:  # noqa: BLE001 - publishing never fails the job
        log(f"arch-review: publishing to GitLab failed ({type(exc).__name__}: {exc}); "
            "the findings are in the Code Quality report, the JSON file and this log")
        return
    if outcome.stale_head:
        log(f"arch-review: merge request {context.name} moved on to {outcome.stale_head} since this pipeline's "
            f"commit {context.pipeline_sha}: nothing posted (the newer pipeline reviews it)")
        return
    if outcome.plan is not None and not outcome.read_only:
        log(f"arch-review: {outcome.posted} new discussion(s), {len(outcome.plan.already_posted)} already open, "
            f"{len(outcome.plan.not_inline)} in the summary only, {len(outcome.resolved)} resolved"
            + (f"; summary: {outcome.summary_url}" if outcome.summary_url else ""))


def dry_run(args: argparse.Namespace, setup: Setup, result: RunResult, root: Path,
            changes: Mapping[str, FileChange]) -> list[dict]:
    """The discussions a first run would open, with positions from the local git diff."""
    from reviewer.git import default_branch, resolve_base

    base = resolve_base(root, args.base, args.head)
    refs = DiffRefs(base, rev_parse(root, args.base or default_branch(root)), rev_parse(root, args.head or "HEAD"))
    plan = plan_review(result.findings, changes, {rule.id: rule.meta for rule in setup.rules},
                       max_comments=getattr(args, "max_comments", None) or setup.config.max_comments)
    files = {}
    for comment in plan.inline:
        change = changes[comment.path]
        old_path = change.old_path or change.path
        text = diff_text(root, base, args.head, sorted({old_path, change.path}))
        files[change.path] = DiffFile(old_path, change.path, line_pairs(text))
    return [payload for _, payload in discussion_payloads(plan, files, refs)]
