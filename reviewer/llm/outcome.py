"""What the LLM pass adds to a report, besides the rephrased questions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LLMReview:
    model: str
    status: str  # one line: model, calls and tokens, or why the pass was skipped
    summary: str = ""  # the generated PR summary, cleaned; empty when there is none
    skipped: bool = False
