"""What every output format needs to know besides the findings themselves."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, TextIO

from reviewer.types import RuleMeta

TOOL_NAME = "arch-review"


@dataclass(frozen=True)
class ReportContext:
    root: Path
    rules: Mapping[str, RuleMeta]
    version: str
    color: bool = False
    title: str = TOOL_NAME


def color_wanted(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """ANSI colour for ``stream``: a terminal, unless NO_COLOR is set (https://no-color.org)."""
    if environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
