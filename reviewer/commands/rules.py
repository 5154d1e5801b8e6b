"""`arch-review rules`: list the rules."""

from __future__ import annotations

import argparse
import json
import sys

from reviewer.commands.common import all_rules
from reviewer.ruleset.docs import rules_markdown
from reviewer.types import RuleStatus


def run(args: argparse.Namespace) -> int:
    rules = sorted(all_rules(args).values(), key=lambda r: r.id)
    if args.format == "markdown":
        sys.stdout.write(rules_markdown(rules))
        return 0
    if not args.all and args.format == "text":
        rules = [r for r in rules if r.meta.status is RuleStatus.STABLE]
    if args.format == "json":
        payload = [
            {
                "id": r.id, "name": r.meta.name, "family": r.meta.family.value,
                "severity": r.meta.severity.value, "status": r.meta.status.value,
                "message": r.meta.message, "question": r.meta.question,
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return 0
    id_width = max((len(r.id) for r in rules), default=6)
    name_width = max((len(r.meta.name) for r in rules), default=4)
    for rule in rules:
        meta = rule.meta
        status = "" if meta.status is RuleStatus.STABLE else "  (preview)"
        line = (f"{meta.id:<{id_width}}  {meta.name:<{name_width}}  {meta.family.value:<18} "
                f"{meta.severity.value:<6}{status}")
        print(line.rstrip())
    return 0
