"""What scan and diff share: config and rules from flags, writing the report, the exit code."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from reviewer import __version__
from reviewer.commands.errors import EXIT_CLEAN, EXIT_FINDINGS, UsageError, warning
from reviewer.config import Config, load_config, with_overrides
from reviewer.engine import heap
from reviewer.engine.files import anchor_globs, relative_posix
from reviewer.report import ReportContext, color_wanted, render
from reviewer.ruleset.loader import load_rules, select_rules
from reviewer.ruleset.schema import CompiledRule
from reviewer.types import RunResult, Severity


@dataclass(frozen=True)
class Setup:
    config: Config
    rules: tuple[CompiledRule, ...]


def load_setup(args: argparse.Namespace) -> Setup:
    config = load_config(Path(args.config) if getattr(args, "config", None) else None)
    config = with_overrides(
        config,
        select=getattr(args, "select", None),
        ignore=getattr(args, "ignore", None),
        filter_mode=getattr(args, "filter_mode", None),
        fail_level=getattr(args, "fail_level", None),
        file_timeout=getattr(args, "file_timeout", None),
    )
    everything = load_rules(config.rules_dirs)
    selection = select_rules(everything, config.select, config.ignore, config.severity)
    if selection.unknown_selectors:
        raise UsageError(
            "unknown rule selector(s): " + ", ".join(selection.unknown_selectors)
            + " (see `arch-review rules`)"
        )
    unknown_overrides = sorted(set(config.severity) - set(everything))
    if unknown_overrides:
        raise UsageError(f"severity: unknown rule id(s): {', '.join(unknown_overrides)}")
    heap.startup_done()
    return Setup(config, selection.rules)


def root_relative_excludes(config: Config, root: Path) -> tuple[str, ...]:
    """Exclude globs are written relative to the config file's folder, as in ruff."""
    if config.source is None:
        return config.exclude
    base = relative_posix(config.source.parent, root)
    if base.startswith("/") or base.startswith(".."):
        return config.exclude
    return anchor_globs(config.exclude, base)


def all_rules(args: argparse.Namespace) -> dict[str, CompiledRule]:
    config = load_config(Path(args.config) if getattr(args, "config", None) else None)
    rules = load_rules(config.rules_dirs)
    heap.startup_done()
    return rules


def emit(args: argparse.Namespace, setup: Setup, result: RunResult, root: Path) -> None:
    for failure in result.rule_errors:
        warning(f"rule {failure.rule} failed on {failure.path}: {failure.error}")
    to_file = bool(args.output)
    ctx = ReportContext(
        root=root,
        rules={rule.id: rule.meta for rule in setup.rules},
        version=__version__,
        color=not to_file and args.format == "text" and color_wanted(sys.stdout),
    )
    write_document(args.output, render(args.format, result, ctx))


def write_document(output: str | None, document: str) -> None:
    """To the --output file, or to stdout without one."""
    if not output:
        sys.stdout.write(document)
        sys.stdout.flush()
        return
    path = Path(output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def exit_code(result: RunResult, fail_level: str) -> int:
    if fail_level == "none":
        return EXIT_CLEAN
    threshold = Severity(fail_level).rank
    blocking = any(finding.severity.rank >= threshold for finding in result.findings)
    return EXIT_FINDINGS if blocking else EXIT_CLEAN
