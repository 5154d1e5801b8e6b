"""Does the prefilter ever hide a finding? Checks real trees, file by file.

    python bench/prefilter_check.py DIR [DIR ...] [--rules ID ...]

For each Python file under the directories, the rules the prefilter lets through are
compared with all the selected rules: where some rule is kept out, the file is analysed
both ways and the findings must be the same. Files every rule is let into need no check
(the same rules run), so only kept-out files are parsed. Prints each difference and a
summary; exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewer.engine.parsing import parse
from reviewer.engine.pipeline import rules_for
from reviewer.engine.runner import analyze_module, applies_to
from reviewer.engine.source import SourceError, read_source
from reviewer.ruleset.loader import load_rules, select_rules
from reviewer.types import Skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--rules", nargs="+", metavar="ID",
                        help="only these rules, preview ones included (default: the default rules)")
    args = parser.parse_args(argv)
    # Naming a rule selects it, preview rules included.
    rules = [r for r in select_rules(load_rules(), select=args.rules or ()).rules if r.change is None]
    files = checked = kept_out = differences = 0
    for directory in args.dirs:
        for path in sorted(directory.rglob("*.py")):
            relative = path.relative_to(directory).as_posix()
            try:
                text = read_source(path, 5_000_000).text
            except SourceError:
                continue
            files += 1
            applicable = [r for r in rules if applies_to(r, relative)]
            admitted = rules_for(applicable, relative, text)
            if len(admitted) == len(applicable):
                continue
            kept_out += len(applicable) - len(admitted)
            module = parse(relative, text)
            if isinstance(module, Skipped):
                continue
            checked += 1
            everything = analyze_module(relative, module, text, applicable).findings
            filtered = analyze_module(relative, module, text, admitted).findings if admitted else []
            missed = {(f.rule, f.location.line) for f in everything} - {(f.rule, f.location.line) for f in filtered}
            if missed or len(everything) != len(filtered):
                differences += 1
                print(f"{path}: the prefilter changes the findings: {sorted(missed) or 'same rules, other counts'}")
    print(f"{files} files; {checked} analysed both ways ({kept_out} rule-file pairs kept out); "
          f"{differences} with different findings")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
