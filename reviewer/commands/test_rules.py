"""`arch-review test-rules [IDS]`: run the rules' own flag/ok examples."""

from __future__ import annotations

import argparse

from reviewer.commands.common import all_rules
from reviewer.commands.errors import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from reviewer.ruleset.examples import run_examples


def run(args: argparse.Namespace) -> int:
    rules = all_rules(args)
    chosen = [r for r in sorted(rules.values(), key=lambda r: r.id)
              if not args.ids or any(r.id.startswith(i.upper()) for i in args.ids)]
    if not chosen:
        raise UsageError("no rule matches " + ", ".join(args.ids))
    passed = failed = 0
    for rule in chosen:
        for outcome in run_examples(rule):
            if outcome.passed:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {outcome.test_id} ({rule.meta.source}): {outcome.detail}")
    print(f"{passed} passed, {failed} failed")
    return EXIT_FINDINGS if failed else EXIT_CLEAN
