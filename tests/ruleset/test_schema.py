"""Rule files are validated strictly; every error names the file and the key path."""

import copy

import pytest

from reviewer.ruleset.detector import load_detectors
from reviewer.ruleset.schema import RuleFileError, compile_rule

VALID = {
    "id": "TST001",
    "name": "test-rule",
    "family": "no-timeout",
    "severity": "high",
    "match": {"call": ["requests.get"], "args": {"missing": ["timeout"]}},
    "message": "`{call}` has no timeout",
    "question": "When {host} stalls, what does the caller see?",
    "docs": {"what": "w", "why": "y", "example": "e", "instead": "i"},
    "examples": {"flag": ["a", "b"], "ok": ["c", "d"]},
}


def compile_with(**changes):
    data = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return compile_rule(data, "rules/x.yaml", {n: c.fields for n, c in load_detectors().items()})


_DELETE = object()


def test_valid_rule_compiles():
    rule = compile_with()
    assert rule.id == "TST001"
    assert rule.tokens == frozenset({("requests", "get")})
    assert rule.meta.status.value == "stable"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"idd": 1}, "rules/x.yaml: idd: unknown key (did you mean 'id'?)"),
        ({"id": "tmo1"}, "rules/x.yaml: id: 'tmo1' is not a valid rule id"),
        ({"name": "Bad Name"}, "rules/x.yaml: name:"),
        ({"family": "timeouts"}, "rules/x.yaml: family: expected one of"),
        ({"severity": "critical"}, "rules/x.yaml: severity: expected one of"),
        ({"status": "beta"}, "rules/x.yaml: status: expected one of"),
        ({"match": {"call": ["requests.get"], "method": ["get"]}}, "rules/x.yaml: match: needs exactly one of"),
        ({"match": {"call": ["requests..get"]}}, "rules/x.yaml: match.call[0]: bad qualified-name pattern"),
        ({"match": {"call": "requests.get"}}, "rules/x.yaml: match.call: expected a list"),
        ({"match": {"call": ["a.b"], "args": {"missing": [{"name": "timeout", "position": -1}]}}}, "match.args.missing[0].position"),
        ({"match": {"call": ["a.b"], "args": {"values": [{"arg": "x", "matches": "("}]}}}, "match.args.values[0].matches: bad regular expression"),
        ({"match": {"call": ["a.b"], "args": {"values": [{"arg": "x"}]}}}, "match.args.values[0]: needs one of"),
        ({"match": {"call": ["a.b"], "receiver": ["x.Y"]}}, "match.receiver: only applies to a method match"),
        ({"match": {"detector": "no-such-detector"}}, "match.detector: no detector named 'no-such-detector'"),
        ({"where": {"inside": ["loops"]}}, "where.inside[0]: unknown place 'loops'"),
        ({"where": {"inside": [{"decorated_by": ["a..b"]}]}}, "where.inside[0].decorated_by[0]"),
        ({"where": {"imports": ["not a module"]}}, "where.imports[0]"),
        ({"paths": {"include": ["!x"]}}, "paths.include[0]"),
        ({"message": "`{cal}` has no timeout"}, "message: unknown placeholder {cal}"),
        ({"question": "{host!r}?"}, "question: placeholder {host} takes no format spec"),
        ({"docs__why": _DELETE}, "docs.why: required key is missing"),
        ({"examples__flag": ["only one"]}, "examples.flag: needs at least two examples"),
        ({"examples__ok": ["x", {"code": "y", "file": "z"}]}, "examples.ok[1].file: unknown key"),
    ],
)
def test_errors_name_file_and_key_path(changes, expected):
    with pytest.raises(RuleFileError) as caught:
        compile_with(**changes)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_top_level_must_be_a_mapping():
    with pytest.raises(RuleFileError, match="rules/x.yaml: expected a mapping, got a list"):
        compile_rule([1, 2], "rules/x.yaml", {})


def test_wildcard_pattern_token_is_its_literal_part():
    rule = compile_with(match={"call": ["requests.Session.*"]})
    assert rule.tokens == frozenset({("requests", "Session")})


def test_explicit_tokens_override():
    rule = compile_with(tokens=["fetch", ["torch", "load"]])
    assert rule.tokens == frozenset({("fetch",), ("torch", "load")})


def test_builtin_patterns_need_only_the_name():
    rule = compile_with(match={"call": ["builtins.open", "pandas.read_*"]})
    assert rule.tokens == frozenset({("open",), ("pandas", "read_")})
