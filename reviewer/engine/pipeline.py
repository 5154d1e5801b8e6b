"""From a list of files to a RunResult: read, prefilter, parse, run the rules."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from reviewer.engine.runner import analyze_module, applies_to, parse
from reviewer.engine.source import SourceError, decode_source, read_source
from reviewer.ruleset.schema import CompiledRule
from reviewer.types import RunResult, Skipped


@dataclass(frozen=True)
class Target:
    """A file to analyse: its repo-relative posix path and where its bytes come from."""

    path: str
    file: Path | None = None  # read from disk
    read: Callable[[], bytes] | None = None  # or from elsewhere (a git revision)


def rules_for(rules: Sequence[CompiledRule], path: str, text: str) -> list[CompiledRule]:
    """The rules that apply to this path and could match this text (the prefilter)."""
    return [
        rule
        for rule in rules
        if applies_to(rule, path) and (not rule.tokens or any(token in text for token in rule.tokens))
    ]


def analyze(targets: Sequence[Target], rules: Sequence[CompiledRule], *, max_bytes: int) -> RunResult:
    started = time.perf_counter()
    result = RunResult()
    for target in targets:
        result.stats.files += 1
        try:
            source = _load(target, max_bytes)
        except SourceError as exc:
            result.skipped.append(Skipped(target.path, str(exc)))
            continue
        wanted = rules_for(rules, target.path, source.text)
        if not wanted:
            continue
        module = parse(target.path, source.text)
        if isinstance(module, Skipped):
            result.skipped.append(module)
            continue
        result.stats.parsed += 1
        outcome = analyze_module(target.path, module, source.text, wanted)
        result.findings.extend(outcome.findings)
        result.rule_errors.extend(outcome.rule_errors)
    result.sort()
    result.stats.seconds = time.perf_counter() - started
    return result


def _load(target: Target, max_bytes: int):
    if target.file is not None:
        return read_source(target.file, max_bytes)
    assert target.read is not None
    try:
        data = target.read()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc}") from None
    if len(data) > max_bytes:
        raise SourceError(f"file too large ({len(data):,} bytes; limit {max_bytes:,})")
    return decode_source(Path(target.path), data)
