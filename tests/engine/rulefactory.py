"""Compiling small rules inline for engine tests."""

import textwrap

from reviewer.engine.pipeline import Target, analyze
from reviewer.ruleset.detector import load_detectors
from reviewer.ruleset.schema import compile_rule


def make_rule(rule_id="TST001", match=None, where=None, message="`{call}` flagged", question="Why {function}?", **extra):
    data = {
        "id": rule_id,
        "name": "test-rule",
        "family": "no-timeout",
        "severity": "high",
        "match": match or {"call": ["requests.get"]},
        "message": message,
        "question": question,
        "docs": {"what": "w", "why": "y", "example": "e", "instead": "i"},
        "examples": {"flag": ["a", "b"], "ok": ["c", "d"]},
        **extra,
    }
    if where is not None:
        data["where"] = where
    return compile_rule(data, "test.yaml", {n: c.fields for n, c in load_detectors().items()})


def run(code, *rules, path="pkg/mod.py"):
    source = textwrap.dedent(code)
    return analyze([Target(path, data=source.encode())], list(rules), max_bytes=10**7)
