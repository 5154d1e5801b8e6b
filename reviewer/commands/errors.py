"""Turning failures into one line on stderr and exit code 2; never a traceback by default."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Iterator

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class UsageError(Exception):
    """A problem the user fixes: bad arguments, an unknown rule id."""


def _expected_errors() -> tuple[type[BaseException], ...]:
    from reviewer.config import ConfigError
    from reviewer.git import GitError
    from reviewer.ruleset.schema import RuleFileError

    return (UsageError, ConfigError, GitError, RuleFileError)


def error(message: str) -> None:
    print(f"arch-review: error: {message}", file=sys.stderr)


def warning(message: str) -> None:
    print(f"arch-review: warning: {message}", file=sys.stderr)


def log_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "arch-review"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        directory = Path(tempfile.gettempdir())
    return directory / "last-error.log"


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """Expected errors become 'arch-review: error: ...' and exit 2; unexpected ones too, with a log."""
    try:
        yield
    except KeyboardInterrupt:
        error("interrupted")
        raise SystemExit(130) from None
    except BrokenPipeError:
        # stdout closed early (| head): not an error of ours.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        raise SystemExit(EXIT_CLEAN) from None
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, _expected_errors()):
            error(str(exc))
            raise SystemExit(EXIT_ERROR) from None
        path = log_path()
        try:
            path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
            where = f"; details in {path}"
        except OSError:
            where = ""
        if os.environ.get("ARCH_REVIEW_DEBUG"):
            traceback.print_exc()
        error(f"internal error: {type(exc).__name__}: {exc}{where}")
        raise SystemExit(EXIT_ERROR) from None
