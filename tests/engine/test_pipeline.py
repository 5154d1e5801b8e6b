"""Prefilter, cache and worker count never change what a run reports."""

import dataclasses
import json
from pathlib import Path

from reviewer.engine.cache import OutcomeCache
from reviewer.engine.pipeline import Target, analyze
from reviewer.ruleset.loader import load_rules, select_rules

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def corpus(tmp_path: Path) -> list[Target]:
    """The example project's files plus every rule's flag examples, and some noise."""
    targets = [Target(p.relative_to(EXAMPLES).as_posix(), file=p) for p in sorted(EXAMPLES.rglob("*.py"))]
    for rule in load_rules().values():
        if rule.change is not None:
            continue  # a change rule's examples are diffs, not Python files
        for index, example in enumerate(rule.flag_examples + rule.ok_examples):
            path = tmp_path / f"{rule.id}_{index}.py"
            path.write_text(example.code, encoding="utf-8")
            targets.append(Target(path.name, file=path))
    # A file with no rule's trigger words is never parsed, so only a broken file
    # that some rule could match is reported as skipped, with or without prefilter.
    (tmp_path / "broken.py").write_text("import requests\nrequests.get(u)\ndef f(:\n")
    targets.append(Target("broken.py", file=tmp_path / "broken.py"))
    return targets


def report(result) -> str:
    return json.dumps(
        {
            "findings": [f.to_json() for f in result.findings],
            "skipped": [s.to_json() for s in result.skipped],
            "files": result.stats.files,
        },
        sort_keys=True,
    )


def test_output_is_identical_across_prefilter_cache_and_workers(tmp_path):
    rules = select_rules(load_rules()).rules
    targets = corpus(tmp_path / "src") if (tmp_path / "src").mkdir() is None else []
    baseline = analyze(targets, rules, max_bytes=10**7, jobs=1)
    assert baseline.findings, "the corpus must produce findings for this test to mean anything"

    unfiltered = [dataclasses.replace(rule, tokens=frozenset()) for rule in rules]
    without_prefilter = analyze(targets, unfiltered, max_bytes=10**7, jobs=1)
    missed = {(f.rule, f.location.path) for f in without_prefilter.findings} - {
        (f.rule, f.location.path) for f in baseline.findings
    }
    assert not missed, f"these rules' tokens miss words their findings need: {sorted(missed)}"
    assert report(without_prefilter) == report(baseline)

    assert report(analyze(targets, rules, max_bytes=10**7, jobs=2)) == report(baseline)

    cache = OutcomeCache(tmp_path / "cache", rules, 10**7)
    cold = analyze(targets, rules, max_bytes=10**7, jobs=2, cache=cache)
    warm = analyze(targets, rules, max_bytes=10**7, jobs=1, cache=cache)
    assert report(cold) == report(warm) == report(baseline)
    assert warm.stats.parsed == baseline.stats.parsed


def test_cache_key_changes_with_the_ruleset(tmp_path):
    rules = select_rules(load_rules()).rules
    fewer = [r for r in rules if r.id != rules[0].id]
    assert OutcomeCache(tmp_path, rules, 10).directory != OutcomeCache(tmp_path, fewer, 10).directory
    assert OutcomeCache(tmp_path, rules, 10).directory != OutcomeCache(tmp_path, rules, 11).directory


def test_unwritable_cache_only_costs_speed(tmp_path):
    rules = select_rules(load_rules()).rules
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    cache = OutcomeCache(blocker, rules, 10**7)
    targets = corpus(tmp_path / "src") if (tmp_path / "src").mkdir() is None else []
    assert report(analyze(targets, rules, max_bytes=10**7, jobs=1, cache=cache)) == report(
        analyze(targets, rules, max_bytes=10**7, jobs=1)
    )
