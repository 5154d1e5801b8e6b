"""The Docker action's entry: turn the action's inputs into one `arch-review diff --publish github`.

The runner passes each input as an INPUT_<NAME> variable (upper-cased, hyphens kept);
an input left empty means "use the config file's value".
"""

from __future__ import annotations

import os
import sys
from typing import Mapping, Sequence


def _input(name: str, environ: Mapping[str, str]) -> str:
    key = "INPUT_" + name.upper()
    return (environ.get(key) or environ.get(key.replace("-", "_")) or "").strip()


def build_argv(environ: Mapping[str, str] = os.environ) -> list[str]:
    argv = ["diff", "--publish", "github"]
    for name, flag in (("config", "--config"), ("fail-level", "--fail-level"),
                       ("filter-mode", "--filter-mode"), ("max-comments", "--max-comments")):
        value = _input(name, environ)
        if value:
            argv += [flag, value]
    if _input("llm", environ).lower() == "true":
        argv.append("--llm")
    return argv


def prepare_environment(environ: dict[str, str]) -> None:
    token = _input("github-token", environ)
    if token:
        environ["GITHUB_TOKEN"] = token
    # The workspace is mounted from the runner and owned by another uid; git would refuse it.
    count = int(environ.get("GIT_CONFIG_COUNT", "0") or 0)
    environ[f"GIT_CONFIG_KEY_{count}"] = "safe.directory"
    environ[f"GIT_CONFIG_VALUE_{count}"] = "*"
    environ["GIT_CONFIG_COUNT"] = str(count + 1)


def main(argv: Sequence[str] | None = None) -> int:
    from reviewer.cli import console_script

    prepare_environment(os.environ)  # type: ignore[arg-type]
    directory = _input("working-directory", os.environ)
    if directory:
        try:
            os.chdir(directory)
        except OSError as exc:
            print(f"arch-review: error: working-directory {directory!r}: {exc.strerror}", file=sys.stderr)
            return 2
    return console_script([*build_argv(os.environ), *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
