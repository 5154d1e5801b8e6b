"""The fast walk and the lazy positions agree with LibCST's own visitor and PositionProvider."""

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from reviewer.engine.positions import node_spans
from reviewer.engine.walk import walk

SAMPLE = '''\
# -*- coding: utf-8 -*-
import os, sys
from typing import (
    Optional,
)


@decorator(arg=1)
async def handler(request: "Request", *args, retries: int = 3, **kwargs) -> Optional[dict]:
    """Doc."""
    value = f"{request.url!r:>{width}} and {os.sep}"
    async with session.get(url) as resp:
        data = [x async for x in resp.content if x]
    try:
        result = {k: v for k, v in data.items()}
    except (KeyError, ValueError) as exc:
        raise RuntimeError("bad") from exc
    finally:
        pass
    match value:
        case {"a": 1, **rest}:
            pass
        case [1, *others] if others:
            pass
    lam = lambda a, b=2: a + b  # comment
    return {**result, "x": (yield from gen())} if retries else None


class Model(Base, metaclass=Meta):
    x: int = 1

    def forward(self, x):
        while x > 0:
            x -= 1
        else:
            x = x @ w
        del x
        global g
        return not x
'''

INTERESTING = (cst.Call, cst.Name, cst.Attribute, cst.FunctionDef, cst.ClassDef, cst.For, cst.While, cst.With,
               cst.Lambda, cst.ExceptHandler, cst.SimpleString, cst.FormattedStringExpression, cst.Decorator,
               cst.Param, cst.MatchCase, cst.Yield, cst.Integer)


def test_walk_visits_what_libcst_visits_in_the_same_order():
    module = cst.parse_module(SAMPLE)
    ours, theirs = [], []
    walk(module, lambda n: ours.append(n), lambda n: None)

    class Recorder(cst.CSTVisitor):
        def on_visit(self, node):
            theirs.append(node)
            return True

    module.visit(Recorder())
    keep = lambda nodes: [id(n) for n in nodes if isinstance(n, INTERESTING)]  # noqa: E731
    assert keep(ours) == keep(theirs)
    assert len(keep(ours)) > 80


def test_walk_leaves_in_reverse_nesting_order():
    module = cst.parse_module("f(g(h(1)))\n")
    events = []
    walk(module, lambda n: events.append(("in", type(n).__name__)), lambda n: events.append(("out", type(n).__name__)))
    calls = [e for e in events if e[1] == "Call"]
    assert calls == [("in", "Call")] * 3 + [("out", "Call")] * 3


def test_walk_handles_deep_nesting_without_recursion():
    depth = 400
    module = cst.parse_module("x = " + "(" * depth + "1" + ")" * depth + "\n")
    count = []
    walk(module, lambda n: count.append(1), lambda n: None)
    assert count


def test_spans_match_position_provider():
    module = cst.parse_module(SAMPLE)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(positions)
    spans = node_spans(module, nodes)
    for node in nodes:
        expected = positions[node]
        got = spans[id(node)]
        assert (got.line, got.column, got.end_line, got.end_column) == (
            expected.start.line, expected.start.column, expected.end.line, expected.end.column
        ), module.code_for_node(node)


def _as_tuples(spans):
    return {key: (s.line, s.column, s.end_line, s.end_column) for key, s in spans.items()}


def test_spans_located_by_statement_match_the_whole_module_pass():
    # The statement text is found in the source; a hint pointing at the wrong statement,
    # a statement written twice and a last line without its newline still give the
    # whole-module answer.
    twice = "x = load()\n"
    code = SAMPLE + twice + "def f():\n    return load()\n" + twice + "y = load()"
    module = cst.parse_module(code)
    nodes = [n for n in MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)]
    expected = _as_tuples(node_spans(module, nodes))
    assert len(expected) == len(nodes)
    assert _as_tuples(node_spans(module, nodes, source=code)) == expected
    wrong = {id(node): 0 for node in nodes}
    assert _as_tuples(node_spans(module, nodes, source=code, statements=wrong)) == expected
    with_crlf = code.replace("\n", "\r\n")
    module = cst.parse_module(with_crlf)
    nodes = [n for n in MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)]
    assert _as_tuples(node_spans(module, nodes, source=with_crlf)) == _as_tuples(node_spans(module, nodes))


def test_spans_with_crlf_and_tabs():
    code = "if x:\r\n\tf(1,\r\n\t  2)\r\n"
    module = cst.parse_module(code)
    call = module.body[0].body.body[0].body[0].value
    span = node_spans(module, [call])[id(call)]
    assert (span.line, span.column, span.end_line, span.end_column) == (2, 1, 3, 5)


def test_descendants_match_the_walk():
    from reviewer.engine.walk import descendants

    module = cst.parse_module(SAMPLE)
    walked = []
    walk(module, lambda n: walked.append(n), lambda n: None)
    assert [id(n) for n in descendants(module)] == [id(n) for n in walked[1:]]


def test_walk_hands_over_only_the_types_asked_for_and_marked_nodes():
    module = cst.parse_module("f(x)\ng(y)\n")
    second_line = module.body[1]
    entered, left = [], []
    walk(
        module, lambda n: entered.append(type(n).__name__), lambda n: left.append(type(n).__name__),
        enter_types={cst.Call}, leave_types={cst.Name}, marked={id(second_line)},
    )
    assert entered == ["Call", "SimpleStatementLine", "Call"]
    assert left == ["Name", "Name", "Name", "Name", "SimpleStatementLine"]


def test_an_interruption_during_code_generation_is_not_turned_into_a_key_error():
    import libcst as cst
    import pytest

    from reviewer.engine.limits import FileTimeout
    from reviewer.engine.positions import _TokenIndexState

    state = _TokenIndexState(default_indent="    ", default_newline="\n")
    never_generated = cst.Name("x")
    with pytest.raises(FileTimeout):
        with state.record_syntactic_position(cst.Name("y"), start_node=never_generated):
            raise FileTimeout
