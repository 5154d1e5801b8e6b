"""Code that assumes one GPU: what counts as pinned, rank-blind or unsharded, and what is trusted."""

import pytest

from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="train.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


DISTRIBUTED = "import os, torch\nimport torch.distributed as dist\n"


@pytest.mark.parametrize(
    "line, index",
    [
        ('model.to("cuda:1")', "1"),
        ("model.cuda(2)", "2"),
        ('torch.device("cuda", 3)', "3"),
        ("torch.cuda.set_device(0)", "0"),
        ('x = torch.zeros(4, device="cuda:0")', "0"),
        ('state = torch.load(p, map_location="cuda:0")', "0"),
        ("DDP(model, device_ids=[0, 1])", "0, 1"),
        ('os.environ["CUDA_VISIBLE_DEVICES"] = "0,1"', "0,1"),
    ],
)
def test_gpu001_names_the_pinned_index(line, index):
    [finding] = findings(DISTRIBUTED + line + "\n", "GPU001")
    assert f"GPU {index}" in finding.message
    assert f"GPU {index}" in finding.question


def test_gpu001_question_fits_distributed_and_single_process_code():
    [single] = findings('import torch\nmodel.to("cuda:1")\n', "GPU001")
    assert "GPU 1 is absent or already busy" in single.question
    [ranks] = findings('import torch.distributed\nmodel.to("cuda:1")\n', "GPU001")
    assert "torchrun --nproc_per_node=8" in ranks.question


@pytest.mark.parametrize(
    "line, expr",
    [
        ("torch.cuda.set_device(RANK)", "RANK"),
        ("torch.cuda.set_device(dist.get_rank())", "dist.get_rank()"),
        ('device = torch.device("cuda", int(os.environ["RANK"]))', 'int(os.environ["RANK"])'),
    ],
)
def test_gpu001_global_rank_as_device_index(line, expr):
    [finding] = findings(DISTRIBUTED + line + "\n", "GPU001")
    assert finding.message.endswith(f"pins work to GPU {expr} (the global rank)")
    assert "second node" in finding.question


@pytest.mark.parametrize(
    "code, flagged",
    [
        ('self.device = "cuda:0" if torch.cuda.is_available() else "cpu"\n', True),
        ('device = "cuda:1"\n', True),
        ('device = "cuda:0" if world_size == 1 else f"cuda:{rank}"\n', False),
        ('device = "cuda" if torch.cuda.is_available() else "cpu"\n', False),
        ('name = "cuda:0"\n', False),
        # comparing devices: a missing index means the current device, 0
        ('if first.type == "cuda" and first.index is None:\n    first = torch.device("cuda", index=0)\n', False),
        # the default for a missing setting: the other side uses what the test checks
        ('device = torch.device(f"cuda:{device_id}") if device_id else torch.device("cuda:0")\n', False),
        ('device = args.device if args.device is not None else "cuda:0"\n', False),
        ('model.to(torch.device("cuda:0") if not args.gpu else torch.device("cuda", args.gpu))\n', False),
        ('device = torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")\n', True),
        ('device = torch.device("cuda:1") if use_gpu else torch.device("cpu")\n', True),
        # plain "cuda" means GPU 0
        ('if self.device == "cuda":\n    torch.cuda.set_device(0)\n', False),
        ('if device == "cuda":\n    device = "cuda:0"\n', False),
        ('if self.device == "cuda":\n    torch.cuda.set_device(1)\n', True),
        ('if device.type == "cpu":\n    device = torch.device("cuda:0")\n', True),
    ],
)
def test_gpu001_literal_devices_in_single_process_code(code, flagged):
    assert bool(findings("import torch\n" + code, "GPU001")) is flagged


def test_gpu001_local_rank_is_not_the_global_rank():
    assert findings(DISTRIBUTED + "torch.cuda.set_device(local_rank)\ntorch.cuda.set_device(args.rank)\n",
                    "GPU001") == []


@pytest.mark.parametrize(
    "code",
    [
        'if args.local_rank == -1:\n    device = torch.device("cuda:0")\n',
        'if not dist.is_initialized():\n    model.cuda(0)\nelse:\n    model.cuda(local_rank)\n',
        'device = "cuda:0" if world_size == 1 else f"cuda:{rank}"\nmodel.to(torch.device(device))\n',
        'model.to(f"cuda:{local_rank}")\n',
        "model.cuda(local_rank)\n",
        'x.to("cuda")\n',
    ],
)
def test_gpu001_trusts_rank_aware_branches_and_computed_devices(code):
    assert findings(DISTRIBUTED + code, "GPU001") == []


SCRIPT = "import torch\nimport torch.distributed as dist\n"


def test_gpu002_flags_once_per_function_in_a_script():
    code = SCRIPT + (
        "def main():\n"
        "    dist.init_process_group('nccl')\n"
        "    model = Net().cuda()\n"
        "    batch = batch.cuda()\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    )
    [finding] = findings(code, "GPU002")
    assert finding.line == 5
    assert finding.message.startswith("`.cuda()`")


@pytest.mark.parametrize(
    "selection",
    [
        "torch.cuda.set_device(local_rank)",
        "with torch.cuda.device(rank):\n    pass",
        "device = torch.device('cuda', local_rank)",
        "device = f'cuda:{local_rank}'",
        "device = 'cuda:' + str(rank)",
        "model = DDP(model, device_ids=[args.gpu])",
        "model = model.cuda(args.gpu)",
        "os.environ['CUDA_VISIBLE_DEVICES'] = str(local_rank)",
    ],
)
def test_gpu002_silent_when_the_script_selects_the_rank_device(selection):
    code = SCRIPT + "import os\ndist.init_process_group('nccl')\n" + selection + "\nmodel = Net().cuda()\n"
    assert findings(code, "GPU002") == []


def test_gpu002_leaves_worker_classes_to_their_orchestrator():
    code = SCRIPT + (
        "class RolloutWorker(Worker):\n"
        "    def __init__(self):\n"
        "        dist.init_process_group('nccl')\n"
        "        self.model = Net().to('cuda')\n"
    )
    assert findings(code, "GPU002") == []


def test_gpu002_skips_trainer_frameworks():
    code = SCRIPT + "import deepspeed\ndist.init_process_group('nccl')\nmodel = Net().cuda()\n"
    assert findings(code, "GPU002") == []


def test_gpu003_flags_constructor_calls_not_calls_of_the_wrapped_model():
    code = "import torch.nn as nn\nmodel = nn.DataParallel(model)\nout = model(batch)\nself.net(x)\n"
    [finding] = findings(code, "GPU003")
    assert finding.line == 2


@pytest.mark.parametrize(
    "code",
    [
        "import torch\nif args.distributed:\n    m = DDP(m)\nelse:\n    m = torch.nn.DataParallel(m)\n",
        "from torch.nn import DataParallel\nclass DataParallelStrategy:\n    def setup(self, m):\n        return DataParallel(m)\n",
        "import torch\nok = isinstance(m, torch.nn.DataParallel)\n",
    ],
)
def test_gpu003_leaves_chosen_backends_and_type_checks(code):
    assert findings(code, "GPU003") == []


INFERENCE_WRAP = "import torch\n{decorator}def {name}(model, batches):\n    {mode}\n    model = torch.nn.DataParallel(model)\n{body}"


@pytest.mark.parametrize(
    "decorator, mode, body",
    [
        ("", "model.eval()", "    return [model(b) for b in batches]\n"),
        ("", "pass", "    with torch.no_grad():\n        return [model(b) for b in batches]\n"),
        ("@torch.inference_mode()\n", "pass", "    return [model(b) for b in batches]\n"),
    ],
)
def test_gpu003_leaves_inference_passes(decorator, mode, body):
    code = INFERENCE_WRAP.format(decorator=decorator, name="predict", mode=mode, body=body)
    assert findings(code, "GPU003") == []


@pytest.mark.parametrize(
    "body",
    [
        "    for b in batches:\n        model(b).sum().backward()\n        optimizer.step()\n",
        "    with torch.set_grad_enabled(training):\n        return [model(b) for b in batches]\n",
        "    return [model(b) for b in batches]\n",
    ],
)
def test_gpu003_flags_wraps_that_may_train(body):
    code = INFERENCE_WRAP.format(decorator="", name="fit", mode="pass", body=body)
    assert len(findings(code, "GPU003")) == 1
    evaluating_then_training = INFERENCE_WRAP.format(decorator="", name="fit", mode="model.eval()",
                                                     body=body + "    model.train()\n")
    assert len(findings(evaluating_then_training, "GPU003")) == 1


@pytest.mark.parametrize(
    "code",
    [
        "state = torch.load(args.resume)",
        "model.load_state_dict(torch.load(path))",
        "expert = torch.load(path)['model']",
        "weights = torch.load(f)",
        "sd = torch.load('lit_model.pth', mmap=True)",
    ],
)
def test_gpu004_flags_checkpoint_shaped_loads(code):
    assert findings("import torch\n" + code + "\n", "GPU004")


@pytest.mark.parametrize(
    "code",
    [
        "state = torch.load(args.resume, map_location='cpu')",
        "state = torch.load(args.resume, 'cpu')",
        "state = torch.load(args.resume, map_location=device)",
        "state = torch.load(args.resume, **kw)",
        "metrics = torch.load(io.BytesIO(payload))",
        "corpus = torch.load(cached_file)",
        "rng = torch.load(os.path.join(checkpoint, 'rng_state.pth'))",
        "scaler.load_state_dict(torch.load(scaler_file))",
        "loader.load_state_dict(torch.load(input_dataloader_state_dict_file))",
    ],
)
def test_gpu004_leaves_mapped_loads_buffers_and_side_files(code):
    assert findings("import io, os, torch\n" + code + "\n", "GPU004") == []


FSDP_RESUME = (
    "import torch\n"
    "from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, ShardedStateDictConfig, StateDictType\n"
    "def load_checkpoint(model, model_path):\n"
    "    model_state = torch.load(model_path)\n"
    "    config = ShardedStateDictConfig(offload_to_cpu={offload})\n"
    "    with FSDP.state_dict_type(model, StateDictType.SHARDED_STATE_DICT, config):\n"
    "        model.load_state_dict(model_state)\n"
    "def load_pretrained(model, path):\n"
    "    model.load_state_dict(torch.load(path))\n"
)


def test_gpu004_leaves_restores_of_cpu_offloaded_fsdp_state():
    [pretrained] = findings(FSDP_RESUME.format(offload="True"), "GPU004")
    assert pretrained.line == 9
    assert [f.line for f in findings(FSDP_RESUME.format(offload="False"), "GPU004")] == [4, 9]


DDP_MODULE = (
    "import torch\n"
    "from torch.nn.parallel import DistributedDataParallel as DDP\n"
    "from torch.utils.data import DataLoader\n"
    "model = DDP(model, device_ids=[rank])\n"
)


def test_gpu005_flags_the_training_loader():
    [finding] = findings(DDP_MODULE + "train_loader = DataLoader(train_set, batch_size=64, shuffle=True)\n", "GPU005")
    assert "`train_loader`" in finding.message


@pytest.mark.parametrize(
    "loader",
    [
        "val_loader = DataLoader(val_set, batch_size=64)",
        "loader = DataLoader(dataset, batch_size=64)",
        "train_loader = DataLoader(train_set, 64, False, sampler)",
        "train_loader = DataLoader(train_set, batch_sampler=bucket_sampler)",
        "train_loader = DataLoader(train_set, **kw)",
        "train_loader = DataLoader(train_set, shuffle=True)\ntrain_loader = idist.auto_dataloader(train_loader)",
        "train_loader = DataLoader(load_dataset('c4', streaming=True), batch_size=8)",
        "train_set = train_set.shard(num_shards=world, index=rank)\ntrain_loader = DataLoader(train_set, shuffle=True)",
    ],
)
def test_gpu005_trusts_samplers_sharding_and_eval_loaders(loader):
    assert findings(DDP_MODULE + loader + "\n", "GPU005") == []
