"""parse_unified_diff on literal diff text, as git and diff -u print it."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.diff import STATUSES, FileChange, Hunk, parse_unified_diff


def diff(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def only(text: str) -> FileChange:
    changes = parse_unified_diff(diff(text))
    assert len(changes) == 1, changes
    return changes[0]


def test_empty_diff_is_no_files() -> None:
    assert parse_unified_diff("") == []
    assert parse_unified_diff("\n\n") == []


def test_modified_file_lines() -> None:
    change = only(
        """
        diff --git a/src/app.py b/src/app.py
        index 83db48f..bf269f4 100644
        --- a/src/app.py
        +++ b/src/app.py
        @@ -1,4 +1,5 @@ def main():
         import os
        -import sys
        +import sys, json
        +import time
         x = 1
         y = 2
        @@ -20,2 +21,3 @@
         a
        +b
         c
        """
    )
    assert change == FileChange(
        path="src/app.py",
        old_path=None,
        status="modified",
        hunks=(
            Hunk(1, 4, 1, 5, frozenset({2, 3})),
            Hunk(20, 2, 21, 3, frozenset({22})),
        ),
    )
    assert change.added_lines == {2, 3, 22}
    assert change.context_lines == {1, 2, 3, 4, 5, 21, 22, 23}


def test_hunk_header_without_lengths_means_one_line() -> None:
    change = only(
        """
        --- a/x.py
        +++ b/x.py
        @@ -3 +3 @@
        -old
        +new
        """
    )
    assert change.hunks == (Hunk(3, 1, 3, 1, frozenset({3})),)


def test_new_file() -> None:
    change = only(
        """
        diff --git a/new.py b/new.py
        new file mode 100644
        index 0000000..e69de29
        --- /dev/null
        +++ b/new.py
        @@ -0,0 +1,2 @@
        +a = 1
        +b = 2
        """
    )
    assert (change.path, change.old_path, change.status) == ("new.py", None, "added")
    assert change.added_lines == {1, 2}


def test_empty_new_file_has_no_hunks() -> None:
    change = only(
        """
        diff --git a/empty file.py b/empty file.py
        new file mode 100644
        index 0000000..e69de29
        """
    )
    assert (change.path, change.status, change.hunks) == ("empty file.py", "added", ())


def test_deleted_file_keeps_its_path_and_adds_nothing() -> None:
    change = only(
        """
        diff --git a/gone.py b/gone.py
        deleted file mode 100644
        index e69de29..0000000
        --- a/gone.py
        +++ /dev/null
        @@ -1,2 +0,0 @@
        -a = 1
        -b = 2
        """
    )
    assert (change.path, change.old_path, change.status) == ("gone.py", None, "deleted")
    assert change.added_lines == frozenset()
    assert change.context_lines == frozenset()


def test_pure_rename_has_no_hunks() -> None:
    change = only(
        """
        diff --git a/old name.py b/new name.py
        similarity index 100%
        rename from old name.py
        rename to new name.py
        """
    )
    assert (change.path, change.old_path, change.status, change.hunks) == (
        "new name.py",
        "old name.py",
        "renamed",
        (),
    )


def test_rename_with_edits() -> None:
    change = only(
        """
        diff --git a/pkg/a.py b/pkg/b.py
        similarity index 80%
        rename from pkg/a.py
        rename to pkg/b.py
        index 1111111..2222222 100644
        --- a/pkg/a.py
        +++ b/pkg/b.py
        @@ -1,3 +1,3 @@
         one
        -two
        +TWO
         three
        """
    )
    assert (change.path, change.old_path, change.status) == ("pkg/b.py", "pkg/a.py", "renamed")
    assert change.added_lines == {2}


def test_copy() -> None:
    change = only(
        """
        diff --git a/a.py b/c.py
        similarity index 90%
        copy from a.py
        copy to c.py
        index 1111111..2222222 100644
        --- a/a.py
        +++ b/c.py
        @@ -1 +1,2 @@
         one
        +two
        """
    )
    assert (change.path, change.old_path, change.status, change.added_lines) == (
        "c.py",
        "a.py",
        "copied",
        {2},
    )


def test_mode_only_change() -> None:
    change = only(
        """
        diff --git a/run.sh b/run.sh
        old mode 100644
        new mode 100755
        """
    )
    assert (change.path, change.status, change.hunks) == ("run.sh", "modified", ())


def test_git_splits_a_file_to_symlink_change_into_delete_and_add() -> None:
    change = only(
        """
        diff --git a/link b/link
        deleted file mode 100644
        index 422c2b7..0000000
        --- a/link
        +++ /dev/null
        @@ -1,2 +0,0 @@
        -a
        -b
        diff --git a/link b/link
        new file mode 120000
        index 0000000..9145fdb
        --- /dev/null
        +++ b/link
        @@ -0,0 +1 @@
        +target
        \\ No newline at end of file
        """
    )
    assert (change.path, change.status, change.added_lines) == ("link", "type-changed", {1})


@pytest.mark.parametrize(
    "body",
    [
        "Binary files a/img.png and b/img.png differ\n",
        "GIT binary patch\nliteral 2\nJcmZQz0ssI600RI3\n\nliteral 2\nJcmZQz1ONa700IC2\n\n",
    ],
)
def test_binary_file(body: str) -> None:
    text = "diff --git a/img.png b/img.png\nindex bdc955b..8835708 100644\n" + body
    text += "diff --git a/next.py b/next.py\nindex 1..2 100644\n"
    text += "--- a/next.py\n+++ b/next.py\n@@ -1 +1 @@\n-a\n+b\n"
    binary, following = parse_unified_diff(text)
    assert (binary.path, binary.status, binary.binary, binary.hunks) == ("img.png", "modified", True, ())
    assert (following.path, following.binary, following.added_lines) == ("next.py", False, {1})


def test_new_binary_file_with_spaces_and_and_in_its_name() -> None:
    change = only(
        """
        diff --git a/cats and dogs.png b/cats and dogs.png
        new file mode 100644
        index 0000000..8835708
        Binary files /dev/null and b/cats and dogs.png differ
        """
    )
    assert (change.path, change.status, change.binary) == ("cats and dogs.png", "added", True)


def test_no_newline_at_end_of_file_is_not_a_line() -> None:
    change = only(
        """
        diff --git a/x.py b/x.py
        index 1..2 100644
        --- a/x.py
        +++ b/x.py
        @@ -1,2 +1,3 @@
         a
        -b
        \\ No newline at end of file
        +b
        +c
        \\ No newline at end of file
        """
    )
    assert change.hunks == (Hunk(1, 2, 1, 3, frozenset({2, 3})),)


def test_quoted_octal_path_is_utf8() -> None:
    change = only(
        r"""
        diff --git "a/caf\303\251 \"q\".py" "b/caf\303\251 \"q\".py"
        index 1..2 100644
        --- "a/caf\303\251 \"q\".py"
        +++ "b/caf\303\251 \"q\".py"
        @@ -1 +1 @@
        -a
        +b
        """
    )
    assert change.path == 'café "q".py'


def test_quoted_rename_lines() -> None:
    change = only(
        r"""
        diff --git "a/tab\there.py" "b/\346\227\245\346\234\254.py"
        similarity index 100%
        rename from "tab\there.py"
        rename to "\346\227\245\346\234\254.py"
        """
    )
    assert (change.old_path, change.path) == ("tab\there.py", "日本.py")


def test_invalid_utf8_in_quoted_path_survives_as_surrogates() -> None:
    change = only(
        r"""
        diff --git "a/\377.py" "b/\377.py"
        old mode 100644
        new mode 100755
        """
    )
    assert change.path.encode("utf-8", "surrogateescape") == b"\xff.py"


def test_unquoted_utf8_and_spaces_from_quotepath_false() -> None:
    change = only(
        """
        diff --git a/dir x/é 日本.py b/dir x/é 日本.py
        index 1..2 100644
        --- a/dir x/é 日本.py\t
        +++ b/dir x/é 日本.py\t
        @@ -1 +1,2 @@
         a
        +b
        """
    )
    assert change.path == "dir x/é 日本.py"
    assert change.added_lines == {2}


def test_header_only_path_with_spaces_that_looks_like_two_names() -> None:
    change = only(
        """
        diff --git a/x b/x b/x b/x
        old mode 100644
        new mode 100755
        """
    )
    assert change.path == "x b/x"


def test_crlf_diff_text() -> None:
    text = (
        "diff --git a/w.py b/w.py\r\nindex 1..2 100644\r\n--- a/w.py\r\n+++ b/w.py\r\n"
        "@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+c\r\n"
    )
    change = only(text)
    assert (change.path, change.added_lines) == ("w.py", {2})


def test_crlf_file_content_lines() -> None:
    change = only("--- a/w.py\n+++ b/w.py\n@@ -1,2 +1,3 @@\n a\r\n+b\r\n \r\n")
    assert change.added_lines == {2}
    assert change.context_lines == {1, 2, 3}


def test_form_feed_in_content_does_not_split_lines() -> None:
    change = only("--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,3 @@\n a\x0c\n+b\x1c\u2028\n c\n")
    assert change.added_lines == {2}
    assert change.context_lines == {1, 2, 3}


def test_content_lines_that_look_like_headers_stay_content() -> None:
    change = only(
        """
        --- a/notes.txt
        +++ b/notes.txt
        @@ -1,3 +1,3 @@
        --- a/old
        +++ b/new
         diff --git a/x b/x
        -@@ -1 +1 @@
        +plain
        """
    )
    assert change.path == "notes.txt"
    assert change.added_lines == {1, 3}


def test_blank_context_line_with_trimmed_space() -> None:
    change = only("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,4 @@\n a\n\n+b\n c\n")
    assert change.added_lines == {3}


def test_submodule_change_has_no_lines() -> None:
    changes = parse_unified_diff(
        diff(
            """
            diff --git a/vendor/lib b/vendor/lib
            index 1111111..2222222 160000
            --- a/vendor/lib
            +++ b/vendor/lib
            @@ -1 +1 @@
            -Subproject commit 1111111111111111111111111111111111111111
            +Subproject commit 2222222222222222222222222222222222222222
            diff --git a/new_sub b/new_sub
            new file mode 160000
            index 0000000..3333333
            --- /dev/null
            +++ b/new_sub
            @@ -0,0 +1 @@
            +Subproject commit 3333333333333333333333333333333333333333
            """
        )
    )
    assert [(c.path, c.status, c.hunks) for c in changes] == [
        ("vendor/lib", "modified", ()),
        ("new_sub", "added", ()),
    ]


def test_plain_unified_diff_with_timestamps() -> None:
    changes = parse_unified_diff(
        diff(
            """
            diff -ruN a/x.py b/x.py
            --- a/x.py\t2024-01-01 10:00:00.000000000 +0000
            +++ b/x.py\t2024-01-02 10:00:00.000000000 +0000
            @@ -1 +1,2 @@
             a
            +b
            Only in b: other
            --- /dev/null\t1970-01-01 00:00:00.000000000 +0000
            +++ b/y.py\t2024-01-02 10:00:00.000000000 +0000
            @@ -0,0 +1 @@
            +y
            """
        )
    )
    assert [(c.path, c.status, c.added_lines) for c in changes] == [
        ("x.py", "modified", {2}),
        ("y.py", "added", {1}),
    ]


def test_no_prefix_diff_keeps_real_folder_names() -> None:
    change = only("--- a/x.py\n+++ a/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    assert change.path == "a/x.py"


def test_combined_merge_diff_is_skipped() -> None:
    changes = parse_unified_diff(
        diff(
            """
            diff --cc file.py
            index 1,2..3
            --- a/file.py
            +++ b/file.py
            @@@ -1,1 -1,1 +1,1 @@@
            - a
             -b
            ++c
            diff --git a/after.py b/after.py
            index 1..2 100644
            --- a/after.py
            +++ b/after.py
            @@ -1 +1 @@
            -a
            +b
            """
        )
    )
    assert [c.path for c in changes] == ["after.py"]


def test_truncated_hunk_claims_only_the_lines_it_has() -> None:
    change = only("--- a/x.py\n+++ b/x.py\n@@ -1,50 +1,60 @@\n a\n+b\n")
    assert change.hunks == (Hunk(1, 1, 1, 2, frozenset({2})),)


def test_garbage_is_ignored() -> None:
    assert parse_unified_diff("hello\n@@ -1 +1 @@\n+x\nBinary files\n--- \n") == []


def test_file_change_is_hashable_and_frozen() -> None:
    change = only("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    assert change.added_lines == {1}
    assert hash(change) == hash(FileChange("x.py", None, "modified", (Hunk(1, 1, 1, 1, frozenset({1})),)))


_DIFFISH_LINES = st.sampled_from(
    [
        "diff --git a/x b/x",
        'diff --git "a/\\303\\251" b/y',
        "diff --cc x",
        "--- a/x",
        "+++ b/x",
        "--- /dev/null",
        "+++ /dev/null",
        "@@ -1,2 +1,3 @@",
        "@@ -0,0 +1 @@",
        "@@ -99999999999999999999 +1 @@",
        "new file mode 100644",
        "deleted file mode 100644",
        "old mode 100644",
        "new mode 160000",
        "index 1..2 160000",
        "rename from a",
        'rename to "b\\',
        "copy from a",
        "similarity index 100%",
        "Binary files a/x and b/x differ",
        "GIT binary patch",
        "\\ No newline at end of file",
        "+Subproject commit 1",
        " context",
        "+added",
        "-removed",
        "",
        "\r",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_DIFFISH_LINES, st.text(max_size=30)), max_size=40))
def test_parser_never_raises_on_any_text(lines: list[str]) -> None:
    changes = parse_unified_diff("\n".join(lines))
    for change in changes:
        assert isinstance(change, FileChange)
        assert change.status in STATUSES
        assert change.added_lines <= change.context_lines
        assert isinstance(change.path, str) and change.path


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parser_never_raises_on_random_text(text: str) -> None:
    assert all(isinstance(change, FileChange) for change in parse_unified_diff(text))
