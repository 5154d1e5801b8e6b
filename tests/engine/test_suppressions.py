import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.engine.suppressions import Directive, Suppressions, find_suppressions
from reviewer.types import Family


def suppressions(source: str) -> Suppressions:
    return find_suppressions(textwrap.dedent(source))


def test_trailing_comment_covers_its_own_line():
    found = suppressions(
        """\
        import requests
        requests.get(url)  # arch-review: ignore[TMO001]
        requests.get(url)
        """
    )
    assert found.covers(2, "TMO001", "no-timeout")
    assert not found.covers(2, "TMO002", "no-timeout")
    assert not found.covers(1, "TMO001", "no-timeout")


def test_comment_on_the_line_above_covers_the_next_line_only():
    found = suppressions(
        """\
        # arch-review: ignore[TMO001]
        requests.get(url)
        requests.get(url)
        """
    )
    assert found.covers(2, "TMO001", "no-timeout")
    assert not found.covers(3, "TMO001", "no-timeout")


def test_family_names_suppress_every_rule_of_the_family():
    found = suppressions("requests.get(url)  # arch-review: ignore[no-timeout]\n")
    assert found.covers(1, "TMO001", "no-timeout")
    assert found.covers(1, "TMO007", Family.NO_TIMEOUT)
    assert not found.covers(1, "RTY001", "no-retry")


def test_bare_directive_suppresses_everything():
    found = suppressions("load_all(path)  # arch-review: ignore\n")
    assert found.covers(1, "ULD001", "unbounded-load")
    assert found.covers(1, "ANY999", "serving")
    assert found.directives == (Directive(1, None, ""),)


def test_bare_directive_with_a_reason_still_suppresses_everything():
    found = suppressions("x = f()  # arch-review: ignore until the vendor fixes it\n")
    assert found.covers(1, "TMO001", "no-timeout")
    assert found.directives[0].reason == "until the vendor fixes it"


def test_multiple_targets_and_reason_text():
    found = suppressions(
        "client.post(u, json=b)  # arch-review: ignore[TMO001, no-retry] vendor API has its own deadline\n"
    )
    assert found.covers(1, "TMO001", "no-timeout")
    assert found.covers(1, "RTY003", "no-retry")
    assert not found.covers(1, "TMO002", "no-timeout")
    (directive,) = found.directives
    assert directive.targets == frozenset({"TMO001", "no-retry"})
    assert directive.reason == "vendor API has its own deadline"


def test_directive_is_case_insensitive_and_tolerates_spaces():
    found = suppressions("x = 1  #ARCH-REVIEW :  Ignore[ tmo001 , No-Timeout ]\n")
    assert found.covers(1, "TMO001", "unbounded-load")
    assert found.covers(1, "ABC123", "no-timeout")
    assert found.problems == ()


def test_directive_inside_a_string_does_not_count():
    found = suppressions(
        '''\
        message = "# arch-review: ignore"
        doc = """
        # arch-review: ignore[TMO001]
        requests.get(url)
        """
        requests.get(url)
        '''
    )
    assert found.directives == ()
    for line in range(1, 7):
        assert not found.covers(line, "TMO001", "no-timeout")


def test_directive_after_other_comment_text_counts():
    found = suppressions("x = f()  # noqa: E501  # arch-review: ignore[TMO001]\n")
    assert found.covers(1, "TMO001", "no-timeout")


def test_two_directives_in_one_comment_both_apply():
    found = suppressions("x = f()  # arch-review: ignore[TMO001] # arch-review: ignore[RTY001]\n")
    assert found.covers(1, "TMO001", "no-timeout")
    assert found.covers(1, "RTY001", "no-retry")
    assert [d.reason for d in found.directives] == ["", ""]


def test_similar_words_are_not_directives():
    found = suppressions(
        "a = 1  # arch-review: ignored[TMO001]\n"
        "b = 2  # arch-reviewer: ignore\n"
        "c = 3  # see arch-review docs: ignore nothing\n"
    )
    assert found.directives == ()


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("# arch-review: ignore[TMO001", "unclosed '['"),
        ("# arch-review: ignore[]", "names no rule"),
        ("# arch-review: ignore[ , ]", "names no rule"),
        ("# arch-review: ignore[no-timout]", "not a rule id or family: 'no-timout'"),
        ("# arch-review: ignore[TMO]", "not a rule id or family: 'TMO'"),
    ],
)
def test_malformed_directives_suppress_nothing_and_are_reported(comment, problem):
    found = find_suppressions(f"x = f()  {comment}\n")
    assert not found.covers(1, "TMO001", "no-timeout")
    assert not found.covers(1, "ABC001", "unbounded-load")
    ((line, message),) = found.problems
    assert line == 1 and problem in message


def test_unknown_target_does_not_cancel_the_valid_ones():
    found = find_suppressions("x = f()  # arch-review: ignore[TMO001, bogus]\n")
    assert found.covers(1, "TMO001", "no-timeout")
    assert found.problems == (
        (1, "not a rule id or family: 'bogus'; ignored in arch-review: ignore[...]"),
    )


def test_untokenizable_source_falls_back_to_line_scanning():
    source = "def f(:\n    x = '''unterminated\nrequests.get(u)  # arch-review: ignore[TMO001]\n"
    found = find_suppressions(source)
    assert found.covers(3, "TMO001", "no-timeout")


def test_source_without_directives_is_cheap_and_empty():
    assert find_suppressions("import os\n# a comment\n") == Suppressions()
    assert find_suppressions("") == Suppressions()


def test_directive_above_a_decorator_covers_a_finding_that_starts_there():
    found = suppressions(
        """\
        # arch-review: ignore[unbounded-cache] bounded by the number of models
        @functools.lru_cache(maxsize=None)
        def load_model(name):
            ...
        """
    )
    assert found.covers(2, "CCH001", "unbounded-cache")
    assert not found.covers(3, "CCH001", "unbounded-cache")


@settings(database=None, max_examples=200)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_never_raises_on_arbitrary_text(text):
    find_suppressions(text + "\n# arch-review: ignore[" + text[:5])
