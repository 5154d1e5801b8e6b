"""Part 7: memory. The byte-for-byte determinism across runs and worker counts is in
test_hostile_sources.py (test_worker_count_does_not_change_a_byte); the 50,000-file run
is `python tests/hostile/memory_check.py 50000` (see CONTRIBUTING.md)."""

from __future__ import annotations

import json
from pathlib import Path

from memory_check import build_tree, peak_rss_kb

PADDING = 20_000  # bytes per file: were the files all held at once, ten times more files would show


def test_peak_memory_does_not_grow_with_the_tree(tmp_path: Path, module_env) -> None:
    peaks = {}
    for files in (200, 2_000):
        root = tmp_path / f"tree{files}"
        expected = build_tree(root, files, PADDING)
        peak, done = peak_rss_kb(["scan", ".", "--select", "TMO001", "--format", "json", "--no-cache", "--jobs", "1"], root, module_env)
        assert done.returncode == 0
        report = json.loads(done.stdout)
        assert report["stats"]["files"] == files and len(report["findings"]) == expected
        peaks[files] = peak
    # 1,800 more files of 20 KB are 36 MB of source; streaming keeps the difference to noise.
    assert peaks[2_000] - peaks[200] < 15 * 1024, peaks
