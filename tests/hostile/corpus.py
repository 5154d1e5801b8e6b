"""The hostile corpus: source files, configs and rule files made to crash, hang or
fool arch-review. Generated on demand, never checked in:

    python tests/hostile/corpus.py OUT_DIR        # writes OUT_DIR/sources, configs, rules

Every source case carries what arch-review must do with it: skip it with a reason
(matched by a regex), or analyse it and find the one ``requests.get`` call without
a timeout (rule TMO001) on a known line. docs/reliability.md lists the same cases.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

CALL = "requests.get(url)"
SMELL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"  # TMO001 on line 5


@dataclass(frozen=True)
class SourceCase:
    name: str
    data: bytes
    what: str  # for docs/reliability.md
    reason: str = ""  # regex the skip reason must match; empty: analysed
    line: int | None = None  # where the TMO001 finding is when analysed
    config: str = ""  # extra .arch-review.yml text the case needs

    @property
    def skipped(self) -> bool:
        return bool(self.reason)


def _text(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _with_call(expression: str) -> bytes:
    """A module whose second line is ``expression`` and whose last line is the smell."""
    return b"import requests\n" + expression.encode() + b"\n" + CALL.encode() + b"\n"


# Skip reasons a run may give for a file that must be stopped: which one depends on
# whether the native parser crashed or ran out of time first.
STOPPED = r"^(stopped after [\d.]+ s \(file_timeout\)|the analysis process crashed.*|nested too deeply to parse)$"


def quick_sources() -> list[SourceCase]:
    """Cases that take milliseconds each, whatever the machine."""
    return [
        SourceCase("good.py", SMELL.encode(), "an ordinary file next to the hostile ones", line=5),
        SourceCase(
            "binary_named_py.py",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "a binary file (a PNG) named .py",
            reason=r"^binary file \(contains NUL bytes\)$",
        ),
        SourceCase(
            "nul_byte.py", _with_call("x = 1\x00"), "a NUL byte in otherwise valid Python",
            reason=r"^binary file \(contains NUL bytes\)$",
        ),
        SourceCase(
            "invalid_utf8.py", b"import requests\nx = '\xff\xfe\xfa'\n" + CALL.encode() + b"\n",
            "bytes that are not UTF-8, no coding cookie",
            reason=r"^not valid utf-8 \(byte \d+ on line 2\)$",
        ),
        SourceCase(
            "cookie_says_ascii.py",
            _text("# -*- coding: ascii -*-", "import requests", "# café", CALL),
            "a coding cookie that lies (ascii, but the file has UTF-8 bytes)",
            reason=r"^not valid ascii \(byte \d+ on line 3\)$",
        ),
        SourceCase(
            "cookie_says_utf16.py",
            _text("# coding: utf-16", "import requests", CALL),
            "a coding cookie naming an encoding source cannot use (utf-16)",
            reason=r"^coding cookie names 'utf-16'",
        ),
        SourceCase(
            "cookie_unknown.py",
            _text("# coding: klingon", "import requests", CALL),
            "a coding cookie naming no encoding at all",
            reason=r"^unknown encoding 'klingon' in coding cookie$",
        ),
        SourceCase(
            "cookie_latin1_truthful.py",
            "# -*- coding: latin-1 -*-\nimport requests\n# café\nrequests.get(url)\n".encode("latin-1"),
            "a truthful latin-1 cookie",
            line=4,
        ),
        SourceCase(
            "bom_crlf_tabs.py",
            b"\xef\xbb\xbfimport requests\r\n\r\n\r\ndef fetch(url):\r\n\tif url:\r\n\t\treturn requests.get(url)\r\n",
            "a UTF-8 BOM, CRLF line ends and tab indentation together",
            line=6,
        ),
        SourceCase(
            "tabs_and_spaces.py",
            b"import requests\nif True:\n\tx = 1\n        requests.get(url)\n",
            "tabs and spaces mixed inconsistently (Python's TabError)",
            reason=r"^syntax error at 4:\d+: inconsistent use of tabs and spaces in indentation$",
        ),
        SourceCase(
            "python2.py",
            _text("import requests", "print 'fetching'", "exec 'x = 1'", CALL),
            "Python 2 syntax",
            reason=r"^syntax error at 2:\d+: Missing parentheses in call to 'print'",
        ),
        SourceCase(
            "python312_syntax.py",
            _text(
                "import requests", "", "type Url = str", "", "",
                "def fetch[T](url: T) -> T:", "    return requests.get(url)",
            ),
            "syntax only newer Pythons accept (3.12 type statement and generics)",
            line=7,
        ),
        SourceCase(
            "deep_parentheses.py", _with_call("x = " + "(" * 10_000 + "1" + ")" * 10_000),
            "10,000 nested parentheses",
            reason=r"^syntax error at 2:\d+: too many nested parentheses$",
        ),
        SourceCase(
            "deep_mixed_brackets.py", _with_call("x = " + "[{(" * 3_000 + ")}]" * 3_000),
            "9,000 nested brackets of three kinds",
            reason=r"^syntax error at 2:\d+: too many nested parentheses$",
        ),
        SourceCase(
            "empty.py", b"", "an empty file", reason="",
        ),
        SourceCase(
            "only_a_bom.py", b"\xef\xbb\xbf", "a file that is only a BOM", reason="",
        ),
        SourceCase(
            "side_effects.py",
            _text(
                "import os, pathlib, requests",
                "pathlib.Path(os.environ.get('HOSTILE_CANARY', '/nonexistent/x')).write_text('imported')",
                "os.system('touch ' + os.environ.get('HOSTILE_CANARY', '/nonexistent/x') + '.system')",
                CALL,
            ),
            "import-time side effects (writes a file, runs a shell command)",
            line=4,
        ),
    ]


def stopped_sources() -> list[SourceCase]:
    """Cases the native parser stalls or crashes on: stopped by the time limit (or the crash)."""
    return [
        SourceCase(
            "deep_unary.py", _with_call("x = " + "-" * 10_000 + "1"),
            "10,000 nested unary minus (LibCST's parser time explodes)", reason=STOPPED,
        ),
        SourceCase(
            "deep_lambda.py", _with_call("f = " + "lambda: " * 10_000 + "1"),
            "10,000 nested lambdas (LibCST's parser overflows its stack: a segfault)", reason=STOPPED,
        ),
        SourceCase(
            "long_and_chain.py", _with_call("x = " + " and ".join(["a"] * 100_000)),
            "a 100,000-term boolean chain that CPython accepts (LibCST crashes or stalls)", reason=STOPPED,
        ),
    ]


def big_sources() -> list[SourceCase]:
    """Cases of several megabytes: the size cap, or with a raised cap the time limit."""
    concat = b"import requests\nx = " + b" + ".join([b'"aaaaaa"'] * 500_000) + b"\n" + CALL.encode() + b"\n"
    line = b"VALUE_%08d = requests.get  # generated\n"
    generated = b"import requests\n" + b"".join(line % i for i in range(20_000_000 // len(line % 0) + 1))
    return [
        SourceCase(
            "concat_5mb.py", concat, "a 5 MB string concatenation (overflows LibCST's parser stack)",
            reason=r"^file too large \([\d,]+ bytes; limit 2,000,000\)$",
        ),
        SourceCase(
            "generated_20mb.py", generated, "a 20 MB generated file",
            reason=r"^file too large \([\d,]+ bytes; limit 2,000,000\)$",
        ),
    ]


def slow_analysis_source(functions: int = 3_000) -> SourceCase:
    """A valid file whose analysis is long (thousands of findings): stopped by a short limit."""
    body = "".join(f"def fetch_{i}(url):\n    return requests.get(url)\n" for i in range(functions))
    return SourceCase(
        "slow_analysis.py", ("import requests\n" + body).encode(),
        "a valid file whose analysis outlasts the time limit (3,000 findings)",
        reason=r"^stopped after [\d.]+ s \(file_timeout\)$",
    )


# --------------------------------------------------------------------------- configs and rules

# (file text, regex the one-line error must match). The error names the file and the key path.
BAD_CONFIGS: list[tuple[str, bytes, str]] = [
    ("wrong type", b"select: TMO001\n", r"\.arch-review\.yml: select: expected a list of strings, got a string"),
    ("unknown key", b"selct: [TMO001]\n", r"\.arch-review\.yml: selct: unknown key; did you mean 'select'\?"),
    ("nested wrong type", b"llm:\n  max_tokens: lots\n", r"\.arch-review\.yml: llm\.max_tokens: expected a positive integer, got 'lots'"),
    ("list item type", b"exclude: [tests/**, 3]\n", r"\.arch-review\.yml: exclude\[1\]: expected a string, got 3"),
    ("severity value", b"severity: {TMO001: critical}\n", r"\.arch-review\.yml: severity\.TMO001: "),
    ("file_timeout", b"file_timeout: -1\n", r"\.arch-review\.yml: file_timeout: expected a positive number of seconds, got -1"),
    ("top level not a mapping", b"- select\n- ignore\n", r"\.arch-review\.yml: expected a mapping of settings, got a list"),
    ("YAML syntax", b"select: [TMO001\n", r"\.arch-review\.yml:\d+:\d+: invalid YAML"),
    ("billion laughs", b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        b"%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((bytes([c]),) * 2 + (bytes([c - 1]),) * 10)
        for c in range(ord("b"), ord("j"))
    ), r"\.arch-review\.yml: invalid YAML: more than 10,000 values"),
    ("recursive alias", b"select: &s [*s]\n", r"\.arch-review\.yml.*: invalid YAML"),
    ("deep nesting", b"select: " + b"[" * 5_000 + b"]" * 5_000 + b"\n", r"\.arch-review\.yml:\d+:\d+: invalid YAML: .*nested deeper than 32 levels"),
    ("python tag", b"select: !!python/object/apply:os.system ['touch /tmp/pwned']\n", r"\.arch-review\.yml:\d+:\d+: invalid YAML: .*could not determine a constructor"),
    ("huge file", b"# padding\n" * 200_000, r"\.arch-review\.yml: file is [\d,]+ bytes; a config file may be at most 1,000,000"),
    ("not UTF-8", b"select: [TMO001]\n# caf\xe9\n", r"\.arch-review\.yml:2: not valid UTF-8 \(byte 0xe9 at offset \d+\)"),
    ("duplicate key", b"select: [TMO001]\nselect: [TMO002]\n", r"\.arch-review\.yml:2:1: select: duplicate key"),
]

GOOD_RULE = """id: TEAM001
name: team-rule
family: no-timeout
severity: low
match: {call: [requests.get]}
message: "`{call}` without a deadline"
question: "What deadline fits here?"
docs: {what: w, why: w, example: e, instead: i}
examples:
  flag: ["import requests\\nrequests.get(u)\\n", "import requests as r\\nr.get(u)\\n"]
  ok: ["import requests\\nrequests.post(u)\\n", "x = 1\\n"]
"""

# (name, rule file text, regex of the one-line error). Each goes in its own rules_dirs folder.
BAD_RULES: list[tuple[str, bytes, str]] = [
    ("wrong type", GOOD_RULE.replace("severity: low", "severity: [low]").encode(), r"TEAM001\.yaml: severity: "),
    ("unknown key", GOOD_RULE.replace("message:", "mesage:").encode(), r"TEAM001\.yaml: mesage: unknown key"),
    ("nested unknown key", GOOD_RULE.replace("match: {call:", "match: {cal:").encode(), r"TEAM001\.yaml: match\.cal: unknown key"),
    ("YAML bomb", GOOD_RULE.encode() + b"x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + b"".join(
        b"x%d: &a%d [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((i, i) + ((b"a" if i == 0 else b"a%d" % (i - 1)),) * 10)
        for i in range(8)
    ), r"TEAM001\.yaml: invalid YAML: more than 10,000 values"),
    ("deep nesting", b"id: " + b"[" * 3_000 + b"]" * 3_000 + b"\n", r"TEAM001\.yaml:\d+:\d+: invalid YAML: .*nested deeper than 32 levels"),
    ("huge file", GOOD_RULE.encode() + b"# padding\n" * 30_000, r"TEAM001\.yaml: file too large \([\d,]+ bytes; limit 256,000\)"),
    ("not UTF-8", GOOD_RULE.encode() + b"# caf\xe9\n", r"TEAM001\.yaml: not valid UTF-8"),
    ("python tag", b"id: !!python/object/apply:os.system ['touch /tmp/pwned']\n", r"TEAM001\.yaml:\d+:\d+: invalid YAML: .*could not determine a constructor"),
    ("not a mapping", b"- id: TEAM001\n", r"TEAM001\.yaml: expected a mapping, got a list"),
]


def write_tree(root: Path, cases: list[SourceCase]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for case in cases:
        (root / case.name).write_bytes(case.data)


def main(out: Path) -> None:
    write_tree(out / "sources", quick_sources() + stopped_sources() + big_sources() + [slow_analysis_source()])
    for index, (_, data, _) in enumerate(BAD_CONFIGS):
        folder = out / "configs" / f"{index:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".arch-review.yml").write_bytes(data)
    for index, (_, data, _) in enumerate(BAD_RULES):
        folder = out / "rules" / f"{index:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "TEAM001.yaml").write_bytes(data)
    print(f"hostile corpus written to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tests/hostile/corpus.py OUT_DIR")
    main(Path(sys.argv[1]))
