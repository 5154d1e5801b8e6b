"""Part 4: property-based tests of the four readers of untrusted input: the source-file
reader, the diff parser, the config loader and the rule loader. Each either returns
what it read or raises its own one-line error; nothing else, for any input."""

from __future__ import annotations

import codecs
import os
import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reviewer.config import ConfigError, load_config
from reviewer.diff import parse_unified_diff
from reviewer.engine.source import SourceError, decode_source, read_source
from reviewer.ruleset.detector import load_detectors
from reviewer.ruleset.loader import load_rule_file
from reviewer.ruleset.schema import RuleFileError, compile_rule

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --------------------------------------------------------------------------- file reader


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_decode_or_are_skipped_with_a_reason(data: bytes) -> None:
    try:
        source = decode_source(Path("x.py"), data)
    except SourceError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert b"\x00" not in data and source.data == data


@FAST
@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=300), st.booleans())
def test_utf8_text_round_trips_with_or_without_a_bom(text: str, bom: bool) -> None:
    assume(not text.startswith("\ufeff"))
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")
    try:
        assert decode_source(Path("x.py"), data).text == text
    except SourceError as error:
        # Only a coding cookie in the text itself may change how it is read.
        assert "cod" in text.split("\n", 2)[0] + text.split("\n", 2)[-1] or "cod" in text, error


@FAST
@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255, blacklist_categories=("Cs",)), max_size=200))
def test_a_truthful_latin1_cookie_round_trips(body: str) -> None:
    assume("\n" not in body[:1] and "coding" not in body)
    data = b"# -*- coding: latin-1 -*-\n" + body.encode("latin-1")
    assert decode_source(Path("x.py"), data).text == "# -*- coding: latin-1 -*-\n" + body


@FAST
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=300))
def test_the_size_cap_holds_for_any_file(tmp_path_factory, data: bytes, cap: int) -> None:
    path = tmp_path_factory.mktemp("cap") / "x.py"
    path.write_bytes(data)
    try:
        read_source(path, cap)
    except SourceError as error:
        assert len(data) > cap or "too large" not in str(error)
        return
    assert len(data) <= cap


# --------------------------------------------------------------------------- diff parser

_NAME = st.text(alphabet=string.ascii_letters + string.digits + "_-. éü模", min_size=1, max_size=12).filter(
    lambda name: name.strip() == name and name not in (".", "..")
)
_PATH = st.lists(_NAME, min_size=1, max_size=3).map(lambda parts: "/".join(parts) + ".py")
_LINE = st.text(alphabet=string.ascii_letters + " ()=+-#:'\"\t", max_size=20)
# One hunk body: (kind, text) with kind in " ", "+", "-".
_HUNK = st.lists(st.tuples(st.sampled_from(" +-"), _LINE), min_size=1, max_size=12)


def render_hunks(hunks: list[list[tuple[str, str]]]) -> tuple[list[str], set[int]]:
    """Unified-diff hunks for the bodies given, and the new-side line numbers they add."""
    lines: list[str] = []
    added: set[int] = set()
    old_line = new_line = 1
    for body in hunks:
        old_len = sum(kind != "+" for kind, _ in body)
        new_len = sum(kind != "-" for kind, _ in body)
        lines.append(f"@@ -{old_line},{old_len} +{new_line},{new_len} @@ def f():")
        cursor = new_line
        for kind, text in body:
            lines.append(kind + text)
            if kind == "+":
                added.add(cursor)
            if kind != "-":
                cursor += 1
        old_line += old_len + 5
        new_line += new_len + 5  # five unchanged lines between hunks
    return lines, added


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_PATH, st.lists(_HUNK, min_size=1, max_size=3), min_size=1, max_size=4), st.booleans())
def test_a_rendered_diff_parses_back_to_its_files_and_added_lines(files, crlf: bool) -> None:
    text_lines: list[str] = []
    expected = {}
    for path, hunks in files.items():
        body, added = render_hunks(hunks)
        text_lines += [f"diff --git a/{path} b/{path}", "index 1111111..2222222 100644", f"--- a/{path}", f"+++ b/{path}", *body]
        expected[path] = added
    text = ("\r\n" if crlf else "\n").join(text_lines) + "\n"
    parsed = {change.path: set(change.added_lines) for change in parse_unified_diff(text)}
    assert parsed == expected


# --------------------------------------------------------------------------- config loader

_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=12))
_KEY = st.one_of(
    st.sampled_from(["select", "ignore", "exclude", "severity", "filter_mode", "fail_level", "max_comments",
                     "max_file_size", "file_timeout", "rules_dirs", "adr_dirs", "llm", "enabled", "model", "TMO001"]),
    st.text(max_size=8),
)
_VALUE = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEY, inner, max_size=4)), max_leaves=12)


def one_line_error(error: Exception, file: str) -> None:
    message = str(error)
    assert message.startswith(file) and "\n" not in message and len(message) < 1_000, message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(_KEY, _VALUE, max_size=6))
def test_any_config_structure_loads_or_is_one_line_naming_the_file(tmp_path_factory, document) -> None:
    folder = tmp_path_factory.mktemp("config")
    path = folder / ".arch-review.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as error:
        one_line_error(error, os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_any_config_text_loads_or_is_one_line_naming_the_file(tmp_path_factory, text: str) -> None:
    folder = tmp_path_factory.mktemp("config")
    path = folder / ".arch-review.yml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load_config(path)
    except ConfigError as error:
        one_line_error(error, os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path))


# --------------------------------------------------------------------------- rule loader

_RULE_KEY = st.one_of(
    st.sampled_from(["id", "name", "family", "severity", "status", "match", "where", "message", "question", "docs",
                     "examples", "call", "method", "detector", "args", "missing", "inside", "not_inside", "flag", "ok"]),
    st.text(max_size=6),
)
_RULE_VALUE = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_RULE_KEY, inner, max_size=4)), max_leaves=15)
VALID = {
    "id": "TEAM001", "name": "team-rule", "family": "no-timeout", "severity": "low",
    "match": {"call": ["requests.get"]}, "message": "`{call}`", "question": "Why?",
    "docs": {"what": "w", "why": "w", "example": "e", "instead": "i"},
    "examples": {"flag": ["import requests\nrequests.get(u)\n", "import requests as r\nr.get(u)\n"],
                 "ok": ["x = 1\n", "y = 2\n"]},
}
DETECTOR_FIELDS = {name: cls.fields for name, cls in load_detectors().items()}


@settings(max_examples=150, deadline=None)
@given(changes=st.dictionaries(_RULE_KEY, _RULE_VALUE, max_size=4), drop=st.sets(st.sampled_from(sorted(VALID)), max_size=2))
def test_any_rule_structure_compiles_or_is_one_line_naming_the_file(changes, drop) -> None:
    data = {key: value for key, value in {**VALID, **changes}.items() if key not in drop}
    try:
        compile_rule(data, "team/TEAM001.yaml", DETECTOR_FIELDS)
    except RuleFileError as error:
        one_line_error(error, "team/TEAM001.yaml")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_any_rule_file_bytes_load_or_are_one_line_naming_the_file(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("rules") / "TEAM001.yaml"
    path.write_bytes(data)
    try:
        load_rule_file(path, "team/TEAM001.yaml")
    except RuleFileError as error:
        one_line_error(error, "team/TEAM001.yaml")
