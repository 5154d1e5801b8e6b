"""`arch-review explain ID`: what a rule looks for, why, and what to do instead."""

from __future__ import annotations

import argparse
import difflib
import sys

from reviewer.commands.common import all_rules
from reviewer.commands.errors import UsageError
from reviewer.ruleset.docs import explain_text


def run(args: argparse.Namespace) -> int:
    rules = all_rules(args)
    wanted = args.rule.strip()
    rule = rules.get(wanted.upper()) or next((r for r in rules.values() if r.meta.name == wanted), None)
    if rule is None:
        close = difflib.get_close_matches(wanted.upper(), list(rules), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"no rule {wanted!r}{hint}; `arch-review rules` lists them")
    sys.stdout.write(explain_text(rule))
    return 0
