"""Output formats: each module turns one RunResult into one document."""

from __future__ import annotations

from typing import Callable

from reviewer.report import codeclimate, json_report, markdown, sarif, text
from reviewer.report.context import ReportContext, color_wanted
from reviewer.types import RunResult

__all__ = ["FORMATS", "ReportContext", "color_wanted", "render"]

_RENDERERS: dict[str, Callable[[RunResult, ReportContext], str]] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "codeclimate": codeclimate.render,
    "markdown": markdown.render,
}

FORMATS: tuple[str, ...] = tuple(_RENDERERS)


def render(fmt: str, result: RunResult, ctx: ReportContext) -> str:
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        choices = ", ".join(FORMATS)
        raise ValueError(f"unknown report format {fmt!r} (expected one of: {choices})") from None
    return renderer(result, ctx)
