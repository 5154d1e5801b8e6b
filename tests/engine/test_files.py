import fnmatch
import logging
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reviewer.engine.files import (
    Excludes,
    InvalidGlob,
    compile_glob,
    relative_posix,
    select_python_files,
)


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch, tmp_path):
    # Keep the user's git config and any repository above tmp_path out of the tests.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def write(root: Path, relative: str, text: str = "x = 1\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def names(paths: list[Path], root: Path) -> list[str]:
    return [relative_posix(path, root) for path in paths]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    return root


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "files")


# ----------------------------------------------------------------------------- git walks


def test_git_walk_respects_gitignore_and_includes_untracked(repo):
    write(repo, ".gitignore", "ignored/\n*_gen.py\n")
    write(repo, "app.py")
    write(repo, "pkg/sub/model.py")
    write(repo, "ignored/secret.py")
    write(repo, "pkg/schema_gen.py")
    write(repo, "README.md", "# readme\n")
    write(repo, "pkg/stubs.pyi", "x: int\n")
    commit_all(repo)
    write(repo, "new_untracked.py")

    selected = select_python_files([repo], repo, [])

    assert names(selected, repo) == ["app.py", "new_untracked.py", "pkg/sub/model.py"]


def test_git_walk_drops_files_deleted_in_the_worktree(repo):
    write(repo, "kept.py")
    write(repo, "deleted.py")
    commit_all(repo)
    (repo / "deleted.py").unlink()

    assert names(select_python_files([repo], repo, []), repo) == ["kept.py"]


def test_git_walk_of_a_subdirectory_lists_only_that_directory(repo):
    write(repo, "top.py")
    write(repo, "src/a.py")
    write(repo, "src/deep/b.py")
    commit_all(repo)

    selected = select_python_files([repo / "src"], repo, [])

    assert names(selected, repo) == ["src/a.py", "src/deep/b.py"]


def test_git_walk_skips_untracked_virtualenv_but_keeps_tracked_tool_named_dirs(repo):
    write(repo, "agent/env/world.py")  # a real package that happens to be called env
    commit_all(repo)
    write(repo, "venv/lib/python3.11/site-packages/requests/api.py")
    write(repo, ".cache/tool.py")

    assert names(select_python_files([repo], repo, []), repo) == ["agent/env/world.py"]


def test_git_walk_skips_untracked_nested_repository_entry(repo):
    write(repo, "main.py")
    nested = repo / "vendor_repo"
    nested.mkdir()
    git(nested, "init", "-q")
    write(nested, "inner.py")

    assert names(select_python_files([repo], repo, []), repo) == ["main.py"]


def test_git_walk_handles_unicode_and_spaces_in_names(repo):
    write(repo, "données/modèle.py")
    write(repo, "日本/学習 script.py")
    commit_all(repo)
    write(repo, "ñandú.py")

    assert names(select_python_files([repo], repo, []), repo) == [
        "données/modèle.py",
        "ñandú.py",
        "日本/学習 script.py",
    ]


def test_git_walk_of_directory_with_glob_characters_in_its_name(repo):
    write(repo, "odd[dir]/x.py")
    write(repo, "oddd/y.py")
    commit_all(repo)

    selected = select_python_files([repo / "odd[dir]"], repo, [])

    assert names(selected, repo) == ["odd[dir]/x.py"]


def test_falls_back_to_directory_walk_when_git_is_not_installed(repo, monkeypatch):
    write(repo, ".gitignore", "ignored.py\n")
    write(repo, "a.py")
    write(repo, "ignored.py")
    monkeypatch.setenv("PATH", "")

    # Without git there is no .gitignore knowledge; the walk still works.
    assert names(select_python_files([repo], repo, []), repo) == ["a.py", "ignored.py"]


# ----------------------------------------------------------------------------- plain walks


def test_plain_walk_skips_hidden_and_tool_directories(tmp_path):
    root = tmp_path / "project"
    for relative in [
        "main.py",
        "pkg/__init__.py",
        "pkg/.hidden/x.py",
        ".git/hooks/h.py",
        "__pycache__/c.py",
        ".venv/lib/v.py",
        "venv/lib/v.py",
        "env/lib/v.py",
        ".tox/py/t.py",
        ".nox/n.py",
        "node_modules/pkg/n.py",
        "build/lib/b.py",
        "dist/d.py",
        "lib/site-packages/s.py",
        "my_pkg.egg-info/e.py",
        "notes.txt",
        "types.pyi",
    ]:
        write(root, relative)

    assert names(select_python_files([root], root, []), root) == ["main.py", "pkg/__init__.py"]


def test_plain_walk_applies_excludes_and_prunes_excluded_directories(tmp_path):
    root = tmp_path / "project"
    for relative in [
        "src/app.py",
        "src/migrations/0001.py",
        "src/migrations/helpers/h.py",
        "tests/test_app.py",
        "tests/unit/test_x.py",
        "docs/conf.py",
        "proto/a_pb2.py",
    ]:
        write(root, relative)

    selected = select_python_files(
        [root], root, ["tests/**", "docs", "**/migrations/*.py", "*_pb2.py"]
    )

    assert names(selected, root) == ["src/app.py", "src/migrations/helpers/h.py"]


def test_plain_walk_does_not_follow_symlinked_directories(tmp_path):
    root = tmp_path / "project"
    write(root, "a.py")
    write(root, "pkg/b.py")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "pkg_link").symlink_to(root / "pkg", target_is_directory=True)

    assert names(select_python_files([root], root, []), root) == ["a.py", "pkg/b.py"]


# ----------------------------------------------------------------------------- excludes


def test_excludes_apply_to_git_walks(repo):
    for relative in [
        "src/app.py",
        "tests/test_app.py",
        "src/db/migrations/0002_add.py",
        "generated/api.py",
        "src/generated/more.py",
    ]:
        write(repo, relative)
    commit_all(repo)

    selected = select_python_files([repo], repo, ["tests/**", "**/migrations/*.py", "generated/"])

    assert names(selected, repo) == ["src/app.py"]


def test_explicit_file_is_returned_even_when_excluded_ignored_or_not_python(repo):
    write(repo, ".gitignore", "ignored.py\n")
    excluded = write(repo, "tests/test_app.py")
    ignored = write(repo, "ignored.py")
    script = write(repo, "bin/run-job", "#!/usr/bin/env python\n")
    commit_all(repo)

    selected = select_python_files([excluded, ignored, script], repo, ["tests/**", "bin"])

    assert names(selected, repo) == ["bin/run-job", "ignored.py", "tests/test_app.py"]


def test_named_directory_is_walked_even_when_its_own_name_is_excluded(repo):
    write(repo, "tests/test_a.py")
    write(repo, "src/x.py")
    commit_all(repo)

    assert names(select_python_files([repo], repo, ["tests"]), repo) == ["src/x.py"]
    assert names(select_python_files([repo / "tests"], repo, ["tests"]), repo) == [
        "tests/test_a.py"
    ]
    # A pattern that matches the files themselves still excludes them.
    assert select_python_files([repo / "tests"], repo, ["tests/**"]) == []


def test_invalid_exclude_pattern_raises(repo):
    with pytest.raises(InvalidGlob, match="unclosed"):
        select_python_files([repo], repo, ["src/[ab"])


# ----------------------------------------------------------------------------- symlinks


def test_symlinks_out_of_root_are_never_followed(repo, tmp_path, caplog):
    outside = tmp_path / "outside"
    write(outside, "secret.py")
    write(repo, "app.py")
    (repo / "leak.py").symlink_to(outside / "secret.py")
    (repo / "leakdir").symlink_to(outside, target_is_directory=True)
    commit_all(repo)  # git tracks the links themselves
    (repo / "untracked_leak.py").symlink_to(outside / "secret.py")

    assert names(select_python_files([repo], repo, []), repo) == ["app.py"]

    with caplog.at_level(logging.WARNING, logger="reviewer.engine.files"):
        explicit = select_python_files(
            [repo / "leak.py", repo / "leakdir", repo / "leakdir" / "secret.py"], repo, []
        )
    assert explicit == []
    assert "resolves outside" in caplog.text


def test_symlink_to_a_file_inside_root_is_analysed_under_the_target_name(tmp_path):
    root = tmp_path / "project"
    write(root, "real.py")
    (root / "alias.py").symlink_to(root / "real.py")

    assert names(select_python_files([root], root, []), root) == ["real.py"]
    # Named explicitly, a link that stays inside the root is honoured.
    assert names(select_python_files([root / "alias.py"], root, []), root) == ["alias.py"]


# ----------------------------------------------------------------------------- output


def test_output_is_absolute_sorted_and_deduplicated(repo, monkeypatch):
    write(repo, "b.py")
    write(repo, "a/z.py")
    commit_all(repo)
    monkeypatch.chdir(repo)

    selected = select_python_files([Path("."), Path("b.py"), Path("a"), Path("./a/z.py")], repo, [])

    assert selected == [repo / "a" / "z.py", repo / "b.py"]
    assert all(path.is_absolute() for path in selected)


def test_missing_path_raises_file_not_found(repo):
    with pytest.raises(FileNotFoundError, match="nope.py"):
        select_python_files([repo / "nope.py"], repo, [])


def test_relative_posix(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    assert relative_posix(root / "a" / "b.py", root) == "a/b.py"
    assert relative_posix(tmp_path / "other.py", root) == (tmp_path / "other.py").as_posix()

    link_to_root = tmp_path / "link"
    link_to_root.symlink_to(root, target_is_directory=True)
    assert relative_posix(link_to_root / "a.py", root) == "a.py"
    assert relative_posix(root / "a.py", link_to_root) == "a.py"


# ----------------------------------------------------------------------------- glob language


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "expected"),
    [
        ("tests/**", "tests/a.py", False, True),
        ("tests/**", "tests/x/y/z.py", False, True),
        ("tests/**", "src/tests/a.py", False, False),
        ("**/migrations/*.py", "migrations/0001.py", False, True),
        ("**/migrations/*.py", "a/b/migrations/0001.py", False, True),
        ("**/migrations/*.py", "a/migrations/sub/0001.py", False, False),
        ("a/**/b.py", "a/b.py", False, True),
        ("a/**/b.py", "a/x/y/b.py", False, True),
        ("build", "build", True, True),
        ("build", "src/build", True, True),
        ("build", "build.py", False, False),
        ("build/", "src/build", True, True),
        ("build/", "build", False, False),
        ("*_pb2.py", "deep/down/api_pb2.py", False, True),
        ("src/*.py", "src/a.py", False, True),
        ("src/*.py", "src/sub/a.py", False, False),
        ("/setup.py", "setup.py", False, True),
        ("/setup.py", "pkg/setup.py", False, False),
        ("./setup.py", "setup.py", False, True),
        ("setup.py", "pkg/setup.py", False, True),
        ("file?.py", "file1.py", False, True),
        ("file?.py", "file/.py", False, False),
        ("[!t]*.py", "app.py", False, True),
        ("[!t]*.py", "test.py", False, False),
        ("v[0-9].py", "v7.py", False, True),
        ("[]]x", "]x", False, True),
        ("a\\*b", "a*b", False, True),
        ("a\\*b", "axb", False, False),
        ("**", "anything/at/all.py", False, True),
        ("Tests/**", "tests/a.py", False, False),
    ],
)
def test_glob_matching(pattern, path, is_dir, expected):
    assert compile_glob(pattern).matches(path, is_dir) is expected


def test_excludes_matches_file_looks_at_the_files_directories_too():
    excludes = Excludes(["docs", "generated/", "**/migrations/*.py"])
    assert excludes.matches_file("docs/conf.py")
    assert excludes.matches_file("src/generated/api/v1.py")
    assert excludes.matches_file("app/migrations/0001.py")
    assert not excludes.matches_file("src/app.py")
    assert not excludes.matches_file("generated")  # a file, and the pattern wants a directory
    # matches() alone looks only at the path it is given.
    assert not excludes.matches("docs/conf.py", False)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("src/[ab", "unclosed"),
        ("!keep.py", "negation"),
        ("../outside/**", "'..'"),
        ("src/./a.py", "'..'"),
        ("/", "matches nothing"),
        ("trailing\\", "escape"),
    ],
)
def test_invalid_globs(pattern, problem):
    with pytest.raises(InvalidGlob, match=problem):
        compile_glob(pattern)


@settings(database=None)
@given(
    pattern=st.text(alphabet="ab*?.", min_size=1, max_size=6),
    name=st.text(alphabet="ab.", min_size=1, max_size=6),
)
def test_single_segment_globs_agree_with_fnmatch(pattern, name):
    assume(pattern not in (".", ".."))
    assert compile_glob(pattern).matches(name, False) == fnmatch.fnmatchcase(name, pattern)


def test_anchor_globs_rebases_patterns_on_the_config_folder():
    from reviewer.engine.files import Excludes, anchor_globs

    anchored = anchor_globs(["gen/**", "build", "./local.py", "*_pb2.py"], "svc")
    assert anchored == ("svc/gen/**", "svc/**/build", "svc/local.py", "svc/**/*_pb2.py")
    excludes = Excludes(anchored)
    assert excludes.matches_file("svc/gen/client.py")
    assert excludes.matches_file("svc/a/build/x.py")
    assert not excludes.matches_file("gen/client.py")
    assert anchor_globs(["gen/**"], "") == ("gen/**",)
