"""Hard-coded configuration: home-directory paths and internal hosts in string literals."""

import pytest

from reviewer.detectors.hardcoded_config import home_path, internal_host
from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="pipeline.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


@pytest.mark.parametrize("text, expected", [
    ("/home/alice/data", "/home/alice/"),
    ("/private/home/bob/ckpt/x.pt", "/private/home/bob/"),
    ("/Users/carol/Downloads/m.bin", "/Users/carol/"),
    ("C:\\Users\\dave\\m.pkl", "C:\\Users\\dave\\"),
    ("--out=/home/erin/exp", "/home/erin/"),
    ("s3://bucket/home/frank/x", None),
    ("/home/", None),
    ("~/data", None),
    ("/root/.cache/x", None),
    ("/home/jovyan/work/x.ipynb", None),
    ("-v /home/ray/a:/home/bentoml/b /home/eve/c", "/home/eve/"),
])
def test_home_path(text, expected):
    assert home_path(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("http://10.1.2.3:8000/v1", "10.1.2.3"),
    ("192.168.0.12", "192.168.0.12"),
    ("172.20.31.10:13000", "172.20.31.10"),
    ("grpc://ranker.ml.svc.cluster.local:8001", "ranker.ml.svc.cluster.local"),
    ("db01.corp", "db01.corp"),
    ("http://127.0.0.1:8000", None),
    ("http://localhost:8080", None),
    ("http://172.32.0.1", None),
    ("10.0.0.0", None),
    ("http://metadata.google.internal/x", None),
    ("see 10.1.2.3 for details", None),
    ("8.8.8.8", None),
    (".local", None),
])
def test_internal_host(text, expected):
    assert internal_host(text) == expected


def test_cfg_reports_the_literal_with_its_value():
    [finding] = findings("def load():\n    return open('/home/alice/train.csv')\n", "CFG001")
    assert finding.line == 2 and finding.message.startswith("`/home/alice/` is a home directory on one machine")
    assert "`/home/alice/` exists only on the machine" in finding.question


def test_cfg_quiet_places():
    code = (
        "import logging\nlog = logging.getLogger()\n"
        "def f(p, url):\n"
        "    '''Example: /home/alice/x and http://10.0.0.7'''\n"
        "    log.warning('cannot reach http://10.0.0.7, using /home/alice/cache')\n"
        "    if url == 'http://10.0.0.7':\n        return p.startswith('/home/alice/')\n"
        "    raise RuntimeError(f'{p} is not /home/alice/data')\n"
    )
    assert findings(code, "CFG001") == [] and findings(code, "CFG002") == []
