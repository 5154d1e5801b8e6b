"""Errors swallowed around I/O, remote and model calls, and failures served as predictions."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from reviewer.detectors.ml_code import CallRecorder, CallSite, Loop, ModuleCalls, mentions, name_words
from reviewer.detectors.checkpoints import literal_range_length
from reviewer.ruleset.conditions import is_unknown, literal_value
from reviewer.engine.walk import descendants
from reviewer.questions import field_text
from reviewer.ruleset.detector import register

BROAD_EXCEPTIONS = frozenset({"builtins.Exception", "builtins.BaseException"})
# A file without one of these has no broad handler (caught_text): the names, or a bare except.
BROAD_HANDLER_TOKENS = ("Exception", "BaseException", re.compile(r"except\s*:"))

# Calls that read, fetch or restore something from outside the process: their failure is
# an outage, a missing object or a corrupt file, not a bug in the code around them.
READ_CALLS = frozenset({
    "builtins.open", "urllib.request.urlopen", "urllib.request.urlretrieve", "torch.load", "torch.jit.load",
    "pickle.load", "joblib.load", "json.load", "numpy.load", "PIL.Image.open",
    "cv2.imread", "imageio.imread", "imageio.v2.imread", "imageio.v3.imread", "soundfile.read", "librosa.load",
    "torchaudio.load", "datasets.load_dataset", "datasets.load_from_disk", "safetensors.torch.load_file",
    "huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download", "fsspec.open",
    "pyarrow.parquet.read_table", "h5py.File", "decord.VideoReader", "av.open", "yaml.load", "yaml.safe_load",
})
READ_CALL_PREFIXES = (
    "pandas.read_", "requests.", "httpx.", "aiohttp.", "urllib3.", "http.client.", "boto3.", "botocore.",
    "google.cloud.", "azure.storage.", "openai.", "anthropic.", "smtplib.", "ftplib.", "paramiko.",
    "redis.", "pymongo.", "psycopg2.", "grpc.",
)
# Parsers fail on what came from outside only when they parse what came back from a
# file or service (``json.loads(resp.text)``, an SSE ``line``), not an in-memory attribute.
PARSERS = frozenset({"json.loads", "pickle.loads", "yaml.safe_load", "yaml.load", "orjson.loads", "ujson.loads"})
RECEIVED_WORDS = ("resp", "text", "txt", "content", "body", "line", "payload", "raw", "reply", "chunk", "msg",
                  "message", "data", "stdout", "output")
# Words of a called name (split at "_" and case changes) that say it reads, fetches, loads,
# parses or runs a model: ``open_table``, ``yaml_load``, ``call_endpoint``, ``hf_hub_download``.
FALLIBLE_WORDS = frozenset({
    "load", "loads", "read", "open", "download", "upload", "fetch", "request", "urlopen", "urlretrieve",
    "getresponse", "connect", "query", "execute", "endpoint", "pretrained", "predict", "generate",
    "inference", "invoke", "restore", "deserialize", "unpickle", "imread", "get_object",
})
# Dataset methods that produce one record per call.
RECORD_ACCESSORS = frozenset({"__getitem__", "__getitems__", "get_item", "load_sample", "read_sample"})
# Restoring weights: when it fails silently, the job runs on with a fresh or wrong model.
WEIGHT_RESTORES = frozenset({"load_state_dict", "load_checkpoint", "load_weights", "load_adapter"})
# Functions whose job is to be best-effort: cleanup, probes of the environment, telemetry.
BEST_EFFORT_WORDS = frozenset({
    "del", "exit", "aexit", "close", "aclose", "cleanup", "clean", "shutdown", "teardown", "stop", "terminate",
    "kill", "dispose", "release", "finalize", "atexit", "signal", "sigterm", "sigint", "sigkill", "handler",
    "telemetry", "analytics", "usage", "version", "available", "installed", "tmp", "temp", "tempdir",
    "info", "information",  # diagnostics about the environment (collect_env_info, get_gpu_info)
})
BEST_EFFORT_PREFIXES = ("is_", "_is_", "has_", "_has_", "check_", "_check_", "can_", "_can_")
# Calls that make the whole try best-effort: telemetry, and reads of the machine itself.
TELEMETRY_WORDS = ("telemetry", "analytics", "track_event", "send_event", "capture", "report_usage")
TELEMETRY_MODULE_WORDS = frozenset({"telemetry", "analytics"})
SYSTEM_PROBE_PATHS = ("/proc/", "/sys/", "/etc/", "/dev/")
# A retry or polling loop waits between attempts; its failure is the no-retry family's question.
WAIT_CALLS = frozenset({"sleep", "wait", "backoff"})

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
            if isinstance(statement, cst.Expr) and _is_debug_log(statement.value):
                continue  # debug output is off wherever the failure matters
            if isinstance(statement, cst.Continue):
                outcome = "continue"
            elif isinstance(statement, cst.Return) and _is_empty_value(statement.value):
                outcome = "return " + (scan.code(statement.value) if statement.value else "None")
            elif isinstance(statement, cst.Assign) and _is_constant(statement.value):
                outcome = scan.code(statement)
            else:
                return None
    return outcome


def _is_debug_log(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "debug")


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


def is_fallible_call(call: CallSite) -> bool:
    """Whether the call reaches outside the process: a file, a remote service, a model."""
    qualified = call.qualified or ""
    if qualified in PARSERS:
        return bool(call.node.args) and mentions(call.scan, call.node.args[0].value, RECEIVED_WORDS)
    if qualified in READ_CALLS or qualified.startswith(READ_CALL_PREFIXES):
        return True
    if qualified.startswith("builtins."):
        return False
    return bool(name_words(call.name) & FALLIBLE_WORDS) or call.name in WEIGHT_RESTORES


def is_weight_restore(call: CallSite) -> bool:
    return call.name in WEIGHT_RESTORES or call.qualified == "torch.load"


def is_best_effort_function(name: str) -> bool:
    return name.lower().startswith(BEST_EFFORT_PREFIXES) or bool(name_words(name) & BEST_EFFORT_WORDS)


def _is_best_effort_call(call: CallSite) -> bool:
    """Telemetry, and reads of the machine's own state (``/proc/meminfo``)."""
    if any(word in call.name.lower() for word in TELEMETRY_WORDS):
        return True
    return any(
        isinstance(value := literal_value(arg.value), str) and value.startswith(SYSTEM_PROBE_PATHS)
        for arg in call.node.args
    )


@dataclass
class _Swallow:  # judged in finish(), once the helpers the try calls are recorded
    node: cst.Try
    handler: cst.ExceptHandler
    caught: str
    outcome: str
    function: str
    symbol: str
    loop: Loop | None  # the innermost loop around the try, in the same function


@register
class BlindExceptSwallow(CallRecorder):
    """A broad handler that says nothing, around a call that reaches outside the process
    (a file, a remote service, a parser of what came back, a model load or inference), or
    around a same-module helper that makes one."""

    name = "blind-except-swallow"
    tokens = BROAD_HANDLER_TOKENS
    code_tokens = True
    fields = frozenset({"call", "caught", "outcome", "consequence"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.swallows: list[_Swallow] = []
        self.fallback_chains: set[int] = set()  # ids of tries followed by another attempt or a raise
        self.followed_blocks: set[int] = set()  # ids of blocks whose enclosing code goes on to one
        self.telemetry_module = bool(name_words(scan.module_name.replace(".", "_")) & TELEMETRY_MODULE_WORDS)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._note_fallback_chains(node.body, id(node) in self.followed_blocks)

    def visit_Module(self, node: cst.Module) -> None:
        self._note_fallback_chains(node.body, False)

    def _note_fallback_chains(self, statements, followed: bool) -> None:
        """``try: A except: pass`` whose next statement, in its block or after the block,
        is another ``try`` or a ``raise``: the failure of A leads to the next attempt or to
        an error, not to silence."""
        if not any(isinstance(statement, COMPOUND_FLOW) for statement in statements):
            return  # no try here, nor a block a try could be in
        for index, statement in enumerate(statements):
            if not isinstance(statement, COMPOUND_FLOW):
                continue
            after = statements[index + 1] if index + 1 < len(statements) else None
            if after is None and not followed or after is not None and not _attempts_or_raises(after):
                continue
            if isinstance(statement, cst.Try):
                self.fallback_chains.add(id(statement))
            self.followed_blocks.update(map(id, _blocks(statement)))

    def leave_Try(self, node: cst.Try) -> None:
        context = self.scan.context
        if is_best_effort_function(context.function_name) or _imports_in(node.body) or self.telemetry_module:
            return
        loop = _innermost_loop(context)
        for handler in node.handlers:
            caught = caught_text(handler, self.scan)
            outcome = swallow_outcome(self.scan, handler) if caught else None
            if outcome == "pass" and id(node) in self.fallback_chains:
                continue
            if outcome is not None:
                self.swallows.append(_Swallow(node, handler, caught, outcome, context.function_name,
                                              context.symbol, loop))

    def finish(self) -> None:
        for swallow in self.swallows:
            if swallow.loop is not None and _retries_or_polls(self.calls, swallow.loop, swallow.node):
                continue
            direct = self.calls.in_try_body(swallow.node.body)
            if any(_is_best_effort_call(c) for c in self.calls.reachable(direct, max_depth=2)):
                continue
            call = self._fallible(direct)
            if call is not None:
                self.report(swallow.handler, symbol=swallow.symbol, function=swallow.function,
                            call=field_text(self.scan.code(call.node)),
                            caught=swallow.caught, outcome=swallow.outcome,
                            consequence=self._consequence(swallow, call))

    def _fallible(self, direct: list[CallSite]) -> CallSite | None:
        """The first call in the try body that fails from outside, itself or through a
        same-module helper (two levels deep)."""
        for call in direct:
            if is_fallible_call(call) or any(map(is_fallible_call, self.calls.reachable([call], max_depth=2))):
                return call
        return None

    def _consequence(self, swallow: _Swallow, call: CallSite) -> str:
        outcome = swallow.outcome
        silent = outcome.startswith(("pass", "continue", "return"))
        if is_weight_restore(call) and silent:
            return "carries on with the weights the model already had"
        record = None
        if swallow.function in RECORD_ACCESSORS:
            record = "record"
        elif isinstance(swallow.loop, cst.For):
            record = f"`{self.scan.code(swallow.loop.target)}`"
        if record is not None:
            return (f"silently skips that {record}" if silent
                    else f"carries on with a placeholder (`{outcome}`) for that {record}")
        if outcome.startswith("return"):
            return f"returns `{outcome[len('return '):]}` as if there were nothing there"
        if outcome == "pass":
            return "goes on as if it had worked"
        return f"carries on with `{outcome}`"


def _innermost_loop(context) -> Loop | None:
    for frame in reversed(context.frames):
        if frame.kind in ("function", "class"):
            return None
        if frame.kind == "loop":
            return frame.node
    return None


def _retries_or_polls(calls: ModuleCalls, loop: Loop, node: cst.Try) -> bool:
    """``for attempt in range(3)`` or ``while`` around a try that stops on success, or a
    loop that waits between attempts: failures are retried, not dropped."""
    if any(c.name in WAIT_CALLS for c in calls.in_loop(loop)):
        return True
    counted = isinstance(loop, cst.While) or _is_range(loop.iter) or literal_range_length(loop) is not None
    return counted and _leaves_loop(node.body)


COMPOUND_FLOW = (cst.Try, cst.If, cst.For, cst.While, cst.With)


def _attempts_or_raises(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.Try):
        return True
    return isinstance(statement, cst.SimpleStatementLine) and any(isinstance(s, cst.Raise) for s in statement.body)


def _blocks(statement: cst.CSTNode) -> list[cst.IndentedBlock]:
    """The blocks a compound statement runs as part of the enclosing flow. A loop's body
    counts only when it stops at the first success (trying alternatives in turn): otherwise
    what follows the loop is not the next attempt for its item."""
    if isinstance(statement, (cst.For, cst.While)) and not _leaves_loop(statement.body):
        return []
    blocks = [handler.body for handler in getattr(statement, "handlers", ())]
    for part in (getattr(statement, "body", None), getattr(statement, "orelse", None)):
        while isinstance(part, (cst.If, cst.Else)):
            blocks.append(part.body)
            part = part.orelse if isinstance(part, cst.If) else None
        if isinstance(part, cst.IndentedBlock):
            blocks.append(part)
    return [b for b in blocks if isinstance(b, cst.IndentedBlock)]


def _imports_in(body: cst.CSTNode) -> bool:
    """An optional dependency's guard: what fails is the import, whatever else the try does."""
    return _contains(body, (cst.Import, cst.ImportFrom))


def _leaves_loop(body: cst.CSTNode) -> bool:
    return _contains(body, (cst.Return, cst.Break))


def _contains(body: cst.CSTNode, kinds: tuple[type, ...]) -> bool:
    return any(isinstance(node, kinds) for node in descendants(body))


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
class SilentFallbackPrediction(CallRecorder):
    name = "silent-fallback-prediction"
    tokens = BROAD_HANDLER_TOKENS
    code_tokens = True
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
