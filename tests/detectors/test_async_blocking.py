"""Blocking work on the event loop: direct calls, same-module helpers, and what never matches."""

import textwrap

import pytest

from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="svc/app.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


def test_direct_call_names_the_function_and_callee():
    [finding] = findings(
        """
        import requests
        async def profile(uid):
            return requests.get(f"https://users.example.com/{uid}", timeout=3).json()
        """,
        "ASY001",
    )
    assert finding.message == "In `async def profile`, `requests.get` blocks the event loop"
    assert finding.line == 4
    assert finding.symbol == "svc.app.profile"
    assert "`requests.get`" in finding.question and "`profile`" in finding.question


def test_helper_finding_sits_on_the_call_and_says_where_the_blocking_is():
    [finding] = findings(
        """
        import requests

        def fetch_user(uid):
            return requests.get(URL + uid, timeout=3).json()

        async def profile(uid):
            user = fetch_user(uid)
            return user
        """,
        "ASY001",
    )
    assert finding.line == 8
    assert finding.message == (
        "In `async def profile`, `fetch_user()` calls `requests.get` (line 5), which blocks the event loop"
    )


def test_helpers_are_followed_three_levels_and_the_chain_is_named():
    code = """
        import time

        def level3():
            time.sleep(2)

        def level2():
            return level3()

        def level1():
            return level2()

        async def handler():
            level1()
        """
    [finding] = findings(code, "ASY001")
    assert "`level1()` (through `level2()`, `level3()`) calls `time.sleep` (line 5)" in finding.message


def test_helpers_deeper_than_three_levels_are_not_followed():
    code = """
        import time
        def d4():
            time.sleep(2)
        def d3():
            d4()
        def d2():
            d3()
        def d1():
            d2()
        async def handler():
            d1()
        """
    assert findings(code, "ASY001") == []


@pytest.mark.parametrize(
    "offload",
    [
        "await asyncio.to_thread(fetch, u)",
        "await asyncio.get_running_loop().run_in_executor(None, fetch, u)",
        "await anyio.to_thread.run_sync(fetch, u)",
        "await run_in_threadpool(fetch, u)",
        "await loop.run_in_executor(None, functools.partial(fetch, u))",
        "await loop.run_in_executor(None, lambda: fetch(u))",
    ],
)
def test_helpers_handed_to_a_thread_never_match(offload):
    code = f"""
        import asyncio, functools, anyio, requests
        from starlette.concurrency import run_in_threadpool

        def fetch(u):
            return requests.get(u, timeout=5)

        async def handler(u, loop):
            return {offload}
        """
    assert findings(code, "ASY001") == []


def test_recursive_helpers_terminate():
    code = """
        def ping(n):
            return pong(n - 1)
        def pong(n):
            return ping(n)
        async def handler():
            ping(3)
        """
    assert findings(code, "ASY001") == []


def test_a_parameter_shadowing_a_helper_is_not_followed():
    code = """
        import requests
        def fetch(u):
            return requests.get(u, timeout=5)
        async def handler(fetch, u):
            return fetch(u)
        """
    assert findings(code, "ASY001") == []


def test_async_and_decorated_helpers_are_not_followed():
    code = """
        import requests
        from somewhere import offload

        @offload
        def fetch(u):
            return requests.get(u, timeout=5)

        async def fetch_async(u):
            return 1

        async def handler(u):
            fetch(u)
            await fetch_async(u)
        """
    assert findings(code, "ASY001") == []


def test_every_blocking_call_is_its_own_finding():
    code = """
        import time
        import requests
        async def handler():
            time.sleep(1)
            requests.get(URL, timeout=5)
            time.sleep(2)
        """
    assert [f.line for f in findings(code, "ASY001")] == [5, 6, 7]


def test_startup_hooks_are_skipped():
    code = """
        import time
        from fastapi import FastAPI
        app = FastAPI()

        @app.on_event("startup")
        async def wait_for_db():
            time.sleep(1)

        async def lifespan(app):
            time.sleep(1)
            yield
        """
    assert findings(code, "ASY001") == []


def test_async_twins_do_not_match():
    code = """
        import asyncio, httpx, aiohttp
        import redis.asyncio as aioredis
        async def handler(u):
            await asyncio.sleep(1)
            async with httpx.AsyncClient() as c:
                await c.get(u)
            async with aiohttp.ClientSession() as s:
                await s.get(u)
            await aioredis.Redis().get("k")
        """
    assert findings(code, "ASY001") == []


def test_sdk_clients_block():
    code = """
        import boto3, redis
        from openai import OpenAI
        s3 = boto3.client("s3")
        cache = redis.Redis()
        llm = OpenAI()
        async def handler(key):
            url = s3.generate_presigned_url("get_object", Params={})
            body = s3.get_object(Bucket="b", Key=key)
            hit = cache.get(key)
            return llm.chat.completions.create(model="m", messages=[])
        """
    messages = [f.message for f in findings(code, "ASY001")]
    assert messages == [f"In `async def handler`, `{call}` blocks the event loop"
                        for call in ("s3.get_object", "cache.get", "llm.chat.completions.create")]
    for call in ("cache.get(key)", "llm.chat.completions.create(model='m', messages=[])"):
        single = f"import redis\nfrom openai import OpenAI\ncache = redis.Redis()\nllm = OpenAI()\nasync def h(key):\n    return {call}\n"
        assert len(findings(single, "ASY001")) == 1, call


def test_data_io_in_helper_method():
    code = """
        import pandas as pd
        class Store:
            def _read(self, path):
                return pd.read_csv(path)
            async def get(self, path):
                return self._read(path)
        """
    [finding] = findings(code, "ASY002")
    assert finding.message.startswith("In `async def get`, `_read()` calls `pd.read_csv` (line 5)")


def test_inference_needs_a_serving_module():
    code = """
        from transformers import pipeline
        clf = pipeline("sentiment-analysis")
        async def classify(text):
            return clf(text)
        """
    assert findings(code, "ASY003") == []
    assert len(findings("import fastapi\n" + textwrap.dedent(code), "ASY003")) == 1


def test_loading_a_model_is_not_inference():
    code = """
        import fastapi, torch
        from transformers import AutoModel, AutoTokenizer
        async def load():
            model = AutoModel.from_pretrained("bert-base-uncased")
            tok = AutoTokenizer.from_pretrained("bert-base-uncased")
            ids = tok("hello")
            state = torch.load("w.pt")
        """
    assert findings(code, "ASY003") == []


MODULE_OBJECT = """
    import requests
    from fastapi import FastAPI

    app = FastAPI()

    class Controller:
        def refresh(self):
            for worker in self.workers:
                self.status(worker)

        def status(self, worker):
            return requests.post(worker + "/status", timeout=5)

    def create_controller():
        controller = Controller()
        return args, controller

    @app.post("/refresh")
    async def refresh():
        controller.refresh()

    if __name__ == "__main__":
        args, controller = create_controller()
    """


def test_a_module_object_of_a_module_class_is_followed():
    [finding] = findings(MODULE_OBJECT, "ASY001")
    assert finding.line == 21
    assert finding.message == (
        "In `async def refresh`, `refresh()` (through `status()`) calls `requests.post` (line 13), "
        "which blocks the event loop"
    )


def test_a_module_name_that_may_hold_something_else_is_not_followed():
    other = MODULE_OBJECT.replace("args, controller = create_controller()", "controller = object()")
    assert findings(other, "ASY001") == []
    local = MODULE_OBJECT.replace("        controller.refresh()", "        controller = make()\n        controller.refresh()")
    assert findings(local, "ASY001") == []
