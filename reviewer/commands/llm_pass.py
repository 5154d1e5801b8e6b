"""`--llm` / `llm.enabled`: the optional LLM pass over a RunResult, before it is written or posted.

Never silent: when the pass runs, stderr says where the code goes; its outcome (model,
calls and tokens, or why it was skipped) is printed too, whatever the output format.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Callable, Mapping
from urllib.parse import urlsplit

from reviewer.commands.common import Setup
from reviewer.config import LLMConfig
from reviewer.diff import FileChange
from reviewer.report.summary import plural
from reviewer.types import RunResult

DEFAULT_ENDPOINT = "api.openai.com"


def llm_settings(args: argparse.Namespace, setup: Setup) -> LLMConfig:
    """The config's llm section, with --llm / --no-llm on top."""
    flag = getattr(args, "llm", None)
    config = setup.config.llm
    return config if flag is None else dataclasses.replace(config, enabled=flag)


def run_llm_pass(
    args: argparse.Namespace,
    setup: Setup,
    result: RunResult,
    *,
    read_source: Callable[[str], bytes | str | None],
    changes: Mapping[str, FileChange] | None,
) -> None:
    """Rephrase ``result``'s questions in place and attach the review, when the pass is on.

    The PR summary is asked for only where it is shown: the markdown report and the
    summary comment of --publish.
    """
    config = llm_settings(args, setup)
    if not config.enabled:
        return
    # Imported here: a run without the pass does not pay for the client's imports.
    from reviewer.llm.client import endpoint
    from reviewer.llm.review import review_with_llm

    def readable(path: str) -> bytes | str | None:
        try:
            return read_source(path)
        except Exception:  # noqa: BLE001  # arch-review: ignore[ERR001] an unreadable file keeps its template question
            return None

    want_summary = args.format == "markdown" or getattr(args, "publish", None) is not None

    if result.findings:
        base_url = endpoint(config)
        host = urlsplit(base_url).netloc if base_url else DEFAULT_ENDPOINT
        sent = plural(min(len(result.findings), config.max_findings), "finding")
        _log(f"LLM pass: the code of {sent} goes to {config.model} at {host} (secrets redacted)")
    result.findings, result.llm_review = review_with_llm(
        config, result.findings, read_source=readable, changes=changes, want_summary=want_summary
    )
    _log(result.llm_review.status)


def _log(message: str) -> None:
    print(f"arch-review: {message}", file=sys.stderr, flush=True)
