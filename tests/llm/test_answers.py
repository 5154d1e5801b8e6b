"""Cleaning and fit checks for what the model answers."""

from __future__ import annotations

import re
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.llm.answers import MAX_RAW_CHARS, MAX_SUMMARY_CHARS, clean, fitting_question, fitting_summary, invented_names
from reviewer.llm.snippets import snippet

CODE = "    9 >|     response = requests.get(url, headers=auth_headers)\nin app.fetch_features"


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("<!-- arch-review:summary -->Hi", "Hi"),
        ("<<!-- x -->!-- arch-review:summary -->Hi", "Hi"),
        ("<!-- never closed", ""),
        ("<b>bold</b> <img src=x onerror=alert(1)>", "bold "),
        ("[docs](https://evil.example) and ![img](https://evil.example/p.png)", "docs and img"),
        ("[ref]: https://evil.example\nbody", "\nbody"),
        ("visit https://evil.example", "visit https\u200b://evil.example"),
        ("\x1b[31mred\x1b[0m \x1b]8;;https://x\x07link\x1b]8;;\x07", "red link"),
        ("a\u202eb\u200bc\x00d", "abcd"),
    ],
)
def test_clean(raw, cleaned):
    assert clean(raw) == cleaned


def test_a_fitting_question_is_cleaned_and_folded_to_one_line():
    question, reason = fitting_question('Question: "When `requests.get`\nhangs, what does\n`fetch_features` return?"', CODE)
    assert (question, reason) == ("When `requests.get` hangs, what does `fetch_features` return?", "")


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("", "empty"),
        ("<!-- only a marker -->", "empty"),
        ("A statement.", "not a question"),
        ("Why? " * 100, "too long"),
        ("One. Two. Three. Four?", "too long"),
        ("Does `retry_policy` cover `requests.get`?", "names code that is not in the snippet"),
        ("Does fetch_with_retry() cover it?", "names code that is not in the snippet"),
        ("Should @security-team look at requests.get?", "names code that is not in the snippet"),
        ("Does session.mount retry?", "names code that is not in the snippet"),
        (None, "no text"),
    ],
)
def test_answers_that_do_not_fit(answer, reason):
    assert fitting_question(answer, CODE) == (None, reason)


def test_builtins_keywords_and_abbreviations_are_not_invented():
    assert invented_names("If `url` is None, e.g. on a retry, does `len(headers)` matter?", CODE + " headers") == []


def test_the_summary_keeps_its_lines_and_is_cut_at_a_sentence():
    assert fitting_summary("Risks:\n\n\n\n- one\n- two  <b>x</b>\n") == "Risks:\n\n- one\n- two x"
    long = fitting_summary("A sentence that goes on. " * 200)
    assert len(long) <= MAX_SUMMARY_CHARS + 2 and long.endswith("on. …")
    assert fitting_summary("  <br>  ") is None and fitting_summary(7) is None


def test_the_snippet_is_the_enclosing_function_with_the_flagged_lines_marked():
    source = "import requests\n\n\n@retry\ndef fetch(url):\n    x = 1\n    return requests.get(url)\n\n\ndef other():\n    pass\n"
    shown = snippet(source, 7, 7)
    assert shown.text.splitlines() == [
        "    4  | @retry",
        "    5  | def fetch(url):",
        "    6  |     x = 1",
        "    7 >|     return requests.get(url)",
    ]
    assert (shown.first_line, shown.last_line) == (4, 7)


def test_a_long_function_is_cut_to_its_def_and_a_window_around_the_finding():
    body = "".join(f"    x{i} = {i}\n" for i in range(100))
    shown = snippet("def big():\n" + body, 60, 60).text.splitlines()
    assert shown[0] == "    1  | def big():" and shown[1] == "      ..."
    assert "   60 >|     x58 = 58" in shown and len(shown) == 19


def test_module_level_code_gets_the_lines_around_it_and_broken_code_still_works():
    shown = snippet("a = (\n" + "b = 1\n" * 20, 10, 10).text.splitlines()
    assert shown[0].startswith("    2 ") and shown[-1].startswith("   18 ")


PIECES = ["<", ">", "!--", "-->", "<!--", "arch-review:summary", "<b>", "</b>", "[", "]", "(", ")",
          "https://x.example", "www.", "@", "\x1b[", "\x1b]8;;", "\x07", "\u202e", "\u200b", "\n", "a", "?"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=30).map("".join))
def test_nothing_that_hides_links_or_escapes_survives_cleaning(text):
    cleaned = clean(text)
    assert "<!--" not in cleaned
    assert not re.search(r"<[A-Za-z/!?][^<>]*>", cleaned)
    assert not re.search(r"(?i)\b(?:https?:|www\.)", cleaned)
    assert all(char in "\n\t\u200b" or unicodedata.category(char) not in ("Cc", "Cf") for char in cleaned)


@pytest.mark.parametrize("piece", ["[", "[a](", "(", "<a", "<!--", "`a", "@a", "a_b.", "\x1b[", "![", "http://"])
def test_a_huge_hostile_answer_costs_little(piece):
    answer = piece * (MAX_RAW_CHARS // len(piece))
    started = time.perf_counter()
    fitting_summary(answer * 5)
    fitting_question(answer, CODE)
    assert time.perf_counter() - started < 2  # quadratic patterns took tens of seconds here
