"""When the garbage collector runs in a command-line process.

Start-up builds a heap that lives until exit: the modules, LibCST's ~250 node classes,
the detectors and the compiled rules. Collecting while it is built frees nothing, and
every full collection after it, the last ones at interpreter exit included, walks all of
it again: about a tenth of a second of a ten-file `arch-review diff`. So the console script pauses
the collector during start-up, then freezes what start-up built (`gc.freeze`: left out of
later collections, and its pages are not written to by the collector in forked workers, the
pattern the gc module's documentation gives for pre-fork servers), and freezes again just
before the process exits. Called in-process (tests, a library user), nothing changes.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """The console script's first step: start-up allocates, but leaves no garbage."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def startup_done() -> None:
    """What exists now lives until exit: keep it out of later collections, collect again."""
    global _paused
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False


def before_exit() -> None:
    """Nothing allocated so far needs collecting: the process is about to exit."""
    gc.freeze()
