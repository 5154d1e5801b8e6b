"""Coverage-guided fuzzing of the engine on arbitrary bytes (atheris / libFuzzer).

    pip install atheris
    python fuzz/fuzz_engine.py -max_total_time=600 fuzz/corpus     # run for ten minutes
    python fuzz/fuzz_engine.py crash-<sha1>                         # replay one input

The seed corpus (every rule's own flag and ok examples) is written to fuzz/corpus
on first use, and a dictionary of Python keywords, operators and the names the
rules match to fuzz/python.dict (both are generated, and git-ignored).

Each input goes through what a worker does with a file: decode (encoding cookie,
BOM, NUL check), parse, and every rule, preview rules included, with the prefilter
off so every rule sees every input. The only allowed outcomes are findings or a
``skipped`` entry; any exception is a bug. Inputs with operator chains the native
parser cannot take are left to the time limit (reviewer/engine/limits.py) and not
parsed here. libFuzzer saves a failing input as crash-<sha1>; keep it as a case in
tests/hostile/test_fuzz_regressions.py.
"""

from __future__ import annotations

import dataclasses
import keyword
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["reviewer"]):
    from reviewer.engine.parsing import may_stall_native_parser
    from reviewer.engine.pipeline import Target, analyze_target
    from reviewer.engine.source import SourceError, decode_source
    from reviewer.ruleset.loader import load_rules

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
DICTIONARY = HERE / "python.dict"
RULES = tuple(dataclasses.replace(rule, tokens=frozenset()) for rule in load_rules().values())
MAX_BYTES = 2_000_000
SYNTAX = (
    "( ) [ ] { } : , ; . ... -> = == != < > <= >= + - * / // % ** @ & | ^ ~ << >> += := "
    "# ' \" ''' \"\"\" f' b' \\"
).split() + ["\n", "\t", "\r\n", "\n    ", "async def ", "await ", "\ufeff"]


def fuzz_one(data: bytes) -> None:
    try:
        text = decode_source(Path("fuzzed.py"), data).text
    except SourceError:
        return
    if may_stall_native_parser(text):
        return
    outcome = analyze_target(Target("pkg/fuzzed.py", data=data), RULES, MAX_BYTES)
    for finding in outcome.findings:
        assert 1 <= finding.location.line <= finding.location.end_line, finding
        assert finding.fingerprint, finding


def write_seeds(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for rule in RULES:
        for index, example in enumerate(rule.flag_examples + rule.ok_examples):
            (directory / f"{rule.id}-{index}.py").write_text(example.code, encoding="utf-8")


def write_dictionary(path: Path) -> None:
    words = set(keyword.kwlist) | set(SYNTAX)
    for rule in RULES:
        for pattern in rule.call + rule.receiver:
            name = pattern.text.replace("*", "")
            words.add(name)
            words.update(name.split("."))
        words.update(rule.method)
    path.write_text("".join(f'"{_dictionary_escape(word)}"\n' for word in sorted(words) if word), encoding="ascii")


def _dictionary_escape(word: str) -> str:
    """libFuzzer's dictionary syntax: printable ASCII as is, every other byte as \\xNN."""
    return "".join(
        chr(byte) if 32 <= byte < 127 and byte not in b'"\\' else f"\\x{byte:02X}" for byte in word.encode("utf-8")
    )


def main() -> None:
    if not CORPUS.exists():
        write_seeds(CORPUS)
    if not DICTIONARY.exists():
        write_dictionary(DICTIONARY)
    arguments = list(sys.argv)
    if not any(argument.startswith("-dict=") for argument in arguments):
        arguments.insert(1, f"-dict={DICTIONARY}")
    atheris.Setup(arguments, fuzz_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
