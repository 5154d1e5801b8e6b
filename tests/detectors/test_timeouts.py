"""Calls that can wait forever: what counts as missing or disabled, and what is trusted."""

import pytest

from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="svc/app.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


def test_tmo001_names_the_host_of_a_literal_url():
    [finding] = findings("import requests\nrequests.post('https://scorer.example.com/v1', json={})\n", "TMO001")
    assert finding.message == "`requests.post` has no timeout"
    assert "scorer.example.com" in finding.question


@pytest.mark.parametrize(
    "call",
    [
        "requests.get(url, timeout=5)",
        "requests.get(url, **kw)",
        "requests.request('GET', url, timeout=t)",
        "s.request('GET', url, None, None, None, None, None, None, 5)",
        "urlopen(url, None, 5)",
        "urlopen(url, timeout=5)",
        "httpx.get(url)",
        "httpx.Client().get(url)",
    ],
)
def test_tmo001_calls_with_a_timeout_or_a_default_one(call):
    code = f"import requests, httpx\nfrom urllib.request import urlopen\ns = requests.Session()\n{call}\n"
    assert findings(code, "TMO001") == []


def test_tmo001_session_from_factory_and_with_statement():
    code = """
        import requests
        with requests.Session() as s:
            s.get(url)
        t = requests.session()
        t.post(url)
        """
    assert [f.line for f in findings(code, "TMO001")] == [4, 6]


def test_tmo001_an_adapter_with_a_timeout_covers_sessions_but_not_module_functions():
    code = """
        import requests
        from requests.adapters import HTTPAdapter

        class TimeoutHTTPAdapter(HTTPAdapter):
            def __init__(self, *args, timeout=10, **kwargs):
                self.timeout = timeout
                super().__init__(*args, **kwargs)

        session = requests.Session()
        session.mount("https://", TimeoutHTTPAdapter())
        session.get(url)
        requests.get(url)
        """
    assert [f.line for f in findings(code, "TMO001")] == [13]


def test_tmo001_urllib3_pool_with_timeout_defined_after_use():
    code = """
        import urllib3
        class Client:
            def fetch(self, url):
                return self.pool.request("GET", url)
            def __init__(self):
                self.pool = urllib3.PoolManager(timeout=5.0)
        """
    assert findings(code, "TMO001") == []


def test_tmo002_only_fully_disabled_timeouts():
    code = """
        import httpx, aiohttp, requests
        httpx.AsyncClient(timeout=None)
        httpx.Timeout(None, connect=5.0)
        httpx.Timeout(timeout=None)
        aiohttp.ClientTimeout(total=None, sock_read=30)
        aiohttp.ClientTimeout(total=None)
        aiohttp.ClientTimeout(total=600)
        requests.get(url, timeout=(5, None))
        requests.get(url, timeout=None)
        """
    assert [f.line for f in findings(code, "TMO002")] == [3, 5, 7, 10]


def test_tmo004_positions_of_popen_timeouts():
    code = """
        import subprocess, fastapi
        p = subprocess.Popen(["git", "fetch", "origin"])
        p.wait(10)
        p.communicate(None, 10)
        p.communicate(b"input")
        p.wait()
        q = subprocess.Popen(["git", "status"])
        q.wait()
        """
    assert [f.line for f in findings(code, "TMO004")] == [6, 7]


@pytest.mark.parametrize(
    "command, expected",
    [
        ("['git', 'clone', url]", "git clone"),
        ("['/usr/bin/git', '-C', path, 'pull']", None),  # the subcommand follows an option's value
        ("[sys.executable, '-m', 'pip', 'install', 'x']", "pip install"),
        ("'aws s3 cp model.pt s3://bucket/'", "aws"),
        ("f'wget -q {url}'", "wget"),
        ("['git', 'log']", None),
        ("['ls', '-la']", None),
        ("cmd", None),
    ],
)
def test_tmo004_only_literal_network_commands(command, expected):
    code = f"import subprocess, sys, fastapi\nsubprocess.run({command})\n"
    commands = [f.message.split("`")[3] for f in findings(code, "TMO004")]
    assert commands == ([expected] if expected else [])


def test_tmo004_needs_a_service_or_pipeline_module():
    assert findings("import subprocess\nsubprocess.run(['git', 'pull'])\n", "TMO004") == []
    assert len(findings("import subprocess, flask\nsubprocess.run(['git', 'pull'])\n", "TMO004")) == 1


def test_tmo001_a_partial_with_a_timeout_on_any_verb_covers_the_session():
    code = """
        import functools, requests
        class Api:
            def __init__(self):
                self.upload = requests.Session()
                if TIMEOUT:
                    self.upload.put = functools.partial(
                        self.upload.put,
                        timeout=TIMEOUT,
                    )
            def push(self, url, data):
                return self.upload.put(url, data=data)
        """
    assert findings(code, "TMO001") == []


def test_tmo001_session_built_by_a_helper_of_the_module():
    code = """
        import requests

        def make_session() -> requests.Session:
            return requests.Session()

        def build():
            s = requests.Session()
            s.headers["x"] = "y"
            return s

        def not_a_session():
            return {}

        def fetch(url):
            session = make_session()
            return session.get(url)

        def post(url):
            return build().post(url, json={})

        def with_timeout(url):
            return build().post(url, json={}, timeout=3)

        def lookup(key):
            return not_a_session().get(key)

        class Client:
            def __init__(self):
                self.http = self._session()

            def _session(self):
                return requests.Session()

            def call(self, url):
                return self.http.get(url)
        """
    assert [f.line for f in findings(code, "TMO001")] == [17, 20, 36]


def test_tmo001_a_helper_assigned_twice_or_shadowed_is_unknown():
    code = """
        import requests

        def make_session():
            return requests.Session()

        def fetch(url, make_session):
            return make_session().get(url)

        def both(url, cache):
            s = make_session()
            s = cache
            return s.get(url)
        """
    assert findings(code, "TMO001") == []


def test_tmo001_huggingface_hub_get_session_has_no_default_timeout():
    code = "from huggingface_hub.utils import get_session\nget_session().get('https://huggingface.co/api/models')\n"
    [finding] = findings(code, "TMO001")
    assert finding.message == "`get_session().get` has no timeout"


@pytest.mark.parametrize(
    "test_path, service_path",
    [("fastchat/serve/test_throughput.py", "fastchat/serve/throughput.py"),
     ("test_server.py", "server.py"),
     ("pkg/conftest.py", "pkg/client.py")],
)
def test_tmo001_leaves_test_scripts_and_fixtures_alone(test_path, service_path):
    # A person or a test runner waits on them and sees a hang; no service worker is held.
    code = "import requests\nrequests.post(controller + '/list_models')\n"
    assert findings(code, "TMO001", path=test_path) == []
    assert len(findings(code, "TMO001", path=service_path)) == 1
