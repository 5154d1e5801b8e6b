"""`arch-review scan` over files that are not nice Python: each is skipped with a reason or
analysed, never a crash, and the good files around them are still reviewed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import CliResult, assert_exit, findings, run_many, where

SMELL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
TOO_LARGE_BYTES = 5 * 1024 * 1024


def generated_module(size: int) -> bytes:
    line = b"VALUE_%07d = 'requests.get is in here so the prefilter lets the file through'\n"
    count = size // len(line % 0) + 1
    return b"import requests\n" + b"".join(line % i for i in range(count))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside any git repository (the os.walk path of file selection)."""
    root = tmp_path_factory.mktemp("hostile")
    files: dict[str, bytes] = {
        "good.py": SMELL.encode(),
        "nested/also_good.py": SMELL.encode(),
        "binary.py": b"import requests\x00\x01\x02requests.get(url)\n\x00\xff",
        "latin1_no_cookie.py": "import requests\n# café\nrequests.get('http://x')\n".encode("latin-1"),
        "latin1_cookie.py": (
            "# -*- coding: latin-1 -*-\nimport requests\n\n\ndef caf\u00e9(url):\n"
            "    return requests.get(url)  # \u00e9t\u00e9\n"
        ).encode("latin-1"),
        "syntax_error.py": b"import requests\n\ndef broken(:\n    requests.get(url)\n",
        "empty.py": b"",
        "generated_big.py": generated_module(TOO_LARGE_BYTES),
        # A smell on line 1 too: the BOM must not shift its columns.
        "bom_crlf.py": b"\xef\xbb\xbf" + SMELL.replace("import requests\n", "import requests; requests.get(URL)\n").replace("\n", "\r\n").encode(),
        "notes.txt": b"requests.get(url)\n",
    }
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    assert (root / "generated_big.py").stat().st_size > TOO_LARGE_BYTES
    return root


@pytest.fixture(scope="module")
def scanned(tree: Path, module_env) -> tuple[CliResult, CliResult, CliResult]:
    return run_many(
        [
            (["scan", ".", "--select", "TMO001", "--format", "json"], tree),
            # Named on the command line: still subject to the same reading rules.
            (["scan", "binary.py", "generated_big.py", "good.py", "--select", "TMO001", "--format", "json"], tree),
            (["scan", ".", "--select", "TMO001"], tree),
        ],
        env=module_env,
    )


def test_every_bad_file_is_skipped_with_a_reason(scanned) -> None:
    result = scanned[0]
    assert_exit(result, 0, 1)
    skipped = {entry["path"]: entry["reason"] for entry in result.json["skipped"]}
    assert set(skipped) == {"binary.py", "latin1_no_cookie.py", "syntax_error.py", "generated_big.py"}, result.describe()
    assert "binary" in skipped["binary.py"] or "NUL" in skipped["binary.py"]
    assert "utf-8" in skipped["latin1_no_cookie.py"].lower() or "decode" in skipped["latin1_no_cookie.py"].lower()
    assert "syntax" in skipped["syntax_error.py"].lower()
    big = skipped["generated_big.py"].lower()
    assert "large" in big or "size" in big or "bytes" in big, big
    assert result.json["stats"]["files"] == 9  # every .py file, good or bad; not notes.txt


def test_the_good_files_are_still_analysed(scanned, tree: Path) -> None:
    result = scanned[0]
    assert where(findings(result)) == [
        ("bom_crlf.py", 1),
        ("bom_crlf.py", 5),
        ("good.py", 5),
        ("latin1_cookie.py", 6),
        ("nested/also_good.py", 5),
    ]
    by_path = {(f["path"], f["line"]): f for f in findings(result)}
    # A BOM is not a column; CRLF is not a line.
    spans = [(f["line"], f["column"], f["end_line"], f["end_column"]) for f in findings(result) if f["path"] == "bom_crlf.py"]
    assert spans == [(1, 18, 1, 35), (5, 12, 5, 29)]
    assert by_path["latin1_cookie.py", 6]["symbol"] == "latin1_cookie.café"
    assert by_path["good.py", 5]["fingerprint"] != by_path["nested/also_good.py", 5]["fingerprint"]


def test_files_named_on_the_command_line_are_read_the_same_way(scanned) -> None:
    result = scanned[1]
    assert_exit(result, 0, 1)
    assert sorted(entry["path"] for entry in result.json["skipped"]) == ["binary.py", "generated_big.py"]
    assert where(findings(result)) == [("good.py", 5)]


def test_text_output_shows_the_skipped_files_without_crashing(scanned) -> None:
    result = scanned[2]
    assert_exit(result, 0, 1)
    assert "good.py:5:12" in result.stdout
    for name in ("binary.py", "latin1_no_cookie.py", "syntax_error.py", "generated_big.py"):
        assert name in result.stdout + result.stderr, result.describe()


def test_a_syntax_error_is_reported_on_its_own_line(scanned) -> None:
    result = scanned[0]
    [reason] = [e["reason"] for e in result.json["skipped"] if e["path"] == "syntax_error.py"]
    assert reason.startswith("syntax error at 3:"), reason


@pytest.mark.parametrize(
    "name, text",
    [
        pytest.param(
            "long_sum.py",
            "x = " + " + ".join(["a"] * 1000) + "\n",
            id="1000-term-sum",
        ),
        pytest.param(
            "deep_parens.py",
            "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",
            id="3000-nested-parens",
        ),
    ],
)
def test_pathological_nesting_is_skipped_or_analysed_never_fatal(name, text, tmp_path: Path, env) -> None:
    root = tmp_path / "deep"
    root.mkdir()
    (root / "good.py").write_text(SMELL, encoding="utf-8")
    (root / name).write_text("import requests\n" + text + "requests.get(u)\n", encoding="utf-8")
    [result] = run_many([(["scan", ".", "--select", "TMO001", "--format", "json"], root)], env=env)
    assert result.returncode in (0, 1), result.describe()
    assert ("good.py", 5) in where(findings(result))
    reported = {f["path"] for f in findings(result)} | {s["path"] for s in result.json["skipped"]}
    assert name in reported
