"""Code that assumes one GPU: pinned device indices, rank-blind device placement, and
distributed training that feeds every rank the same data."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from reviewer.detectors.ml_code import (
    NO_GRAD,
    FunctionSite,
    ImportedNames,
    ModuleCalls,
    assigned_names,
    called_name,
    mentions,
    uses_training_framework,
)
from reviewer.engine.names import dotted_name
from reviewer.engine.prefilter import last_names
from reviewer.engine.walk import descendants
from reviewer.ruleset.conditions import ArgRef, find_argument, is_unknown, literal_value
from reviewer.ruleset.detector import Detector, register

CUDA_INDEX = re.compile(r"^cuda:(\d+)$")
# What may stand between two tokens: spaces, line continuations, comments.
_GAP = r"(?:\s|\\|#[^\n]*\n)*"
# What may follow a string literal before the next comma or parenthesis: spaces, line
# continuations, comments, empty strings glued on.
_AFTER_STRING = r"""["'](?:[\s\\"'rRuU]|#[^\n]*\n)*"""
# A branch whose test says any of these was written with several processes or devices in
# mind: what it pins is the single-process path, a deliberate per-rank choice, or a default
# for a missing index (``if device.index is None``) when comparing devices.
RANK_AWARE_WORDS = (
    "rank", "distributed", "world_size", "ddp", "n_gpu", "num_gpu", "gpus", "device_count",
    "is_initialized", "multi", "data_parallel", "dataparallel", "nproc", "cuda_visible_devices", "index",
)
INIT_PROCESS_GROUP = frozenset({
    "torch.distributed.init_process_group",
    "torch.distributed.distributed_c10d.init_process_group",
})
GLOBAL_RANK = "(the global rank)"  # how GPU001 names set_device(RANK)'s index
GLOBAL_RANK_NAMES = frozenset({"RANK", "GLOBAL_RANK", "global_rank", "WORLD_RANK"})
GET_RANK = frozenset({"torch.distributed.get_rank", "torch.distributed.distributed_c10d.get_rank"})
DDP_WRAPPERS = frozenset({
    "torch.nn.parallel.DistributedDataParallel",
    "torch.nn.parallel.distributed.DistributedDataParallel",
    "torch.distributed.fsdp.FullyShardedDataParallel",
    "torch.distributed.fsdp.fully_sharded_data_parallel.FullyShardedDataParallel",
    "torch.distributed.fsdp.fully_shard",
    "torch.distributed._composable.fsdp.fully_shard",
})


def starts_one_process_world(call: cst.Call) -> bool:
    """``init_process_group("fake", ...)`` or ``world_size=1``: a single process, often
    spread over several devices on purpose (pipeline benchmarks, graph tracing)."""
    backend = argument(call, "backend", 0)
    world_size = argument(call, "world_size", 3)
    return (backend is not None and literal_string(backend) == "fake") or (
        world_size is not None and literal_value(world_size) == 1
    )


def literal_string(node: cst.BaseExpression) -> str | None:
    value = literal_value(node)
    return value if isinstance(value, str) else None


def literal_int(node: cst.BaseExpression) -> int | None:
    value = literal_value(node)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pinned_cuda_index(node: cst.BaseExpression) -> int | None:
    match = CUDA_INDEX.match(literal_string(node) or "")
    return int(match.group(1)) if match else None


def tested_setting(test: cst.BaseExpression) -> str | None:
    """``device_id``, ``not args.gpu``, ``args.gpu is not None``: the value a condition checks."""
    if isinstance(test, cst.UnaryOperation):
        test = test.expression
    if isinstance(test, cst.Comparison):
        test = test.left
    return dotted_name(test)


def fallback_sides(node: cst.IfExp) -> set[int]:
    """The branches of ``torch.device(f"cuda:{i}") if i else torch.device("cuda:0")`` that
    stand in when the setting the test checks is missing: a default, as a parameter's is."""
    setting = tested_setting(node.test)
    if setting is None:
        return set()
    return {id(side) for side, other in ((node.body, node.orelse), (node.orelse, node.body))
            if any(dotted_name(n) == setting for n in (other, *descendants(other))
                   if isinstance(n, (cst.Name, cst.Attribute)))}


def compares_to_plain_cuda(test: cst.BaseExpression) -> bool:
    """``device == "cuda"``: a setting that names no index, which means GPU 0."""
    return isinstance(test, cst.Comparison) and any(
        isinstance(c.operator, cst.Equal) and literal_string(c.comparator) == "cuda" for c in test.comparisons)


def argument(call: cst.Call, name: str, position: int | None = None) -> cst.BaseExpression | None:
    found = find_argument(call, ArgRef(name, position), any(a.star == "*" for a in call.args))
    return None if found is None or is_unknown(found) else found


@dataclass
class _Candidate:  # reported in finish(), once the whole module is known
    node: cst.CSTNode
    symbol: str
    function: str
    fields: dict[str, str]
    function_node: cst.CSTNode | None = None


class _DeviceDetector(Detector):
    """Tracks the ``if`` tests around the node being visited and what in the module says
    it runs as one of several processes."""

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.branch_tests: list[cst.BaseExpression] = []
        self.candidates: list[_Candidate] = []
        self.multi_process_evidence = False

    def visit_If(self, node: cst.If) -> None:
        self.branch_tests.append(node.test)

    def leave_If(self, node: cst.If) -> None:
        self.branch_tests.pop()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self.branch_tests.append(node.test)

    def leave_IfExp(self, node: cst.IfExp) -> None:
        self.branch_tests.pop()

    def visit_Import(self, node: cst.Import) -> None:
        # The resolver records ``import torch.distributed`` as an import of ``torch`` only.
        if any(mentions(self.scan, alias.name, ("torch.distributed",)) for alias in node.names):
            self.multi_process_evidence = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "LOCAL_RANK" in node.value:
            self.multi_process_evidence = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in ("local_rank", "LOCAL_RANK"):
            self.multi_process_evidence = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in ("local_rank", "LOCAL_RANK"):
            self.multi_process_evidence = True

    def rank_aware_branch(self) -> bool:
        return any(mentions(self.scan, test, RANK_AWARE_WORDS) for test in self.branch_tests)

    def remember(self, node: cst.CSTNode, **fields: str) -> None:
        context = self.scan.context
        function = context.function
        self.candidates.append(_Candidate(node, context.symbol, context.function_name, fields,
                                          function.node if function is not None else None))

    def report_candidates(self) -> None:
        for candidate in self.candidates:
            self.report(candidate.node, symbol=candidate.symbol, function=candidate.function, **candidate.fields)

    def note_multi_process_call(self, qualified: str | None) -> None:
        if qualified and (qualified in INIT_PROCESS_GROUP or qualified in DDP_WRAPPERS
                          or qualified.startswith("torch.distributed.")):
            self.multi_process_evidence = True


@register
class HardcodedGpuIndex(_DeviceDetector):
    name = "hardcoded-gpu-index"
    tokens = (
        ("cuda", frozenset({"set_device", "device"})),  # torch.cuda.set_device(0), x.cuda(device=0)
        ("cuda", re.compile(rf"cuda(?:{_GAP}\))*{_GAP}\((?:{_GAP}[(\-+])*{_GAP}\d")),  # x.cuda(0)
        re.compile("cuda:"),  # "cuda:0" as a device, map_location, ...
        re.compile("CUDA_VISIBLE_DEVICES"),  # os.environ["CUDA_VISIBLE_DEVICES"] = "0"
        "device_ids",
        # torch.device("cuda", 0): the string is followed by a comma, or closes the call after index=0.
        ("torch", "device", re.compile(f"cuda{_AFTER_STRING},")),
        ("torch", "device", "index", re.compile(rf"cuda{_AFTER_STRING}\)")),
    )
    code_tokens = True
    fields = frozenset({"index", "scenario"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.traces_on_one_process = False
        self.fallbacks: set[int] = set()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        super().visit_IfExp(node)
        self.fallbacks |= fallback_sides(node)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        self.note_multi_process_call(qualified)
        if qualified in INIT_PROCESS_GROUP:
            self.traces_on_one_process |= starts_one_process_world(node)
        index = self._pinned_index(node, qualified)
        if index is not None and not self._chosen_on_purpose(index) and id(node) not in self.fallbacks:
            self.remember(node, index=index)

    def _chosen_on_purpose(self, index: str) -> bool:
        """Inside a branch on the rank or GPU count, or GPU 0 where the setting says plain "cuda"."""
        return self.rank_aware_branch() or (
            index == "0" and any(compares_to_plain_cuda(test) for test in self.branch_tests))

    def visit_Assign(self, node: cst.Assign) -> None:
        self._note_device_assignment(node)
        # os.environ["CUDA_VISIBLE_DEVICES"] = "0": every process sees the same GPU.
        value = literal_string(node.value)
        if value is None or not re.fullmatch(r"[0-9, ]+", value):
            return
        for target in node.targets:
            subscript = target.target
            if (
                isinstance(subscript, cst.Subscript)
                and self.scan.names.qualify(subscript.value) == "os.environ"
                and len(subscript.slice) == 1
                and isinstance(subscript.slice[0].slice, cst.Index)
                and literal_string(subscript.slice[0].slice.value) == "CUDA_VISIBLE_DEVICES"
                and not self.rank_aware_branch()
            ):
                self.remember(node, index=value.strip())

    def _note_device_assignment(self, node: cst.Assign) -> None:
        """``device = "cuda:0"``, ``self.device = "cuda:1" if cuda_ok else "cpu"``."""
        names = [t.target.value if isinstance(t.target, cst.Name) else t.target.attr.value
                 for t in node.targets if isinstance(t.target, (cst.Name, cst.Attribute))]
        if not any("device" in name.lower() for name in names):
            return
        value = node.value
        if isinstance(value, cst.IfExp):
            if mentions(self.scan, value.test, RANK_AWARE_WORDS):
                return
            defaults = fallback_sides(value)
            sides = [side for side in (value.body, value.orelse) if id(side) not in defaults]
            index = next((i for i in map(pinned_cuda_index, sides) if i is not None), None)
        else:
            index = pinned_cuda_index(value)
        if index is not None and not self._chosen_on_purpose(str(index)):
            self.remember(node, index=str(index))

    def _pinned_index(self, call: cst.Call, qualified: str | None) -> str | None:
        method = called_name(call)
        if qualified in ("torch.device", "torch.cuda.device", "torch.cuda.set_device"):
            first = argument(call, "device", 0)
            if first is None:
                return None
            if qualified == "torch.device" and literal_string(first) == "cuda":
                index = argument(call, "index", 1)
                number = literal_int(index) if index is not None else None
                if number is None and index is not None and self._is_global_rank(index):
                    return f"{self.scan.code(index)} {GLOBAL_RANK}"
                return str(number) if number is not None else None
            if qualified != "torch.device" and self._is_global_rank(first):
                return f"{self.scan.code(first)} {GLOBAL_RANK}"
            pinned = pinned_cuda_index(first)
            if pinned is None and qualified != "torch.device":
                pinned = literal_int(first)
            return str(pinned) if pinned is not None else None
        if method == "cuda" and isinstance(call.func, cst.Attribute):
            first = argument(call, "device", 0)
            number = literal_int(first) if first is not None else None
            if number is None and first is not None:
                number = pinned_cuda_index(first)
            return str(number) if number is not None else None
        if method == "to" and isinstance(call.func, cst.Attribute):
            first = argument(call, "device", 0)
            pinned = pinned_cuda_index(first) if first is not None else None
            if pinned is not None:
                return str(pinned)
        for arg in call.args:
            if arg.keyword is None:
                continue
            keyword = arg.keyword.value
            if keyword in ("device", "map_location", "output_device"):
                pinned = pinned_cuda_index(arg.value)
                if pinned is not None:
                    return str(pinned)
            elif keyword == "device_ids" and isinstance(arg.value, (cst.List, cst.Tuple)):
                numbers = [literal_int(e.value) for e in arg.value.elements]
                if numbers and all(n is not None for n in numbers):
                    return ", ".join(map(str, numbers))
        return None

    def _is_global_rank(self, node: cst.BaseExpression) -> bool:
        """``RANK``, ``dist.get_rank()``, ``int(os.environ["RANK"])``: on the second node the
        global rank is 8 and up, past the node's last GPU."""
        if isinstance(node, cst.Call) and called_name(node) == "int" and node.args:
            node = node.args[0].value
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = node.value if isinstance(node, cst.Name) else node.attr.value
            return name in GLOBAL_RANK_NAMES
        if isinstance(node, cst.Call):
            return self.scan.names.qualify(node.func) in GET_RANK
        if isinstance(node, cst.Subscript) and self.scan.names.qualify(node.value) == "os.environ":
            return len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index) and (
                literal_string(node.slice[0].slice.value) == "RANK")
        return False

    def finish(self) -> None:
        if self.traces_on_one_process:
            return
        distributed = self.multi_process_evidence or self.scan.names.imports_any(["torch.distributed"])
        for candidate in self.candidates:
            index = candidate.fields["index"]
            if index.endswith(GLOBAL_RANK):
                candidate.fields["scenario"] = (
                    "On the second node of a 2x8-GPU job the global rank is 8 to 15: this asks for a GPU"
                    " the node does not have, or doubles up ranks on one device.")
                continue
            candidate.fields["scenario"] = (
                (f"Under `torchrun --nproc_per_node=8`, every rank that reaches this line lands on GPU {index}:"
                 " seven GPUs idle while one runs out of memory.")
                if distributed else
                (f"On a node where GPU {index} is absent or already busy (a one-GPU instance, a shared"
                 " box, a second worker), this fails or piles onto one device while the others idle.")
            )
        self.report_candidates()


@register
class RankAgnosticDevice(_DeviceDetector):
    """In a script that starts its own process group, a bare ``.cuda()`` means the current
    device, which is GPU 0 on every rank unless something selects the rank's device."""

    name = "rank-agnostic-device"
    tokens = (("torch", last_names(INIT_PROCESS_GROUP)),)
    code_tokens = True
    fields = frozenset({"placement"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.calls = ModuleCalls.of(scan)
        self.selects_rank_device = False
        self.functions_reported: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.record_function(node)

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.calls.record_call(node).qualified
        if self._selects_device(node, qualified):
            self.selects_rank_device = True
        placement = self._default_device_placement(node, qualified)
        if placement and not self.rank_aware_branch() and self.scan.context.symbol not in self.functions_reported:
            self.functions_reported.add(self.scan.context.symbol)
            self.remember(node, placement=placement)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        # f"cuda:{local_rank}": the script builds a per-rank device.
        if mentions(self.scan, node, ("cuda:{",)):
            self.selects_rank_device = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        super().visit_SimpleString(node)
        value = literal_string(node) or ""
        # "cuda:" + str(rank), "cuda:%d" % rank, "cuda:{}".format(rank); launchers that
        # hand each process its own CUDA_VISIBLE_DEVICES.
        if (value.startswith("cuda:") and not CUDA_INDEX.match(value)) or "CUDA_VISIBLE_DEVICES" in value:
            self.selects_rank_device = True

    def _selects_device(self, call: cst.Call, qualified: str | None) -> bool:
        if qualified in ("torch.cuda.set_device", "torch.cuda.device", "torch.set_default_device",
                         "torch.accelerator.set_device_index"):
            return True
        if qualified == "torch.device" and argument(call, "index", 1) is not None:
            return True
        per_rank = ("rank", "gpu", "local")
        if called_name(call) in ("cuda", "to") and isinstance(call.func, cst.Attribute):
            first = argument(call, "device", 0)
            if first is not None and is_unknown(literal_value(first)) and mentions(self.scan, first, per_rank):
                return True
        device_ids = argument(call, "device_ids")
        return device_ids is not None and mentions(self.scan, device_ids, per_rank)

    def _default_device_placement(self, call: cst.Call, qualified: str | None) -> str | None:
        method = called_name(call)
        if method == "cuda" and isinstance(call.func, cst.Attribute) and not call.args:
            return ".cuda()"
        if qualified == "torch.device" and len(call.args) == 1 and literal_string(call.args[0].value) == "cuda":
            return 'torch.device("cuda")'
        if method == "to" and isinstance(call.func, cst.Attribute):
            first = argument(call, "device", 0)
            if first is not None and literal_string(first) == "cuda":
                return '.to("cuda")'
        device = argument(call, "device")
        if device is not None and literal_string(device) == "cuda":
            return 'device="cuda"'
        return None

    def _script_starts_process_group(self) -> bool:
        """The process group is started when this module runs as a script (under torchrun).
        A worker class or library helper that starts it is driven by an orchestrator (Ray,
        a launcher) that often gives each process a single visible GPU."""
        starts = [c for c in self.calls.calls
                  if c.qualified in INIT_PROCESS_GROUP and not starts_one_process_world(c.node)]
        if not starts:
            return False
        script = self.calls.script_functions()
        return any(c.function is None or id(c.function) in script for c in starts)

    def finish(self) -> None:
        if (self.candidates and not self.selects_rank_device and not uses_training_framework(self.scan)
                and self._script_starts_process_group()):
            self.report_candidates()


DATA_LOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
# Names that show the data is split across ranks some other way.
SHARDING_WORDS = (
    "distributedsampler", "split_dataset_by_node", "iterabledataset", "webdataset",
    "get_worker_info", "prepare_data_loader", "num_replicas",
)
SHARDING_NAMES = frozenset({"shard", "wds", "shard_by_rank"})
EVAL_WORDS = ("val", "test", "eval", "dev", "valid", "predict", "infer", "calib")


@register
class DdpWithoutDistributedSampler(Detector):
    name = "ddp-without-distributed-sampler"
    tokens = (("torch", last_names(DDP_WRAPPERS), last_names(DATA_LOADERS)),)
    code_tokens = True
    fields = frozenset({"loader"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.wraps_model = False
        self.shards_data = False
        self.assigned_to: dict[int, str] = {}
        self.rewrapped: set[str] = set()
        self.candidates: list[_Candidate] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            self.assigned_to[id(node.value)] = self.scan.code(node.targets[0].target)
        # loader = wrap(loader): a privacy engine, accelerator or launcher hands back its own loader.
        if isinstance(node.value, cst.Call):
            targets = {n for t in node.targets for n in assigned_names(t.target)}
            self.rewrapped |= {a.value.value for a in node.value.args
                               if isinstance(a.value, cst.Name) and a.value.value in targets}

    def visit_Name(self, node: cst.Name) -> None:
        self._note_sharding(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._note_sharding(node.attr.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._note_sharding(node.value)

    def _note_sharding(self, text: str) -> None:
        lowered = text.lower()
        if lowered in SHARDING_NAMES or any(word in lowered for word in SHARDING_WORDS):
            self.shards_data = True

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        if qualified in DDP_WRAPPERS:
            self.wraps_model = True
        elif qualified in DATA_LOADERS and self._feeds_training_without_sampler(node):
            context = self.scan.context
            self.candidates.append(_Candidate(node, context.symbol, context.function_name,
                                              {"loader": self.assigned_to.get(id(node), "this DataLoader")}))
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "streaming" and literal_value(arg.value) is True:
                self.shards_data = True

    def _feeds_training_without_sampler(self, call: cst.Call) -> bool:
        if any(a.star == "**" for a in call.args):
            return False
        if argument(call, "sampler", 3) is not None or argument(call, "batch_sampler", 4) is not None:
            return False
        # An evaluation loader that every rank reads in full costs time, not correctness.
        shuffle = argument(call, "shuffle", 2)
        dataset = argument(call, "dataset", 0)
        named = self.assigned_to.get(id(call), "") + " " + (self.scan.code(dataset) if dataset is not None else "")
        if any(word in named.lower() for word in EVAL_WORDS):
            return False
        return (shuffle is not None and literal_value(shuffle) is True) or "train" in named.lower()

    def finish(self) -> None:
        if self.wraps_model and not self.shards_data and not uses_training_framework(self.scan):
            for candidate in self.candidates:
                if candidate.fields["loader"] in self.rewrapped:
                    continue
                self.report(candidate.node, symbol=candidate.symbol, function=candidate.function, **candidate.fields)


DATA_PARALLEL = frozenset({
    "torch.nn.DataParallel",
    "torch.nn.parallel.DataParallel",
    "torch.nn.parallel.data_parallel.DataParallel",
    "torch.nn.parallel.data_parallel",
    "torch.nn.parallel.data_parallel.data_parallel",
})
# DataParallel as one backend among several the user picks (a strategy class, the
# non-distributed branch of a launcher check) is a choice already made, not an oversight.
BACKEND_CHOICE_WORDS = (
    "distributed", "ddp", "world_size", "local_rank", "data_parallel", "dataparallel",
    "strategy", "backend",
)


# set_grad_enabled(is_training) may leave gradients on.
GRAD_OFF = frozenset(NO_GRAD) - {"torch.set_grad_enabled"}
# Calls that show a function trains: a wrap there is the training job's wrap.
TRAINING_STEP_METHODS = frozenset({"backward", "step", "zero_grad", "train"})


@register
class DataParallelWrap(_DeviceDetector):
    name = "data-parallel"
    tokens = (("torch", last_names(DATA_PARALLEL)),)
    code_tokens = True

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.imports = ImportedNames()
        self.calls = ModuleCalls.of(scan)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.record_function(node)

    def visit_Import(self, node: cst.Import) -> None:
        super().visit_Import(node)
        self.imports.record_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.record_import(node)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.imports.record_assign(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        if self.calls.record_call(node).qualified not in DATA_PARALLEL:
            return
        context = self.scan.context
        owner = context.enclosing_class
        chosen = any(mentions(self.scan, test, BACKEND_CHOICE_WORDS) for test in self.branch_tests)
        if chosen or (owner is not None and any(w in owner.name.lower() for w in BACKEND_CHOICE_WORDS)):
            return
        self.remember(node)

    def _only_infers(self, function_node: cst.CSTNode | None) -> bool:
        """The function turns gradients off (``torch.no_grad``, ``.eval()``) and takes no
        training step: an evaluate or predict pass, with no gradients for DDP to sync."""
        site = self.calls.functions.get(id(function_node))
        if site is None:
            return False
        methods = [c for c in site.calls if isinstance(c.node.func, cst.Attribute)]
        if any(c.name in TRAINING_STEP_METHODS for c in methods):
            return False
        return any(c.name == "eval" and not c.node.args for c in methods) or self._turns_grad_off(site)

    def _turns_grad_off(self, site: FunctionSite) -> bool:
        decorators = [d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                      for d in site.node.decorators]
        return (any(c.qualified in GRAD_OFF for c in site.calls)
                or any(self.scan.names.qualify(d) in GRAD_OFF for d in decorators))

    def finish(self) -> None:
        self.candidates = [c for c in self.candidates if self.imports.reaches_through_import(c.node.func)
                           and not self._only_infers(c.function_node)]
        self.report_candidates()


CHECKPOINT_WORDS = ("ckpt", "checkpoint", "weight", "model", "state_dict", "pretrained", "resume")
# Side files of a checkpoint that hold no device tensors worth mapping.
NOT_WEIGHTS_WORDS = ("rng", "scaler", "sched", "meta", "training_args", "config", "vocab", "tokenizer", "dataloader",
                     "corpus", "cache", "lexicon", "stats")


@register
class TorchLoadWithoutMapLocation(_DeviceDetector):
    """``torch.load`` of what looks like model state, with no ``map_location``.

    Only loads that are recognisably checkpoints count: the result goes into
    ``load_state_dict``, is read as ``["model"]``/``["state_dict"]``, or the path or the
    variable is named like one. Caches, vocabularies and in-memory buffers are left alone.
    """

    name = "torch-load-without-map-location"
    tokens = (("torch", "load", frozenset({
        # How a call resolves to torch.load (reviewer/engine/names.py): written out, imported
        # from torch, or through another name for torch: an import or with ... as, an
        # assignment (= torch, := torch), an annotation (: torch, Optional[torch], None | torch).
        re.compile(rf"torch{_GAP}\.{_GAP}load\b"),
        re.compile(r"from[\s\\]+torch[\s\\]+import\b(?:[^\n;(\\]|\\[\s\S])*(?:\((?:[^)#]|#[^\n]*\n)*)?\bload\b"),
        re.compile(r"torch(?:[\s\\)]|#[^\n]*\n)*as\b"),
        re.compile(r"[=:\[,(|](?:[\s\\(]|#[^\n]*\n)*torch\b(?![\s\\]*\.)"),
    })),)
    code_tokens = True
    fields = frozenset({"target"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        # What the code around an expression calls it: the assignment targets or the
        # subscript it is read through, rendered only for the torch.load calls judged.
        self.meaning: dict[int, str | cst.CSTNode | tuple[cst.AssignTarget, ...]] = {}
        # Functions that restore FSDP state with offload_to_cpu=True: the files they read
        # were written from the matching CPU-offloaded state dicts.
        self.offloading_functions: set[int] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        self.meaning[id(node.value)] = tuple(node.targets)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.meaning[id(node.value)] = node

    def visit_Call(self, node: cst.Call) -> None:
        offload = argument(node, "offload_to_cpu")
        function = self.scan.context.function
        if offload is not None and literal_value(offload) is True and function is not None:
            self.offloading_functions.add(id(function.node))
        if called_name(node) in ("load_state_dict", "load_checkpoint", "set_state_dict"):
            for arg in node.args:
                self.meaning[id(arg.value)] = "state_dict"
        if self.scan.names.qualify(node.func) != "torch.load" or any(a.star for a in node.args):
            return
        location = argument(node, "map_location", 1)
        if location is not None and literal_value(location) is not None:
            return
        source = argument(node, "f", 0)
        if source is None or mentions(self.scan, source, ("bytesio", "buffer")):
            return
        described = (self._meaning_of(node) + " " + self.scan.code(source)).lower()
        if any(word in described for word in CHECKPOINT_WORDS) and not any(w in described for w in NOT_WEIGHTS_WORDS):
            self.remember(node, target=self.scan.code(source))

    def _meaning_of(self, node: cst.CSTNode) -> str:
        meaning = self.meaning.get(id(node), "")
        if isinstance(meaning, tuple):
            return " ".join(self.scan.code(target.target) for target in meaning)
        return meaning if isinstance(meaning, str) else self.scan.code(meaning)

    def finish(self) -> None:
        self.candidates = [c for c in self.candidates if id(c.function_node) not in self.offloading_functions]
        self.report_candidates()
