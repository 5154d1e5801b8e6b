"""Publishing a review to a GitHub pull request with PyGithub, idempotently.

One run makes at most one review (event COMMENT) holding only new inline questions;
a finding whose fingerprint marker is already in a review comment is not asked again;
a finding that disappeared gets a "resolved in <sha>" reply on its old thread; one
summary issue comment (found by its hidden marker) is created once and edited in
place; a check run carries annotations in batches of 50.

Nothing here decides the exit code, and no API failure escapes: every step reports
what went wrong in one log line and the caller falls back to annotations.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from reviewer.diff import FileChange
from reviewer.platforms.github_context import PullContext
from reviewer.platforms.github_payload import annotation_batches, review_payload
from reviewer.publish import markers
from reviewer.publish.plan import ReviewPlan, plan_review
from reviewer.publish.retry import Retrier, Transient
from reviewer.publish.summary import render_summary
from reviewer.types import RuleMeta, RunResult

CHECK_NAME = "arch-review"
DEFAULT_MAX_WAIT = 900.0
PERMISSION_HINT = (
    "grant `pull-requests: write` (and `checks: write` for the check run) in the workflow's "
    "`permissions:` block; a pull request from a fork never gets a write token under "
    "`pull_request`: use the two-workflow recipe in docs/github.md#fork-pull-requests"
)


class ReadOnly(Exception):
    """The token may read but not write (a fork PR, or permissions not granted)."""


@dataclass
class Outcome:
    plan: ReviewPlan | None = None
    posted: int = 0
    resolved: list[str] = field(default_factory=list)
    summary_url: str | None = None
    check_run: bool = False
    read_only: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def fell_back(self) -> bool:
        return self.read_only or bool(self.failures)


class Gate(Retrier):
    """Retries one GitHub API call: rate limits waited out (Retry-After, the primary
    limit's reset time), 5xx and connection errors with backoff."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] = print,
                 max_wait: float | None = None):
        max_wait = max_wait if max_wait is not None else float(
            os.environ.get("ARCH_REVIEW_GITHUB_MAX_WAIT", DEFAULT_MAX_WAIT)
        )
        super().__init__("GitHub", self._transient, max_wait=max_wait, sleep=sleep, log=log)

    def _transient(self, exc: BaseException) -> Transient | None:
        from github import GithubException
        from requests.exceptions import ConnectionError as ConnectError, Timeout

        if isinstance(exc, (ConnectError, Timeout)):
            return Transient("no answer")
        if not isinstance(exc, GithubException):
            return None
        wait = self._rate_limit_wait(exc)
        if wait is not None:
            return Transient(f"HTTP {exc.status}", retry_after=wait)
        return Transient(f"HTTP {exc.status}") if exc.status >= 500 else None

    def _rate_limit_wait(self, exc) -> float | None:
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        message = str(getattr(exc, "data", "") or "").lower()
        if exc.status not in (403, 429):
            return None
        if "retry-after" in headers:
            try:
                return min(max(float(headers["retry-after"]), 0.0), self.max_wait)
            except ValueError:
                return min(60.0, self.max_wait)
        if headers.get("x-ratelimit-remaining") == "0":
            reset = float(headers.get("x-ratelimit-reset", time.time() + 60))
            return min(max(reset - time.time(), 1.0), self.max_wait)
        if "rate limit" in message:
            return min(60.0, self.max_wait)
        return None


class GitHubPublisher:
    def __init__(self, context: PullContext, *, gate: Gate | None = None, log: Callable[[str], None] = print):
        from github import Auth, Github

        self.context = context
        self.log = log
        self.gate = gate or Gate(log=log)
        auth = Auth.Token(context.token) if context.token else None
        self.github = Github(
            auth=auth, base_url=context.api_url, retry=None, timeout=30, per_page=100,
            seconds_between_requests=None, seconds_between_writes=None, lazy=True,
        )
        self.repo = self.github.get_repo(context.repo)
        self.pull = self.repo.get_pull(context.number)
        self.issue = self.repo.get_issue(context.number)

    # -- reading -------------------------------------------------------------------------

    def pull_shas(self) -> tuple[str, str, str | None]:
        """(base sha, head sha, head repo) of the PR, for runs outside Actions."""
        def read():
            pull = self.github.get_repo(self.context.repo).get_pull(self.context.number)
            pull.base  # noqa: B018 - a lazy pull request loads on first use
            head_repo = pull.head.repo.full_name if pull.head.repo is not None else None
            return pull.base.sha, pull.head.sha, head_repo

        return self.gate.call("reading the pull request", read)

    def pull_files(self) -> list[tuple[str, str, str | None]]:
        """(path, status, patch or None) of every file of the PR, all pages."""
        return self.gate.call(
            "listing the pull request's files",
            lambda: [(f.filename, f.status, f.patch) for f in self.pull.get_files()],
        )

    def review_comments(self) -> list:
        return self.gate.call("reading review comments", lambda: list(self.pull.get_review_comments()))

    def summary_comment(self):
        comments = self.gate.call("reading issue comments", lambda: list(self.issue.get_comments()))
        ours = [c for c in comments if markers.is_summary(c.body)]
        # A person quoting the marker must not get their comment edited: prefer a bot's.
        bots = [c for c in ours if c.user is not None and c.user.type == "Bot"]
        return (bots or ours or [None])[0]

    # -- publishing ----------------------------------------------------------------------

    def publish(
        self,
        result: RunResult,
        changes: Mapping[str, FileChange],
        rules: Mapping[str, RuleMeta],
        *,
        max_comments: int,
        head_sha: str,
        version: str,
        blocking: bool,
        commentable: Mapping[str, bool] | None = None,
        notes: Sequence[str] = (),
    ) -> Outcome:
        from github import GithubException

        outcome = Outcome()
        try:
            existing = self.review_comments()
        except GithubException as exc:
            existing = []
            self._failed(outcome, "reading review comments", exc)
        posted = {}
        resolved_before = set()
        for comment in existing:
            fingerprint = markers.fingerprint_in(comment.body)
            # Replies carry a resolved marker, never a fingerprint marker; reading
            # in_reply_to_id would cost PyGithub one extra request per comment.
            if fingerprint:
                posted.setdefault(fingerprint, comment)
            gone = markers.resolved_in(comment.body)
            if gone:
                resolved_before.add(gone)
        plan = plan_review(result.findings, changes, rules, max_comments=max_comments,
                           posted=posted, commentable=commentable)
        outcome.plan = plan
        self._post_review(plan, head_sha, outcome)
        current = {finding.fingerprint for finding in result.findings}
        for fingerprint, comment in sorted(posted.items()):
            if fingerprint in current or fingerprint in resolved_before or outcome.read_only:
                continue
            body = f"Resolved in {head_sha}: this question no longer applies.\n\n{markers.resolved_marker(fingerprint)}"
            try:
                self.gate.call("replying to a resolved thread",
                               lambda c=comment.id, b=body: self.pull.create_review_comment_reply(c, b),
                               recheck=lambda f=fingerprint: self._has_resolved_reply(f))
                outcome.resolved.append(fingerprint)
            except GithubException as exc:
                self._failed(outcome, "replying to a resolved thread", exc)
        summary = render_summary(result, plan, head_sha=head_sha, version=version,
                                 resolved=outcome.resolved, notes=notes)
        if not outcome.read_only:
            self._upsert_summary(summary, outcome)
        if not outcome.read_only:
            self._check_run(result, head_sha, blocking, outcome)
        return outcome

    def _has_resolved_reply(self, fingerprint: str) -> bool | None:
        from github import GithubException

        try:
            bodies = [c.body for c in self.review_comments()]
        except GithubException:
            return None
        return True if any(markers.resolved_in(body) == fingerprint for body in bodies) else None

    def _post_review(self, plan: ReviewPlan, head_sha: str, outcome: Outcome) -> None:
        from github import GithubException

        if not plan.inline:
            return
        payload = review_payload(plan, head_sha)
        wanted = {comment.finding.fingerprint for comment in plan.inline}

        def create():
            commit = self.repo.get_commit(head_sha)
            return self.pull.create_review(commit=commit, body=payload["body"], event="COMMENT",
                                           comments=payload["comments"])

        def already_there():
            try:
                seen = {markers.fingerprint_in(c.body) for c in self.review_comments()}
            except GithubException:
                return None
            return True if wanted <= seen else None

        try:
            self.gate.call("creating the review", create, recheck=already_there)
            outcome.posted = len(plan.inline)
        except GithubException as exc:
            if exc.status == 422:
                self.log(f"arch-review: GitHub rejected the review (422: {_message(exc)}); "
                         "its questions are listed in the summary instead")
                plan.off_diff.extend(comment.finding for comment in plan.inline)
                plan.inline.clear()
                return
            self._failed(outcome, "creating the review", exc)

    def _upsert_summary(self, body: str, outcome: Outcome) -> None:
        from github import GithubException

        try:
            existing = self.summary_comment()
            if existing is None:
                comment = self.gate.call("creating the summary comment", lambda: self.issue.create_comment(body),
                                         recheck=self.summary_comment)
                outcome.summary_url = getattr(comment, "html_url", None)
            else:
                if existing.body != body:
                    self.gate.call("updating the summary comment", lambda: existing.edit(body))
                outcome.summary_url = existing.html_url
        except GithubException as exc:
            self._failed(outcome, "writing the summary comment", exc)

    def _check_run(self, result: RunResult, head_sha: str, blocking: bool, outcome: Outcome) -> None:
        from github import GithubException

        batches = annotation_batches(result.findings)
        title = f"{len(result.findings)} question(s) from arch-review"
        conclusion = "failure" if blocking else ("neutral" if result.findings else "success")
        output = {"title": title, "summary": title, "annotations": batches[0]}
        # Tells this run's check run apart from earlier runs' on the same head when re-reading after a 5xx.
        external_id = f"arch-review-{uuid.uuid4().hex}"

        def already_there():
            try:
                runs = self.repo.get_commit(head_sha).get_check_runs(check_name=CHECK_NAME)
                return next((r for r in runs if r.external_id == external_id), None)
            except GithubException:
                return None

        try:
            run = self.gate.call("creating the check run", lambda: self.repo.create_check_run(
                name=CHECK_NAME, head_sha=head_sha, external_id=external_id, status="completed",
                conclusion=conclusion, output=output), recheck=already_there)
            for batch in batches[1:]:
                self.gate.call("adding check run annotations", lambda b=batch: run.edit(
                    output={"title": title, "summary": title, "annotations": b}))
            outcome.check_run = True
        except GithubException as exc:
            if exc.status in (403, 404):
                # checks: write is optional; the review and summary carry the findings.
                self.log("arch-review: no check run: the token lacks `checks: write` (optional)")
                return
            self._failed(outcome, "creating the check run", exc)

    def _failed(self, outcome: Outcome, what: str, exc) -> None:
        if exc.status in (401, 403, 404) and not outcome.read_only:
            outcome.read_only = True
            self.log(f"arch-review: the token cannot write to {self.context.repo}#{self.context.number} "
                     f"(HTTP {exc.status} on {what}): {PERMISSION_HINT}")
            return
        if exc.status not in (401, 403, 404):
            outcome.failures.append(f"{what}: HTTP {exc.status} {_message(exc)}")
            self.log(f"arch-review: GitHub failed while {what} (HTTP {exc.status}: {_message(exc)}); "
                     "the findings are in the step summary, the JSON/SARIF files and this log")


def _message(exc) -> str:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        text = str(data.get("message", ""))
        errors = data.get("errors")
        if errors:
            text += f" {errors}"
        return text.strip()[:300]
    return str(data or "")[:300]
