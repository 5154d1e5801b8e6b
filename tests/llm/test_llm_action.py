"""The Action's `llm` input turns the pass on for the one diff command it runs."""

from __future__ import annotations

from reviewer.platforms.action_entry import build_argv


def test_the_llm_input_adds_the_flag():
    assert build_argv({"INPUT_LLM": "true"})[-1] == "--llm"
    assert "--llm" not in build_argv({"INPUT_LLM": "false"})
    assert "--llm" not in build_argv({})
