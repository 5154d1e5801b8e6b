"""Training that cannot resume: which loops train, what counts as a save, and whose job it is."""

import pytest

from reviewer.ruleset.loader import load_rules
from tests.engine.rulefactory import run

RULES = load_rules()


def findings(code, rule_id, path="train.py"):
    result = run(code, RULES[rule_id], path=path)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


def script(body, tail="if __name__ == '__main__':\n    main()\n"):
    return "import torch\n\ndef main():\n" + body + "\n" + tail


EPOCHS = (
    "    for epoch in range(args.epochs):\n"
    "        for batch in loader:\n"
    "            loss = model(batch)\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
    "{extra}"
)


def test_ckp001_reports_the_outermost_training_loop_from_header_to_end():
    [finding] = findings(script(EPOCHS.format(extra="")), "CKP001")
    assert (finding.line, finding.location.end_line) == (4, 8)
    assert finding.message.startswith("`for epoch in range(args.epochs)` trains (`optimizer.step()`)")
    assert "`main`" in finding.question


@pytest.mark.parametrize(
    "save",
    [
        "torch.save(model.state_dict(), path)",
        "accelerator.save_state(output_dir)",
        "model.save_pretrained(out)",
        "dcp.save(state, checkpoint_id=path)",
        "mlflow.pytorch.log_model(model, 'model')",
        "train.report(metrics, checkpoint=Checkpoint.from_directory(tmp))",
        "checkpointer.save(step, state)",
    ],
)
def test_ckp001_any_save_in_the_loop_counts(save):
    extra = f"        if epoch % 5 == 0:\n            {save}\n"
    assert findings(script(EPOCHS.format(extra=extra)), "CKP001") == []


def test_ckp001_follows_helpers_and_methods_of_the_same_module():
    code = (
        "import torch\n"
        "class Trainer:\n"
        "    def step(self, batch):\n"
        "        self.loss(batch).backward()\n"
        "        self.optimizer.step()\n"
        "    def checkpoint(self):\n"
        "        torch.save(self.model.state_dict(), self.path)\n"
        "    def fit(self):\n"
        "        for epoch in range(self.epochs):\n"
        "            for batch in self.loader:\n"
        "                self.step(batch)\n"
        "            {save}\n"
        "if __name__ == '__main__':\n"
        "    Trainer().fit()\n"
    )
    assert findings(code.format(save="pass"), "CKP001")
    assert findings(code.format(save="self.checkpoint()"), "CKP001") == []


def test_ckp001_a_save_after_the_loop_does_not_help_a_run_that_dies_in_it():
    extra = ""
    code = script(EPOCHS.format(extra=extra) + "    torch.save(model.state_dict(), 'final.pt')\n")
    assert findings(code, "CKP001")


def test_ckp001_one_epoch_helper_is_judged_through_its_caller():
    code = (
        "import torch\n"
        "def train_one_epoch(model, loader, optimizer):\n"
        "    for batch in loader:\n"
        "        model(batch).backward()\n"
        "        optimizer.step()\n"
        "def main():\n"
        "    for epoch in range(100):\n"
        "        train_one_epoch(model, loader, optimizer)\n"
        "        {save}\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    )
    [finding] = findings(code.format(save="evaluate(model)"), "CKP001")
    assert finding.line == 7
    assert findings(code.format(save="torch.save(model.state_dict(), 'last.pt')"), "CKP001") == []


@pytest.mark.parametrize(
    "code",
    [
        # an RL update phase over one rollout: the framework's learn() elsewhere is the run
        "class PPO:\n    def train(self):\n        for epoch in range(self.n_epochs):\n"
        "            for data in self.rollout_buffer.get(self.batch_size):\n"
        "                self.loss(data).backward()\n                self.policy.optimizer.step()\n",
        # one update, called once per batch by the user's loop
        "class Trainer:\n    def step(self, batch):\n        for _ in range(self.ppo_epochs):\n"
        "            self.loss(batch).backward()\n            self.optimizer.step()\n",
        # a one-epoch helper with no caller in this module
        "def train_epoch(model, loader, opt):\n    for b in loader:\n        model(b).backward()\n        opt.step()\n",
        # toy loop
        script("    for _ in range(200):\n        model(x).sum().backward()\n        optimizer.step()\n"),
        # a scheduler's step is not an optimizer step
        script("    for batch in loader:\n        model(batch).backward()\n        scheduler.step()\n"),
        # test-time adaptation
        "def test(model, loader, opt):\n    for b in loader:\n        model(b).backward()\n        opt.step()\n"
        "if __name__ == '__main__':\n    test(m, l, o)\n",
    ],
)
def test_ckp001_leaves_loops_that_are_not_a_whole_run(code):
    assert findings(code, "CKP001") == []


@pytest.mark.parametrize(
    "code",
    [
        # a library fit(): nothing saves unless the user adds a callback
        "class Model:\n    def fit(self, loader, epochs):\n        for epoch in range(epochs):\n"
        "            for batch in loader:\n                self.loss(batch).backward()\n"
        "                self.optimizer.step()\n            self.callbacks.on_epoch_end(epoch)\n"
        "            self.save_epoch_logs(epoch)\n",
        # an epoch loop over a one-epoch function defined in another module
        "from engine import train_one_epoch\ndef main(args):\n    for epoch in range(args.epochs):\n"
        "        train_one_epoch(model, loader, optimizer, epoch)\n",
        # an optimizer kept in a dict
        "class T:\n    def train(self, num_epochs):\n        for self.epoch in range(num_epochs):\n"
        "            self.loss().backward()\n            for k, v in self.optimizers.items():\n                v.step()\n",
    ],
)
def test_ckp001_fit_loops_without_saving(code):
    [finding] = findings(code, "CKP001")
    assert finding.line == 3


ONE_EPOCH_OF_ITERATIONS = (
    "class BaseTask:\n"
    "    def _train_inner_loop(self, epoch, iters_per_epoch, model, data_loader, optimizer):\n"
    "        {loop}\n"
    "            loss = self.train_step(model=model, samples=next(data_loader))\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
)


@pytest.mark.parametrize(
    "loop",
    [
        "for i in metric_logger.log_every(range(iters_per_epoch), log_freq, header):",
        "for step in range(self.steps_per_epoch):",
        "while i < iters_per_epoch:",
    ],
)
def test_ckp001_a_loop_bounded_by_a_per_epoch_count_is_one_epoch(loop):
    # the runner's epoch loop (another module) is the run, and saves after each epoch
    assert findings(ONE_EPOCH_OF_ITERATIONS.format(loop=loop), "CKP001") == []


def test_ckp001_a_loop_over_every_epochs_steps_is_still_the_run():
    loop = "for step in range(num_epochs * iters_per_epoch):"
    [finding] = findings(ONE_EPOCH_OF_ITERATIONS.format(loop=loop), "CKP001")
    assert finding.line == 3


def test_ckp001_excludes_tests_and_benchmarks():
    code = script(EPOCHS.format(extra=""))
    assert findings(code, "CKP001", path="tests/test_train.py") == []
    assert findings(code, "CKP001", path="scripts/benchmark_ddp.py") == []


def test_ckp002_names_the_setting_and_the_horizon():
    code = (
        "from transformers import Trainer, TrainingArguments\n"
        "args = TrainingArguments('out', num_train_epochs=10, save_strategy='no')\n"
        "trainer = Trainer(model=model, args=args)\n"
        "trainer.train()\n"
    )
    [finding] = findings(code, "CKP002")
    assert "save_strategy='no'" in finding.message
    assert "a 10-epoch run" in finding.question


@pytest.mark.parametrize(
    "code",
    [
        "import lightning as L\nL.Trainer(enable_checkpointing=False, fast_dev_run=5).fit(m)\n",
        "import lightning as L\nL.Trainer(enable_checkpointing=False, max_steps=100).fit(m)\n",
        "import lightning as L\nt = L.Trainer(enable_checkpointing=False)\nt.predict(m, loader)\n",
        "from transformers import TrainingArguments\nargs = TrainingArguments('o', save_strategy='no', do_train=False)\n",
        "from transformers import Trainer, TrainingArguments\n"
        "a = TrainingArguments('o', save_strategy='no')\nTrainer(args=a).evaluate()\n",
    ],
)
def test_ckp002_leaves_smoke_runs_and_inference(code):
    assert findings(code, "CKP002") == []


def test_rules_sharing_the_module_record_find_what_each_finds_alone():
    code = script(
        "    for epoch in range(epochs):\n"
        "        for batch in loader:\n"
        "            try:\n"
        "                x = torch.load(batch)\n"
        "            except Exception:\n"
        "                continue\n"
        "            model(x).backward()\n"
        "            optimizer.step()\n"
    )
    rules = [RULES[rule_id] for rule_id in ("CKP001", "ERR001", "GPU001", "GPU002")]
    together = run(code, *rules, path="train.py")
    assert not together.rule_errors
    alone = [f for rule in rules for f in run(code, rule, path="train.py").findings]
    assert sorted((f.rule, f.line) for f in together.findings) == sorted((f.rule, f.line) for f in alone)
    assert {f.rule for f in together.findings} == {"CKP001", "ERR001"}
