"""Unbounded caches, queues and fan-out: what grows with traffic, and what has a bound."""

import textwrap

from reviewer.engine.pipeline import Target, analyze
from reviewer.ruleset.loader import load_rules

RULES = load_rules()


def findings(code, rule_id, path="svc/app.py"):
    source = textwrap.dedent(code)
    result = analyze([Target(path, data=source.encode())], [RULES[rule_id]], max_bytes=10**7)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


# -- CCH001 ----------------------------------------------------------------------


def test_cch001_spans_decorator_to_def_and_names_the_method():
    code = """
        import functools

        class Embedder:
            @property
            @functools.cache
            def dim(self):
                return 3

            @functools.lru_cache(maxsize=None)
            def embed(self, text: str, normalize: bool = True):
                return self.model(text)
        """
    dim, embed = findings(code, "CCH001")
    assert (embed.line, embed.location.end_line) == (10, 11)
    assert embed.symbol == "svc.app.Embedder.embed"
    assert "every `Embedder` instance it is called on and every distinct `text`" in embed.message
    assert dim.message.endswith("keeps every `Embedder` instance it is called on for the life of the process")


def test_cch001_only_parameters_that_carry_data_count():
    code = """
        from functools import cache
        from typing import Literal

        @cache
        def kernel(kind: Literal["a", "b"], query: Literal["x"], fast: bool):
            return build(kind, fast)

        @cache
        def compiled(*shapes, model_name="m", device="cpu"):
            return build(shapes)

        @cache
        def features(customer_id, as_of):
            return fetch(customer_id, as_of)

        @cache
        def answer(question_text, *, k=3):
            return rag(question_text, k)
        """
    assert [f.line for f in findings(code, "CCH001")] == [9, 13, 17]


def test_cch001_sized_cache_and_unrelated_decorators():
    code = """
        import functools
        from functools import lru_cache

        @lru_cache
        def a(x):
            return x

        @lru_cache()
        def b(x):
            return x

        @functools.lru_cache(maxsize=4096)
        def c(x):
            return x

        @functools.lru_cache(maxsize=size)
        def d(x):
            return x
        """
    assert findings(code, "CCH001") == []


# -- CCH002 ----------------------------------------------------------------------


def test_cch002_reports_each_container_once_and_skips_shadowing_parameters():
    code = """
        from fastapi import FastAPI
        app = FastAPI()
        _seen = {}

        def a(user):
            _seen[user] = 1

        def b(user):
            _seen[user] = 2

        def c(_seen, user):
            _seen[user] = 3
        """
    [finding] = findings(code, "CCH002")
    assert finding.line == 7
    assert finding.message == "`_seen` gains an entry per `user` and nothing in this module ever removes one"


def test_cch002_global_reset_and_literal_keys_are_not_growth():
    code = """
        from flask import Flask
        app = Flask(__name__)
        _models = {}
        _hits = []

        def load():
            _models["default"] = build()

        def reset():
            global _hits
            _hits = []

        def hit(x):
            _hits.append(x)
        """
    assert findings(code, "CCH002") == []


# -- CCH003 ----------------------------------------------------------------------


def test_cch003_callback_inside_a_method_feeds_the_instance_queue():
    code = """
        import queue

        class Relay:
            def __init__(self):
                self.out = queue.Queue()

            def start(self, model):
                def on_token(token):
                    self.out.put(token)
                model.generate(callback=on_token)
        """
    [finding] = findings(code, "CCH003")
    assert finding.line == 6
    assert finding.message == "`self.out` has no `maxsize`, and `on_token` keeps adding to it"


def test_cch003_bounded_or_unknown_size_and_other_classes():
    code = """
        import queue, multiprocessing as mp

        class A:
            def __init__(self, n):
                self.q = queue.Queue(n)
                self.r = mp.Queue(maxsize=cfg.depth)

            def add(self, x):
                self.q.put(x)
                self.r.put(x)

        class B:
            def __init__(self):
                self.q = queue.Queue()

        class C:
            def add(self, x):
                self.q.put(x)
        """
    assert findings(code, "CCH003") == []


def test_cch003_while_loop_in_the_creating_function():
    code = """
        import asyncio

        async def pump(ws):
            q = asyncio.Queue()
            while True:
                await q.put(await ws.recv())
        """
    assert [f.line for f in findings(code, "CCH003")] == [5]


# -- CCH004 ----------------------------------------------------------------------


def test_cch004_future_bound_to_a_name_then_appended():
    code = """
        from concurrent.futures import ThreadPoolExecutor

        def run(paths):
            futures = []
            with ThreadPoolExecutor(8) as ex:
                for p in paths:
                    fut = ex.submit(load, p)
                    futures.append(fut)
            return [f.result() for f in futures]
        """
    [finding] = findings(code, "CCH004")
    assert finding.line == 8
    assert finding.message == "`ex.submit` schedules one future per item of `paths`, all at once"


def test_cch004_task_group_and_wait_but_not_a_pool_sized_iterable():
    code = """
        import asyncio

        async def crawl(urls):
            async with asyncio.TaskGroup() as tg:
                for u in urls:
                    tg.create_task(fetch(u))

        async def head_all(urls):
            await asyncio.wait([asyncio.create_task(head(u)) for u in urls])

        async def ping(hosts):
            await asyncio.wait([asyncio.create_task(ping_one(h)) for h in hosts])
        """
    assert [f.line for f in findings(code, "CCH004")] == [7, 10]


def test_cch004_unknown_executors_and_awaited_one_at_a_time():
    code = """
        import asyncio

        def run(pool, items):
            futures = [pool.submit(work, i) for i in items]

        async def serial(urls):
            for u in urls:
                await asyncio.gather(fetch(u), log(u))
        """
    assert findings(code, "CCH004") == []


# -- CCH005 ----------------------------------------------------------------------


def test_cch005_a_memo_made_by_a_setup_method_and_emptied_only_by_hand():
    code = """
        class ToolCache:
            def __init__(self):
                self.reset()

            def reset(self):
                self.cache = {}
                self.by_device = {}

            def query(self, key, device):
                if key in self.cache:
                    return self.cache[key]
                self.cache[key] = self.by_device.setdefault(device, build(device))
                return self.cache[key]
        """
    [finding] = findings(code, "CCH005")
    assert finding.line == 7
    assert finding.symbol == "svc.app.ToolCache.__init__"
    assert finding.message == "`self.cache` memoizes one entry per `key` and nothing in `ToolCache` ever evicts one"


def test_cch005_stores_without_lookups_and_size_checks_are_not_memos_that_grow():
    code = """
        class Rows:
            def __init__(self):
                self.rows = {}
                self.seen = {}

            def add(self, key, row):
                self.rows[key] = row

            def remember(self, key):
                if key in self.seen:
                    return
                if len(self.seen) > 1000:
                    self.seen.clear()
                self.seen[key] = True
        """
    assert findings(code, "CCH005") == []


def test_cch005_a_key_built_from_configuration_in_a_local_is_configuration():
    code = """
        class MatMul:
            def __init__(self, layout):
                self.layout = layout
                self.lut_cache = dict()

            def make_lut(self, dtype, device):
                key = (dtype, device)
                if key in self.lut_cache:
                    return self.lut_cache[key]
                self.lut_cache[key] = build(self.layout, dtype, device)
                return self.lut_cache[key]
        """
    assert findings(code, "CCH005") == []


def test_cch005_a_key_read_from_a_local_that_holds_data_grows_with_the_data():
    code = """
        class Logits:
            def __init__(self):
                self.cache = {}

            def get(self, input_ids):
                key = str(input_ids[0].tolist())
                if key in self.cache:
                    return self.cache[key]
                self.cache[key] = self.model(input_ids)
                return self.cache[key]
        """
    [finding] = findings(code, "CCH005")
    assert finding.message == "`self.cache` memoizes one entry per `key` and nothing in `Logits` ever evicts one"


def test_cch004_a_list_filled_by_a_loop_over_inputs_is_as_open_ended_as_the_inputs():
    code = """
        from concurrent.futures import ThreadPoolExecutor
        def grade(inputs, workers):
            payloads = []
            for text in inputs:
                payloads.append(render(text))
            pending = []
            for shard in range(8):
                pending.append(shard)
            with ThreadPoolExecutor(workers) as pool:
                a = {pool.submit(score, p): i for i, p in enumerate(payloads)}
                b = {pool.submit(score, p): i for i, p in enumerate(pending)}
            return a, b
        """
    [finding] = findings(code, "CCH004")
    assert finding.line == 11
    assert "`enumerate(payloads)`" in finding.message


def test_cch004_a_length_check_on_the_items_bounds_them():
    code = """
        from concurrent.futures import ThreadPoolExecutor
        def decode(image_urls):
            if len(image_urls) > 1:
                raise RuntimeError("one image per message")
            futures = []
            with ThreadPoolExecutor() as executor:
                for image_url in image_urls:
                    futures.append(executor.submit(load, image_url))
            return [f.result() for f in futures]
        """
    assert findings(code, "CCH004") == []
