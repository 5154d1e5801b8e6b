"""`arch-review scan [PATHS]`: review files and folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from reviewer.commands.common import emit, exit_code, load_setup, root_relative_excludes
from reviewer.commands.errors import UsageError
from reviewer.commands.llm_pass import run_llm_pass
from reviewer.engine.cache import OutcomeCache, default_cache_dir
from reviewer.engine.files import InvalidGlob, relative_posix, select_python_files
from reviewer.engine.pipeline import Target, analyze
from reviewer.git import GitError, repo_root


def project_root(start: Path) -> Path:
    """Paths in findings are relative to the repository root, or to the current folder outside git."""
    try:
        return repo_root(start)
    except GitError:
        return start


def run(args: argparse.Namespace) -> int:
    setup = load_setup(args)
    cwd = Path.cwd()
    root = project_root(cwd)
    try:
        files = select_python_files([Path(p) for p in args.paths], root, root_relative_excludes(setup.config, root))
    except FileNotFoundError as exc:
        raise UsageError(f"{exc.filename}: no such file or directory") from None
    except InvalidGlob as exc:
        raise UsageError(f"exclude: {exc}") from None
    targets = [Target(relative_posix(path, root), file=path) for path in files]
    max_bytes = setup.config.max_file_size
    cache = None if args.no_cache else OutcomeCache(default_cache_dir(), setup.rules, max_bytes)
    result = analyze(targets, setup.rules, max_bytes=max_bytes, jobs=args.jobs, cache=cache, file_timeout=setup.config.file_timeout)
    run_llm_pass(args, setup, result, read_source=lambda path: (root / path).read_bytes(), changes=None)
    emit(args, setup, result, root)
    return exit_code(result, setup.config.fail_level)
