"""Keeping one hostile file from stopping the run: a per-file time limit and a
worker process of its own for files that crash or hang the native parser.

The limit counts CPU time, not wall time, so a busy machine does not change which
files are stopped (and so the findings). Two limits guard each file. The soft one
is an ITIMER_PROF timer that interrupts Python code (name resolution, the rules'
walk) and lets the process go on. It cannot interrupt LibCST's native parser, so
in worker processes a hard one (RLIMIT_CPU, whose SIGXCPU ends the process) ends
the whole worker a little later, with faulthandler's wall-clock watchdog as a
last resort for a worker that hangs without using CPU. The pool then breaks and
the files it held are run again one at a time by an ``IsolatedRunner``, where a
file that kills its worker again is the culprit and becomes a ``skipped`` entry.
Nothing here costs a process on the fast path.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import faulthandler
import math
import os
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any, Callable, Iterator

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

# Reasons that depend on the machine's speed or memory, not on the file: never cached.
TIMED_OUT = "stopped after"
WORKER_DIED = "the analysis process crashed"


class FileTimeout(BaseException):
    """Raised by the soft limit; a BaseException so no `except Exception` in a rule swallows it."""


def timed_out_reason(seconds: float) -> str:
    return f"{TIMED_OUT} {seconds:g} s (file_timeout)"


def is_transient(reason: str) -> bool:
    return reason.startswith((TIMED_OUT, WORKER_DIED))


def hard_limit(seconds: float) -> float:
    """When a worker stuck in native code is ended: the soft limit plus a grace period (CPU seconds)."""
    return seconds + max(1.0, seconds / 2)


# A worker that uses no CPU yet does not finish (it never should) is ended after this
# many times its CPU limit of wall time: generous, so a loaded machine never gets there.
WALL_CLOCK_MARGIN = 6


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def soft_limit(seconds: float | None) -> Iterator[None]:
    """Raise FileTimeout in this thread after ``seconds`` of this process's CPU time
    (main thread on POSIX only; else no limit)."""
    if not seconds or not _can_alarm():
        yield
        return
    previous = signal.signal(signal.SIGPROF, _raise_timeout)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _raise_timeout(signum: int, frame: Any) -> None:
    raise FileTimeout


@contextlib.contextmanager
def soft_limit_paused() -> Iterator[None]:
    """While waiting for a worker, which has limits of its own, this process's clock stops."""
    if not _can_alarm():
        yield
        return
    remaining, _ = signal.setitimer(signal.ITIMER_PROF, 0)
    try:
        yield
    finally:
        if remaining:
            signal.setitimer(signal.ITIMER_PROF, remaining)


@contextlib.contextmanager
def process_deadline(seconds: float | None) -> Iterator[None]:
    """End this process if the block uses more than ``seconds`` of CPU, even inside native
    code (workers only)."""
    if not seconds:
        yield
        return
    faulthandler.dump_traceback_later(seconds * WALL_CLOCK_MARGIN, exit=True, file=_devnull())
    previous = _limit_cpu(seconds)
    try:
        yield
    finally:
        if previous is not None:
            resource.setrlimit(resource.RLIMIT_CPU, previous)
        faulthandler.cancel_dump_traceback_later()


def _limit_cpu(seconds: float) -> tuple[int, int] | None:
    """Set RLIMIT_CPU ``seconds`` (rounded up) past the CPU this process has used; the
    previous limits, or None where there is no such limit."""
    if resource is None:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    previous = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    hard = previous[1]
    if hard != resource.RLIM_INFINITY and soft > hard:
        return None
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return previous


def without_core_dumps() -> None:
    """A worker ended by SIGXCPU would otherwise leave a core file where cores are on."""
    if resource is not None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


_DEVNULL: Any = None


def _devnull() -> Any:
    global _DEVNULL
    if _DEVNULL is None:
        _DEVNULL = open(os.devnull, "w")  # noqa: SIM115 - kept for the worker's lifetime
    return _DEVNULL


class IsolatedRunner:
    """Runs one item at a time in a worker process of its own, started when first needed.

    A worker that dies (a segfault, the hard time limit, the OOM killer) costs only
    the item it was running: ``run`` returns ``on_death(item, seconds)`` for it and
    the next item gets a fresh worker.
    """

    def __init__(
        self,
        context: BaseContext,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
        work: Callable[[Any], Any],
        on_death: Callable[[Any, float], Any],
    ) -> None:
        self._context = context
        self._initializer = initializer
        self._initargs = initargs
        self._work = work
        self._on_death = on_death
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def run(self, item: Any) -> Any:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=self._context, initializer=self._initializer, initargs=self._initargs
            )
        started = time.monotonic()
        try:
            with soft_limit_paused():
                return self._pool.submit(self._work, item).result()
        except BrokenProcessPool:
            self.close()
            return self._on_death(item, time.monotonic() - started)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
