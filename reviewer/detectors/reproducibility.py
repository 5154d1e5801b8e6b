"""Runs that cannot be reproduced: training scripts that never seed, hub artifacts without a
pinned revision."""

from __future__ import annotations

import re

import libcst as cst

from reviewer.detectors.checkpoints import NOT_A_TRAINING_RUN, is_backward, is_optimizer_step
from reviewer.detectors.ml_code import FunctionSite, LoopRecorder
from reviewer.ruleset.conditions import ArgRef, find_argument, is_unknown, literal_value
from reviewer.ruleset.detector import Detector, register

# Any of these in the module means someone thought about seeding: set_seed, seed_everything,
# torch.manual_seed, args.seed, default_rng(0), RandomState(0), a seeded torch.Generator.
_SEEDING = re.compile(r"seed|default_rng|RandomState", re.I)

_LIGHTNING_FIT = re.compile(r"^(lightning(\.pytorch)?|pytorch_lightning)(\.[A-Za-z_.]+)?\.Trainer\.fit$")
_KERAS_FIT = re.compile(r"^(tensorflow\.)?(tf_)?keras(\.[A-Za-z_.]+)?\.(Model|Sequential)\.fit$")


@register
class TrainingWithoutSeed(LoopRecorder):
    """A training script (a loop with backward and an optimizer step, Lightning's
    ``Trainer.fit`` or Keras' ``Model.fit``, run when the module is executed) in a module that
    never mentions a seed. Hugging Face's ``Trainer`` seeds itself (``TrainingArguments.seed``)."""

    name = "training-without-seed"
    # Names in the code of each run it reports: a backward pass and an optimizer step, or a
    # fit() resolved through lightning's or keras' modules (see _LIGHTNING_FIT, _KERAS_FIT).
    tokens = (("backward", "step"), ("backward", "optimizer_step"),
              *((root, "Trainer", "fit") for root in ("lightning", "pytorch_lightning")),
              *((root, model, "fit") for root in ("keras", "tf_keras") for model in ("Model", "Sequential")))
    code_tokens = True
    fields = frozenset({"run"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.fits: list[tuple[cst.Call, FunctionSite | None, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        site = self.calls.record_call(node)
        qualified = site.qualified or ""
        if _LIGHTNING_FIT.match(qualified) or _KERAS_FIT.match(qualified):
            self.fits.append((node, site.function, self.scan.context.symbol))

    def finish(self) -> None:
        if _SEEDING.search(self.scan.text):
            return
        runs = self._training_loops() + self._script_fits()
        if runs:  # one question per script: the first run it starts
            node, symbol, run = runs[0]
            self.report(node, symbol=symbol, run=run)

    def _script_fits(self) -> list[tuple[cst.CSTNode, str, str]]:
        script = self.calls.script_functions() if self.fits else set()
        return [(call, symbol, self.scan.code(call.func)) for call, function, symbol in self.fits
                if function is None or id(function) in script]

    def _training_loops(self) -> list[tuple[cst.CSTNode, str, str]]:
        training = set()
        for loop in self.calls.loops:
            reached = list(self.calls.reachable(self.calls.in_loop(loop.node)))
            if any(map(is_backward, reached)) and any(map(is_optimizer_step, reached)):
                training.add(id(loop.node))
        if not training:
            return []
        script = self.calls.script_functions()
        found = []
        for loop in self.calls.loops:
            if id(loop.node) not in training or any(id(outer) in training for outer in loop.outer):
                continue
            function = loop.function
            if function is not None and (
                id(function) not in script or function.name.lower().lstrip("_").startswith(NOT_A_TRAINING_RUN)
            ):
                continue
            found.append((loop.node, loop.symbol, _loop_header(self.scan, loop.node)))
        return found


def _loop_header(scan, loop) -> str:
    if isinstance(loop, cst.For):
        return f"for {scan.code(loop.target)} in {scan.code(loop.iter)}"
    return f"while {scan.code(loop.test)}"


# -- hub artifacts without a pinned revision ---------------------------------------

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9]$")
# Model names from before the hub had organisations: still resolved on the hub.
_CANONICAL_MODEL = re.compile(
    r"^(bert|distilbert|roberta|distilroberta|xlm|xlm-roberta|gpt2|distilgpt2|openai-gpt|t5|albert|xlnet|"
    r"bart|camembert|flaubert|electra|longformer|ctrl|transfo-xl)(-[\w.-]+)?$"
)
# Datasets from before the hub had organisations ("glue", "imdb"), but not the builders
# `datasets` ships for local files.
_CANONICAL_DATASET = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# A dataset loading script shipped next to the code ("retrieval_dataset_loading_script").
_LOCAL_SCRIPT = re.compile(r"script|loader", re.I)
_PACKAGED_BUILDERS = frozenset({"json", "csv", "text", "parquet", "arrow", "pandas", "sql", "xml", "imagefolder",
                                "audiofolder", "videofolder", "webdataset", "generator", "spark", "cache"})
# Sentence-transformers resolves a bare name to sentence-transformers/<name>.
_ANY_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*$")
# First path segments that say "a folder of this project", not a hub organisation.
_LOCAL_ROOTS = frozenset({
    "output", "outputs", "out", "checkpoint", "checkpoints", "ckpt", "ckpts", "model", "models", "runs", "run",
    "saved", "save", "saves", "results", "result", "tmp", "temp", "data", "datasets", "pretrained", "weights",
    "exp", "exps", "experiments", "logs", "log", "cache", "local", "artifacts", "assets", "resources", "src",
    "dataset", "data_dir", "model_dir", "path",
} | _PACKAGED_BUILDERS)
_FILE_SUFFIX = re.compile(r"\.(pt|pth|bin|ckpt|safetensors|json|ya?ml|txt|csv|tsv|jsonl|parquet|arrow|py|pkl|npz|npy|h5|onnx|gguf|zip|tar|gz|model)$", re.I)
_UNPINNED_REVISIONS = frozenset({"main", "master"})

# Callee -> (argument naming the artifact, which names without an organisation count)
_HUB_LOADERS = {
    "datasets.load_dataset": (ArgRef("path", 0), _CANONICAL_DATASET),
    "huggingface_hub.hf_hub_download": (ArgRef("repo_id", 0), _CANONICAL_MODEL),
    "huggingface_hub.snapshot_download": (ArgRef("repo_id", 0), _CANONICAL_MODEL),
    "sentence_transformers.SentenceTransformer": (ArgRef("model_name_or_path", 0), _ANY_NAME),
    "transformers.pipeline": (ArgRef("model", 1), _CANONICAL_MODEL),
}
_FROM_PRETRAINED = ArgRef("pretrained_model_name_or_path", 0)


def hub_id(value: object, bare_names: re.Pattern[str] | None) -> str | None:
    """The hub repository a literal names, or None when it is (or may be) a local path.
    ``bare_names``: which names without an organisation the loader resolves on the hub."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _FILE_SUFFIX.search(text):
        return None
    if _HUB_ID.match(text):
        return None if text.split("/", 1)[0].lower() in _LOCAL_ROOTS else text
    if bare_names is not None and bare_names.match(text) and text.lower() not in _LOCAL_ROOTS \
            and not _LOCAL_SCRIPT.search(text):
        return text
    return None


@register
class UnpinnedHubArtifact(Detector):
    """``from_pretrained("org/name")``, ``load_dataset("org/name")``, ``hf_hub_download``,
    ``snapshot_download``, ``SentenceTransformer`` and ``pipeline(model=...)`` with a literal hub
    id and no ``revision`` (or ``revision="main"``)."""

    name = "unpinned-hub-artifact"
    tokens = ("from_pretrained", "load_dataset", "hf_hub_download", "snapshot_download", "SentenceTransformer", "pipeline")
    code_tokens = True  # a docstring's example call is not a call
    fields = frozenset({"artifact", "call"})

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "from_pretrained":
            ref, canonical = _FROM_PRETRAINED, _CANONICAL_MODEL
        else:
            loader = _HUB_LOADERS.get(self.scan.names.qualify(func) or "")
            if loader is None:
                return
            ref, canonical = loader
        if any(arg.star == "**" for arg in node.args):
            return  # revision may come in **kwargs: unknown
        target = find_argument(node, ref, any(arg.star == "*" for arg in node.args))
        if target is None or is_unknown(target):
            return
        artifact = hub_id(literal_value(target), canonical)
        if artifact is None or not self._unpinned(node):
            return
        self.report(node, artifact=artifact, call=self.scan.code(func))

    def _unpinned(self, call: cst.Call) -> bool:
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
        if "local_files_only" in keywords and literal_value(keywords["local_files_only"]) is not False:
            return False  # read from the local cache (or unknown)
        if "revision" not in keywords:
            return True
        value = literal_value(keywords["revision"])
        return value is None or value in _UNPINNED_REVISIONS
