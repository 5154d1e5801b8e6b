"""The console script pauses the collector during start-up only; in-process callers see no change."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from reviewer.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-project"


def test_console_script_collects_after_startup_and_freezes_what_startup_built(tmp_path: Path) -> None:
    probe = textwrap.dedent(
        """
        import gc, sys
        from reviewer.commands import common
        from reviewer.cli import console_script

        seen = {}
        original = common.load_setup

        def load_setup(args):
            seen["during start-up"] = gc.isenabled()
            setup = original(args)
            seen["after start-up"] = gc.isenabled()
            seen["frozen"] = gc.get_freeze_count()
            return setup

        common.load_setup = load_setup
        import reviewer.commands.scan as scan
        scan.load_setup = load_setup
        sys.argv = ["arch-review", "scan", sys.argv[1], "--format", "json", "-o", sys.argv[2], "--no-cache"]
        code = console_script()
        print(seen["during start-up"], seen["after start-up"], seen["frozen"] > 10_000)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(EXAMPLE), str(tmp_path / "out.json")],
        capture_output=True, text=True, check=False,
    )
    assert result.stdout.split() == ["False", "True", "True"], result.stderr
    assert json.loads((tmp_path / "out.json").read_text())["findings"]


def test_main_called_in_process_leaves_the_collector_alone(tmp_path: Path) -> None:
    frozen = gc.get_freeze_count()
    main(["scan", str(EXAMPLE), "--format", "json", "-o", str(tmp_path / "out.json"), "--no-cache"])
    assert json.loads((tmp_path / "out.json").read_text())["findings"]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
