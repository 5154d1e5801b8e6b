"""The public API of reviewer.report, and what every format promises."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace

import pytest

from reviewer.report import FORMATS, ReportContext, color_wanted, render
from reviewer.types import RunResult, Skipped, Stats


def test_formats_are_the_five_documented_ones() -> None:
    assert FORMATS == ("text", "json", "sarif", "codeclimate", "markdown")


def test_unknown_format_is_a_value_error_naming_the_choices(result, ctx) -> None:
    with pytest.raises(ValueError, match=r"unknown report format 'xml'.*sarif"):
        render("xml", result, ctx)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_ends_with_one_newline(fmt, result, ctx) -> None:
    output = render(fmt, result, ctx)
    assert output.endswith("\n") and not output.endswith("\n\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_the_same_bytes_whatever_the_input_order(fmt, result, ctx) -> None:
    first = render(fmt, result, ctx)
    assert render(fmt, result, ctx) == first
    for seed in range(5):
        shuffled = RunResult(
            findings=random.Random(seed).sample(result.findings, len(result.findings)),
            skipped=list(result.skipped) + [Skipped("a/first.py", "too large")],
            stats=result.stats,
        )
        reversed_skips = replace(shuffled, skipped=list(reversed(shuffled.skipped)))
        assert render(fmt, shuffled, ctx).encode() == render(fmt, reversed_skips, ctx).encode()
    assert render(fmt, replace(result, findings=list(reversed(result.findings))), ctx) == first


@pytest.mark.parametrize("fmt", FORMATS)
def test_rendering_does_not_reorder_the_callers_result(fmt, result, ctx) -> None:
    before = list(result.findings)
    render(fmt, result, ctx)
    assert result.findings == before


@pytest.mark.parametrize("fmt", ["json", "sarif", "codeclimate"])
def test_machine_formats_carry_no_timestamps(fmt, result, ctx) -> None:
    output = render(fmt, result, ctx)
    json.loads(output)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", output)
    assert "TimeUtc" not in output


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_run_renders(fmt, ctx) -> None:
    output = render(fmt, RunResult(stats=Stats(files=3, parsed=3)), ctx)
    assert output.strip()


def test_color_only_for_a_terminal_without_no_color() -> None:
    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    assert color_wanted(Stream(True), environ={}) is True
    assert color_wanted(Stream(False), environ={}) is False
    assert color_wanted(Stream(True), environ={"NO_COLOR": "1"}) is False
    assert color_wanted(Stream(True), environ={"NO_COLOR": ""}) is True
    assert color_wanted(object(), environ={}) is False


def test_context_defaults(repo, rules) -> None:
    ctx = ReportContext(root=repo, rules=rules, version="1.2.3")
    assert ctx.color is False
    assert ctx.title == "arch-review"
