"""Swallowed errors: which handlers are blind and silent, and which failures lose work."""

import pytest

from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="pipeline.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


LOOP = (
    "import json\nfrom PIL import Image\n"
    "def load(paths):\n"
    "    out = []\n"
    "    for path in paths:\n"
    "        try:\n"
    "            out.append(Image.open(path))\n"
    "        {handler}\n"
    "            {body}\n"
    "    return out\n"
)


def test_err001_reports_the_handler_from_except_to_its_end():
    [finding] = findings(LOOP.format(handler="except Exception:", body="continue"), "ERR001")
    assert (finding.line, finding.location.end_line) == (8, 9)
    assert finding.message == (
        "`except Exception` around `Image.open(path)` ends in `continue`: the failure is neither logged nor raised"
    )
    assert "silently skips that `path`" in finding.question


@pytest.mark.parametrize(
    "handler, body",
    [
        ("except:", "pass"),
        ("except BaseException:", "continue"),
        ("except (ValueError, Exception):", "pass"),
    ],
)
def test_err001_broad_handlers(handler, body):
    assert findings(LOOP.format(handler=handler, body=body), "ERR001")


@pytest.mark.parametrize(
    "handler, body",
    [
        ("except OSError:", "continue"),
        ("except Exception:", "logger.warning('skip %s', path)"),
        ("except Exception:", "raise"),
        ("except Exception as exc:", "errors.append((path, exc))"),
    ],
)
def test_err001_typed_logged_or_recorded_handlers_are_fine(handler, body):
    assert findings(LOOP.format(handler=handler, body=body), "ERR001") == []


def test_err001_placeholder_record_in_getitem():
    code = (
        "from PIL import Image\n"
        "class Faces(Dataset):\n"
        "    def __getitem__(self, i):\n"
        "        try:\n"
        "            img = Image.open(self.paths[i])\n"
        "        except Exception:\n"
        "            img = Image.new('RGB', (224, 224))\n"
        "        return self.tf(img), self.labels[i]\n"
    )
    [finding] = findings(code, "ERR001")
    assert "placeholder (`img = Image.new('RGB', (224, 224))`)" in finding.question


def test_err001_weight_restore():
    code = (
        "import torch\n"
        "def resume(model, path):\n"
        "    try:\n"
        "        model.load_state_dict(torch.load(path, map_location='cpu'))\n"
        "    except Exception:\n"
        "        pass\n"
    )
    [finding] = findings(code, "ERR001")
    assert "carries on with the weights the model already had" in finding.question


@pytest.mark.parametrize(
    "code",
    [
        # retrying, not dropping
        "import requests\nfor attempt in range(3):\n    try:\n        r = requests.get(u, timeout=5)\n"
        "        break\n    except Exception:\n        continue\n",
        # polling with a wait between attempts
        "import requests, time\nwhile True:\n    try:\n        requests.get(u, timeout=5)\n"
        "    except Exception:\n        pass\n    time.sleep(1)\n",
        # parsing an in-memory value is not reading
        "import json\nfor span in spans:\n    try:\n        rows.append(json.loads(span.attributes['x']))\n"
        "    except Exception:\n        continue\n",
        # a probe of the machine itself
        "def read_model_name():\n    try:\n        with open('/proc/device-tree/model') as f:\n"
        "            return f.read()\n    except Exception:\n        return ''\n",
        # an optional dependency's guard
        "try:\n    import orjson\n    loads = orjson.loads\nexcept Exception:\n    pass\n",
        # telemetry
        "import requests\ndef report(event):\n    try:\n        send_telemetry(requests.post(u, json=event, timeout=2))\n"
        "    except Exception:\n        pass\n",
        # a fallback chain: the next attempt follows, and the last one raises
        "import requests\ndef get(m, safe):\n    if safe:\n        for name in safe:\n            try:\n"
        "                return requests.get(m + name, timeout=1)\n            except Exception:\n                pass\n"
        "    try:\n        return requests.get(m, timeout=1)\n    except Exception as e:\n"
        "        raise RuntimeError(m) from e\n",
        # the last attempt of a chain inside a handler, before the function raises
        "def load(p):\n    try:\n        return a_load(p)\n    except Exception:\n        try:\n"
        "            return b_load(p)\n        except Exception:\n            pass\n    raise ValueError(p)\n",
        # diagnostics about the environment
        "import requests, os\ndef define_sagemaker_information():\n    try:\n"
        "        tag = requests.get(os.environ['ECS_CONTAINER_METADATA_URI'], timeout=1).json()['Image']\n"
        "    except Exception:\n        tag = None\n    return tag\n",
        # no call that reaches outside the process
        "def task_of(cfg):\n    try:\n        return guess_task(cfg)\n    except Exception:\n        pass\n",
        # cleanup
        "import torch\nclass W:\n    def close(self):\n        try:\n"
        "            self.model.load_state_dict(torch.load(self.p))\n        except Exception:\n            pass\n",
    ],
)
def test_err001_leaves_retries_searches_parses_and_probes(code):
    assert findings(code, "ERR001") == []


@pytest.mark.parametrize(
    "code, consequence",
    [
        # a remote call that becomes "nothing there"
        ("def table(conn, name):\n    try:\n        return conn.open_table(name)\n    except Exception:\n"
         "        return None\n", "returns `None` as if there were nothing there"),
        # a server response that fails to parse
        ("import json\ndef run(resp):\n    try:\n        return json.loads(resp.text)\n    except Exception:\n"
         "        return {}\n", "returns `{}` as if there were nothing there"),
        # mirrors tried in turn, failures unseen
        ("import requests\ndef get(mirrors):\n    for m in mirrors:\n        try:\n"
         "            return requests.get(m, timeout=5).content\n        except Exception:\n            continue\n",
         "silently skips that `m`"),
        # through a helper of the same module, with a debug line nobody sees
        ("import requests\ndef _fetch(u):\n    return requests.get(u, timeout=5).json()\n"
         "def names(u):\n    try:\n        return _fetch(u)['names']\n    except Exception:\n"
         "        log.debug('no names')\n        return []\n", "returns `[]`"),
    ],
)
def test_err001_outside_calls_that_fail_silently(code, consequence):
    [finding] = findings(code, "ERR001")
    assert consequence in finding.question


def test_err001_a_guard_raising_later_is_not_a_fallback_chain():
    code = ("import requests\ndef check(u, populated):\n    try:\n        populated = requests.get(u, timeout=1).ok\n"
            "    except Exception:\n        pass\n    if populated:\n        raise ValueError(u)\n")
    assert findings(code, "ERR001")


def test_err001_leaves_telemetry_modules():
    code = "def read_config():\n    try:\n        with open(CONFIG_PATH) as f:\n            return f.read()\n" \
           "    except Exception:\n        pass\n"
    assert findings(code, "ERR001", path="pkg/telemetry/_telemetry.py") == []
    assert findings(code, "ERR001", path="pkg/config.py")


def test_err002_needs_a_service_module_and_a_literal_answer():
    handler = (
        "def score(req):\n    try:\n        return {{'score': model.predict(req.x)}}\n"
        "    except Exception:\n        return {answer}\n"
    )
    service = "from fastapi import FastAPI\n"
    [finding] = findings(service + handler.format(answer="{'score': 0.5}"), "ERR002")
    assert "`{'score': 0.5}`" in finding.message
    assert findings(handler.format(answer="{'score': 0.5}"), "ERR002") == []
    assert findings(service + handler.format(answer="None"), "ERR002") == []
