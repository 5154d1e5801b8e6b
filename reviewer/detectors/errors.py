"""Errors swallowed around I/O, remote and model calls, and failures served as predictions."""

from __future__ import annotations

import libcst as cst

from reviewer.detectors.ml_code import CallSite, ModuleCalls
from reviewer.detectors.checkpoints import literal_range_length
from reviewer.ruleset.conditions import is_unknown, literal_value
from reviewer.engine.walk import walk
from reviewer.ruleset.detector import Detector, register

BROAD_EXCEPTIONS = frozenset({"builtins.Exception", "builtins.BaseException"})

# Calls that read or fetch one record: failing on one item means losing that item.
# Parsing (json.loads) is not I/O; a failed parse is a different question.
READ_CALLS = frozenset({
    "builtins.open", "requests.get", "requests.post", "requests.request", "requests.Session.get",
    "requests.Session.post", "httpx.get", "httpx.post", "httpx.Client.get", "httpx.Client.post",
    "urllib.request.urlopen", "urllib.request.urlretrieve", "torch.load", "torch.jit.load",
    "pickle.load", "joblib.load", "json.load", "numpy.load", "PIL.Image.open", "cv2.imread",
    "imageio.imread", "imageio.v2.imread", "imageio.v3.imread", "soundfile.read", "librosa.load",
    "torchaudio.load", "datasets.load_dataset", "datasets.load_from_disk", "safetensors.torch.load_file",
    "huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download", "fsspec.open",
    "pyarrow.parquet.read_table", "h5py.File", "decord.VideoReader", "av.open",
})
READ_CALL_PREFIXES = ("pandas.read_", "boto3.", "botocore.", "google.cloud.storage.")
READ_METHODS = frozenset({
    "urlopen", "urlretrieve", "get_object", "download_file", "download_fileobj", "download_as_bytes",
    "download_to_filename", "read_csv", "read_parquet", "read_json", "hf_hub_download", "load_image",
    "imread", "load_audio", "read_video", "fetchone", "fetchall",
})
# Dataset methods that produce one record per call.
RECORD_ACCESSORS = frozenset({"__getitem__", "__getitems__", "get_item", "load_sample", "read_sample"})
# Restoring weights: when it fails silently, the job runs on with a fresh or wrong model.
WEIGHT_RESTORES = frozenset({"load_state_dict", "load_checkpoint", "load_weights", "load_adapter"})
# Functions whose job is to be best-effort: cleanup, probes of the environment, telemetry.
BEST_EFFORT_FUNCTIONS = frozenset({
    "__del__", "__exit__", "__aexit__", "close", "aclose", "cleanup", "clean_up", "shutdown",
    "teardown", "stop", "terminate", "kill", "dispose", "release", "finalize", "atexit",
})
BEST_EFFORT_WORDS = ("telemetry", "analytics", "usage", "version", "available", "installed", "cleanup", "exit")
BEST_EFFORT_PREFIXES = ("is_", "_is_", "has_", "_has_", "check_", "_check_", "can_", "_can_")

SERVICE_FRAMEWORKS = (
    "fastapi", "flask", "starlette", "aiohttp.web", "grpc", "ray.serve", "bentoml", "litserve",
    "sanic", "tornado", "falcon", "kserve", "seldon_core", "mlserver", "gradio",
)
MODEL_METHODS = frozenset({
    "predict", "predict_proba", "generate", "forward", "infer", "inference", "classify", "encode",
    "embed", "transcribe", "detect", "invoke", "score",
})
MODEL_WORDS = ("model", "pipeline", "pipe", "classifier", "predictor", "session", "llm", "engine")


def caught_text(handler: cst.ExceptHandler, scan) -> str | None:
    """How a broad handler names what it catches; None for a typed handler."""
    kind = handler.type
    if kind is None:
        return "except:"
    names = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    for name in names:
        if scan.names.qualify(name) in BROAD_EXCEPTIONS:
            return f"except {scan.code(name)}"
    return None


def _is_empty_value(node: cst.BaseExpression | None) -> bool:
    if node is None:
        return True
    value = literal_value(node)
    if not is_unknown(value):
        return value in (None, "") and not isinstance(value, bool)
    if isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
        return not node.elements
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and not node.args:
        return node.func.value in ("list", "dict", "set", "tuple")
    return False


def swallow_outcome(scan, handler: cst.ExceptHandler) -> str | None:
    """What a handler does instead of reporting: 'pass', 'continue', 'return None', or a
    placeholder assignment; None when it does anything else (logs, raises, other work)."""
    body = handler.body
    lines = body.body if isinstance(body, cst.IndentedBlock) else [body]
    outcome = "pass"
    for line in lines:
        if not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return None
        for statement in line.body:
            if isinstance(statement, cst.Pass):
                continue
            if isinstance(statement, cst.Expr) and isinstance(statement.value, (cst.Ellipsis, cst.SimpleString)):
                continue
            if isinstance(statement, cst.Continue):
                outcome = "continue"
            elif isinstance(statement, cst.Return) and _is_empty_value(statement.value):
                outcome = "return " + (scan.code(statement.value) if statement.value else "None")
            elif isinstance(statement, cst.Assign) and _is_constant(statement.value):
                outcome = scan.code(statement)
            else:
                return None
    return outcome


def _is_constant(node: cst.BaseExpression) -> bool:
    """A value fixed in the code: literals, ALL_CAPS names, and calls built only from them
    (``Image.new("RGB", (224, 224))``, ``np.zeros(SHAPE)``)."""
    if not is_unknown(literal_value(node)):
        return True
    if isinstance(node, cst.Name):
        return node.value.isupper()
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return all(_is_constant(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _is_constant(e.key) and _is_constant(e.value)
                   for e in node.elements)
    if isinstance(node, cst.Call):
        return all(not a.star and _is_constant(a.value) for a in node.args)
    return False


def is_read_call(call: CallSite) -> bool:
    qualified = call.qualified or ""
    if qualified in READ_CALLS or qualified.startswith(READ_CALL_PREFIXES):
        return True
    return isinstance(call.node.func, cst.Attribute) and call.name in READ_METHODS


def is_weight_restore(call: CallSite) -> bool:
    return call.name in WEIGHT_RESTORES or call.qualified == "torch.load"


def is_best_effort_function(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in BEST_EFFORT_FUNCTIONS
        or lowered.startswith(BEST_EFFORT_PREFIXES)
        or any(word in lowered for word in BEST_EFFORT_WORDS)
    )


class _TryDetector(Detector):
    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.calls = ModuleCalls(scan)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.record_function(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.record_call(node)


@register
class BlindExceptSwallow(_TryDetector):
    """Two shapes where a silent broad handler loses work: reading one record (in a loop
    over records, or in a dataset's ``__getitem__``) and skipping or faking it, and a
    weight restore whose failure leaves the model as it was."""

    name = "blind-except-swallow"
    tokens = ("except",)
    fields = frozenset({"call", "caught", "outcome", "consequence"})

    def leave_Try(self, node: cst.Try) -> None:
        function = self.scan.context.function_name
        if is_best_effort_function(function):
            return
        calls = self.calls.in_try_body(node.body)
        for handler in node.handlers:
            caught = caught_text(handler, self.scan)
            outcome = swallow_outcome(self.scan, handler) if caught else None
            if outcome is None:
                continue
            restore = next((c for c in calls if is_weight_restore(c)), None)
            if restore is not None and not outcome.startswith(("pass", "continue", "return")):
                restore = None  # a fallback value for a weight file is a different story
            if restore is not None:
                self.report(handler, call=self.scan.code(restore.node), caught=caught, outcome=outcome,
                            consequence="carries on with the weights the model already had")
                continue
            read = next((c for c in calls if is_read_call(c)), None)
            if read is None:
                continue
            if function in RECORD_ACCESSORS:
                record = "record"
            else:
                loop = self._record_loop(node, read)
                record = f"`{self.scan.code(loop.target)}`" if loop is not None else None
            if record is not None:
                consequence = (f"silently skips that {record}" if outcome.startswith(("pass", "continue", "return"))
                               else f"carries on with a placeholder (`{outcome}`) for that {record}")
                self.report(handler, call=self.scan.code(read.node), caught=caught, outcome=outcome,
                            consequence=consequence)

    def _record_loop(self, node: cst.Try, read: CallSite) -> cst.For | None:
        """The loop over records whose current one this try reads.

        ``for _ in range(3)`` and ``while`` loops retry or poll; a try that returns or
        breaks on success searches alternatives (mirrors, formats) for the first that works.
        """
        if not read.loops:
            return None
        loop = read.loops[-1]
        if not isinstance(loop, cst.For) or _is_range(loop.iter) or literal_range_length(loop) is not None:
            return None
        if _leaves_loop(node.body):
            return None
        return loop


def _leaves_loop(body: cst.CSTNode) -> bool:
    found = False

    def enter(node: cst.CSTNode) -> None:
        nonlocal found
        if isinstance(node, (cst.Return, cst.Break)):
            found = True

    walk(body, enter, lambda node: None)
    return found


def _is_range(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range"


def _is_model_call(call: CallSite) -> bool:
    if call.name in MODEL_METHODS:
        return True
    func = call.node.func
    name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else ""
    return any(word in name.lower() for word in MODEL_WORDS) and call.qualified is None


def _fallback_literal(handler: cst.ExceptHandler) -> cst.BaseExpression | None:
    """The literal a handler returns when its body is nothing but that return."""
    body = handler.body
    if not isinstance(body, cst.IndentedBlock) or len(body.body) != 1:
        return None
    line = body.body[0]
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return None
    statement = line.body[0]
    if not isinstance(statement, cst.Return) or statement.value is None:
        return None
    return statement.value if _is_literal_prediction(statement.value) else None


def _is_literal_prediction(node: cst.BaseExpression) -> bool:
    value = literal_value(node)
    if not is_unknown(value):
        return value is not None and value != ""
    if isinstance(node, (cst.List, cst.Tuple)):
        return bool(node.elements) and all(_is_literal_prediction(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return bool(node.elements) and all(
            isinstance(e, cst.DictElement) and _is_literal_prediction(e.value) for e in node.elements
        )
    return False


@register
class SilentFallbackPrediction(_TryDetector):
    name = "silent-fallback-prediction"
    tokens = ("except",)
    fields = frozenset({"call", "value"})

    def leave_Try(self, node: cst.Try) -> None:
        if not self.scan.names.imports_any(SERVICE_FRAMEWORKS):
            return
        model_calls = [c for c in self.calls.in_try_body(node.body) if _is_model_call(c)]
        if not model_calls:
            return
        for handler in node.handlers:
            if caught_text(handler, self.scan) is None:
                continue
            value = _fallback_literal(handler)
            if value is not None:
                self.report(handler, call=self.scan.code(model_calls[0].node), value=self.scan.code(value))
