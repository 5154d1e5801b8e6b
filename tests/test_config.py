import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from reviewer import config as config_module
from reviewer.config import (
    Config,
    ConfigError,
    LLMConfig,
    find_config,
    load_config,
    with_overrides,
)
from reviewer.types import Severity


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def write_yaml(root: Path, text: str, name: str = ".arch-review.yml") -> Path:
    path = root / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(root: Path, text: str) -> str:
    path = write_yaml(root, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ----------------------------------------------------------------------------- valid files


def test_full_yaml_config_loads(project):
    (project / ".arch-review" / "rules").mkdir(parents=True)
    path = write_yaml(
        project,
        """
        select: [TMO, no-retry, SGP001]
        ignore: [TMO004]
        exclude: ["tests/**", "docs/**", "**/migrations/*.py"]
        severity: {TMO004: high, RTY001: med}
        filter_mode: diff_context
        fail_level: medium
        max_comments: 10
        max_file_size: 500000
        rules_dirs: [".arch-review/rules"]
        adr_dirs: [docs/decisions/]
        llm:
          enabled: true
          model: gpt-4.1-mini
          base_url: http://127.0.0.1:8080/v1
          max_tokens: 300
          api_key_env: MY_KEY
          timeout: 30
          max_findings: 5
        """,
    )

    config = load_config(path)

    assert config == Config(
        select=("TMO", "no-retry", "SGP001"),
        ignore=("TMO004",),
        exclude=("tests/**", "docs/**", "**/migrations/*.py"),
        severity={"TMO004": Severity.HIGH, "RTY001": Severity.MEDIUM},
        filter_mode="diff_context",
        fail_level="medium",
        max_comments=10,
        max_file_size=500000,
        rules_dirs=(project / ".arch-review" / "rules",),
        adr_dirs=("docs/decisions",),
        llm=LLMConfig(
            enabled=True,
            model="gpt-4.1-mini",
            base_url="http://127.0.0.1:8080/v1",
            max_tokens=300,
            api_key_env="MY_KEY",
            timeout=30.0,
            max_findings=5,
        ),
        source=path,
    )
    assert isinstance(config.severity, types.MappingProxyType)
    assert hash(config) == hash(config)


def test_empty_file_and_null_values_mean_defaults(project):
    assert load_config(write_yaml(project, "# nothing yet\n")) == Config(
        source=project / ".arch-review.yml"
    )
    config = load_config(write_yaml(project, "select:\nllm:\nmax_comments: ~\n"))
    assert config.select == () and config.llm == LLMConfig() and config.max_comments == 25


def test_rules_dirs_resolve_relative_to_the_config_file_not_the_cwd(project, monkeypatch):
    (project / "cfg" / "rules").mkdir(parents=True)
    path = write_yaml(project / "cfg", "rules_dirs: [rules]\n")
    monkeypatch.chdir(project.parent)

    assert load_config(path).rules_dirs == (project / "cfg" / "rules",)


def test_yaml_with_a_utf8_bom_and_a_harmless_alias_loads(project):
    path = project / ".arch-review.yml"
    path.write_bytes("\ufeffexclude: [docs/**]\n".encode("utf-8"))
    assert load_config(path).exclude == ("docs/**",)

    aliased = write_yaml(project, "select: &ids [TMO001]\nignore: *ids\n")
    assert load_config(aliased).ignore == ("TMO001",)


# ----------------------------------------------------------------------------- discovery


def test_discovery_prefers_yml_in_the_nearest_directory(project):
    nested = project / "src" / "pkg"
    nested.mkdir(parents=True)
    write_yaml(project, "max_comments: 1\n")
    inner = write_yaml(project / "src", "max_comments: 2\n", name=".arch-review.yaml")

    assert find_config(nested) == inner
    assert load_config(start=nested).max_comments == 2
    assert load_config(start=nested / "module.py").max_comments == 2


def test_discovery_finds_pyproject_table(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.arch-review]\nfail_level = "high"\n'
        "llm = { enabled = true }\n",
        encoding="utf-8",
    )
    sub = project / "pkg"
    sub.mkdir()

    config = load_config(start=sub)

    assert config.fail_level == "high"
    assert config.llm.enabled is True
    assert config.source == project / "pyproject.toml"


def test_discovery_skips_pyproject_without_our_table_and_stops_at_repo_root(project):
    write_yaml(project.parent, "max_comments: 99\n")  # above the repository: never used
    (project / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n", encoding="utf-8")

    assert find_config(project) is None
    assert load_config() == Config()


def test_discovery_walks_to_filesystem_root_outside_a_repository(tmp_path, monkeypatch):
    outer = tmp_path / "outer"
    deep = outer / "a" / "b"
    deep.mkdir(parents=True)
    found = write_yaml(outer, "fail_level: low\n")
    monkeypatch.chdir(deep)

    assert find_config(Path(".")) == found


def test_discovery_ignores_a_broken_pyproject_that_does_not_mention_us(project):
    (project / "pyproject.toml").write_text("[project\nname = \n", encoding="utf-8")
    assert find_config(project) is None


def test_discovery_reports_a_broken_pyproject_that_mentions_us(project):
    (project / "pyproject.toml").write_text(
        "[tool.arch-review]\nselect = [1,,]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"^pyproject.toml:2:\d+: invalid TOML: "):
        find_config(project)


def test_both_yml_and_yaml_is_an_error(project):
    write_yaml(project, "{}\n")
    write_yaml(project, "{}\n", name=".arch-review.yaml")
    with pytest.raises(ConfigError, match="keep one"):
        find_config(project)


def test_explicit_pyproject_path(project):
    path = project / "pyproject.toml"
    path.write_text('[tool.arch-review]\nselect = ["TMO"]\n', encoding="utf-8")
    assert load_config(path).select == ("TMO",)


def test_explicit_pyproject_without_table_is_an_error(project):
    path = project / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pyproject.toml: no \[tool.arch-review\] table"):
        load_config(path)


def test_pyproject_errors_use_the_full_key_path(project):
    path = project / "pyproject.toml"
    path.write_text('[tool.arch-review.llm]\nmax_tokens = "lots"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        "pyproject.toml: tool.arch-review.llm.max_tokens: expected a positive integer, got 'lots'"
    )


def test_pyproject_table_that_is_not_a_table(project):
    path = project / "pyproject.toml"
    path.write_text('[tool]\narch-review = "on"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="pyproject.toml: tool.arch-review: expected a mapping"):
        load_config(path)


def test_missing_toml_parser_on_python_310_says_to_install_tomli(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    path = project / "pyproject.toml"
    path.write_text("[tool.arch-review]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="pip install tomli"):
        load_config(path)


def test_explicit_path_errors(project):
    with pytest.raises(ConfigError, match="missing.yml: file not found"):
        load_config(Path("missing.yml"))
    with pytest.raises(ConfigError, match="not a file"):
        load_config(project)


# ----------------------------------------------------------------------------- file-level errors


def test_yaml_syntax_error_has_line_and_column(project):
    message = load_error(project, "select: [TMO001]\nexclude: a: b\n")
    assert message == ".arch-review.yml:2:11: invalid YAML: mapping values are not allowed here"


def test_undefined_alias_is_a_yaml_error(project):
    assert "undefined alias" in load_error(project, "select: *nothing\n")


def test_multiple_documents_are_an_error(project):
    assert "single document" in load_error(project, "select: []\n---\nignore: []\n")


def test_non_mapping_top_level(project):
    assert load_error(project, "- TMO001\n") == (
        ".arch-review.yml: expected a mapping of settings, got a list"
    )
    assert "got 'just text'" in load_error(project, "just text\n")


def test_non_utf8_file(project):
    path = project / ".arch-review.yml"
    path.write_bytes(b"select: [TMO001]\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"^\.arch-review\.yml:2: not valid UTF-8 \(byte 0xe9"):
        load_config(path)


def test_oversized_file(project):
    path = project / ".arch-review.yml"
    path.write_text("#" * 1_000_001, encoding="utf-8")
    with pytest.raises(ConfigError, match="at most 1,000,000"):
        load_config(path)


def test_billion_laughs_is_refused(project):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    message = load_error(project, "\n".join(lines) + "\n")
    assert message == (
        ".arch-review.yml: invalid YAML: more than 10,000 values, counting each alias expanded"
    )


def test_huge_flat_document_is_refused_early(project):
    started = time.monotonic()
    message = load_error(project, "select: [" + ",".join(["A"] * 300_000) + "]\n")
    assert "invalid YAML: more than 10,000 values" in message
    assert message.startswith(".arch-review.yml:1:")
    assert time.monotonic() - started < 5


def test_recursive_alias_is_refused(project):
    assert "recursive alias" in load_error(project, "select: &loop [*loop]\n")


def test_deep_flow_nesting_is_refused_while_scanning(project):
    # Large enough to take minutes if the scanner were allowed to go on.
    message = load_error(project, "select: " + "[" * 200_000 + "]" * 200_000 + "\n")
    assert message == ".arch-review.yml:1:41: invalid YAML: nested deeper than 32 levels"


def test_deep_block_nesting_is_refused(project):
    text = "".join(" " * level + f"k{level}:\n" for level in range(40))
    message = load_error(project, text)
    assert "nested deeper than 32 levels" in message


def test_nesting_within_the_limit_reaches_validation(project):
    message = load_error(project, "select: " + "[" * 20 + "]" * 20 + "\n")
    assert message == ".arch-review.yml: select[0]: expected a string, got a list"


def test_duplicate_keys_are_refused(project):
    message = load_error(project, "select: [TMO]\nfail_level: low\nselect: [RTY]\n")
    assert message == ".arch-review.yml:3:1: select: duplicate key (first on line 1)"
    nested = load_error(project, "llm:\n  model: a\n  model: b\n")
    assert "llm.model: duplicate key" in nested


def test_python_tags_are_refused_by_the_safe_loader(project, tmp_path):
    marker = tmp_path / "pwned"
    message = load_error(project, f"select: !!python/object/apply:os.system ['touch {marker}']\n")
    assert "invalid YAML" in message
    assert not marker.exists()


def test_non_string_key(project):
    assert load_error(project, "1: x\n") == ".arch-review.yml: 1: keys must be strings"


# ----------------------------------------------------------------------------- key errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("exlude: [a]\n", ".arch-review.yml: exlude: unknown key; did you mean 'exclude'?"),
        ("filter-mode: added\n", "filter-mode: unknown key; did you mean 'filter_mode'?"),
        ("zzz: 1\n", "zzz: unknown key (known keys: select, ignore, exclude,"),
        ("llm: {modle: x}\n", "llm.modle: unknown key; did you mean 'model'?"),
        ("llm: {api_key: sk-123}\n", "llm.api_key: unknown key; never put a secret"),
        # wrong types
        (
            "select: TMO001\n",
            "select: expected a list of strings, got a string; write it as a list: ['TMO001']",
        ),
        ("exclude: {a: b}\n", "exclude: expected a list of strings, got a mapping"),
        ("ignore: [TMO001, 3]\n", "ignore[1]: expected a string, got 3"),
        ("severity: [TMO001]\n", "severity: expected a mapping of rule id to severity, got a list"),
        ("llm: true\n", "llm: expected a mapping of llm settings, got true"),
        ("llm: {enabled: 'yes'}\n", "llm.enabled: expected true or false, got 'yes'"),
        ("llm: {model: ''}\n", "llm.model: expected a non-empty string, got ''"),
        (
            "llm: {max_tokens: lots}\n",
            ".arch-review.yml: llm.max_tokens: expected a positive integer, got 'lots'",
        ),
        ("llm: {max_tokens: 0}\n", "llm.max_tokens: expected a positive integer, got 0"),
        ("llm: {max_tokens: 12.5}\n", "llm.max_tokens: expected a positive integer, got 12.5"),
        ("llm: {timeout: -1}\n", "llm.timeout: expected a positive number of seconds, got -1"),
        ("llm: {timeout: .inf}\n", "llm.timeout: expected a positive number of seconds, got inf"),
        ("llm: {max_findings: -2}\n", "llm.max_findings: expected a non-negative integer, got -2"),
        (
            "llm: {base_url: 'ftp://x'}\n",
            "llm.base_url: expected an http:// or https:// URL, got 'ftp://x'",
        ),
        (
            "llm: {api_key_env: 'MY KEY'}\n",
            "llm.api_key_env: expected an environment variable name, got 'MY KEY'",
        ),
        # numbers
        ("max_comments: -1\n", "max_comments: expected a non-negative integer, got -1"),
        ("max_comments: true\n", "max_comments: expected a non-negative integer, got true"),
        ("max_file_size: 0\n", "max_file_size: expected a positive integer, got 0"),
        ("max_file_size: 2MB\n", "max_file_size: expected a positive integer, got '2MB'"),
        # enums
        (
            "filter_mode: everything\n",
            "filter_mode: expected one of added, diff_context, file, nofilter, got 'everything'",
        ),
        (
            "filter_mode: diff-context\n",
            "filter_mode: expected one of added, diff_context, file, nofilter, got 'diff-context' (did you mean 'diff_context'?)",
        ),
        (
            "fail_level: hgh\n",
            "fail_level: expected one of none, low, medium, high, got 'hgh' (did you mean 'high'?)",
        ),
        ("fail_level: 1\n", "fail_level: expected one of none, low, medium, high, got 1"),
        # severities
        (
            "severity: {TMO004: critical}\n",
            "severity.TMO004: unknown severity 'critical' (expected low, medium or high)",
        ),
        ("severity: {TMO004: 3}\n", "severity.TMO004: expected low, medium or high, got 3"),
        (
            "severity: {tmo004: high}\n",
            "severity.tmo004: 'tmo004' is not a rule id (like TMO001); did you mean 'TMO004'?",
        ),
        ("severity: {TMO: high}\n", "severity.TMO: 'TMO' is not a rule id (like TMO001)"),
        # selectors
        (
            "select: [tmo001]\n",
            "select[0]: 'tmo001' is not a rule id (TMO001), id prefix (TMO) or family name (no-timeout); rule ids are upper-case: did you mean 'TMO001'?",
        ),
        (
            "ignore: [TMO001, no-timout]\n",
            "ignore[1]: 'no-timout' is not a rule id (TMO001), id prefix (TMO) or family name (no-timeout); did you mean 'no-timeout'?",
        ),
        ("select: ['TMO-1']\n", "select[0]: 'TMO-1' is not a rule id"),
        # globs and paths
        ("exclude: [ok/**, 'src/[ab']\n", "exclude[1]: invalid glob 'src/[ab': unclosed '['"),
        ("exclude: ['']\n", "exclude[0]: invalid glob '': empty pattern"),
        (
            "exclude: ['!keep.py']\n",
            "exclude[0]: invalid glob '!keep.py': negation ('!') is not supported",
        ),
        ("rules_dirs: [no/such/dir]\n", "rules_dirs[0]: directory not found: "),
        (
            "rules_dirs: .arch-review/rules\n",
            "rules_dirs: expected a list of strings, got a string",
        ),
        (
            "adr_dirs: [../elsewhere]\n",
            "adr_dirs[0]: expected a path relative to the repository root, got '../elsewhere'",
        ),
        (
            "adr_dirs: [/abs/adr]\n",
            "adr_dirs[0]: expected a path relative to the repository root, got '/abs/adr'",
        ),
    ],
)
def test_validation_errors_name_the_key_path(project, text, expected):
    message = load_error(project, text)
    assert message.startswith(".arch-review.yml: ")
    assert expected in message


def test_config_error_carries_its_parts(project):
    path = write_yaml(project, "llm: {max_tokens: lots}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.file, error.key) == (".arch-review.yml", "llm.max_tokens")
    assert error.problem == "expected a positive integer, got 'lots'"


def test_config_outside_cwd_is_shown_with_its_path(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    other = tmp_path / "other"
    other.mkdir()
    path = write_yaml(other, "fail_level: x\n")
    with pytest.raises(ConfigError, match=f"^{path}: fail_level:"):
        load_config(path)


# ----------------------------------------------------------------------------- overrides


def test_cli_overrides_replace_file_values_and_none_means_not_given(project):
    base = load_config(write_yaml(project, "select: [TMO]\nfail_level: low\nmax_comments: 5\n"))

    config = with_overrides(
        base, select="RTY001, no-timeout", ignore=None, fail_level="high", filter_mode="file"
    )

    assert config.select == ("RTY001", "no-timeout")
    assert config.fail_level == "high"
    assert config.filter_mode == "file"
    assert config.max_comments == 5
    assert config.source == base.source
    assert base.fail_level == "low"  # the original is untouched


def test_cli_select_accepts_repeated_flags_with_commas(project):
    config = with_overrides(Config(), select=["TMO001,TMO002", "no-retry"])
    assert config.select == ("TMO001", "TMO002", "no-retry")


def test_cli_overrides_are_validated_and_name_the_flag(project):
    with pytest.raises(ConfigError) as caught:
        with_overrides(Config(), fail_level="critical")
    assert str(caught.value).startswith("--fail-level: expected one of none, low, medium, high")

    with pytest.raises(ConfigError, match=r"^--select\[1\]: 'nope!' is not a rule id"):
        with_overrides(Config(), select="TMO,nope!")

    with pytest.raises(ConfigError, match=r"^--exclude\[0\]: invalid glob 'src/\[': unclosed"):
        with_overrides(Config(), exclude="src/[")

    with pytest.raises(ConfigError, match=r"^--max-comments: expected a non-negative integer"):
        with_overrides(Config(), max_comments=-3)


def test_unknown_override_is_a_programming_error():
    with pytest.raises(TypeError, match="filter-mode"):
        with_overrides(Config(), **{"filter-mode": "file"})


def test_cli_single_string_for_list_settings(project):
    assert with_overrides(Config(), exclude="build/**").exclude == ("build/**",)


def test_cli_llm_override_merges_onto_file_values(project):
    base = load_config(write_yaml(project, "llm: {model: local, max_tokens: 100}\n"))

    config = with_overrides(base, llm={"enabled": True})

    assert config.llm == LLMConfig(enabled=True, model="local", max_tokens=100)
    with pytest.raises(ConfigError, match=r"^--llm\.timeout: expected a positive number"):
        with_overrides(base, llm={"timeout": 0})


def test_cli_rules_dirs_resolve_against_the_cwd(project):
    (project / "extra").mkdir()
    assert with_overrides(Config(), rules_dirs=["extra"]).rules_dirs == (project / "extra",)


def test_tomli_is_the_fallback_when_tomllib_is_missing(monkeypatch):
    fake_tomli = types.ModuleType("tomli")
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", fake_tomli)
    assert config_module._toml_module() is fake_tomli

    monkeypatch.setitem(sys.modules, "tomli", None)
    assert config_module._toml_module() is None
