"""From a list of files to a RunResult: read, prefilter, parse, run the rules.

Many files are spread over worker processes; the result is sorted at the end,
so it is the same whatever the number of workers. A file that runs past the
time limit or crashes its worker is skipped with a reason (see limits.py).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from reviewer.engine.cache import OutcomeCache
from reviewer.engine.limits import (
    WORKER_DIED,
    FileTimeout,
    IsolatedRunner,
    hard_limit,
    is_transient,
    process_deadline,
    soft_limit,
    timed_out_reason,
    without_core_dumps,
)
from reviewer.engine.parsing import collector_paused, may_stall_native_parser, parse
from reviewer.engine.prefilter import admitted
from reviewer.engine.runner import FileOutcome, analyze_module, applies_to
from reviewer.engine.source import Source, SourceError, decode_source, read_source
from reviewer.ruleset.schema import CompiledRule
from reviewer.types import RunResult, Skipped

# Below this many files a pool costs more than it saves (most files of a small change
# never get past the prefilter, and a second core may be busy).
MIN_FILES_PER_WORKER = 8
# A run without workers parses bigger files in a worker of their own, where the time
# limit can stop the native parser (about a second of parsing at this size).
ISOLATE_ABOVE_BYTES = 256_000


@dataclass(frozen=True)
class Target:
    """A file to analyse: its repo-relative posix path, and its bytes or where they are on disk."""

    path: str
    file: Path | None = None
    data: bytes | None = None


def rules_for(rules: Sequence[CompiledRule], path: str, text: str) -> list[CompiledRule]:
    """The rules that apply to this path and could match this text (the prefilter)."""
    return admitted([rule for rule in rules if applies_to(rule, path)], text)


def analyze_target(
    target: Target,
    rules: Sequence[CompiledRule],
    max_bytes: int,
    isolate: Callable[[Target], FileOutcome] | None = None,
) -> FileOutcome:
    """``isolate``: where a file the native parser may stall or crash on goes instead (in-process runs)."""
    try:
        source = _load(target, max_bytes)
    except SourceError as exc:
        return FileOutcome(skipped=Skipped(target.path, str(exc)))
    wanted = rules_for(rules, target.path, source.text)
    if not wanted:
        return FileOutcome()
    # Only worker processes can be ended when the native parser hangs; a worker runs
    # without this check (a tenth of a parse's time), its limits are enough there.
    if isolate is not None and (len(source.data) > ISOLATE_ABOVE_BYTES or may_stall_native_parser(source.text)):
        return isolate(Target(target.path, data=source.data))
    with collector_paused():  # one pause from parse to findings: no collection traverses the new tree
        module = parse(target.path, source.text)
        if isinstance(module, Skipped):
            return FileOutcome(skipped=module)
        try:
            return analyze_module(target.path, module, source.text, wanted)
        except RecursionError:
            return FileOutcome(skipped=Skipped(target.path, "nested too deeply to analyse"))


def analyze_within(
    target: Target,
    rules: Sequence[CompiledRule],
    max_bytes: int,
    seconds: float | None,
    isolate: Callable[[Target], FileOutcome] | None = None,
) -> FileOutcome:
    """analyze_target, stopped after ``seconds`` of Python-level work."""
    try:
        with soft_limit(seconds):
            return analyze_target(target, rules, max_bytes, isolate)
    except FileTimeout:
        assert seconds is not None
        return FileOutcome(skipped=Skipped(target.path, timed_out_reason(seconds)))


def analyze(
    targets: Sequence[Target],
    rules: Sequence[CompiledRule],
    *,
    max_bytes: int,
    jobs: int | None = None,
    cache: OutcomeCache | None = None,
    file_timeout: float | None = None,
) -> RunResult:
    """``file_timeout``: seconds one file may take before it is skipped (None: no limit)."""
    started = time.perf_counter()
    rules = [rule for rule in rules if rule.change is None]  # change rules read the diff (reviewer/changes.py)
    result = RunResult()
    workers = _worker_count(jobs, len(targets))
    with _runner(workers, rules, max_bytes, file_timeout) as run_all:
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
        if outcome.skipped is None or not is_transient(outcome.skipped.reason):
            cache.put(target.path, target.data, outcome)
        yield outcome


def _with_bytes(target: Target, max_bytes: int) -> Target:
    if target.data is not None:
        return target
    assert target.file is not None
    return Target(target.path, data=read_source(target.file, max_bytes).data)


def _start_method() -> str:
    # fork only on Linux: macOS's system libraries are not fork-safe, Windows has no fork.
    # The engine starts no threads, so forking here is safe.
    if sys.platform.startswith("linux"):
        return "fork"
    return "spawn" if os.name == "nt" else "forkserver"


def _worker_count(jobs: int | None, files: int) -> int:
    available = jobs if jobs is not None else (os.cpu_count() or 1)
    return max(1, min(available, files // MIN_FILES_PER_WORKER))


@contextlib.contextmanager
def _runner(
    workers: int, rules: Sequence[CompiledRule], max_bytes: int, file_timeout: float | None
) -> Iterator[Callable[[list[Target]], Iterator[FileOutcome]]]:
    """A function from targets to their outcomes (in order), in this process or a pool."""
    context = multiprocessing.get_context(_start_method())
    initargs = (tuple(rules), max_bytes, file_timeout)

    def worker_died(target: Target, seconds: float) -> FileOutcome:
        if file_timeout is not None and seconds >= file_timeout:
            return FileOutcome(skipped=Skipped(target.path, timed_out_reason(file_timeout)))
        return FileOutcome(skipped=Skipped(target.path, f"{WORKER_DIED} (the native parser failed on it)"))

    isolated = IsolatedRunner(context, _init_worker, initargs, _analyze_in_worker, worker_died)
    pools: list[concurrent.futures.ProcessPoolExecutor] = []

    def pool() -> concurrent.futures.ProcessPoolExecutor:
        if not pools:
            pools.append(
                concurrent.futures.ProcessPoolExecutor(
                    max_workers=workers, mp_context=context, initializer=_init_worker, initargs=initargs
                )
            )
        return pools[0]

    def run_all(targets: list[Target]) -> Iterator[FileOutcome]:
        if workers <= 1:
            return (analyze_within(t, rules, max_bytes, file_timeout, isolated.run) for t in targets)
        chunk = max(1, min(4, len(targets) // (workers * 4)))  # small: less idle time at a batch's end
        try:
            return iter(list(pool().map(_analyze_in_worker, targets, chunksize=chunk)))
        except concurrent.futures.process.BrokenProcessPool:
            # A worker died (a crash in native code, the hard time limit, the OOM killer):
            # the batch runs again one file at a time to find the culprit, and the next
            # batch gets a fresh pool.
            pools.pop().shutdown(wait=True, cancel_futures=True)
            return (isolated.run(t) for t in targets)

    try:
        yield run_all
    finally:
        for remaining in pools:
            remaining.shutdown(wait=True, cancel_futures=True)
        isolated.close()


_worker_rules: tuple[CompiledRule, ...] = ()
_worker_max_bytes = 0
_worker_timeout: float | None = None


def _init_worker(rules: tuple[CompiledRule, ...], max_bytes: int, file_timeout: float | None) -> None:
    global _worker_rules, _worker_max_bytes, _worker_timeout
    _worker_rules, _worker_max_bytes, _worker_timeout = rules, max_bytes, file_timeout
    without_core_dumps()


def _analyze_in_worker(target: Target) -> FileOutcome:
    # The soft limit stops Python code; only ending the worker stops native code.
    with process_deadline(hard_limit(_worker_timeout) if _worker_timeout else None):
        return analyze_within(target, _worker_rules, _worker_max_bytes, _worker_timeout)


def _load(target: Target, max_bytes: int) -> Source:
    if target.data is None:
        assert target.file is not None
        return read_source(target.file, max_bytes)
    if len(target.data) > max_bytes:
        raise SourceError(f"file too large ({len(target.data):,} bytes; limit {max_bytes:,})")
    return decode_source(Path(target.path), target.data)
