"""`arch-review diff` on throwaway git repositories: what a change is, and what of it is reported.

Every run passes ``--select TMO001`` so that rules landing elsewhere cannot change the
counts: the repositories here are built so that only TMO001 has something to say.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import CliResult, assert_exit, assert_one_line_error, findings, lines_of, run_cli, run_many, where
from tests.gitrepo import GitRepo

SELECT = ("--select", "TMO001", "--format", "json")
OLD = "app/old.py"
NEW_SMELL = "    requests.post(url, data=b'ping')  # new\n"


def smelly_module(names: tuple[str, ...] = ("one", "two", "three", "four")) -> str:
    """Old smells, each in its own function, far enough apart (more than 2 x 3 lines of
    diff context) that one hunk never reaches two of them."""
    parts = ["import requests\n"]
    for index, name in enumerate(names):
        parts.append(f"\n\ndef {name}(url):\n    return requests.get(url)  # old {name}\n")
        parts.append(
            f"\n\ndef padding_{index}():\n"
            + "".join(f"    value_{i} = {i}\n" for i in range(8))
            + "    return value_0\n"
        )
    return "".join(parts)


def add_line_after(text: str, needle: str, line: str) -> str:
    """``text`` with ``line`` inserted after the first line containing ``needle``."""
    lines = text.splitlines(keepends=True)
    index = next(i for i, existing in enumerate(lines) if needle in existing)
    return "".join([*lines[: index + 1], line, *lines[index + 1 :]])


def add_line_before(text: str, needle: str, line: str) -> str:
    lines = text.splitlines(keepends=True)
    index = next(i for i, existing in enumerate(lines) if needle in existing)
    return "".join([*lines[:index], line, *lines[index:]])


def diff(cli_args: list[str], repo: GitRepo, env: dict[str, str], *, cwd: Path | None = None) -> CliResult:
    result = run_cli(["diff", *SELECT, *cli_args], cwd=cwd or repo.path, env=env)
    assert_exit(result, 0, 1)
    return result


@pytest.fixture
def branch(repo: GitRepo) -> GitRepo:
    """main: app/old.py with four old smells (and a clean helper); branch `feature` adds one
    smelly line right above the old smell in two(), committed."""
    repo.commit("old code", {OLD: smelly_module(), "app/helper.py": "def helper():\n    return 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    changed = add_line_before(smelly_module(), "# old two", NEW_SMELL)
    repo.commit("one new smell", {OLD: changed})
    return repo


def test_default_diff_reports_only_the_added_line(branch: GitRepo, env) -> None:
    text = (branch.path / OLD).read_text()
    [new_line] = lines_of(text, "# new")
    runs = run_many(
        [
            (["diff", *SELECT], branch.path),
            (["diff", *SELECT, "--filter-mode", "file"], branch.path),
            (["diff", *SELECT, "--filter-mode", "diff_context"], branch.path),
            (["diff", *SELECT, "--filter-mode", "nofilter"], branch.path),
            (["diff", *SELECT], branch.path / "app"),  # from a subfolder: same paths
        ],
        env=env,
    )
    added, whole_file, context, nofilter, from_subfolder = runs
    for result in runs:
        assert_exit(result, 0)  # default fail level: none
    assert where(findings(added)) == [(OLD, new_line)]
    [finding] = findings(added)
    assert finding["rule"] == "TMO001" and "requests.post" in finding["message"]
    assert finding["symbol"] == "app.old.two"

    old_lines = lines_of(text, "# old")
    assert len(old_lines) == 4
    assert where(findings(whole_file)) == sorted((OLD, n) for n in [*old_lines, new_line])
    # The hunk is the new line and three lines either side: it reaches the old smell in two() only.
    [old_two] = lines_of(text, "# old two")
    assert old_two == new_line + 1
    assert where(findings(context)) == [(OLD, new_line), (OLD, old_two)]
    assert where(findings(nofilter)) == where(findings(whole_file))
    assert findings(from_subfolder) == findings(added)
    assert added.json["skipped"] == []


def test_the_working_tree_counts_unless_a_head_is_given(branch: GitRepo, env) -> None:
    committed_sha = branch.sha()
    [committed_line] = lines_of((branch.path / OLD).read_text(), "# new")
    # Unstaged edit of a tracked file, a staged new file, an untracked file, an ignored file.
    branch.write(OLD, add_line_after((branch.path / OLD).read_text(), "# old four", "    requests.put(url)  # unstaged\n"))
    branch.write("app/staged.py", "import requests\nrequests.delete('http://x')  # staged\n")
    branch.git("add", "app/staged.py")
    branch.write("app/untracked.py", "import requests\n\nrequests.head('http://x')  # untracked\n")
    branch.write(".gitignore", "ignored.py\n")
    branch.write("ignored.py", "import requests\nrequests.get('http://x')\n")
    [unstaged_line] = lines_of((branch.path / OLD).read_text(), "# unstaged")
    assert unstaged_line > committed_line

    working, head_zero, head_sha, head_branch = run_many(
        [
            (["diff", *SELECT], branch.path),
            (["diff", *SELECT, "--head", "HEAD~0"], branch.path),
            (["diff", *SELECT, "--head", committed_sha], branch.path),
            (["diff", *SELECT, "--head", "feature", "--base", "main"], branch.path),
        ],
        env=env,
    )
    assert where(findings(working)) == [
        (OLD, committed_line),
        (OLD, unstaged_line),
        ("app/staged.py", 2),
        ("app/untracked.py", 3),
    ]
    for result in (head_zero, head_sha, head_branch):
        assert_exit(result, 0)
        assert where(findings(result)) == [(OLD, committed_line)], result.describe()


def test_a_base_that_moved_on_contributes_nothing(repo: GitRepo, env) -> None:
    other = "app/other.py"
    repo.commit("old code", {OLD: smelly_module(), other: smelly_module(("alpha", "beta"))})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("one new smell", {OLD: add_line_before(smelly_module(), "# old three", NEW_SMELL)})
    # main moves on: more smells in other.py and a new smelly file, after the branch point.
    repo.git("checkout", "-q", "main")
    repo.commit(
        "main moves on",
        {
            other: add_line_after(smelly_module(("alpha", "beta")), "# old beta", "    requests.get(url)  # main\n"),
            "app/main_only.py": "import requests\nrequests.get('http://x')\n",
        },
    )
    repo.git("checkout", "-q", "feature")
    [new_line] = lines_of((repo.path / OLD).read_text(), "# new")

    default, explicit, whole_files = run_many(
        [
            (["diff", *SELECT], repo.path),
            (["diff", *SELECT, "--base", "main"], repo.path),
            (["diff", *SELECT, "--base", "main", "--filter-mode", "file"], repo.path),
        ],
        env=env,
    )
    assert where(findings(default)) == [(OLD, new_line)]
    assert where(findings(explicit)) == [(OLD, new_line)]
    # Only the file the branch changed is reviewed, not the files main changed since.
    assert {f["path"] for f in findings(whole_files)} == {OLD}
    assert len(findings(whole_files)) == 5


def test_a_renamed_file_with_one_added_line(branch: GitRepo, env) -> None:
    branch.git("checkout", "-q", "main")
    branch.git("checkout", "-q", "-b", "rename")
    branch.git("mv", OLD, "app/renamed.py")
    renamed = add_line_after(smelly_module(), "# old three", NEW_SMELL)
    branch.commit("rename and one new smell", {"app/renamed.py": renamed})
    assert "R" in branch.git("diff", "--name-status", "-M", "main", "HEAD")
    [new_line] = lines_of(renamed, "# new")

    added, whole_file = run_many(
        [
            (["diff", *SELECT], branch.path),
            (["diff", *SELECT, "--filter-mode", "file"], branch.path),
        ],
        env=env,
    )
    assert where(findings(added)) == [("app/renamed.py", new_line)]
    assert {f["path"] for f in findings(whole_file)} == {"app/renamed.py"}
    assert len(findings(whole_file)) == 5


def test_a_deleted_file_is_not_reviewed_and_does_not_fail(branch: GitRepo, env) -> None:
    branch.git("checkout", "-q", "main")
    branch.git("checkout", "-q", "-b", "delete")
    branch.git("rm", "-q", OLD)
    branch.commit("delete the smelly file")
    only_deleted = diff(["--filter-mode", "file", "--fail-level", "low"], branch, env)
    assert_exit(only_deleted, 0)
    assert findings(only_deleted) == [] and only_deleted.json["skipped"] == []

    branch.commit("and a new smell elsewhere", {"app/helper.py": "import requests\n\ndef helper():\n    return requests.get('http://x')\n"})
    both = diff(["--fail-level", "high"], branch, env)
    assert_exit(both, 1)
    assert where(findings(both)) == [("app/helper.py", 4)]


def test_paths_with_spaces_and_unicode(repo: GitRepo, env) -> None:
    modified = "app/dir with space/modèle données.py"
    created = "app/nouveau dossier/ünïcødé ✓.py"
    repo.commit("old code", {modified: smelly_module()})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(
        "one new smell in each",
        {
            modified: add_line_before(smelly_module(), "# old one", NEW_SMELL),
            created: "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n",
        },
    )
    [new_line] = lines_of((repo.path / modified).read_text(encoding="utf-8"), "# new")
    result = diff([], repo, env)
    assert where(findings(result)) == sorted([(modified, new_line), (created, 5)])


def test_a_symlink_is_not_reviewed_as_its_target(repo: GitRepo, env) -> None:
    outside = repo.path.parent / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text('import requests; requests.get("https://svc/?token=SECRET123")\n')
    repo.commit("old code", {OLD: smelly_module()})
    repo.git("checkout", "-q", "-b", "feature")
    (repo.path / "app" / "link.py").symlink_to("old.py")
    (repo.path / "leak.py").symlink_to("../outside/secret.py")
    repo.commit("two symlinks")
    working_text, working_file, head_file = run_many(
        [
            (["diff", "--select", "TMO001"], repo.path),
            (["diff", *SELECT, "--filter-mode", "file"], repo.path),
            (["diff", *SELECT, "--filter-mode", "file", "--head", "HEAD"], repo.path),
        ],
        env=env,
    )
    assert "SECRET123" not in working_text.stdout
    assert findings(head_file) == []
    assert findings(working_file) == findings(head_file)  # a clean tree: the same change either way


def test_bad_refs_and_no_repository_are_one_line_errors(branch: GitRepo, tmp_path: Path, env) -> None:
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    (folder / "app.py").write_text("import requests\nrequests.get('http://x')\n")
    base, head, outside = run_many(
        [
            (["diff", *SELECT, "--base", "nonexistent"], branch.path),
            (["diff", *SELECT, "--head", "no-such-branch"], branch.path),
            (["diff", *SELECT], folder),
        ],
        env=env,
    )
    assert_one_line_error(base, "nonexistent")
    assert_one_line_error(head, "no-such-branch")
    line = assert_one_line_error(outside, "not a git repository")
    assert "scan" in line  # says what to do instead
    assert base.stdout == head.stdout == outside.stdout == ""
