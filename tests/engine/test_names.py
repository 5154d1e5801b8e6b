"""Qualified names through imports, assignments, with-targets, annotations and self attributes."""

import textwrap

import libcst as cst
import pytest

from reviewer.engine.runner import FileScan, _Walker, FileOutcome
from reviewer.engine.names import NameResolver, bound_values


class _CallRecorder:
    def __init__(self, scan):
        self.scan = scan
        self.seen = {}

    def visit_Call(self, node):
        self.seen[self.scan.code(node.func)] = self.scan.names.qualify(node.func)


def qualified_calls(code: str) -> dict:
    module = cst.parse_module(textwrap.dedent(code))
    scan = FileScan("pkg/mod.py", module)
    recorder = _CallRecorder(scan)
    walker = _Walker(scan, [("", recorder)], FileOutcome())
    walker.walk(module)
    return recorder.seen


@pytest.mark.parametrize(
    "code, call, expected",
    [
        ("import requests\nrequests.get(u)\n", "requests.get", "requests.get"),
        ("import requests as r\nr.get(u)\n", "r.get", "requests.get"),
        ("from requests import get\nget(u)\n", "get", "requests.get"),
        ("from requests import get as fetch\nfetch(u)\n", "fetch", "requests.get"),
        ("import os.path\nos.path.join(a)\n", "os.path.join", "os.path.join"),
        ("import xml.etree.ElementTree as ET\nET.parse(f)\n", "ET.parse", "xml.etree.ElementTree.parse"),
        ("import requests\nrequests.Session().get(u)\n", "requests.Session().get", "requests.Session.get"),
        ("import requests\ns = requests.Session()\ns.get(u)\n", "s.get", "requests.Session.get"),
        ("import requests\nwith requests.Session() as s:\n    s.get(u)\n", "s.get", "requests.Session.get"),
        ("import requests\ndef f(s: requests.Session):\n    s.get(u)\n", "s.get", "requests.Session.get"),
        ("import requests\nfrom typing import Optional\ndef f(s: Optional[requests.Session]):\n    s.get(u)\n", "s.get", "requests.Session.get"),
        ("import requests\ndef f(s: requests.Session | None = None):\n    s.get(u)\n", "s.get", "requests.Session.get"),
        ("open(f)\n", "open", "builtins.open"),
        ("unknown(f)\n", "unknown", None),
        ("from . import sibling\nsibling.run()\n", "sibling.run", ".sibling.run"),
    ],
)
def test_qualify(code, call, expected):
    assert qualified_calls(code)[call] == expected


def test_local_rebinding_shadows_import():
    calls = qualified_calls("import requests\nrequests = []\nrequests.append(1)\n")
    assert calls["requests.append"] is None


def test_parameter_shadows_import():
    calls = qualified_calls("import requests\ndef f(requests):\n    requests.get(1)\n")
    assert calls["requests.get"] is None


def test_for_target_shadows_import():
    calls = qualified_calls("import json\ndef f(items):\n    for json in items:\n        json.load(x)\n")
    assert calls["json.load"] is None


def test_function_sees_module_import_defined_below():
    calls = qualified_calls("def f():\n    requests.get(u)\nimport requests\n")
    assert calls["requests.get"] == "requests.get"


def test_module_session_used_in_function():
    code = """
    import requests
    def fetch(u):
        return SESSION.get(u)
    SESSION = requests.Session()
    """
    assert qualified_calls(code)["SESSION.get"] == "requests.Session.get"


def test_self_attribute_from_init():
    code = """
    import requests as rq
    class Client:
        def fetch(self, u):
            return self.http.get(u)
        def __init__(self):
            self.http = rq.Session()
    """
    assert qualified_calls(code)["self.http.get"] == "requests.Session.get"


def test_self_attribute_assigned_two_ways_is_unknown():
    code = """
    import requests, httpx
    class Client:
        def __init__(self, fast):
            if fast:
                self.http = httpx.Client()
            else:
                self.http = requests.Session()
        def fetch(self, u):
            return self.http.get(u)
    """
    assert qualified_calls(code)["self.http.get"] is None


def test_class_body_names_do_not_leak_into_methods():
    code = """
    import requests
    class A:
        requests = None
        def f(self):
            requests.get(u)
    """
    assert qualified_calls(code)["requests.get"] == "requests.get"


def test_function_local_import():
    code = """
    def f():
        import pandas as pd
        pd.read_csv(p)
    def g():
        pd.read_csv(p)
    """
    calls = qualified_calls(code)
    assert calls["pd.read_csv"] is None  # the last one recorded is g's: pd is unknown there


def test_call_chain_is_not_collapsed_to_unknown_function():
    calls = qualified_calls("f('a').get(u)\n")
    assert calls["f('a').get"] is None


def test_self_attribute_from_annotated_parameter():
    code = """
    from transformers import Pipeline
    class Server:
        def __init__(self, pipe: Pipeline):
            self._pipeline = pipe
        async def forward(self, x):
            return self._pipeline(x)
    """
    assert qualified_calls(code)["self._pipeline"] == "transformers.Pipeline"


def test_global_filled_in_a_startup_hook():
    code = """
    import torch
    model = None
    def load():
        global model
        model = torch.jit.load(path)
    async def predict(x):
        return model(x)
    """
    assert qualified_calls(code)["model"] == "torch.jit.load"


def test_none_assignment_is_unknown_not_builtins():
    assert qualified_calls("x = None\nx.get(1)\n")["x.get"] is None


def test_submodule_import_counts_for_imports_any():
    import libcst as cst
    from reviewer.engine.names import NameResolver

    resolver = NameResolver(cst.parse_module("import torch.distributed\n"))
    assert resolver.imports_any(["torch.distributed"])
    assert resolver.imports_any(["torch"])
    assert not resolver.imports_any(["torch.nn"])


def test_remembered_answer_is_dropped_when_a_binding_changes():
    module = cst.parse_module("import requests\nrequests.get(u)\n")
    names = NameResolver(module)
    func = module.body[1].body[0].value.func
    assert names.qualify(func) == "requests.get"
    assert names.qualify(func) == "requests.get"
    names.record_assign([cst.Name("requests")], cst.parse_expression("make()"))
    assert names.qualify(func) is None


def test_answers_follow_the_scope_of_each_call():
    module = cst.parse_module("import requests\nrequests.get(a)\ndef f(requests):\n    requests.get(b)\nrequests.get(c)\n")
    scan = FileScan("pkg/mod.py", module)
    answers = []

    class Twice:  # two rules asking about the same call, as in a real run
        def visit_Call(self, node):
            answers.append((scan.names.qualify(node.func), scan.names.qualify(node.func)))

    _Walker(scan, [("", Twice())], FileOutcome()).walk(module)
    assert answers == [("requests.get",) * 2, (None, None), ("requests.get",) * 2]


def test_bound_values_lists_each_binding_and_none_where_no_single_value_is_bound():
    module = cst.parse_module(textwrap.dedent("""
        URLS = ["a", "b"]
        URLS[0] = "c"
        first, URLS = pair()
        for URLS in batches:
            pass

        class Jobs:
            URLS = ("x",)

            def grow(self):
                self.URLS = load()
                self.other = 1
        """))
    codes = [None if v is None else module.code_for_node(v) for v in bound_values(module, "URLS")]
    assert codes == ['["a", "b"]', None, None, '("x",)']  # the store into URLS[0] binds nothing
    jobs = module.body[4]
    assert [module.code_for_node(v) for v in bound_values(jobs, "URLS")] == ['("x",)', "load()"]
