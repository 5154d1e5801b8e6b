"""Hidden HTML comments that let a later run recognise what an earlier run posted."""

from __future__ import annotations

import re

SUMMARY = "<!-- arch-review:summary -->"
_FINGERPRINT = re.compile(r"<!-- arch-review:fp=([0-9a-f]{8,64}) -->")
_RESOLVED = re.compile(r"<!-- arch-review:resolved=([0-9a-f]{8,64}) -->")
_HEX = re.compile(r"[0-9a-f]{8,64}")


def fingerprint_marker(fingerprint: str) -> str:
    return f"<!-- arch-review:fp={_checked(fingerprint)} -->"


def resolved_marker(fingerprint: str) -> str:
    return f"<!-- arch-review:resolved={_checked(fingerprint)} -->"


def fingerprint_in(body: str | None) -> str | None:
    match = _FINGERPRINT.search(body or "")
    return match[1] if match else None


def resolved_in(body: str | None) -> str | None:
    match = _RESOLVED.search(body or "")
    return match[1] if match else None


def is_summary(body: str | None) -> bool:
    return SUMMARY in (body or "")


def _checked(fingerprint: str) -> str:
    # The marker goes into a comment verbatim: only hex may reach it.
    if not _HEX.fullmatch(fingerprint):
        raise ValueError(f"not a fingerprint: {fingerprint!r}")
    return fingerprint
