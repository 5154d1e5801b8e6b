"""Inputs that once broke a reader of untrusted input, kept so they stay fixed.

Add a crash-<sha1> saved by fuzz/fuzz_engine.py to ENGINE_INPUTS (minimised, as a bytes
literal) together with the fix. The engine inputs that stall or crash LibCST's native
parser are cases of tests/hostile/corpus.py instead: they need the time limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.config import ConfigError, load_config
from reviewer.engine.pipeline import Target, analyze
from reviewer.ruleset.loader import load_rule_file, load_rules, select_rules
from reviewer.ruleset.schema import RuleFileError

# Found by tests/hostile/test_properties.py.
CONFIG_INPUTS = [
    pytest.param(b'"\\n": null\n', r".arch-review.yml: \n: unknown key", id="key-with-a-line-break"),
    pytest.param(b"\x1f", ".arch-review.yml:1: invalid YAML: character U+001F is not allowed", id="control-character"),
    pytest.param(b"select: [a]\n\x0b", ".arch-review.yml:2: invalid YAML: character U+000B is not allowed", id="control-character-line-2"),
]
RULE_INPUTS = [
    pytest.param(b'"\\n": 1\n', r"team/TEAM001.yaml: \n: unknown key", id="key-with-a-line-break"),
    pytest.param(b"\x1f", "team/TEAM001.yaml:1: invalid YAML: character U+001F is not allowed", id="control-character"),
]
# (bytes, the expected skip reason or None when analysed without a finding)
ENGINE_INPUTS = [
    # Read as UTF-16 these bytes were garbage text that silently matched nothing.
    pytest.param(b"# coding: utf-16\nimport requests\nrequests.get(u)\n\n",
                 "coding cookie names 'utf-16', which Python source cannot be written in", id="utf16-cookie"),
    pytest.param(b"# coding: utf_32_le\nx = 1\n",
                 "coding cookie names 'utf-32-le', which Python source cannot be written in", id="utf32-cookie"),
]


@pytest.mark.parametrize("data, message", CONFIG_INPUTS)
def test_config_regressions(data: bytes, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".arch-review.yml").write_bytes(data)
    with pytest.raises(ConfigError) as raised:
        load_config()
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


@pytest.mark.parametrize("data, message", RULE_INPUTS)
def test_rule_file_regressions(data: bytes, message: str, tmp_path: Path) -> None:
    (tmp_path / "TEAM001.yaml").write_bytes(data)
    with pytest.raises(RuleFileError) as raised:
        load_rule_file(tmp_path / "TEAM001.yaml", "team/TEAM001.yaml")
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


@pytest.mark.parametrize("data, reason", ENGINE_INPUTS)
def test_engine_regressions(data: bytes, reason: str | None) -> None:
    rules = select_rules(load_rules()).rules
    result = analyze([Target("fuzzed.py", data=data)], rules, max_bytes=2_000_000, jobs=1, file_timeout=10)
    assert [s.reason for s in result.skipped] == ([reason] if reason else [])
