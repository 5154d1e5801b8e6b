"""Serving code that does start-up work on every request: model loads, autograd bookkeeping.

A *request handler* is a function a serving framework calls once per request:
- a route of FastAPI, Flask, Quart, Sanic, Starlette, aiohttp, Litestar, BentoML,
  functions-framework or Modal (``@app.post(...)``, ``@bentoml.api``);
- a per-request method of a serving class: LitServe ``LitAPI.predict``/``decode_request``/...,
  KServe ``Model.predict``, MLflow ``PythonModel.predict``, Cog ``BasePredictor.predict``,
  Triton's ``TritonPythonModel.execute``, Ray Serve's ``__call__``, Tornado and Flask
  ``MethodView`` verbs;
- a function handed to Gradio as an event handler (``gr.Interface(fn=...)``, ``btn.click(f, ...)``);
- an AWS Lambda handler (``lambda_handler(event, context)``) or a SageMaker ``predict_fn``/
  ``input_fn``/``output_fn``/``transform_fn`` next to a ``model_fn``.
Their set-up counterparts (``setup``, ``load``, ``__init__``, ``model_fn``, start-up events)
are where loading belongs, and are never handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from reviewer.detectors.ml_code import NO_GRAD, CallSite, FunctionSite, ImportedNames, ModuleCalls
from reviewer.engine.patterns import NamePattern
from reviewer.engine.prefilter import root_and_last
from reviewer.ruleset.detector import Detector, register

WEB_FRAMEWORKS = frozenset({"fastapi", "flask", "quart", "sanic", "starlette", "aiohttp", "litestar",
                            "bentoml", "functions_framework", "modal", "robyn"})
ROUTE_VERBS = frozenset({"get", "post", "put", "delete", "patch", "route", "api_route", "websocket", "api",
                         "http", "web_endpoint", "fastapi_endpoint", "task"})
# Unresolved decorators that still read as routes, in modules importing a web framework.
_ROUTE_TEXT = re.compile(r"^@?\w*(app|router|api|bp|blueprint|routes|server|svc|service)\.(get|post|put|delete|patch|route|api_route|websocket|api)\(")

# Serving base classes -> the methods that run per request.
_SERVING_CLASSES = (
    (("litserve.LitAPI", "litserve.api.LitAPI"), {"predict", "decode_request", "encode_response", "batch", "unbatch"}),
    (("kserve.Model", "kserve.model.Model"), {"predict", "preprocess", "postprocess", "explain", "__call__"}),
    (("mlflow.pyfunc.PythonModel",), {"predict", "predict_stream"}),
    (("cog.BasePredictor",), {"predict"}),
    (("tornado.web.RequestHandler", "flask.views.MethodView"), {"get", "post", "put", "delete", "patch"}),
)
_RAY_DEPLOYMENT = ("ray.serve.deployment", "ray.serve.api.deployment")
_GRADIO_EVENTS = frozenset({"click", "submit", "change", "input", "upload", "select", "then", "success",
                            "release", "stream", "load"})
_SAGEMAKER_HANDLERS = frozenset({"predict_fn", "input_fn", "output_fn", "transform_fn"})
_LAMBDA_HANDLERS = ("lambda_handler", "handler")
_LAMBDA_PARAMS = ("event", "context")


# Code names a file holds if RequestHandlers can find a handler in it, any one of these
# (a qualified name's root is an imported module, written in an import statement).
HANDLER_TOKENS = frozenset({
    *WEB_FRAMEWORKS, *(root_and_last(name)[0] for names, _ in _SERVING_CLASSES for name in names),
    *(root_and_last(name)[0] for name in _RAY_DEPLOYMENT), "gradio", "TritonPythonModel",
    *((name, *_LAMBDA_PARAMS) for name in _LAMBDA_HANDLERS),
    *(("model_fn", name) for name in _SAGEMAKER_HANDLERS),
})

# A handler named like this exists to (re)load a model: loading is its job.
_LOADING_ENDPOINT = re.compile(r"load|switch|register|refresh|update|download|upload|deploy|warm|init|setup|"
                               r"startup|set_model|change_model|select_model|swap|add_model", re.I)


class RequestHandlers:
    """Which functions of a module run once per request; fed from a detector's hooks."""

    def __init__(self, scan) -> None:
        self.scan = scan
        self.calls = ModuleCalls.of(scan)
        self.gradio_handlers: set[str] = set()
        # Module-level imports are known before the walk (the resolver prescans them).
        self.web_module = scan.names.imports_any(WEB_FRAMEWORKS)
        self.gradio_module = scan.names.imports_any(["gradio"])

    def record_call(self, node: cst.Call) -> CallSite:
        site = self.calls.record_call(node)
        qualified = site.qualified or ""
        if qualified in ("gradio.Interface", "gradio.ChatInterface") or (
            self.gradio_module and site.name in _GRADIO_EVENTS and isinstance(node.func, cst.Attribute)
        ):
            handler = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "fn"), None)
            if handler is None and node.args and node.args[0].keyword is None:
                handler = node.args[0].value
            if isinstance(handler, cst.Name):
                self.gradio_handlers.add(handler.value)
        return site

    def is_handler(self, function: FunctionSite) -> bool:
        node = function.node
        if any(self._is_route(d.decorator) for d in node.decorators):
            return True
        owner = function.owner_class
        if owner is not None and function.parent is None:
            return function.name in self._per_request_methods(owner)
        if function.parent is not None:
            return False
        if function.name in self.gradio_handlers:
            return True
        if function.name in _LAMBDA_HANDLERS:
            params = [p.name.value for p in node.params.params]
            return tuple(params[:2]) == _LAMBDA_PARAMS
        return function.name in _SAGEMAKER_HANDLERS and "model_fn" in self.calls.functions_by_name

    def _is_route(self, decorator: cst.BaseExpression) -> bool:
        qualified = self.scan.names.qualify(decorator)
        if qualified is not None:
            root, _, _ = qualified.partition(".")
            return root in WEB_FRAMEWORKS and qualified.rsplit(".", 1)[-1] in ROUTE_VERBS
        return self.web_module and bool(_ROUTE_TEXT.match(self.scan.code(decorator).strip()))

    def _per_request_methods(self, owner: cst.ClassDef) -> set[str]:
        names = self.scan.names
        bases = {names.qualify(base.value) for base in owner.bases}
        for patterns, methods in _SERVING_CLASSES:
            if bases & set(patterns):
                return methods
        if owner.name.value == "TritonPythonModel":
            return {"execute"}
        if any(names.qualify(d.decorator) in _RAY_DEPLOYMENT for d in owner.decorators):
            return {"__call__"}
        return set()


@dataclass
class _Placement:
    """What the code around a call says about it, recorded as the walk passes."""

    guarded: bool  # under an `if` that tests whether something is loaded yet
    cached: bool  # its result is stored on self, a global, app.state or a cache entry


_GUARD_TEST = re.compile(r"\bis None\b|\bnot\b|\bin\b|hasattr|getattr|cache|loaded", re.I)


class _HandlerDetector(Detector):
    """Shared walk bookkeeping for the serving rules."""

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.handlers = scan.shared("request_handlers", RequestHandlers)
        self.calls = self.handlers.calls
        self.guards: list[cst.CSTNode | None] = []  # If tests; None marks a function boundary
        self.targets: list[tuple[cst.CSTNode, bool]] = []  # assignment statements and whether they store
        self.globals: list[set[str]] = [set()]
        self.imported = ImportedNames()

    def visit_Import(self, node: cst.Import) -> None:
        self.imported.record_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imported.record_import(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.record_function(node)
        self.guards.append(None)
        self.globals.append(set())

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.guards.pop()
        self.globals.pop()

    def visit_Global(self, node: cst.Global) -> None:
        self.globals[-1].update(item.name.value for item in node.names)

    def visit_If(self, node: cst.If) -> None:
        self.guards.append(node.test)

    def leave_If(self, node: cst.If) -> None:
        self.guards.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self.targets.append((node, any(self._stores(t.target) for t in node.targets)))
        for target in node.targets:
            self.imported.record_assign(target.target)

    def leave_Assign(self, node: cst.Assign) -> None:
        self.targets.pop()

    def _stores(self, target: cst.BaseExpression) -> bool:
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            return True
        return isinstance(target, cst.Name) and target.value in self.globals[-1]

    def placement(self) -> _Placement:
        guarded = False
        for test in reversed(self.guards):
            if test is None:
                break
            if _GUARD_TEST.search(self.scan.code(test)):
                guarded = True
                break
        return _Placement(guarded, bool(self.targets) and self.targets[-1][1])

    def handler_of(self, site: CallSite) -> FunctionSite | None:
        function = site.function
        return function if function is not None and self.handlers.is_handler(function) else None


# -- model loaded per request ------------------------------------------------------

_MODEL_LOADERS = frozenset({
    "torch.load", "torch.jit.load", "joblib.load", "transformers.pipeline", "keras.models.load_model",
    "keras.saving.load_model", "tensorflow.keras.models.load_model", "tensorflow.saved_model.load",
    "onnxruntime.InferenceSession", "sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder",
    "whisper.load_model", "spacy.load", "ultralytics.YOLO", "fasttext.load_model", "vllm.LLM", "llama_cpp.Llama",
    "open_clip.create_model_and_transforms", "tensorflow_hub.load", "cloudpickle.load", "xgboost.Booster",
    "lightgbm.Booster", "catboost.CatBoost", "gensim.models.Word2Vec.load", "gensim.models.KeyedVectors.load",
})
_MLFLOW_LOAD = re.compile(r"^mlflow\.(\w+\.)?load_model$")


def is_model_load(site: CallSite, imported: ImportedNames) -> bool:
    qualified = site.qualified or ""
    if qualified in _MODEL_LOADERS or _MLFLOW_LOAD.match(qualified):
        # `model(x)` after `model = torch.load(...)` resolves to torch.load too: only a
        # name reached through an import is the loader itself.
        return imported.reaches_through_import(site.node.func)
    if site.name == "from_pretrained":
        return "config" not in site.receiver.lower()
    return False


@register
class ModelLoadedPerRequest(_HandlerDetector):
    name = "model-loaded-per-request"
    # Any loader (its root module and its own name, or any receiver's from_pretrained) and any handler.
    tokens = ((frozenset({"from_pretrained", ("mlflow", "load_model"),
                          *map(root_and_last, _MODEL_LOADERS)}), HANDLER_TOKENS),)
    code_tokens = True
    fields = frozenset({"call", "handler"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.loads: list[tuple[CallSite, _Placement, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        site = self.handlers.record_call(node)
        if is_model_load(site, self.imported):
            self.loads.append((site, self.placement(), self.scan.context.symbol))

    def finish(self) -> None:
        if not self.loads:
            return
        handlers = [f for f in self.calls.functions.values() if self.handlers.is_handler(f)
                    and not _LOADING_ENDPOINT.search(f.name)]
        reached = {}
        for handler in handlers:
            for function in self._reached(handler):
                reached.setdefault(id(function), handler)
        for site, placement, symbol in self.loads:
            handler = reached.get(id(site.function)) if site.function is not None else None
            if handler is None or placement.guarded or placement.cached:
                continue
            self.report(site.node, symbol=symbol, call=self.scan.code(site.node.func), handler=handler.name)

    def _reached(self, handler: FunctionSite, depth: int = 2):
        """The handler and the undecorated module functions it calls, ``depth`` levels deep
        (a decorated helper may be cached: unknown)."""
        seen = [handler]
        frontier = [handler]
        for _ in range(depth):
            following = []
            for function in frontier:
                for call in function.calls:
                    for target in self.calls.targets(call):
                        if not target.node.decorators and target not in seen and not _LOADING_ENDPOINT.search(target.name):
                            seen.append(target)
                            following.append(target)
            frontier = following
        return seen


# -- inference with autograd on --------------------------------------------------------

# Callees whose result is a torch module; their own __call__/generate manage autograd when
# they come from a pipeline or an encoder library, so those are left out.
_TORCH_MODELS = re.compile(
    r"^(transformers\.(\w+\.)*(AutoModel\w*|\w+(Model|For\w+|LMHeadModel))\.from_pretrained"
    r"|torch\.load|torch\.hub\.load|timm\.create_model|torchvision\.models\.\w+)"
    r"(\.(eval|to|cuda|cpu|half|float|bfloat16|double))*$"  # model = load(...).eval().to(device)
)
_PLACEMENT_METHODS = frozenset({"eval", "to", "cuda", "cpu", "half", "float", "bfloat16", "double"})
_NO_GRAD_PATTERNS = tuple(NamePattern.compile(name) for name in NO_GRAD)
_GRAD_OFF_TEXT = re.compile(r"set_grad_enabled\(\s*False|requires_grad_\(\s*False|requires_grad\s*=\s*False|"
                            r"inference_mode\(|no_grad\(")


@register
class InferenceWithAutograd(_HandlerDetector):
    name = "inference-without-no-grad"
    # Where _TORCH_MODELS can match (a root and a name each writes) and any handler.
    tokens = ((frozenset({("transformers", "from_pretrained"), ("torch", "load"), ("timm", "create_model"),
                          ("torchvision", "models")}), HANDLER_TOKENS),)
    code_tokens = True
    fields = frozenset({"call", "handler"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.forwards: list[tuple[CallSite, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        site = self.handlers.record_call(node)
        if self.scan.context.inside_with(_NO_GRAD_PATTERNS):
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _PLACEMENT_METHODS:
            return
        model = func.value if isinstance(func, cst.Attribute) and func.attr.value == "forward" else func
        # The resolver names a variable after the call that made it: `model(x)` after
        # `model = AutoModel.from_pretrained(...)` resolves to the loader. Reached through
        # an import, the same name is the loader itself.
        if _TORCH_MODELS.match(self.scan.names.qualify(model) or "") and not self.imported.reaches_through_import(model):
            self.forwards.append((site, self.scan.context.symbol))

    def finish(self) -> None:
        if not self.forwards or _GRAD_OFF_TEXT.search(self.scan.text):
            return
        for site, symbol in self.forwards:
            handler = self.handler_of(site)
            if handler is not None:
                self.report(site.node, symbol=symbol, call=self.scan.code(site.node.func), handler=handler.name)

