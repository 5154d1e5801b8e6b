"""Peak memory of `arch-review scan` on a generated tree: files are streamed in batches,
so the peak does not grow with the size of the tree.

    python tests/hostile/memory_check.py 50000        # the 50,000-file tree (a few minutes)

The suite runs a small variant (tests/hostile/test_determinism_and_memory.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMELL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"


def build_tree(root: Path, files: int, padding: int = 0) -> int:
    """``files`` modules in folders of 1,000; every 1,000th has one TMO001 finding. Returns the findings."""
    findings = 0
    for index in range(files):
        folder = root / f"pkg{index // 1000:03d}"
        if index % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        if index % 1000 == 7:
            text = SMELL
            findings += 1
        else:
            text = f"VALUE = {index}\n" + "# " + "x" * padding + "\n"
        (folder / f"m{index}.py").write_text(text)
    return findings


def peak_rss_kb(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, subprocess.CompletedProcess[bytes]]:
    """Peak resident memory of the arch-review process, measured in a fresh interpreter of its own."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "sys.stdout.buffer.write(done.stdout)\n"
        "sys.stderr.write(f'{done.returncode} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
    )
    command = [sys.executable, "-c", probe, sys.executable, "-m", "reviewer", *args]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    code, peak = done.stderr.decode().split()[-2:]
    return int(peak), subprocess.CompletedProcess(args, int(code), done.stdout, b"")


def main(files: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.monotonic()
        expected = build_tree(root, files)
        print(f"generated {files:,} files in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        peak, done = peak_rss_kb(["scan", ".", "--select", "TMO001", "--format", "json", "--no-cache"], root,
                                 {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        report = json.loads(done.stdout)
        print(f"scanned in {time.monotonic() - started:.1f} s: {report['stats']}, "
              f"{len(report['findings'])} findings (expected {expected}), peak RSS {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
