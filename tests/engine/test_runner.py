"""The batched runner: argument and context conditions, spans, fingerprints, isolation."""

import pytest

from reviewer.ruleset.detector import DETECTORS, Detector, register
from tests.engine.rulefactory import make_rule, run


def lines(result):
    return [f.line for f in result.findings]


MISSING_TIMEOUT = {"call": ["requests.get"], "args": {"missing": ["timeout"]}}


@pytest.mark.parametrize(
    "call, flagged",
    [
        ("requests.get(u)", True),
        ("requests.get(u, timeout=3)", False),
        ("requests.get(u, **kw)", False),  # a splat may carry the timeout: unknown
        ("requests.get(*a)", True),  # timeout is keyword-only here
    ],
)
def test_missing_keyword(call, flagged):
    result = run(f"import requests\n{call}\n", make_rule(match=MISSING_TIMEOUT))
    assert bool(result.findings) is flagged


@pytest.mark.parametrize(
    "call, flagged",
    [
        ("torch.load(f)", True),
        ("torch.load(f, 'cpu')", False),  # filled positionally
        ("torch.load(f, map_location=None)", True),  # None counts as missing
        ("torch.load(f, map_location=dev)", False),
        ("torch.load(*args)", False),  # a positional splat may fill it: unknown
    ],
)
def test_missing_positional_or_none(call, flagged):
    rule = make_rule(match={"call": ["torch.load"], "args": {"missing": [
        {"name": "map_location", "position": 1, "none_counts_as_missing": True}]}})
    result = run(f"import torch\n{call}\n", rule)
    assert bool(result.findings) is flagged


@pytest.mark.parametrize(
    "call, flagged",
    [
        ("functools.lru_cache(maxsize=None)", True),
        ("functools.lru_cache(maxsize=0)", True),
        ("functools.lru_cache(maxsize=128)", False),
        ("functools.lru_cache(maxsize=size)", False),  # not a literal: unknown
        ("functools.lru_cache()", False),  # absent: a value test needs the argument
        ("functools.lru_cache(maxsize=-1)", True),
    ],
)
def test_value_conditions(call, flagged):
    rule = make_rule(match={"call": ["functools.lru_cache"], "args": {"values": [{"arg": "maxsize", "equals": [None]}]}})
    rule_le = make_rule("TST002", match={"call": ["functools.lru_cache"], "args": {"values": [{"arg": "maxsize", "le": 0}]}})
    result = run(f"import functools\n{call}\n", rule, rule_le)
    assert bool(result.findings) is flagged


def test_regex_value_condition():
    rule = make_rule(match={"call": ["torch.device"], "args": {"values": [{"arg": {"name": "type", "position": 0}, "matches": "^cuda:[0-9]+$"}]}})
    result = run("import torch\ntorch.device('cuda:1')\ntorch.device('cuda')\ntorch.device(name)\n", rule)
    assert lines(result) == [2]


def test_method_with_receiver():
    rule = make_rule(match={"method": ["fetchall"], "receiver": ["sqlite3.connect.cursor"]})
    code = """
    import sqlite3
    cur = sqlite3.connect(p).cursor()
    cur.fetchall()
    other.fetchall()
    """
    assert lines(run(code, rule)) == [4]


ASYNC = {"inside": ["async_function"]}


def test_async_context_follows_innermost_function():
    code = """
    import time
    async def handler():
        time.sleep(1)
        def callback():
            time.sleep(1)
        fn = lambda: time.sleep(1)
    def sync():
        time.sleep(1)
    """
    rule = make_rule(match={"call": ["time.sleep"]}, where=ASYNC)
    assert lines(run(code, rule)) == [4]


def test_loop_context_stops_at_function():
    code = """
    import requests
    for u in urls:
        def fetch():
            requests.get(u)
        requests.get(u)
    [requests.get(u) for u in urls]
    """
    rule = make_rule(where={"inside": ["loop"]})
    assert lines(run(code, rule)) == [6, 7]


def test_decorated_by_and_not_inside():
    code = """
    import requests, tenacity
    @tenacity.retry
    def a():
        requests.get(u)
    def b():
        requests.get(u)
    """
    rule = make_rule(where={"not_inside": [{"decorated_by": ["tenacity.retry"]}]})
    assert lines(run(code, rule)) == [7]


def test_decorator_is_evaluated_outside_the_function():
    code = """
    import functools
    async def outer():
        @functools.lru_cache(maxsize=None)
        def inner(x):
            return x
    """
    rule = make_rule(match={"call": ["functools.lru_cache"]}, where={"inside": ["async_function"]})
    assert lines(run(code, rule)) == [4]


def test_with_context_and_decorator_equivalent():
    code = """
    import torch
    def a(m, x):
        with torch.no_grad():
            m.forward(x)
    @torch.no_grad()
    def b(m, x):
        m.forward(x)
    def c(m, x):
        m.forward(x)
    """
    rule = make_rule(match={"method": ["forward"]}, where={"not_inside": [{"with": ["torch.no_grad"]}]})
    assert lines(run(code, rule)) == [10]


def test_class_bases():
    code = """
    import torch.nn as nn, requests
    class Net(nn.Module):
        def forward(self, x):
            requests.get(x)
    class Other:
        def forward(self, x):
            requests.get(x)
    """
    rule = make_rule(where={"inside": [{"class_bases": ["torch.nn.Module"]}]})
    assert lines(run(code, rule)) == [5]


def test_imports_condition():
    rule = make_rule(where={"imports": ["fastapi"]})
    assert run("import requests\nrequests.get(u)\n", rule).findings == []
    assert lines(run("import requests\nfrom fastapi import FastAPI\nrequests.get(u)\n", rule)) == [3]


def test_try_body_versus_handler():
    code = """
    import requests
    try:
        requests.get(u)
    except Exception:
        requests.get(backup)
    """
    rule = make_rule(where={"inside": ["try"]})
    assert lines(run(code, rule)) == [4]


def test_span_symbol_and_message():
    code = """
    import requests as r
    class Client:
        def fetch(self, url):
            return r.get(
                url,
            )
    """
    finding = run(code, make_rule(match=MISSING_TIMEOUT)).findings[0]
    loc = finding.location
    assert (loc.line, loc.column, loc.end_line, loc.end_column) == (5, 16, 7, 10)
    assert finding.symbol == "pkg.mod.Client.fetch"
    assert finding.message == "`r.get` flagged"
    assert finding.question == "Why fetch?"


def test_fingerprint_ignores_line_moves_but_not_content():
    rule = make_rule(match=MISSING_TIMEOUT)
    a = run("import requests\ndef f():\n    requests.get(u)\n", rule).findings[0]
    b = run("import requests\n\n\n# moved\ndef f():\n    requests.get(u)\n", rule).findings[0]
    c = run("import requests\ndef f():\n    requests.get(v)\n", rule).findings[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert len(a.fingerprint) >= 16


def test_identical_findings_in_one_function_get_distinct_fingerprints():
    rule = make_rule(match=MISSING_TIMEOUT)
    found = run("import requests\ndef f():\n    requests.get(u)\n    requests.get(u)\n", rule).findings
    assert len({f.fingerprint for f in found}) == 2


def test_suppression_comment():
    code = """
    import requests
    requests.get(a)  # arch-review: ignore[TST001] vendor sets a deadline
    # arch-review: ignore[no-timeout]
    requests.get(b)
    requests.get(c)  # arch-review: ignore[OTHER001]
    """
    assert lines(run(code, make_rule(match=MISSING_TIMEOUT))) == [6]


def test_host_from_literal_url():
    rule = make_rule(match=MISSING_TIMEOUT, question="{host}")
    found = run("import requests\nrequests.get('https://api.example.com/v1')\nrequests.get(u)\n", rule).findings
    assert [f.question for f in found] == ["api.example.com", "the remote service"]


@register
class _Exploding(Detector):
    name = "test-exploding"

    def visit_Call(self, node):
        raise RuntimeError("boom")


def test_failing_rule_is_isolated_and_reported_once():
    boom = make_rule("TST009", match={"detector": "test-exploding"}, message="boom")
    good = make_rule(match=MISSING_TIMEOUT)
    result = run("import requests\nrequests.get(a)\nrequests.get(b)\n", boom, good)
    assert lines(result) == [2, 3]
    assert [(e.rule, e.path) for e in result.rule_errors] == [("TST009", "pkg/mod.py")]
    assert "boom" in result.rule_errors[0].error


def test_prefilter_skips_parsing_files_without_tokens():
    rule = make_rule(match=MISSING_TIMEOUT)
    result = run("x = 1\n", rule)
    assert result.stats.parsed == 0 and result.stats.files == 1


def test_syntax_error_is_skipped_with_position():
    result = run("import requests\nrequests.get(u)\ndef f(:\n", make_rule(match=MISSING_TIMEOUT))
    assert result.skipped[0].reason.startswith("syntax error at 3:")


@pytest.mark.parametrize(
    "call, host",
    [
        ("requests.get(BASE)", "features.example.com"),
        ("requests.get(f'{BASE}/users/{uid}')", "features.example.com"),
        ("requests.get(f'https://{region}.example.com/x')", "the remote service"),
        ("requests.get(url=BASE)", "features.example.com"),
        ("requests.get(TWICE)", "the remote service"),
    ],
)
def test_host_from_module_constant(call, host):
    code = f"import requests\nBASE = 'https://features.example.com/v1'\nTWICE = 'http://a.example.com'\nTWICE = 'http://b.example.com'\n{call}\n"
    rule = make_rule(match=MISSING_TIMEOUT, question="{host}")
    assert run(code, rule).findings[0].question == host


def test_shared_analyses_are_made_once_per_file():
    import libcst as cst

    from reviewer.engine.runner import FileScan

    scan = FileScan("a.py", cst.parse_module("x = 1\n"), "x = 1\n")
    made = []
    first = scan.shared("calls", lambda s: made.append(s) or object())
    assert scan.shared("calls", lambda s: made.append(s) or object()) is first
    assert made == [scan]
