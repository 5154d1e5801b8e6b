"""The report files a CI run always leaves behind, whatever happens to publishing."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from reviewer import __version__
from reviewer.commands.common import Setup
from reviewer.commands.errors import warning
from reviewer.report import ReportContext, render
from reviewer.types import RunResult

RESULTS_DIR = "arch-review-results"


def write_results(setup: Setup, result: RunResult, root: Path, formats: Sequence[str]) -> dict[str, Path]:
    """arch-review-results/arch-review.<format> for each format; paths relative to root."""
    directory = root / RESULTS_DIR
    ctx = ReportContext(root=root, rules={r.id: r.meta for r in setup.rules}, version=__version__)
    paths = {fmt: directory / f"arch-review.{fmt}" for fmt in formats}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for fmt, path in paths.items():
            path.write_text(render(fmt, result, ctx), encoding="utf-8")
    except OSError as exc:
        warning(f"cannot write {directory}: {exc.strerror or exc}")
    return {name: path.relative_to(root) for name, path in paths.items()}
