"""Part 2: `arch-review diff` on changes made to be awkward: renames, deletions, mode
changes, binary patches, submodules, symlinks out of the repository, strange paths,
CRLF, thousands of files, no change at all, a detached HEAD and a shallow clone."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_many
from corpus import SMELL
from tests.gitrepo import GitRepo, isolate_git

SELECT = ["--select", "TMO001", "--format", "json"]
CLEAN = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5)\n"
STRANGE_NAMES = [
    "dir with space/file name.py",
    'quote"d \'both\'.py',
    "new\nline.py",
    "ünïcødé/模块 ✓.py",
    "tab\tname.py",
]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> GitRepo:
    isolate_git(monkeypatch, tmp_path)
    for name, value in env.items():
        if name.startswith("GIT_"):
            monkeypatch.setenv(name, value)
    return GitRepo.init(tmp_path / "repo")


def smell_at_line(line: int) -> str:
    return "import requests\n" + "\n" * (line - 3) + "def f(url):\n    return requests.get(url)\n"


def test_an_awkward_change_reviews_exactly_the_added_lines(repo: GitRepo, tmp_path: Path, env) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(SMELL)
    submodule = GitRepo.init(tmp_path / "sub")
    submodule.commit("sub", {"lib.py": SMELL})
    repo.commit("base", {
        "renamed_only.py": SMELL.replace("fetch", "fetch_moved"),
        "renamed_edited.py": CLEAN,
        # Not SMELL: git would pair it with an added copy of SMELL as a rename.
        "deleted.py": "import json\n\n\ndef load(path):\n    return json.load(open(path))\n",
        "mode_only.py": SMELL,
        "crlf.py": CLEAN.replace("\n", "\r\n"),
    })
    repo.git("checkout", "-q", "-b", "feature")
    (repo.path / "moved").mkdir()
    repo.git("mv", "renamed_only.py", "moved/renamed_only.py")
    repo.git("mv", "renamed_edited.py", "moved/renamed_edited.py")
    repo.write("moved/renamed_edited.py", CLEAN + "\n\ndef g(url):\n    return requests.get(url)\n")
    repo.git("rm", "-q", "deleted.py")
    os.chmod(repo.path / "mode_only.py", 0o755)
    repo.write("crlf.py", (CLEAN + "\n\ndef g(url):\n    return requests.get(url)\n").replace("\n", "\r\n"))
    repo.write("binary.py", b"\x00\x01import requests\nrequests.get(u)\n\x00")
    repo.write("image.png", bytes(range(256)))
    os.symlink(outside, repo.path / "escape.py")
    os.symlink("../outside.py", repo.path / "relative_escape.py")
    for name in STRANGE_NAMES:
        repo.write(name, SMELL)
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", submodule.url, "vendored")
    repo.commit("awkward")

    working_tree, committed = run_many(
        [(["diff", *SELECT], repo.path), (["diff", *SELECT, "--head", "HEAD"], repo.path)], env=env
    )
    expected = sorted(
        [("moved/renamed_edited.py", 9), ("crlf.py", 9)] + [(name, 5) for name in STRANGE_NAMES]
    )
    for result in (working_tree, committed):
        assert result.returncode == 0, result.describe()
        found = sorted((f["path"], f["line"]) for f in result.json["findings"])
        assert found == expected, result.describe()
    # The links are never followed: in the working tree they are skipped, at a commit
    # they are what git stores (the target's name), which is not Python worth a finding.
    assert {s["path"]: s["reason"] for s in working_tree.json["skipped"]} == {
        "escape.py": "symbolic link (not followed)",
        "relative_escape.py": "symbolic link (not followed)",
    }
    assert committed.json["skipped"] == []


def test_five_thousand_changed_files(repo: GitRepo, env) -> None:
    repo.commit("base", {"README.md": "x\n"})
    repo.git("checkout", "-q", "-b", "feature")
    for index in range(5_000):
        repo.write(f"pkg{index // 500}/m{index}.py", f"VALUE = {index}\n")
    repo.write("pkg0/smell.py", SMELL)
    repo.commit("five thousand files")
    started = time.monotonic()
    result = run_cli(["diff", *SELECT, "--head", "HEAD"], cwd=repo.path, env=env, timeout=300)
    assert result.returncode == 0, result.describe()
    assert [(f["path"], f["line"]) for f in result.json["findings"]] == [("pkg0/smell.py", 5)]
    assert result.json["stats"]["files"] == 5_001
    assert time.monotonic() - started < 240


def test_no_change_detached_head_and_shallow_clone(repo: GitRepo, tmp_path: Path, env) -> None:
    repo.commit("base", {"app.py": CLEAN})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("smell", {"app.py": CLEAN + "\n\ndef g(url):\n    return requests.get(url)\n"})
    repo.git("checkout", "-q", "--detach", "feature")
    shallow = GitRepo.clone(repo.url, tmp_path / "shallow", "--depth=1", "--branch", "feature")
    empty, detached, too_shallow = run_many(
        [
            (["diff", *SELECT, "--base", "HEAD"], repo.path),
            (["diff", *SELECT, "--base", "main"], repo.path),
            (["diff", *SELECT, "--base", "origin/main"], shallow.path),
        ],
        env=env,
    )
    assert empty.returncode == 0 and empty.json["findings"] == [] and empty.json["stats"]["files"] == 0
    assert [(f["path"], f["line"]) for f in detached.json["findings"]] == [("app.py", 9)]
    assert_one_line_error(too_shallow, "origin/main")
