"""The optional LLM pass: rephrase each finding's question for its code, write the PR summary.

It may change only the ``question`` of a finding: never which findings there are, their
order, location, rule, severity or fingerprint. Any error, timeout or rate limit leaves
every template question in place and the pass is reported as skipped, with the reason;
budgets (findings sent, tokens per call and in total) stop it early without an error.
The whole pass runs under one deadline; the exit code never depends on it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from reviewer.config import LLMConfig
from reviewer.diff import FileChange
from reviewer.llm import prompts
from reviewer.llm.answers import fitting_question, fitting_summary
from reviewer.llm.client import CHARS_PER_TOKEN, ChatClient, LLMUnavailable, Reply
from reviewer.llm.outcome import LLMReview
from reviewer.llm.snippets import snippet
from reviewer.report.summary import plural
from reviewer.types import Finding

SourceReader = Callable[[str], "bytes | str | None"]


@dataclass
class _Progress:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    questions: dict[int, str] = field(default_factory=dict)
    discarded: int = 0
    budget_stopped: bool = False
    summary: str = ""
    summary_discarded: bool = False
    error: str | None = None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def count(self, reply: Reply) -> None:
        self.calls += 1
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.estimated = self.estimated or reply.estimated


def review_with_llm(
    config: LLMConfig,
    findings: Sequence[Finding],
    *,
    read_source: SourceReader,
    changes: Mapping[str, FileChange] | None = None,
    want_summary: bool = True,
    environ: Mapping[str, str] = os.environ,
) -> tuple[list[Finding], LLMReview]:
    """``findings`` with rephrased questions (same order, same everything else) and the review."""
    findings = list(findings)
    if not findings:
        return findings, LLMReview(config.model, f"LLM pass: no findings, nothing sent to {config.model}.")
    try:
        client = ChatClient(config, environ)
    except LLMUnavailable as exc:
        return findings, _skipped(config, _Progress(), str(exc))
    run = _Run(config, client, findings, read_source, changes, want_summary)
    progress = run.within_deadline()
    if progress.error is not None:
        return findings, _skipped(config, progress, progress.error)
    rephrased = [
        dataclasses.replace(finding, question=progress.questions[index])
        if index in progress.questions
        else finding
        for index, finding in enumerate(findings)
    ]
    return rephrased, LLMReview(config.model, _usage_line(config, progress, len(findings)), progress.summary)


class _Run:
    def __init__(
        self,
        config: LLMConfig,
        client: ChatClient,
        findings: list[Finding],
        read_source: SourceReader,
        changes: Mapping[str, FileChange] | None,
        want_summary: bool,
    ) -> None:
        self.config = config
        self.client = client
        self.findings = findings
        self.read_source = read_source
        self.changes = changes
        self.want_summary = want_summary
        self.sources: dict[str, str | None] = {}
        self.progress = _Progress()
        self.stop = threading.Event()
        self.deadline = time.monotonic() + config.timeout

    def within_deadline(self) -> _Progress:
        # A thread, because the SDK's own waits (Retry-After, backoff) cannot be bounded from
        # outside; at the deadline the pass is over whatever the thread is doing. It is a
        # daemon so that a request still waiting cannot keep the process alive.
        worker = threading.Thread(target=self._work, name="arch-review-llm", daemon=True)
        worker.start()
        worker.join(max(0.0, self.deadline - time.monotonic()))
        late = self.progress.error is not None and time.monotonic() >= self.deadline
        if worker.is_alive() or late:
            self.stop.set()
            snapshot = dataclasses.replace(self.progress, questions={})
            snapshot.error = self._deadline_passed()
            return snapshot
        return self.progress

    def _deadline_passed(self) -> str:
        return f"the deadline of {self.config.timeout:g} s (llm.timeout) passed"

    def _work(self) -> None:
        try:
            if self.want_summary:
                self._summarize()
            for index in self._chosen():
                if self.progress.budget_stopped:
                    break
                self._rephrase(index)
        except LLMUnavailable as exc:
            self.progress.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the optional pass must never break a review
            self.progress.error = f"unexpected error ({type(exc).__name__}: {exc})"

    def _chosen(self) -> list[int]:
        """The first max_findings findings, the most severe first."""
        ranked = sorted(range(len(self.findings)), key=lambda i: -self.findings[i].severity.rank)
        return ranked[: self.config.max_findings]

    def _summarize(self) -> None:
        modules = sorted(self.changes) if self.changes is not None else sorted({f.path for f in self.findings})
        stats = prompts.DiffStats.of(self.changes) if self.changes is not None else None
        message = prompts.summary_message(self.findings, modules, stats)
        reply = self._ask(prompts.SUMMARY_SYSTEM, message)
        if reply is None:
            return
        self.progress.summary = (None if reply.truncated else fitting_summary(reply.text)) or ""
        self.progress.summary_discarded = not self.progress.summary

    def _rephrase(self, index: int) -> None:
        finding = self.findings[index]
        if finding.path not in self.sources:
            self.sources[finding.path] = _text(self.read_source(finding.path))
        source = self.sources[finding.path]
        if source is None:
            return
        shown = snippet(source, finding.location.line, finding.location.end_line)
        message = prompts.question_message(finding, shown)
        reply = self._ask(prompts.QUESTION_SYSTEM, message)
        if reply is None:
            return
        question, _ = fitting_question(None if reply.truncated else reply.text, message)
        if question is None:
            self.progress.discarded += 1
        else:
            self.progress.questions[index] = question

    def _ask(self, system: str, message: str) -> Reply | None:
        """One call, or None when the token budget cannot afford it (the pass stops there)."""
        if self.stop.is_set():
            raise LLMUnavailable(self._deadline_passed())
        expected = (len(system) + len(message)) // CHARS_PER_TOKEN + self.config.max_tokens
        if self.progress.tokens + expected > self.config.max_total_tokens:
            self.progress.budget_stopped = True
            return None
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise LLMUnavailable(self._deadline_passed())
        reply = self.client.complete(system, message, timeout=remaining)
        self.progress.count(reply)
        return reply


def _text(data: bytes | str | None) -> str | None:
    if data is None or isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


def _usage(config: LLMConfig, progress: _Progress) -> str:
    approx = "~" if progress.estimated else ""
    return (
        f"{config.model}, {plural(progress.calls, 'call')}, {approx}{progress.tokens:,} tokens "
        f"({approx}{progress.prompt_tokens:,} in, {approx}{progress.completion_tokens:,} out)"
    )


def _usage_line(config: LLMConfig, progress: _Progress, total: int) -> str:
    parts = [f"LLM pass: {_usage(config, progress)}; {len(progress.questions)} of {total} questions rephrased"]
    if progress.discarded:
        parts.append(f"{plural(progress.discarded, 'answer')} did not fit and kept the rule's question")
    if progress.budget_stopped:
        parts.append(f"stopped at the token budget (llm.max_total_tokens: {config.max_total_tokens:,})")
    if progress.summary_discarded:
        parts.append("the summary did not fit and was left out")
    over = total - min(total, config.max_findings)
    if over:
        parts.append(f"{plural(over, 'finding')} over llm.max_findings ({config.max_findings}) not sent")
    return "; ".join(parts) + "."


def _skipped(config: LLMConfig, progress: _Progress, reason: str) -> LLMReview:
    used = f" Used: {_usage(config, progress)}." if progress.calls else ""
    status = f"LLM pass skipped: {reason}; the questions are the rules' own.{used}"
    return LLMReview(config.model, status, skipped=True)
