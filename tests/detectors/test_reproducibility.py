"""Reproducibility: seedless training scripts, hub artifacts without a pinned revision."""

import pytest

from reviewer.detectors.reproducibility import _ANY_NAME, _CANONICAL_DATASET, _CANONICAL_MODEL, hub_id
from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="train.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


TRAIN = (
    "import torch\n\ndef main():\n"
    "    for epoch in range(10):\n"
    "        for x, y in loader:\n"
    "            loss_fn(model(x), y).backward()\n"
    "            opt.step()\n"
    "    for x, y in loader:\n"
    "        finetune(x).backward()\n"
    "        opt.step()\n"
    "\nif __name__ == '__main__':\n    main()\n"
)


def test_rpr001_one_finding_per_script_at_its_first_training_loop():
    [finding] = findings(TRAIN, "RPR001")
    assert (finding.line, finding.location.end_line) == (4, 7)
    assert finding.message == "This training script never sets a seed (`for epoch in range(10)`)"


@pytest.mark.parametrize("seeding", [
    "import random\nrandom.seed(0)\n", "from accelerate.utils import set_seed\n", "cfg = {'seed': 1}\n",
    "import numpy as np\nrng = np.random.default_rng(7)\n",
])
def test_rpr001_any_mention_of_seeding_silences_it(seeding):
    assert findings(seeding + TRAIN, "RPR001") == []


def test_rpr001_keras_fit_in_a_script():
    code = "from tensorflow import keras\nmodel = keras.Sequential([])\nmodel.fit(x, y, epochs=5)\n"
    [finding] = findings(code, "RPR001")
    assert "`model.fit`" in finding.message


MODEL, DATASET, ANY = _CANONICAL_MODEL, _CANONICAL_DATASET, _ANY_NAME


@pytest.mark.parametrize("value, bare, expected", [
    ("meta-llama/Llama-3.1-8B", None, "meta-llama/Llama-3.1-8B"),
    ("bert-base-uncased", MODEL, "bert-base-uncased"),
    ("bert-base-uncased", None, None),
    ("my-finetuned-bert", MODEL, None),
    ("glue", DATASET, "glue"),
    ("json", DATASET, None),
    ("imagefolder", DATASET, None),
    ("data", DATASET, None),
    ("retrieval_dataset_loading_script", DATASET, None),
    ("all-MiniLM-L6-v2", ANY, "all-MiniLM-L6-v2"),
    ("outputs/run-1", MODEL, None),
    ("a/b/c", MODEL, None),
    ("./org/name", MODEL, None),
    ("org/model.safetensors", MODEL, None),
    ("~/models", ANY, None),
    (42, MODEL, None),
])
def test_hub_id(value, bare, expected):
    assert hub_id(value, bare) == expected


def test_rpr002_message_and_pinned_variants():
    [finding] = findings("import transformers\ntok = transformers.AutoTokenizer.from_pretrained('gpt2')\n", "RPR002")
    assert finding.message == "`transformers.AutoTokenizer.from_pretrained` loads `gpt2` from the hub without a pinned revision"
    pinned = "from datasets import load_dataset\nd = load_dataset('org/data', revision='v1.2')\n"
    unknown = "from datasets import load_dataset\nd = load_dataset('org/data', revision=REV)\n"
    assert findings(pinned, "RPR002") == [] and findings(unknown, "RPR002") == []
