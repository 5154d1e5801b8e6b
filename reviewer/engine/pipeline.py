"""From a list of files to a RunResult: read, prefilter, parse, run the rules.

Many files are spread over worker processes; the result is sorted at the end,
so it is the same whatever the number of workers.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from reviewer.engine.parsing import parse
from reviewer.engine.runner import FileOutcome, analyze_module, applies_to
from reviewer.engine.source import Source, SourceError, decode_source, read_source
from reviewer.ruleset.schema import CompiledRule
from reviewer.types import RunResult, Skipped

# Below this many files a pool costs more than it saves.
MIN_FILES_PER_WORKER = 8


@dataclass(frozen=True)
class Target:
    """A file to analyse: its repo-relative posix path, and its bytes or where they are on disk."""

    path: str
    file: Path | None = None
    data: bytes | None = None


def rules_for(rules: Sequence[CompiledRule], path: str, text: str) -> list[CompiledRule]:
    """The rules that apply to this path and could match this text (the prefilter)."""
    return [
        rule
        for rule in rules
        if applies_to(rule, path)
        and (not rule.tokens or any(all(word in text for word in group) for group in rule.tokens))
    ]


def analyze_target(target: Target, rules: Sequence[CompiledRule], max_bytes: int) -> FileOutcome:
    try:
        source = _load(target, max_bytes)
    except SourceError as exc:
        return FileOutcome(skipped=Skipped(target.path, str(exc)))
    wanted = rules_for(rules, target.path, source.text)
    if not wanted:
        return FileOutcome()
    module = parse(target.path, source.text)
    if isinstance(module, Skipped):
        return FileOutcome(skipped=module)
    try:
        return analyze_module(target.path, module, source.text, wanted)
    except RecursionError:
        return FileOutcome(skipped=Skipped(target.path, "nested too deeply to analyse"))


def analyze(
    targets: Sequence[Target], rules: Sequence[CompiledRule], *, max_bytes: int, jobs: int | None = None
) -> RunResult:
    started = time.perf_counter()
    result = RunResult()
    for outcome in _outcomes(targets, rules, max_bytes, _worker_count(jobs, len(targets))):
        result.stats.files += 1
        result.stats.parsed += outcome.parsed
        result.findings.extend(outcome.findings)
        result.rule_errors.extend(outcome.rule_errors)
        if outcome.skipped is not None:
            result.skipped.append(outcome.skipped)
    result.sort()
    result.stats.seconds = time.perf_counter() - started
    return result


def _worker_count(jobs: int | None, files: int) -> int:
    available = jobs if jobs is not None else (os.cpu_count() or 1)
    return max(1, min(available, files // MIN_FILES_PER_WORKER))


def _outcomes(
    targets: Sequence[Target], rules: Sequence[CompiledRule], max_bytes: int, workers: int
) -> Iterator[FileOutcome]:
    if workers <= 1:
        for target in targets:
            yield analyze_target(target, rules, max_bytes)
        return
    context = multiprocessing.get_context("spawn" if os.name == "nt" else "forkserver")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(tuple(rules), max_bytes)
    ) as pool:
        chunk = max(1, min(32, len(targets) // (workers * 8)))
        yield from pool.map(_analyze_in_worker, targets, chunksize=chunk)


_worker_rules: tuple[CompiledRule, ...] = ()
_worker_max_bytes = 0


def _init_worker(rules: tuple[CompiledRule, ...], max_bytes: int) -> None:
    global _worker_rules, _worker_max_bytes
    _worker_rules, _worker_max_bytes = rules, max_bytes


def _analyze_in_worker(target: Target) -> FileOutcome:
    return analyze_target(target, _worker_rules, _worker_max_bytes)


def _load(target: Target, max_bytes: int) -> Source:
    if target.data is None:
        assert target.file is not None
        return read_source(target.file, max_bytes)
    if len(target.data) > max_bytes:
        raise SourceError(f"file too large ({len(target.data):,} bytes; limit {max_bytes:,})")
    return decode_source(Path(target.path), target.data)
