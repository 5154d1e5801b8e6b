"""Training that cannot resume: loops that never checkpoint, trainers with saving switched off."""

from __future__ import annotations

import re

import libcst as cst

from reviewer.detectors.ml_code import CallSite, LoopRecorder, LoopSite, Loop, name_words
from reviewer.detectors.scale_signals import walk
from reviewer.ruleset.conditions import is_unknown, literal_value
from reviewer.ruleset.detector import Detector, register

# A .step() in a loop that reaches .backward() updates weights unless its receiver says it
# is a scheduler, an RL environment or a progress bar; self.step() is followed instead.
NOT_OPTIMIZER_WORDS = ("sched", "lr", "env", "warmup", "pbar", "progress", "prof", "timer", "sampler")
STEP_NAMES = frozenset({"step", "optimizer_step"})
SAVE_WORDS = (
    "save", "checkpoint", "ckpt", "snapshot", "log_model", "log_artifact", "push_to_hub",
    "upload", "dump", "serialize", "persist", "export",
)
# A save of these alone writes nothing to resume from (``save_epoch_logs``, ``dump_metrics``).
NOT_STATE_WORDS = frozenset({
    "log", "logs", "metric", "metrics", "history", "stats", "plot", "plots", "figure", "fig", "image",
    "images", "result", "results", "prediction", "predictions", "config", "args", "hparams", "sample",
    "samples", "video", "gif", "csv", "summary", "vocab", "tokenizer", "text", "table",
})
STATE_WORDS = frozenset({"checkpoint", "ckpt", "model", "state", "weights", "pretrained", "snapshot", "params"})
# Serializers that return a string and write nothing (a JSON log line is not a checkpoint).
RETURNS_TEXT = frozenset({"dumps", "json_dumps", "serialize_to_string"})
# "epoch" in any case (found by its rarer last letter: faster to search), and a name with
# the words is_epoch_runner wants: "train" and a unit, in any order. Identifier characters
# are all but ASCII punctuation and space.
_EPOCH = re.compile("[Hh](?<=[Ee][Pp][Oo][Cc][Hh])")
_IDENTIFIER_CHARS = r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*"
_UNITS = "(?:epoch|step|batch|iteration)"
_TRAINING_CALL = re.compile(f"(?i)train{_IDENTIFIER_CHARS}{_UNITS}|{_UNITS}{_IDENTIFIER_CHARS}train")
RANGE_LIKE = frozenset({"range", "trange", "count", "tqdm"})
# Optimizer steps inside these are test-time adaptation, benchmarks or demos: a rerun
# costs little and there is nothing to resume.
NOT_A_TRAINING_RUN = ("test", "eval", "valid", "predict", "infer", "bench", "profil", "debug", "demo", "smoke")
# An on-policy RL update (PPO's n_epochs over one rollout) runs for seconds per rollout;
# the run is the rollout loop that calls it.
UPDATE_PHASE_WORDS = ("rollout", "replay", "buffer")
# A function named like one update (``step``, ``update_policy``, ``train_batch``) runs
# once per call of a loop elsewhere, whatever loops it has inside.
ONE_UPDATE_WORDS = frozenset({"step", "update", "batch", "minibatch", "iteration"})
# ``range(iters_per_epoch)``, ``while step < steps_per_epoch``: the loop is one epoch.
_PER_EPOCH = re.compile(r"per_?epoch", re.IGNORECASE)


def is_backward(call: CallSite) -> bool:
    return call.name == "backward"


def is_optimizer_step(call: CallSite) -> bool:
    if call.name not in STEP_NAMES:
        return False
    if call.name == "optimizer_step":
        return True
    receiver = call.receiver.lower()
    if not receiver or (call.function is not None and receiver == call.function.self_name):
        return False
    return not any(word in receiver for word in NOT_OPTIMIZER_WORDS)


def is_epoch_runner(call: CallSite) -> bool:
    """``train_one_epoch(...)``, ``self._train_epoch(...)``, ``trainer.train_step(...)``:
    a call that trains, typically defined in another module."""
    words = name_words(call.name)
    return bool(words & {"train", "training"}) and bool(words & {"epoch", "step", "batch", "iteration"})


def is_save(call: CallSite) -> bool:
    # ray.train.report(metrics, checkpoint=...), trainer.step(..., ckpt_path=...)
    if any(arg.keyword is not None and any(word in arg.keyword.value.lower() for word in ("checkpoint", "ckpt"))
           for arg in call.node.args):
        return True
    name = call.name.lower()
    if name in RETURNS_TEXT:
        return False
    if not any(word in name for word in SAVE_WORDS) and not (call.qualified or "").endswith("Snapshot.take"):
        return False
    words = name_words(call.name)
    return not (words & NOT_STATE_WORDS and not words & STATE_WORDS)


def _range_call(node: cst.BaseExpression) -> cst.Call | None:
    """``range(...)``, ``trange(...)``, ``tqdm(range(...))``, ``itertools.count()``."""
    if not isinstance(node, cst.Call):
        return None
    func = node.func
    name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else ""
    if name not in RANGE_LIKE:
        return None
    if name == "tqdm":
        inner = node.args[0].value if node.args else None
        return _range_call(inner) if inner is not None else None
    return node


def literal_range_length(loop: Loop) -> int | None:
    """How many times ``for _ in range(<literals>)`` runs; None for anything else."""
    if not isinstance(loop, cst.For):
        return None
    call = _range_call(loop.iter)
    if call is None or not call.args or len(call.args) > 3:
        return None
    values = [literal_value(a.value) for a in call.args]
    if any(is_unknown(v) or not isinstance(v, int) or isinstance(v, bool) for v in values):
        return None
    if len(values) == 1:
        return max(values[0], 0)
    step = values[2] if len(values) == 3 else 1
    return max(len(range(*values)), 0) if step else None


@register
class TrainingLoopWithoutCheckpoint(LoopRecorder):
    name = "training-loop-without-checkpoint"
    # The two ways _weight_update finds training: the names of a backward pass and an optimizer
    # step, or an epoch loop (its target's code holds "epoch") around a call whose name has the
    # words train/training and epoch/step/batch/iteration (name_words: any case, any order).
    tokens = (("backward", "step"), ("backward", "optimizer_step"), (_EPOCH, _TRAINING_CALL))
    code_tokens = True
    fields = frozenset({"loop", "update"})
    defaults = {"max_toy_steps": 1000}

    def finish(self) -> None:
        training: dict[int, list[CallSite]] = {}
        updates: dict[int, CallSite] = {}
        for loop in self.calls.loops:
            reached = list(self.calls.reachable(self.calls.in_loop(loop.node)))
            update = self._weight_update(loop, reached)
            if update is not None:
                training[id(loop.node)] = reached
                updates[id(loop.node)] = update
        script_functions = self.calls.script_functions() if training else set()
        for loop in self.calls.loops:
            reached = training.get(id(loop.node))
            if reached is None or any(id(outer) in training for outer in loop.outer):
                continue
            if any(map(is_save, reached)):
                continue
            function = loop.function
            if function is not None and (
                any(loop.node in loops for loops in function.yields_in)
                or function.name.lower().lstrip("_").startswith(NOT_A_TRAINING_RUN)
            ):
                continue
            if self._is_toy(loop, reached) or not self._runs_whole_job(loop, script_functions):
                continue
            update = updates[id(loop.node)]
            self.report(
                loop.node,
                symbol=loop.symbol,
                function=function.name if function is not None else self.scan.path.rsplit("/", 1)[-1],
                loop=_header(self.scan, loop.node),
                update=f"{update.receiver}.{update.name}()" if update.receiver else f"{update.name}(...)",
            )

    def _weight_update(self, loop: LoopSite, reached: list[CallSite]) -> CallSite | None:
        """The call that makes this loop train: an optimizer step after a backward pass
        it reaches, or, in an epoch loop, a call that trains one epoch."""
        if any(map(is_backward, reached)):
            step = next((c for c in reached if is_optimizer_step(c)), None)
            if step is not None:
                return step
        if isinstance(loop.node, cst.For) and "epoch" in self.scan.code(loop.node.target).lower():
            return next((c for c in reached if loop.node in c.loops and is_epoch_runner(c)), None)
        return None

    def _runs_whole_job(self, loop: LoopSite, script_functions: set[int]) -> bool:
        """Whether this loop is the whole run, not one epoch or one update whose caller
        (a library's fit(), another module) may checkpoint: module-level code and the
        functions a script runs, or an epoch/step loop of a fit()-like function that
        nothing in this module calls from a loop."""
        if loop.function is None:
            return True
        if any(call.loops for call in self.calls.callers(loop.function)):
            return False  # the caller's loop is judged instead
        if id(loop.function) in script_functions:
            return True
        if name_words(loop.function.name) & ONE_UPDATE_WORDS:
            return False
        return self._counts_epochs_or_steps(loop)

    def _counts_epochs_or_steps(self, loop: LoopSite) -> bool:
        """``for epoch in range(...)``, ``while step < max_steps``: the loop is the run's
        length. A loop over batches (``for batch in loader``) is one epoch of it."""
        node = loop.node
        if self._bounded_by_one_epoch(node):
            return False
        if isinstance(node, cst.For):
            ranged = _range_call(node.iter) is not None
            header = (self.scan.code(node.target) + " " + self.scan.code(node.iter)).lower()
            if not ranged and "epoch" not in header:
                return False
        else:
            header = self.scan.code(node.test).lower()
        body = self.scan.code(node.body).lower() if isinstance(node, cst.For) else ""
        return not any(word in header or word in body for word in UPDATE_PHASE_WORDS)

    def _bounded_by_one_epoch(self, node: Loop) -> bool:
        """The loop's bound is a per-epoch count on its own (``range(steps_per_epoch)``,
        ``while it < iters_per_epoch``): one epoch, whose epoch loop is elsewhere. A product
        (``range(epochs * steps_per_epoch)``) is the whole run and does not count."""
        if isinstance(node, cst.For):
            ranges = [n for n in walk(node.iter) if _range_call(n) is n]
            bounds = [r.args[1 if len(r.args) > 1 else 0].value for r in ranges if r.args]
        elif isinstance(node.test, cst.Comparison):
            bounds = [c.comparator for c in node.test.comparisons]
        else:
            bounds = []
        return any(isinstance(b, (cst.Name, cst.Attribute)) and _PER_EPOCH.search(self.scan.code(b)) for b in bounds)

    def _is_toy(self, loop: LoopSite, reached: list[CallSite]) -> bool:
        limit = self.options["max_toy_steps"]
        length = literal_range_length(loop.node)
        if length is None or length >= limit:
            return False
        if not all(loop.node in c.loops for c in reached if is_backward(c)):
            return False  # trained through a helper whose loops we do not multiply out
        inner = {id(l): l for c in reached if loop.node in c.loops for l in c.loops if l is not loop.node}
        total = length
        for node in inner.values():
            n = literal_range_length(node)
            if n is None:
                return False
            total *= n
        return total < limit


def _header(scan, loop: Loop) -> str:
    if isinstance(loop, cst.For):
        return f"for {scan.code(loop.target)} in {scan.code(loop.iter)}"
    return f"while {scan.code(loop.test)}"


LIGHTNING_TRAINERS = frozenset({
    "lightning.Trainer", "lightning.pytorch.Trainer", "lightning.pytorch.trainer.Trainer",
    "lightning.pytorch.trainer.trainer.Trainer", "pytorch_lightning.Trainer",
    "pytorch_lightning.trainer.Trainer", "pytorch_lightning.trainer.trainer.Trainer",
})
LIGHTNING_PACKAGES = ("lightning.", "pytorch_lightning.")
HF_PACKAGES = ("transformers.", "trl.")
EPOCH_ARGUMENTS = ("max_epochs", "num_train_epochs")


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _is_literal(node: cst.BaseExpression | None, *values: object) -> bool:
    if node is None:
        return False
    value = literal_value(node)
    return not is_unknown(value) and any(type(value) is type(v) and value == v for v in values)


@register
class FrameworkCheckpointingDisabled(Detector):
    """Lightning ``Trainer(enable_checkpointing=False)`` or Hugging Face
    ``TrainingArguments(save_strategy="no")`` in a module that then trains."""

    name = "framework-checkpointing-disabled"
    tokens = ("enable_checkpointing", "checkpoint_callback", "save_strategy")
    fields = frozenset({"setting", "horizon"})
    defaults = {"max_short_run_steps": 1000}

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.candidates: list[tuple[cst.Call, str, str, str, str]] = []  # call, family, setting, symbol, function
        self.trains = {"lightning": False, "hf": False}

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func) or ""
        if qualified.startswith(LIGHTNING_PACKAGES) and qualified.endswith("Trainer.fit"):
            self.trains["lightning"] = True
        if qualified.startswith(HF_PACKAGES) and qualified.endswith("Trainer.train"):
            self.trains["hf"] = True
        if any(a.star == "**" for a in node.args):
            return
        setting = None
        if qualified in LIGHTNING_TRAINERS:
            family, setting = "lightning", self._lightning_setting(node)
        elif qualified.startswith(HF_PACKAGES) and qualified.endswith(("TrainingArguments", "Config")):
            family, setting = "hf", self._hf_setting(node)
        if setting is not None and not self._short_run(node):
            context = self.scan.context
            self.candidates.append((node, family, setting, context.symbol, context.function_name))

    def _lightning_setting(self, call: cst.Call) -> str | None:
        for name in ("enable_checkpointing", "checkpoint_callback"):
            if _is_literal(_keyword(call, name), False):
                return f"{name}=False"
        return None

    def _hf_setting(self, call: cst.Call) -> str | None:
        strategy = _keyword(call, "save_strategy")
        if strategy is None:
            return None
        if _is_literal(strategy, "no") or self.scan.code(strategy).endswith(".NO"):
            return f"save_strategy={self.scan.code(strategy)}"
        return None

    def _short_run(self, call: cst.Call) -> bool:
        """Smoke tests and short runs: nothing much to lose when they die."""
        fast_dev_run = _keyword(call, "fast_dev_run")
        if fast_dev_run is not None and not _is_literal(fast_dev_run, False, 0):
            return True
        if _is_literal(_keyword(call, "do_train"), False):
            return True
        max_steps = literal_value(_keyword(call, "max_steps") or cst.Name("None"))
        if isinstance(max_steps, int) and not isinstance(max_steps, bool):
            return 0 < max_steps < self.options["max_short_run_steps"]
        return False

    def finish(self) -> None:
        for call, family, setting, symbol, function in self.candidates:
            if not self.trains[family]:
                continue
            epochs = next((_keyword(call, name) for name in EPOCH_ARGUMENTS if _keyword(call, name) is not None), None)
            horizon = f"{self.scan.code(epochs)}-epoch" if epochs is not None and not is_unknown(literal_value(epochs)) else "long"
            self.report(call, symbol=symbol, function=function, setting=setting, horizon=horizon)
