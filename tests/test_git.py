"""reviewer.git against real git repositories built in tmp_path."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from reviewer.diff import FileChange
from reviewer.git import (
    GitError,
    changed_files,
    default_branch,
    read_file_at,
    repo_root,
    resolve_base,
)
from tests.gitrepo import GitRepo, isolate_git, run_git


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("initial", {"app.py": "a = 1\nb = 2\nc = 3\n", "README.md": "hello\n"})
    return repo


def by_path(changes: list[FileChange]) -> dict[str, FileChange]:
    return {change.path: change for change in changes}


def review(repo: GitRepo, base: str | None = None, head: str | None = None) -> dict[str, FileChange]:
    return by_path(changed_files(repo.path, resolve_base(repo.path, base, head), head))


# --- finding the repository -------------------------------------------------------------


def test_repo_root_from_a_subfolder(repo: GitRepo) -> None:
    (repo.path / "pkg" / "sub").mkdir(parents=True)
    assert repo_root(repo.path / "pkg" / "sub") == repo.path.resolve()


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(
        GitError, match=r"^not a git repository: run arch-review scan, or cd into a git checkout$"
    ):
        repo_root(plain)


def test_inside_the_git_folder_is_not_a_working_tree(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="no working tree"):
        repo_root(repo.path / ".git")


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="is not a directory"):
        repo_root(tmp_path / "nowhere")


def test_git_missing_from_path(repo: GitRepo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with pytest.raises(GitError, match="git is not installed or not on PATH"):
        repo_root(repo.path)


# --- the default base -----------------------------------------------------------------


def test_default_base_is_main(repo: GitRepo) -> None:
    branch_point = repo.sha()
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", {"app.py": "a = 1\nb = 20\nc = 3\n"})
    assert default_branch(repo.path) == "main"
    assert resolve_base(repo.path, None) == branch_point


def test_default_base_is_master_when_there_is_no_main(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "old", branch="master")
    branch_point = repo.commit("initial", {"x.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", {"x.py": "x = 2\n"})
    assert default_branch(repo.path) == "master"
    assert resolve_base(repo.path, None) == branch_point


def test_default_base_follows_origin_head(tmp_path: Path) -> None:
    upstream = GitRepo.init(tmp_path / "upstream", branch="trunk")
    branch_point = upstream.commit("initial", {"x.py": "x = 1\n"})
    run_git(tmp_path, "clone", "-q", "--bare", str(upstream.path), "origin.git")
    work = GitRepo.clone(str(tmp_path / "origin.git"), tmp_path / "work")
    work.git("checkout", "-q", "-b", "feature")
    work.commit("feature work", {"x.py": "x = 2\n"})
    # A local "master" that is not the remote's default must not win over origin/HEAD.
    work.git("branch", "master", "feature")
    assert default_branch(work.path) == "origin/trunk"
    assert resolve_base(work.path, None) == branch_point


def test_origin_main_without_a_local_main(tmp_path: Path) -> None:
    upstream = GitRepo.init(tmp_path / "upstream")
    branch_point = upstream.commit("initial", {"x.py": "x = 1\n"})
    work = GitRepo.clone(str(upstream.path), tmp_path / "work")
    work.git("remote", "set-head", "origin", "--delete")
    work.git("checkout", "-q", "-b", "feature")
    work.git("branch", "-q", "-D", "main")
    work.commit("feature work", {"x.py": "x = 2\n"})
    assert default_branch(work.path) == "origin/main"
    assert resolve_base(work.path, None) == branch_point


def test_no_default_branch(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo", branch="develop")
    repo.commit("initial", {"x.py": "x = 1\n"})
    with pytest.raises(GitError) as raised:
        resolve_base(repo.path, None)
    assert str(raised.value) == "could not find a default branch (origin/HEAD, main, master): pass --base REF"


def test_base_is_the_merge_base_not_the_tip_of_main(repo: GitRepo) -> None:
    branch_point = repo.sha()
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", {"feature.py": "f = 1\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", {"later_on_main.py": "m = 1\n", "app.py": "a = 1\n"})
    repo.git("checkout", "-q", "feature")

    assert resolve_base(repo.path, None) == branch_point
    assert resolve_base(repo.path, "main") == branch_point
    assert list(review(repo)) == ["feature.py"]


def test_explicit_base_and_head_use_their_merge_base(repo: GitRepo) -> None:
    branch_point = repo.sha()
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", {"feature.py": "f = 1\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", {"later_on_main.py": "m = 1\n"})
    # Standing on main, review the feature branch.
    assert resolve_base(repo.path, "main", "feature") == branch_point
    assert list(review(repo, "main", "feature")) == ["feature.py"]


def test_unknown_base_ref(repo: GitRepo) -> None:
    with pytest.raises(GitError) as raised:
        resolve_base(repo.path, "no-such-branch")
    assert str(raised.value).startswith("unknown base ref 'no-such-branch': not a branch, tag or commit here")


def test_unknown_head_ref(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="unknown head ref 'nope'"):
        resolve_base(repo.path, "main", "nope")
    with pytest.raises(GitError, match="unknown head ref 'nope'"):
        changed_files(repo.path, repo.sha(), "nope")


def test_a_ref_that_looks_like_an_option_is_refused(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="invalid base ref '--output=x'"):
        resolve_base(repo.path, "--output=x")
    assert not (repo.path / "x").exists()


def test_unrelated_histories(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "--orphan", "island")
    repo.commit("unrelated", {"island.py": "i = 1\n"})
    with pytest.raises(GitError, match="share no history"):
        resolve_base(repo.path, "main")


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "fresh")
    with pytest.raises(GitError, match="HEAD has no commits yet"):
        resolve_base(repo.path, None)


def test_detached_head_works(repo: GitRepo) -> None:
    branch_point = repo.sha()
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit("feature work", {"feature.py": "f = 1\n"})
    repo.git("checkout", "-q", "--detach", head)
    assert resolve_base(repo.path, None) == branch_point
    assert list(review(repo)) == ["feature.py"]


# --- shallow clones (as CI checks out) ------------------------------------------------


@pytest.fixture
def upstream_with_feature(tmp_path: Path) -> tuple[GitRepo, str]:
    upstream = GitRepo.init(tmp_path / "upstream")
    for number in range(3):
        upstream.commit(f"main {number}", {"main.py": f"m = {number}\n"})
    branch_point = upstream.sha()
    upstream.git("checkout", "-q", "-b", "feature")
    upstream.commit("feature 1", {"feature.py": "f = 1\n"})
    upstream.commit("feature 2", {"feature.py": "f = 2\n"})
    upstream.git("checkout", "-q", "main")
    upstream.commit("main moves on", {"main.py": "m = 99\n"})
    return upstream, branch_point


def advised_command(message: str) -> list[str]:
    command = re.search(r"`(git fetch [^`]+)`", message)
    assert command is not None, message
    return shlex.split(command[1])


def test_shallow_clone_without_the_base_says_which_fetch_fixes_it(
    tmp_path: Path, upstream_with_feature: tuple[GitRepo, str]
) -> None:
    upstream, branch_point = upstream_with_feature
    clone = GitRepo.clone(upstream.url, tmp_path / "ci", "--depth", "1", "--branch", "feature")

    with pytest.raises(GitError) as raised:
        resolve_base(clone.path, "main")
    message = str(raised.value)
    assert message == (
        "base 'main' is not in this shallow clone: "
        "run `git fetch --deepen=200 origin main:refs/remotes/origin/main` and pass --base origin/main, "
        "or `git fetch --unshallow` (in CI, check out full history: fetch-depth: 0)"
    )
    with pytest.raises(
        GitError, match="could not find a default branch .* in this shallow clone: pass --base REF"
    ):
        resolve_base(clone.path, None)

    clone.git(*advised_command(message)[1:])
    assert resolve_base(clone.path, "origin/main") == branch_point
    assert resolve_base(clone.path, None) == branch_point


def test_shallow_clone_too_shallow_for_the_merge_base(
    tmp_path: Path, upstream_with_feature: tuple[GitRepo, str]
) -> None:
    upstream, branch_point = upstream_with_feature
    clone = GitRepo.clone(
        upstream.url, tmp_path / "ci", "--depth", "1", "--no-single-branch", "--branch", "feature"
    )

    with pytest.raises(GitError) as raised:
        resolve_base(clone.path, "origin/main")
    message = str(raised.value)
    assert message.startswith("'origin/main' and HEAD meet below the history this shallow clone has: ")
    clone.git(*advised_command(message)[1:])
    assert resolve_base(clone.path, "origin/main") == branch_point


def test_shallow_clone_unknown_commit_sha(tmp_path: Path, upstream_with_feature: tuple[GitRepo, str]) -> None:
    upstream, _ = upstream_with_feature
    clone = GitRepo.clone(upstream.url, tmp_path / "ci", "--depth", "1", "--branch", "feature")
    with pytest.raises(
        GitError, match=r"^base 'deadbeef' is not in this shallow clone: run `git fetch --unshallow`$"
    ):
        resolve_base(clone.path, "deadbeef")


# --- what changed ---------------------------------------------------------------------


def test_empty_diff(repo: GitRepo) -> None:
    assert changed_files(repo.path, resolve_base(repo.path, None), None) == []
    assert changed_files(repo.path, repo.sha(), "HEAD") == []


def test_working_tree_changes_and_untracked_files_are_included(repo: GitRepo) -> None:
    repo.write(".gitignore", "*.log\n")
    repo.commit("ignore logs")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("committed", {"committed.py": "x = 1\n"})
    repo.write("app.py", "a = 1\nb = 2\nc = 3\nd = 4\n")
    repo.git("add", "app.py")
    repo.write("README.md", "hello\nworld\n")  # unstaged
    repo.write("fresh/new.py", "n = 1\nm = 2")  # untracked, no final newline
    repo.write("debug.log", "ignored\n")

    changes = review(repo)
    assert sorted(changes) == ["README.md", "app.py", "committed.py", "fresh/new.py"]
    assert changes["app.py"].added_lines == {4}
    assert changes["README.md"].added_lines == {2}
    assert changes["committed.py"].added_lines == {1}
    new = changes["fresh/new.py"]
    assert (new.status, new.added_lines, new.context_lines) == ("added", {1, 2}, {1, 2})


def test_explicit_head_ignores_the_working_tree(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("committed", {"committed.py": "x = 1\n"})
    repo.write("app.py", "changed\n")
    repo.write("untracked.py", "u = 1\n")
    assert list(review(repo, "main", "HEAD")) == ["committed.py"]
    assert list(review(repo, "main", "feature")) == ["committed.py"]


def test_changes_come_sorted_by_path(repo: GitRepo) -> None:
    repo.write("b.py", "b\n")
    repo.write("a.py", "a\n")
    repo.write("app.py", "changed\n")
    assert [change.path for change in changed_files(repo.path, repo.sha(), None)] == [
        "a.py",
        "app.py",
        "b.py",
    ]


def test_rename_without_edits_adds_no_lines(repo: GitRepo) -> None:
    repo.git("mv", "app.py", "service.py")
    repo.commit("rename")
    change = review(repo, "HEAD~1", "HEAD")["service.py"]
    assert (change.status, change.old_path, change.hunks) == ("renamed", "app.py", ())


def test_rename_with_edits_adds_only_the_edit(repo: GitRepo) -> None:
    repo.commit("longer", {"app.py": "".join(f"line_{n} = {n}\n" for n in range(1, 21))})
    (repo.path / "pkg dir").mkdir()
    repo.git("mv", "app.py", "pkg dir/service.py")
    content = (repo.path / "pkg dir/service.py").read_text().replace("line_7 = 7", "line_7 = 'seven'")
    repo.write("pkg dir/service.py", content)
    repo.commit("rename and edit")
    change = review(repo, "HEAD~1", "HEAD")["pkg dir/service.py"]
    assert (change.status, change.old_path, change.added_lines) == ("renamed", "app.py", {7})


def test_uncommitted_rename_with_edits(repo: GitRepo) -> None:
    repo.commit("longer", {"app.py": "".join(f"line_{n} = {n}\n" for n in range(1, 21))})
    repo.git("mv", "app.py", "moved.py")
    repo.write("moved.py", (repo.path / "moved.py").read_text() + "extra = 1\n")
    change = changed_files(repo.path, repo.sha(), None)[-1]
    assert (change.path, change.status, change.old_path, change.added_lines) == (
        "moved.py",
        "renamed",
        "app.py",
        {21},
    )


def test_deleted_file(repo: GitRepo) -> None:
    repo.git("rm", "-q", "app.py")
    repo.commit("delete")
    change = review(repo, "HEAD~1", "HEAD")["app.py"]
    assert (change.status, change.old_path, change.added_lines, change.context_lines) == (
        "deleted",
        None,
        frozenset(),
        frozenset(),
    )


def test_deleted_in_working_tree(repo: GitRepo) -> None:
    (repo.path / "app.py").unlink()
    assert [(c.path, c.status) for c in changed_files(repo.path, repo.sha(), None)] == [("app.py", "deleted")]


def test_binary_files_committed_and_untracked(repo: GitRepo) -> None:
    repo.commit("binary", {"model.bin": b"\x00\x01weights"})
    repo.write("model.bin", b"\x00\x02weights")
    repo.write("fresh.bin", b"PK\x00\x00zip")
    changes = by_path(changed_files(repo.path, repo.sha("HEAD~1"), None))
    assert (changes["model.bin"].status, changes["model.bin"].binary, changes["model.bin"].hunks) == (
        "added",
        True,
        (),
    )
    assert (changes["fresh.bin"].status, changes["fresh.bin"].binary, changes["fresh.bin"].hunks) == (
        "added",
        True,
        (),
    )
    modified = by_path(changed_files(repo.path, repo.sha(), None))["model.bin"]
    assert (modified.status, modified.binary) == ("modified", True)


SPECIAL_NAMES = ["with space.py", 'quo"te.py', "é.py", "日本/データ.py", "back\\slash.py", "tab\there.py"]


@pytest.mark.parametrize("name", SPECIAL_NAMES)
def test_special_paths_committed_untracked_and_readable(repo: GitRepo, name: str) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("add", {name: "x = 1\n"})
    repo.write(name, "x = 1\ny = 2\n")
    repo.write("untracked " + name.replace("/", " "), "u = 1\n")

    committed = review(repo, "main", "HEAD")[name]
    assert (committed.status, committed.added_lines) == ("added", {1})
    working = review(repo)
    assert working[name].added_lines == {1, 2}
    assert working["untracked " + name.replace("/", " ")].added_lines == {1}
    assert read_file_at(repo.path, "HEAD", name) == b"x = 1\n"
    assert read_file_at(repo.path, None, name) == b"x = 1\ny = 2\n"


def test_special_paths_survive_a_rename(repo: GitRepo) -> None:
    repo.git("mv", "app.py", 'é 日本 "q".py')
    repo.commit("rename")
    change = review(repo, "HEAD~1", "HEAD")['é 日本 "q".py']
    assert (change.old_path, change.status) == ("app.py", "renamed")


@pytest.mark.skipif(os.name != "posix", reason="needs a filesystem that stores raw bytes in names")
def test_non_utf8_file_name_round_trips(repo: GitRepo) -> None:
    raw_name = b"latin1-\xe9.py"
    try:
        (repo.path / os.fsdecode(raw_name)).write_bytes(b"x = 1\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("filesystem refuses non-UTF-8 names")
    change = changed_files(repo.path, repo.sha(), None)[0]
    assert os.fsencode(change.path) == raw_name
    assert read_file_at(repo.path, None, change.path) == b"x = 1\n"


def test_crlf_file(repo: GitRepo) -> None:
    repo.commit("crlf", {"win.py": "a = 1\r\nb = 2\r\nc = 3\r\n"})
    repo.write("win.py", "a = 1\r\nb = 2\r\nnew = 0\r\nc = 3\r\n")
    repo.write("untracked_win.py", "x = 1\r\ny = 2\r\n")
    changes = by_path(changed_files(repo.path, repo.sha(), None))
    assert changes["win.py"].added_lines == {3}
    assert changes["untracked_win.py"].added_lines == {1, 2}


def test_mode_only_change(repo: GitRepo) -> None:
    (repo.path / "app.py").chmod(0o755)
    repo.commit("executable")
    change = review(repo, "HEAD~1", "HEAD")["app.py"]
    assert (change.status, change.hunks) == ("modified", ())


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_file_replaced_by_symlink_is_one_type_change(repo: GitRepo) -> None:
    (repo.path / "README.md").unlink()
    os.symlink("app.py", repo.path / "README.md")
    changes = changed_files(repo.path, repo.sha(), None)
    assert [(c.path, c.status) for c in changes] == [("README.md", "type-changed")]


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_untracked_symlink_is_its_target_text(repo: GitRepo) -> None:
    os.symlink("somewhere/else", repo.path / "link")
    change = by_path(changed_files(repo.path, repo.sha(), None))["link"]
    assert (change.status, change.added_lines) == ("added", {1})


def test_empty_untracked_file_has_no_lines(repo: GitRepo) -> None:
    repo.write("empty.py", "")
    change = by_path(changed_files(repo.path, repo.sha(), None))["empty.py"]
    assert (change.status, change.hunks) == ("added", ())


def test_file_removed_from_the_index_but_kept_on_disk_is_listed_once(repo: GitRepo) -> None:
    repo.git("rm", "-q", "--cached", "app.py")
    changes = changed_files(repo.path, repo.sha(), None)
    assert [(c.path, c.status, c.added_lines) for c in changes] == [("app.py", "added", {1, 2, 3})]


def test_nested_repository_is_not_read_as_files(repo: GitRepo) -> None:
    nested = GitRepo.init(repo.path / "vendor" / "nested")
    nested.commit("nested", {"inside.py": "i = 1\n"})
    assert changed_files(repo.path, repo.sha(), None) == []


def test_submodule_change_has_no_lines(repo: GitRepo, tmp_path: Path) -> None:
    library = GitRepo.init(tmp_path / "library")
    library.commit("lib", {"lib.py": "l = 1\n"})
    repo.git("-c", "protocol.file.allow=always", "submodule", "-q", "add", str(library.path), "vendor/lib")
    repo.commit("add submodule")
    changes = review(repo, "HEAD~1", "HEAD")
    assert (changes["vendor/lib"].status, changes["vendor/lib"].hunks) == ("added", ())
    assert changes[".gitmodules"].status == "added"


def test_user_diff_configuration_does_not_change_the_result(repo: GitRepo) -> None:
    for key, value in [
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("diff.relative", "true"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.external", "false"),
        ("color.ui", "always"),
        ("color.diff", "always"),
        ("core.quotePath", "true"),
        ("diff.context", "0"),
    ]:
        repo.git("config", key, value)
    repo.commit("with blank", {"é.py": "a = 1\n\nb = 2\n"})
    repo.write("é.py", "a = 1\n\nb = 2\nc = 3\n")
    change = by_path(changed_files(repo.path, repo.sha(), None))["é.py"]
    assert change.added_lines == {4}
    assert change.context_lines == {1, 2, 3, 4}


def test_unified_context_width(repo: GitRepo) -> None:
    repo.commit("long", {"long.py": "".join(f"v{n} = {n}\n" for n in range(1, 21))})
    repo.write("long.py", (repo.path / "long.py").read_text().replace("v10 = 10", "v10 = 'ten'"))
    narrow = changed_files(repo.path, repo.sha(), None, unified=0)[0]
    wide = changed_files(repo.path, repo.sha(), None, unified=5)[0]
    assert narrow.added_lines == wide.added_lines == {10}
    assert narrow.context_lines == {10}
    assert wide.context_lines == set(range(5, 16))


# --- reading files --------------------------------------------------------------------


def test_read_file_at_revision_and_working_tree(repo: GitRepo) -> None:
    old = repo.sha()
    repo.commit("edit", {"app.py": "z = 0\r\n"})
    assert read_file_at(repo.path, old, "app.py") == b"a = 1\nb = 2\nc = 3\n"
    assert read_file_at(repo.path, "HEAD", "app.py") == b"z = 0\r\n"
    repo.write("app.py", "working\n")
    assert read_file_at(repo.path, None, "app.py") == b"working\n"


def test_read_file_at_errors(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="'missing.py' is not a file at HEAD"):
        read_file_at(repo.path, "HEAD", "missing.py")
    with pytest.raises(GitError, match="unknown revision ref 'nope'"):
        read_file_at(repo.path, "nope", "app.py")
    with pytest.raises(GitError, match="'missing.py' is not in the working tree"):
        read_file_at(repo.path, None, "missing.py")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to hand the repo to another user"
)
def test_repository_owned_by_another_user(repo: GitRepo) -> None:
    for folder, _, files in os.walk(repo.path):
        for name in [folder, *(os.path.join(folder, file) for file in files)]:
            os.chown(name, 65534, 65534)
    expected = (
        "git refuses a repository owned by another user: "
        f"run `git config --global --add safe.directory {repo.path}`"
    )
    for call in (lambda: repo_root(repo.path), lambda: resolve_base(repo.path, None)):
        with pytest.raises(GitError) as raised:
            call()
        assert str(raised.value) == expected


def test_staged_and_intent_to_add_new_files_are_listed_once(repo: GitRepo) -> None:
    repo.write("staged.py", "s = 1\n")
    repo.write("intended.py", "i = 1\ni = 2\n")
    repo.git("add", "staged.py")
    repo.git("add", "--intent-to-add", "intended.py")
    changes = changed_files(repo.path, repo.sha(), None)
    assert [(c.path, c.status, c.added_lines) for c in changes] == [
        ("intended.py", "added", {1, 2}),
        ("staged.py", "added", {1}),
    ]
