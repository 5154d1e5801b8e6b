"""Serving: which functions are request handlers, what a per-request load is, autograd in handlers."""

import pytest

from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="app.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


def test_srv001_names_the_handler_and_the_load_through_a_helper():
    code = (
        "from fastapi import APIRouter\n"
        "import torch\n"
        "router = APIRouter()\n"
        "def build():\n"
        "    return torch.jit.load('m.pt')\n"
        "def model_for(name):\n"
        "    return build()\n"
        "@router.post('/predict')\n"
        "async def predict(name: str):\n"
        "    return model_for(name)\n"
    )
    [finding] = findings(code, "SRV001")
    assert finding.line == 5
    assert finding.message == "`torch.jit.load` loads a model on every request to `predict`"
    assert "Every call of `predict` runs `torch.jit.load` again" in finding.question


@pytest.mark.parametrize("handler", [
    # Gradio event handler
    "import gradio as gr\nimport joblib\ndef go(x):\n    return joblib.load('m.pkl').predict(x)\n"
    "with gr.Blocks() as demo:\n    btn = gr.Button()\n    btn.click(go, inputs=None, outputs=None)\n",
    # Ray Serve deployment
    "from ray import serve\nfrom transformers import pipeline\n@serve.deployment\nclass D:\n"
    "    async def __call__(self, request):\n        return pipeline('ner')(await request.json())\n",
    # AWS Lambda
    "import joblib\ndef lambda_handler(event, context):\n    return joblib.load('/opt/ml/m.pkl').predict(event['x'])\n",
    # SageMaker predict_fn next to model_fn
    "import torch\ndef model_fn(model_dir):\n    return None\ndef predict_fn(data, model):\n"
    "    return torch.load('extra.pt')(data)\n",
    # Triton Python backend
    "import torch\nclass TritonPythonModel:\n    def initialize(self, args):\n        pass\n"
    "    def execute(self, requests):\n        return torch.load('m.pt')(requests)\n",
])
def test_srv001_handler_kinds(handler):
    assert len(findings(handler, "SRV001")) == 1


@pytest.mark.parametrize("code", [
    # start-up hooks of the same frameworks
    "import torch\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.on_event('startup')\ndef boot():\n"
    "    app.state.m = torch.load('m.pt')\n",
    "import torch\nclass TritonPythonModel:\n    def initialize(self, args):\n        self.m = torch.load('m.pt')\n",
    # a handler-looking function in a module without a web framework
    "import torch\n@app.post('/x')\ndef x():\n    return torch.load('m.pt')\n",
    # a plain function: no framework calls it per request
    "import torch\ndef predict(x):\n    return torch.load('m.pt')(x)\n",
    # a load cached in a dict
    "import torch\nfrom flask import Flask\napp = Flask(__name__)\nCACHE = {}\n@app.route('/m/<name>')\n"
    "def m(name):\n    if name not in CACHE:\n        CACHE[name] = torch.load(name)\n    return 'ok'\n",
])
def test_srv001_silent(code):
    assert findings(code, "SRV001") == []


def test_srv002_reports_the_forward_call_unless_the_module_turns_autograd_off():
    base = (
        "import torch\nfrom fastapi import FastAPI\nfrom transformers import AutoModel\n"
        "app = FastAPI()\nmodel = AutoModel.from_pretrained('./m').eval().to('cuda')\n"
    )
    [finding] = findings(base + "@app.post('/e')\ndef e(b: dict):\n    return model(**b).last_hidden_state\n", "SRV002")
    assert finding.line == 8 and finding.message == "`model` runs the model in `e` with autograd on"
    decorated = base + "@app.post('/e')\n@torch.inference_mode()\ndef e(b: dict):\n    return model(**b)\n"
    assert findings(decorated.replace("import torch\n", "import torch as T\n").replace("@torch.", "@T."), "SRV002") == []
