"""The prefilter: raw-text words, code names and patterns decide which rules see a file."""

import dataclasses
import re

from reviewer.engine.prefilter import FileText, admits, admitted
from reviewer.ruleset.loader import load_rules

SOURCE = '''\
"""Loads a model: ``model = AutoModel.from_pretrained("bert-base-uncased")``."""
import torch  # requests are not made here
NOTE = 'call requests.get(url) with a timeout'
label = f"{torch.load(path)!r} and {rf'{helper}'}"
raw = rb"from_pretrained"
'''


def test_code_names_leave_out_comments_and_strings_but_keep_f_string_expressions():
    names = FileText(SOURCE).code_names
    assert {"torch", "NOTE", "label", "load", "path", "helper", "raw"} <= names
    assert not names & {"from_pretrained", "AutoModel", "requests", "get", "timeout", "Loads"}


def test_a_quote_inside_a_comment_or_another_string_does_not_hide_code():
    text = "# it's a comment\nx = \"it's\"  # don't\nrequests.get(u)\ns = '''a \"b\" c'''\nretry()\n"
    assert {"x", "requests", "get", "u", "s", "retry"} <= FileText(text).code_names


def test_line_continuations_in_strings_and_strings_right_after_a_word_keep_the_scanner_in_step():
    text = 'PROMPT = """\\\nline "one"\n"""\nx = \'a\\\nb\'\ndef f():\n    return"it\'s"\nopen(path)\n'
    names = FileText(text).code_names
    assert {"PROMPT", "x", "f", "open", "path"} <= names
    assert not names & {"line", "one", "it"}


def rule(id_, tokens, code_tokens):
    return dataclasses.replace(load_rules()[id_], tokens=frozenset(tokens), code_tokens=code_tokens)


def test_code_tokens_look_for_names_raw_tokens_for_text_and_patterns_search():
    in_docstring = rule("RPR002", {("from_pretrained",)}, True)
    anywhere = rule("RPR002", {("from_pretrained",)}, False)
    non_name = rule("RPR002", {("requests.get(",)}, True)  # not a name: still a substring of the text
    pattern = rule("ERR001", {(re.compile(r"except\s*:"),)}, True)
    file = FileText(SOURCE)
    assert not admits(in_docstring, file)
    assert admits(anywhere, file)
    assert admits(non_name, file)
    assert not admits(pattern, file)
    assert admits(pattern, FileText("try:\n    f()\nexcept :\n    pass\n"))
    assert admits(rule("ERR001", {("torch", "load")}, True), file)  # every word of one group
    assert not admits(rule("ERR001", {("torch", "requests")}, True), file)
    any_of = frozenset({"requests", re.compile("from_pre"), "NOTE"})
    assert admits(rule("ERR001", {("torch", any_of)}, True), file)
    assert not admits(rule("ERR001", {("torch", frozenset({"requests", "AutoModel"}))}, True), file)


def test_a_rule_without_tokens_sees_every_file():
    everything = rule("ERR001", set(), True)
    assert admitted([everything], "") == [everything]


# Findings the earlier, word-only tokens hid: each file was kept out of the rule that flags it.
ONCE_HIDDEN = {
    "retries.py": ("import time\n\n\ndef pull(client):\n    for _ in range(3):\n        try:\n"
                   "            return client.fetch_data()\n        except Exception:\n            time.sleep(1)\n\n\n"
                   "def pull2(client):\n    while True:\n        try:\n            return client.download_file()\n"
                   "        except ConnectionError:\n            pass\n\n\n"
                   "def fetch_all(urls):\n    from huggingface_hub import get_session\n    for url in urls:\n"
                   "        get_session().get(url, timeout=3)\n",
                   {"RTY001", "RTY002", "RTY004"}),
    "hosts.py": ('DOC_HOST = "http://203.0.113.5:8000/v1"\nOTHER = "198.18.0.7"\nUPPER = "http://METRICS.CORP:9000"\n',
                 {"CFG002"}),
    "train.py": ("from lib import Runner\n\nt = Runner()\ntotal = 90\nfor Epoch in range(total):\n    t.TrainStep(Epoch)\n",
                 {"CKP001"}),
}


def test_files_the_old_words_kept_out_reach_their_rules():
    from reviewer.engine.pipeline import Target, analyze
    from reviewer.ruleset.loader import select_rules

    rules = select_rules(load_rules()).rules
    for path, (code, expected) in ONCE_HIDDEN.items():
        result = analyze([Target(path, data=code.encode())], rules, max_bytes=10**6, jobs=1)
        assert {f.rule for f in result.findings} >= expected, path
