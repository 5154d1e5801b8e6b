"""Retry loops and retry policies: the shape of a retry, its pause and its end."""

import textwrap

from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="svc/app.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


RETRY_FOREVER = """
    import requests
    def fetch(url):
        while True:
            try:
                return requests.get(url, timeout=5)
            except requests.ConnectionError:
                pass
    """


def test_while_true_without_pause_is_one_finding_of_the_unbounded_rule():
    [finding] = findings(RETRY_FOREVER, "RTY002")
    assert finding.message == "this loop retries `requests.get` forever"
    assert (finding.line, finding.location.end_line) == (4, 8)
    assert findings(RETRY_FOREVER, "RTY001") == []


def test_a_counter_in_the_handler_bounds_the_loop():
    code = """
        import requests
        def fetch(url):
            attempts = 0
            while True:
                try:
                    return requests.get(url, timeout=5)
                except requests.ConnectionError:
                    attempts += 1
                    if attempts > 3:
                        raise
        """
    assert findings(code, "RTY002") == []
    [finding] = findings(code, "RTY001")
    assert finding.message == "Retry loop around `requests.get` goes again with no pause between attempts"


def test_failure_falling_through_to_a_break_is_not_a_retry():
    code = """
        import requests
        for _ in range(3):
            try:
                resp = requests.get(url, timeout=5)
            except requests.RequestException:
                log()
            break
        """
    assert findings(code, "RTY001") == []


def test_continue_then_break_after_the_try_is_a_retry():
    code = """
        import requests
        for _ in range(3):
            try:
                resp = requests.get(url, timeout=5)
            except requests.RequestException:
                continue
            break
        """
    [finding] = findings(code, "RTY001")
    assert "`range(3)` attempts" in finding.question


def test_range_of_one_is_not_a_retry():
    code = """
        import requests
        for _ in range(1):
            try:
                return requests.get(url, timeout=5)
            except requests.RequestException:
                pass
        """
    assert findings(code, "RTY001") == []


def test_unknown_remote_calls_are_silent():
    code = """
        def fetch(client):
            for _ in range(3):
                try:
                    return client.get("x")
                except Exception:
                    pass
        """
    assert findings(code, "RTY001") == []


def test_decorator_finding_spans_decorator_to_def():
    code = """
        import backoff
        @backoff.on_exception(
            backoff.expo,
            Exception,
        )
        def fetch(url):
            return 1
        """
    [finding] = findings(code, "RTY002")
    assert (finding.line, finding.location.end_line) == (3, 7)
    assert finding.message == "`@backoff.on_exception` retries `fetch()` forever"


def test_explicit_stop_never_and_splats_are_not_reported():
    code = """
        import tenacity
        @tenacity.retry(stop=tenacity.stop_never, wait=tenacity.wait_fixed(1))
        def a(): ...
        @tenacity.retry(**policy)
        def b(): ...
        """
    assert findings(code, "RTY002") == []
    assert findings(code, "RTY003") == []


def test_urllib3_retry_positional_layouts_are_unknown():
    code = """
        from urllib3.util.retry import Retry
        Retry(3, 3)
        Retry(3)
        Retry(False)
        """
    assert [f.line for f in findings(code, "RTY003")] == [4]


def test_calling_a_retrying_object_is_not_another_policy():
    code = """
        from tenacity import Retrying, stop_after_delay, wait_fixed
        retryer = Retrying(wait=wait_fixed(1), stop=stop_after_delay(60))
        retryer(poll, job)
        """
    assert findings(code, "RTY002") == []
    assert findings(code, "RTY003") == []


def test_batch_remote_call_needs_the_item_and_no_retry_anywhere():
    code = """
        import requests
        def download(urls, out):
            for url in urls:
                out.append(requests.get(url, timeout=10).content)
            for _ in range(3):
                requests.get(HEALTH, timeout=1)
            for url in urls:
                requests.get(HEALTH, timeout=1)
        """
    [finding] = findings(code, "RTY004")
    assert finding.line == 5
    assert finding.message == "`requests.get` runs once per item of `urls` with no retry"
    assert findings("import tenacity\n" + textwrap.dedent(code), "RTY004") == []


def test_batch_remote_call_under_a_module_retry_decorator_is_covered():
    code = """
        import requests

        def patiently(fn):
            def wrapper(*args):
                for _ in range(5):
                    try:
                        return fn(*args)
                    except OSError:
                        pass
            return wrapper

        @patiently
        def fetch_all(urls):
            for url in urls:
                requests.get(url, timeout=10)

        def fetch_each(urls):
            for url in urls:
                requests.get(url, timeout=10)
        """
    assert [f.line for f in findings(code, "RTY004")] == [20]


def test_batch_remote_call_over_a_collection_written_in_the_code_is_a_fixed_count():
    code = """
        import urllib.request

        MIRRORS = ("https://a.example/mnist.pt", "https://b.example/mnist.pt")
        WEIGHTS = {"encoder": "https://a.example/enc.pt", "decoder": "https://a.example/dec.pt"}
        SHARDS = []

        class Demo:
            RESOURCES = ("https://a.example/train.pt", "https://a.example/test.pt")

            def download(self, out):
                for url in self.RESOURCES:
                    urllib.request.urlretrieve(url, out)
                for url in ["https://a.example/x.pt", "https://a.example/y.pt"]:
                    urllib.request.urlretrieve(url, out)
                for url in MIRRORS:
                    urllib.request.urlretrieve(url, out)
                for name, url in WEIGHTS.items():
                    urllib.request.urlretrieve(url, name)

        def fetch_shards(out, MIRRORS):
            for url in SHARDS:
                urllib.request.urlretrieve(url, out)
            for url in MIRRORS:
                urllib.request.urlretrieve(url, out)

        def add_shard(url):
            SHARDS.append(url)
        """
    # SHARDS grows at run time and the parameter MIRRORS hides the constant: both unknown.
    assert [f.line for f in findings(code, "RTY004")] == [23, 25]


def test_batch_remote_call_over_a_class_constant_an_instance_replaces_is_reported():
    code = """
        import requests

        class Crawler:
            URLS = ("https://a.example/1", "https://a.example/2")

            def __init__(self, urls):
                self.URLS = urls

            def crawl(self):
                for url in self.URLS:
                    requests.get(url, timeout=10)
        """
    assert [f.line for f in findings(code, "RTY004")] == [12]


def test_a_pause_the_loop_doubles_is_backoff():
    code = """
        import time, urllib.request
        class PubMed:
            def fetch(self, url):
                for _ in range(5):
                    try:
                        return urllib.request.urlopen(url, timeout=10)
                    except urllib.error.HTTPError:
                        time.sleep(self.sleep_time)
                        self.sleep_time *= 2
        """
    assert findings(code, "RTY001") == []
    fixed = code.replace("self.sleep_time *= 2", "pass")
    [finding] = findings(fixed, "RTY001")
    assert finding.message == "Retry loop around `urllib.request.urlopen` goes again with the same fixed pause between attempts"
