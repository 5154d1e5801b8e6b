"""Publishing a review to a GitLab merge request with python-gitlab, idempotently.

Each new question is one discussion on its line (positions from the MR's diff_refs and
GitLab's own diff of that version); a finding whose fingerprint marker already opens a
discussion is not asked again; a discussion whose finding disappeared gets a short
"resolved in <sha>" note and is resolved; one summary note (found by its hidden marker
among the token user's notes) is created once and edited in place.

If the MR's head is no longer the commit this pipeline reviewed, nothing is posted: the
newer pipeline will. Nothing here decides the exit code, and no API failure escapes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from reviewer.diff import FileChange
from reviewer.platforms.gitlab_context import TOKEN_VARIABLES, MergeRequestContext
from reviewer.platforms.gitlab_positions import DiffFile, DiffRefs, demote, diff_files, discussion_payloads
from reviewer.publish import markers
from reviewer.publish.plan import ReviewPlan, plan_review
from reviewer.publish.retry import Retrier, Transient, parse_retry_after
from reviewer.publish.summary import render_summary
from reviewer.types import RuleMeta, RunResult

DEFAULT_MAX_WAIT = 120.0
TRANSIENT_STATUSES = frozenset({409, 500, 502, 503, 504})
TOKEN_HINT = (
    f"create a project access token (role Developer; or a group access token or a personal access token) "
    f"with the `api` scope and store it in the masked CI/CD variable {TOKEN_VARIABLES[0]}"
)


@dataclass
class Outcome:
    plan: ReviewPlan | None = None
    posted: int = 0
    resolved: list[str] = field(default_factory=list)
    summary_url: str | None = None
    stale_head: str | None = None  # the MR's head when it is not the pipeline's commit
    read_only: bool = False
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MergeRequestState:
    head_sha: str
    refs: DiffRefs
    web_url: str | None


def make_client(context: MergeRequestContext, *, last_response: dict[str, Any]):
    """A python-gitlab client whose own retries are off: Retrier waits, with a cap."""
    import gitlab
    import requests

    class Client(gitlab.Gitlab):
        def http_request(self, *args: Any, **kwargs: Any):
            kwargs.update(obey_rate_limit=False, retry_transient_errors=False, max_retries=0)
            return super().http_request(*args, **kwargs)

    session = requests.Session()
    # python-gitlab's errors carry no headers; Retry-After is read from the last response.
    session.hooks["response"].append(lambda response, *_, **__: last_response.update(response=response))
    token = {"job_token": context.token} if context.job_token else {"private_token": context.token}
    return Client(context.server_url, timeout=30, per_page=100, ssl_verify=context.ca_file or True,
                  session=session, keep_base_url=True, **token)


class GitLabPublisher:
    def __init__(self, context: MergeRequestContext, *, log: Callable[[str], None] = print,
                 sleep: Callable[[float], None] | None = None):
        self.context = context
        self.log = log
        self._last: dict[str, Any] = {}
        max_wait = float(os.environ.get("ARCH_REVIEW_GITLAB_MAX_WAIT", DEFAULT_MAX_WAIT))
        extra = {"sleep": sleep} if sleep is not None else {}
        self.retrier = Retrier("GitLab", self._transient, max_wait=max_wait, log=log, **extra)
        self.gl = make_client(context, last_response=self._last)
        self.project = self.gl.projects.get(context.project, lazy=True)
        self.mr = self.project.mergerequests.get(context.iid, lazy=True)

    # -- reading -------------------------------------------------------------------------

    def state(self) -> MergeRequestState:
        mr = self.retrier.call("reading the merge request",
                               lambda: self.project.mergerequests.get(self.context.iid))
        refs = mr.attributes.get("diff_refs") or {}
        head = refs.get("head_sha") or mr.attributes.get("sha")
        return MergeRequestState(
            head_sha=mr.attributes.get("sha") or head,
            refs=DiffRefs(refs.get("base_sha") or "", refs.get("start_sha") or "", head or ""),
            web_url=mr.attributes.get("web_url"),
        )

    def diff_files(self, refs: DiffRefs) -> dict[str, DiffFile]:
        """GitLab's diff of the MR version whose head is refs.head_sha; {} if there is none yet."""
        versions = self.retrier.call("listing the merge request's versions",
                                     lambda: self.mr.diffs.list(get_all=True))
        current = next((v for v in versions if v.attributes.get("head_commit_sha") == refs.head_sha), None)
        if current is None:
            return {}
        version = self.retrier.call("reading the merge request's diff", lambda: self.mr.diffs.get(current.id))
        return diff_files(version.attributes.get("diffs") or [])

    def discussions(self) -> list:
        return self.retrier.call("reading discussions", lambda: list(self.mr.discussions.list(iterator=True)))

    def summary_note(self, user_id: int | None):
        notes = self.retrier.call("reading notes", lambda: list(self.mr.notes.list(iterator=True)))
        # Only the token user's note may be edited: a person quoting the marker keeps theirs.
        return next((n for n in notes if markers.is_summary(n.attributes.get("body"))
                     and (n.attributes.get("author") or {}).get("id") == user_id), None)

    # -- publishing ----------------------------------------------------------------------

    def publish(
        self,
        result: RunResult,
        changes: Mapping[str, FileChange],
        rules: Mapping[str, RuleMeta],
        *,
        max_comments: int,
        pipeline_sha: str,
        version: str,
    ) -> Outcome:
        import gitlab

        outcome = Outcome()
        try:
            state = self.state()
            if state.head_sha != pipeline_sha:
                outcome.stale_head = state.head_sha
                return outcome
            files = self.diff_files(state.refs)
            threads = self.discussions()
            self.retrier.call("reading the token's user", self.gl.auth)
            user_id = self.gl.user.id if self.gl.user is not None else None
        except gitlab.exceptions.GitlabError as exc:
            self._failed(outcome, "reading the merge request", exc)
            return outcome
        posted = {}
        for thread in threads:
            fingerprint = markers.fingerprint_in(_first_note(thread).get("body"))
            if fingerprint:
                posted.setdefault(fingerprint, thread)
        # A file GitLab shows no diff for (collapsed, too large) gets its findings in the summary.
        plan = plan_review(result.findings, changes, rules, max_comments=max_comments,
                           posted=posted, commentable={path: path in files for path in changes})
        outcome.plan = plan
        self._open_discussions(plan, files, state.refs, outcome)
        if not outcome.read_only:
            self._resolve_fixed(posted, result, pipeline_sha, outcome)
        if not outcome.read_only:
            summary = render_summary(result, plan, head_sha=pipeline_sha, version=version,
                                     resolved=outcome.resolved)
            self._upsert_summary(summary, user_id, state, outcome)
        return outcome

    def _open_discussions(self, plan: ReviewPlan, files: Mapping[str, DiffFile], refs: DiffRefs,
                          outcome: Outcome) -> None:
        import gitlab

        for comment, payload in discussion_payloads(plan, files, refs):
            fingerprint = comment.finding.fingerprint
            try:
                self.retrier.call(
                    "opening a discussion",
                    lambda p=payload: self.mr.discussions.create(p),
                    recheck=lambda f=fingerprint: self._has_discussion(f),
                )
                outcome.posted += 1
            except gitlab.exceptions.GitlabError as exc:
                if exc.response_code == 400:
                    self.log(f"arch-review: GitLab refused the position of {comment.finding.rule} at "
                             f"{comment.path}:{comment.finding.line} (400: {_message(exc)}); "
                             "it is listed in the summary note instead")
                    demote(plan, comment)
                    continue
                self._failed(outcome, "opening a discussion", exc)
                if outcome.read_only:
                    return

    def _has_discussion(self, fingerprint: str) -> bool | None:
        import gitlab

        try:
            threads = self.mr.discussions.list(iterator=True)
            return True if any(markers.fingerprint_in(_first_note(t).get("body")) == fingerprint
                               for t in threads) else None
        except gitlab.exceptions.GitlabError:
            return None

    def _has_resolved_note(self, thread, fingerprint: str) -> bool | None:
        import gitlab

        try:
            notes = self.mr.discussions.get(thread.id).attributes.get("notes") or []
        except gitlab.exceptions.GitlabError:
            return None
        return True if any(markers.resolved_in(n.get("body")) == fingerprint for n in notes) else None

    def _resolve_fixed(self, posted: Mapping[str, Any], result: RunResult, head_sha: str,
                       outcome: Outcome) -> None:
        import gitlab

        current = {finding.fingerprint for finding in result.findings}
        for fingerprint, thread in sorted(posted.items()):
            notes = thread.attributes.get("notes") or []
            first = _first_note(thread)
            if (fingerprint in current or not first.get("resolvable") or first.get("resolved")
                    or any(markers.resolved_in(n.get("body")) == fingerprint for n in notes)):
                continue
            body = f"Resolved in {head_sha}: this question no longer applies.\n\n{markers.resolved_marker(fingerprint)}"
            try:
                self.retrier.call("noting a fixed finding", lambda t=thread, b=body: t.notes.create({"body": b}),
                                  recheck=lambda t=thread, f=fingerprint: self._has_resolved_note(t, f))
                thread.resolved = True
                self.retrier.call("resolving a discussion", thread.save)
                outcome.resolved.append(fingerprint)
            except gitlab.exceptions.GitlabError as exc:
                self._failed(outcome, "resolving a discussion", exc)
                if outcome.read_only:
                    return

    def _upsert_summary(self, body: str, user_id: int | None, state: MergeRequestState, outcome: Outcome) -> None:
        import gitlab

        try:
            existing = self.summary_note(user_id)
            if existing is None:
                note = self.retrier.call("creating the summary note", lambda: self.mr.notes.create({"body": body}),
                                         recheck=lambda: self.summary_note(user_id))
            else:
                note = existing
                if existing.attributes.get("body") != body:
                    existing.body = body
                    self.retrier.call("updating the summary note", existing.save)
            outcome.summary_url = f"{state.web_url}#note_{note.id}" if state.web_url else None
        except gitlab.exceptions.GitlabError as exc:
            self._failed(outcome, "writing the summary note", exc)

    # -- errors --------------------------------------------------------------------------

    def _transient(self, exc: BaseException) -> Transient | None:
        import gitlab
        import requests

        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return Transient("no answer")
        if not isinstance(exc, gitlab.exceptions.GitlabError):
            return None
        status = exc.response_code
        if status == 429:
            response = self._last.get("response")
            header = response.headers.get("Retry-After") if response is not None else None
            return Transient("HTTP 429", retry_after=parse_retry_after(header))
        return Transient(f"HTTP {status}") if status in TRANSIENT_STATUSES else None

    def _failed(self, outcome: Outcome, what: str, exc) -> None:
        status = exc.response_code
        if status in (401, 403):
            if not outcome.read_only:
                outcome.read_only = True
                who = "CI_JOB_TOKEN" if self.context.job_token else "the token"
                self.log(f"arch-review: {who} cannot write to merge request {self.context.name} "
                         f"(HTTP {status} on {what}): {TOKEN_HINT}")
            return
        outcome.failures.append(f"{what}: HTTP {status} {_message(exc)}")
        self.log(f"arch-review: GitLab failed while {what} (HTTP {status}: {_message(exc)}); "
                 "the findings are in the Code Quality report, the JSON file and this log")


def _first_note(thread) -> dict:
    notes = thread.attributes.get("notes") or [{}]
    return notes[0] or {}


def _message(exc) -> str:
    return str(getattr(exc, "error_message", "") or exc)[:300]
