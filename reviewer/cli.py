"""Command-line entry point: parse arguments, dispatch to reviewer.commands."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from reviewer import __version__
from reviewer.commands import errors
from reviewer.engine import heap

FORMATS = ("text", "json", "sarif", "codeclimate", "markdown")
DIFF_FORMATS = (*FORMATS, "github-review-json", "gitlab-discussions-json")
FILTER_MODES = ("added", "diff_context", "file", "nofilter")
FAIL_LEVELS = ("none", "low", "medium", "high")


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _add_run_options(parser: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
    parser.add_argument("--format", choices=formats, default="text", help="output format (default: text)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--config", metavar="FILE", help="config file (default: .arch-review.yml or [tool.arch-review] in pyproject.toml)")
    parser.add_argument("--select", type=_comma_list, metavar="IDS", help="only these rule ids, id prefixes or families (comma-separated)")
    parser.add_argument("--ignore", type=_comma_list, metavar="IDS", help="skip these rule ids, id prefixes or families")
    parser.add_argument("--filter-mode", choices=FILTER_MODES, help="which findings of changed files to report (diff; default: added)")
    parser.add_argument("--fail-level", choices=FAIL_LEVELS, help="exit 1 when a finding is at or above this severity (default: none)")
    parser.add_argument("--file-timeout", type=float, metavar="SECONDS", help="skip a file that takes more CPU time than this (default: file_timeout from config, 10)")
    parser.add_argument("--jobs", "-j", type=_positive_int, metavar="N", help="worker processes (default: one per CPU)")
    parser.add_argument("--llm", action=argparse.BooleanOptionalAction, default=None, help="run the optional LLM pass: questions phrased for the code, a PR summary (default: llm.enabled from config, off; see docs/llm.md)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arch-review",
        description="Reviews Python changes the way a senior ML architect would: it asks what "
        "happens at scale and under failure.",
    )
    parser.add_argument("--version", action="version", version=f"arch-review {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser("scan", help="review files and folders")
    scan.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    _add_run_options(scan)
    scan.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")

    diff = commands.add_parser("diff", help="review the change on this branch")
    diff.add_argument("--base", metavar="REF", help="compare against the merge-base with REF (default: the default branch)")
    diff.add_argument("--head", metavar="REF", help="review REF instead of the working tree")
    _add_run_options(diff, DIFF_FORMATS)
    diff.add_argument("--publish", choices=("github", "gitlab"), help="post the review to the pull request (merge request) of this CI run")
    diff.add_argument("--repo", metavar="OWNER/NAME", help="with --publish github: the repository (default: GITHUB_REPOSITORY)")
    diff.add_argument("--pr", type=_positive_int, metavar="N", help="with --publish github: the pull request (default: from GITHUB_EVENT_PATH)")
    diff.add_argument("--github-url", metavar="URL", help="with --publish github: the API URL, e.g. https://ghe.example.com/api/v3 (default: GITHUB_API_URL or https://api.github.com)")
    diff.add_argument("--findings", metavar="FILE", help="with --publish github: publish this JSON report instead of analysing (the fork-PR recipe; no PR code is read)")
    diff.add_argument("--gitlab-url", metavar="URL", help="with --publish gitlab: the instance, e.g. https://gitlab.example.com/gitlab (default: CI_API_V4_URL or https://gitlab.com)")
    diff.add_argument("--project", metavar="ID-or-PATH", help="with --publish gitlab: the project id or GROUP/NAME path (default: CI_PROJECT_ID)")
    diff.add_argument("--mr", type=_positive_int, metavar="IID", help="with --publish gitlab: the merge request's IID (default: CI_MERGE_REQUEST_IID)")
    diff.add_argument("--max-comments", type=_positive_int, metavar="N", help="at most N inline comments per run (default: max_comments from config, 25)")

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.add_argument("--config", metavar="FILE", help="config file whose rules_dirs to include")
    rules.add_argument("--all", action="store_true", help="include preview rules")

    explain = commands.add_parser("explain", help="explain a rule")
    explain.add_argument("rule", metavar="ID", help="a rule id, e.g. TMO001")
    explain.add_argument("--config", metavar="FILE", help="config file whose rules_dirs to include")

    test_rules = commands.add_parser("test-rules", help="run the rules' own examples")
    test_rules.add_argument("ids", nargs="*", metavar="ID", help="rule ids or prefixes (default: all)")
    test_rules.add_argument("--config", metavar="FILE", help="config file whose rules_dirs to include")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    with errors.reported():
        if args.command == "scan":
            from reviewer.commands import scan

            return scan.run(args)
        if args.command == "diff":
            from reviewer.commands import diff

            return diff.run(args)
        if args.command == "rules":
            from reviewer.commands import rules

            return rules.run(args)
        if args.command == "explain":
            from reviewer.commands import explain

            return explain.run(args)
        if args.command == "test-rules":
            from reviewer.commands import test_rules

            return test_rules.run(args)
    return errors.EXIT_ERROR


def console_script(argv: Sequence[str] | None = None) -> int:
    """A process's entry (`arch-review`, `python -m reviewer`, the GitHub Action): main, with
    the collector timed for a short-lived process."""
    heap.pause_collector()
    try:
        return main(argv)
    finally:
        heap.before_exit()


if __name__ == "__main__":
    raise SystemExit(console_script())
