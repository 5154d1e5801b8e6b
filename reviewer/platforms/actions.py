"""GitHub Actions' file and log protocols: step summary, step outputs, workflow commands."""

from __future__ import annotations

import os
import sys
from typing import Mapping, Sequence, TextIO

from reviewer.types import Finding, Severity

_COMMAND = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def in_actions(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def append_step_summary(markdown: str, environ: Mapping[str, str] = os.environ) -> bool:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError:
        return False
    return True


def write_outputs(values: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> bool:
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return False
    try:
        with open(path, "a", encoding="utf-8") as handle:
            for name, value in values.items():
                # The heredoc form is safe for any value, including newlines.
                delimiter = "ARCH_REVIEW_EOF"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    except OSError:
        return False
    return True


def annotate(findings: Sequence[Finding], stream: TextIO = sys.stdout) -> None:
    for finding in findings:
        loc = finding.location
        props = ",".join(
            [
                f"file={_property(loc.path)}",
                f"line={loc.line}",
                f"endLine={max(loc.end_line, loc.line)}",
                f"title={_property(f'{finding.rule} {finding.name}')}",
            ]
        )
        message = finding.question or finding.message
        stream.write(f"::{_COMMAND[finding.severity]} {props}::{_data(message)}\n")
    stream.flush()


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
