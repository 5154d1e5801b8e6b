"""From a list of files to a RunResult: read, prefilter, parse, run the rules.

Many files are spread over worker processes; the result is sorted at the end,
so it is the same whatever the number of workers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from reviewer.engine.cache import OutcomeCache
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
    targets: Sequence[Target],
    rules: Sequence[CompiledRule],
    *,
    max_bytes: int,
    jobs: int | None = None,
    cache: OutcomeCache | None = None,
) -> RunResult:
    started = time.perf_counter()
    rules = [rule for rule in rules if rule.change is None]  # change rules read the diff (reviewer/changes.py)
    result = RunResult()
    workers = _worker_count(jobs, len(targets))
    with _runner(workers, rules, max_bytes) as run_all:
        # Batches keep memory flat on huge trees: only one batch of file bytes is held at a time.
        for index in range(0, len(targets), BATCH_SIZE):
            for outcome in _batch_outcomes(targets[index : index + BATCH_SIZE], max_bytes, cache, run_all):
                result.stats.files += 1
                result.stats.parsed += outcome.parsed
                result.findings.extend(outcome.findings)
                result.rule_errors.extend(outcome.rule_errors)
                if outcome.skipped is not None:
                    result.skipped.append(outcome.skipped)
    result.sort()
    result.stats.seconds = time.perf_counter() - started
    return result


BATCH_SIZE = 512


def _batch_outcomes(
    batch: Sequence[Target],
    max_bytes: int,
    cache: OutcomeCache | None,
    run_all: Callable[[list[Target]], Iterator[FileOutcome]],
) -> Iterator[FileOutcome]:
    if cache is None:
        yield from run_all(list(batch))
        return
    misses: list[Target] = []
    for target in batch:
        try:
            loaded = _with_bytes(target, max_bytes)
        except SourceError as exc:
            yield FileOutcome(skipped=Skipped(target.path, str(exc)))
            continue
        assert loaded.data is not None
        hit = cache.get(loaded.path, loaded.data)
        if hit is not None:
            yield hit
        else:
            misses.append(loaded)
    for target, outcome in zip(misses, run_all(misses)):
        assert target.data is not None
        cache.put(target.path, target.data, outcome)
        yield outcome


def _with_bytes(target: Target, max_bytes: int) -> Target:
    if target.data is not None:
        return target
    assert target.file is not None
    return Target(target.path, data=read_source(target.file, max_bytes).data)


def _worker_count(jobs: int | None, files: int) -> int:
    available = jobs if jobs is not None else (os.cpu_count() or 1)
    return max(1, min(available, files // MIN_FILES_PER_WORKER))


@contextlib.contextmanager
def _runner(
    workers: int, rules: Sequence[CompiledRule], max_bytes: int
) -> Iterator[Callable[[list[Target]], Iterator[FileOutcome]]]:
    """A function from targets to their outcomes (in order), in this process or a pool."""
    if workers <= 1:
        yield lambda targets: (analyze_target(t, rules, max_bytes) for t in targets)
        return
    context = multiprocessing.get_context("spawn" if os.name == "nt" else "forkserver")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(tuple(rules), max_bytes)
    ) as pool:

        def run_all(targets: list[Target]) -> Iterator[FileOutcome]:
            chunk = max(1, min(16, len(targets) // (workers * 4)))
            try:
                return iter(list(pool.map(_analyze_in_worker, targets, chunksize=chunk)))
            except concurrent.futures.process.BrokenProcessPool:
                # A worker died (killed for memory, a crash in native code): the batch
                # is done again here, so the run still finishes with every file.
                return (analyze_target(t, rules, max_bytes) for t in targets)

        yield run_all


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
