"""Load, validate and override arch-review's configuration.

The configuration lives in ``.arch-review.yml`` / ``.arch-review.yaml`` or in the
``[tool.arch-review]`` table of ``pyproject.toml``. Validation is strict: every
unknown key, wrong type or bad value is a :class:`ConfigError` whose one-line
message names the file and the key path, e.g.
``.arch-review.yml: llm.max_tokens: expected a positive integer, got 'lots'``.

A key set to YAML ``null`` (or left empty) means "use the default", so that
commenting out every item of a list does not break the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from reviewer.engine.files import InvalidGlob, compile_glob
from reviewer.types import Family, Severity

CONFIG_FILE_NAMES = (".arch-review.yml", ".arch-review.yaml")
PYPROJECT = "pyproject.toml"
TOOL_TABLE = "arch-review"

FILTER_MODES = ("added", "diff_context", "file", "nofilter")
FAIL_LEVELS = ("none", "low", "medium", "high")
FAMILY_NAMES = tuple(family.value for family in Family)

MAX_CONFIG_BYTES = 1_000_000
# A real config has tens of nodes; this bounds what aliases can expand to.
MAX_YAML_NODES = 10_000
MAX_YAML_DEPTH = 32

_SELECTOR = re.compile(r"[A-Z]+[0-9]*")
_RULE_ID = re.compile(r"[A-Z]+[0-9]+")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class ConfigError(Exception):
    """One line: '<file>: <key.path>: what is wrong'."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.problem = " ".join(problem.split())
        self.file = file
        self.key = key
        self.line = line
        self.column = column
        where = file or ""
        if where and line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        parts = [part for part in (where, printable(key) if key else key) if part]
        super().__init__(": ".join([*parts, self.problem]))


def printable(text: str) -> str:
    """A key as typed, with line breaks and other control characters escaped: one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass(frozen=True)
class LLMConfig:
    enabled: bool = False
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    max_tokens: int = 400  # per call, for the answer
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 60.0  # the deadline of the whole pass, retries included
    max_findings: int = 20
    max_total_tokens: int = 20_000  # prompt and answer tokens of all calls together
    max_retries: int = 2  # the openai SDK's retries of one call (429, 5xx, dropped connections)


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # Excluded from the hash because a mapping is not hashable; equality still compares it.
    severity: Mapping[str, Severity] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    filter_mode: str = "added"
    fail_level: str = "none"
    max_comments: int = 25
    max_file_size: int = 2_000_000
    file_timeout: float = 10.0  # CPU seconds one file may take; then it is skipped
    rules_dirs: tuple[Path, ...] = ()
    adr_dirs: tuple[str, ...] = (
        "docs/adr",
        "adr",
        "doc/adr",
        "doc/architecture/decisions",
        "docs/architecture/decisions",
    )
    llm: LLMConfig = LLMConfig()
    source: Path | None = None


# --------------------------------------------------------------------------- discovery


def find_config(start: Path) -> Path | None:
    """The nearest config file at or above ``start``, stopping at the repository root."""
    directory = Path(os.path.abspath(start))
    if not directory.is_dir():
        directory = directory.parent
    while True:
        found = _config_in(directory)
        if found is not None:
            return found
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def _config_in(directory: Path) -> Path | None:
    yaml_files = [directory / name for name in CONFIG_FILE_NAMES if (directory / name).is_file()]
    if len(yaml_files) > 1:
        raise ConfigError(
            f"both {CONFIG_FILE_NAMES[0]} and {CONFIG_FILE_NAMES[1]} exist; keep one",
            file=_display(directory / CONFIG_FILE_NAMES[0]),
        )
    if yaml_files:
        return yaml_files[0]
    pyproject = directory / PYPROJECT
    if pyproject.is_file() and _pyproject_has_table(pyproject):
        return pyproject
    return None


def _pyproject_has_table(pyproject: Path) -> bool:
    text = _read_text(pyproject)
    # A pyproject.toml that never mentions us is not ours to judge, even if it is broken
    # or no TOML parser is available.
    if TOOL_TABLE not in text:
        return False
    document = _parse_toml(text, pyproject)
    tool = document.get("tool")
    return isinstance(tool, dict) and TOOL_TABLE in tool


# --------------------------------------------------------------------------- loading


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Config from an explicit file (``--config``) or found from ``start`` (default: cwd)."""
    if path is None:
        path = find_config(start if start is not None else Path.cwd())
        if path is None:
            return Config()
    path = Path(os.path.abspath(path))
    display = _display(path)
    if not path.exists():
        raise ConfigError("file not found", file=display)
    if not path.is_file():
        raise ConfigError("not a file", file=display)
    text = _read_text(path)
    if path.suffix == ".toml":
        document = _parse_toml(text, path)
        prefix = f"tool.{TOOL_TABLE}"
        tool = document.get("tool", {})
        if not isinstance(tool, dict) or TOOL_TABLE not in tool:
            raise ConfigError(f"no [{prefix}] table", file=display)
        table = tool[TOOL_TABLE]
    else:
        prefix = ""
        table = parse_yaml(text, path)
        if table is None:
            return Config(source=path)
    if not isinstance(table, dict):
        raise ConfigError(
            f"expected a mapping of settings, got {_describe(table)}",
            file=display,
            key=prefix or None,
        )
    try:
        values = _validate_settings(table, prefix, base=path.parent)
    except _Invalid as invalid:
        raise ConfigError(invalid.problem, file=display, key=invalid.key) from None
    return Config(**values, source=path)


def _read_text(path: Path) -> str:
    display = _display(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"file is {size:,} bytes; a config file may be at most {MAX_CONFIG_BYTES:,}",
                file=display,
            )
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror or error}", file=display) from None
    # The size may change between stat and read.
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"file is larger than {MAX_CONFIG_BYTES:,} bytes", file=display)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})",
            file=display,
            line=line,
        ) from None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    toml = _toml_module()
    if toml is None:
        raise ConfigError(
            "reading pyproject.toml on Python 3.10 needs the 'tomli' package: pip install tomli",
            file=_display(path),
        )
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        line = column = None
        if position:
            line, column = int(position.group(1)), int(position.group(2))
            message = message[: position.start()].strip()
        raise ConfigError(
            f"invalid TOML: {message}", file=_display(path), line=line, column=column
        ) from None


def _toml_module() -> Any:
    try:
        import tomllib

        return tomllib
    except ImportError:
        try:
            import tomli  # type: ignore[import-not-found]

            return tomli
        except ImportError:
            return None


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader that gives up early on documents no config file looks like.

    The pure-Python scanner is slow (a megabyte of '[' would take hours, a flat list
    of 300,000 items most of a minute), so depth and node count are checked while
    the document is read, not after.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._composed_nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._composed_nodes += 1
        if self._composed_nodes > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, _too_many_nodes(), self.peek_event().start_mark
            )
        return super().compose_node(parent, index)

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        self._check_depth(self.flow_level)
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        self._check_depth(len(self.indents))
        return super().add_indent(column)

    def _check_depth(self, depth: int) -> None:
        if depth >= MAX_YAML_DEPTH:
            raise yaml.scanner.ScannerError(
                None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", self.get_mark()
            )


def parse_yaml(text: str, path: Path) -> Any:
    display = _display(path)
    try:
        loader = _ConfigLoader(text)
    except yaml.reader.ReaderError as error:  # the reader checks every character up front
        raise ConfigError(
            f"invalid YAML: character U+{error.character:04X} is not allowed",
            file=display,
            line=text.count("\n", 0, error.position) + 1,
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_node_graph(node, display)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = ", ".join(part for part in (error.context, error.problem) if part)
        raise ConfigError(
            f"invalid YAML: {problem}",
            file=display,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid YAML: {error}", file=display) from None
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", file=display) from None
    finally:
        loader.dispose()


def _too_many_nodes() -> str:
    return f"more than {MAX_YAML_NODES:,} values, counting each alias expanded"


def _check_node_graph(root: yaml.Node, display: str) -> None:
    """Refuse alias bombs, recursive aliases and duplicate keys before constructing.

    Aliases make the node graph a DAG; its size once expanded is what every later
    walk over the loaded data pays, so that is what is bounded.
    """
    expanded: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node, key_path: str) -> int:
        ident = id(node)
        if ident in expanded:
            return expanded[ident]
        if ident in in_progress:
            mark = node.start_mark
            raise ConfigError(
                "invalid YAML: recursive alias",
                file=display,
                line=mark.line + 1,
                column=mark.column + 1,
            )
        in_progress.add(ident)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                total += size(item, f"{key_path}[{index}]")
        elif isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                child_path = key_path
                if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                    child_path = f"{key_path}.{key_node.value}" if key_path else key_node.value
                    if key_node.value in seen:
                        mark = key_node.start_mark
                        raise ConfigError(
                            f"duplicate key (first on line {seen[key_node.value]})",
                            file=display,
                            key=child_path,
                            line=mark.line + 1,
                            column=mark.column + 1,
                        )
                    seen[key_node.value] = key_node.start_mark.line + 1
                total += size(key_node, child_path) + size(value_node, child_path)
        in_progress.discard(ident)
        expanded[ident] = total
        if total > MAX_YAML_NODES:
            raise ConfigError(f"invalid YAML: {_too_many_nodes()}", file=display)
        return total

    size(root, "")


# --------------------------------------------------------------------------- validation


class _Invalid(Exception):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


Validator = Callable[[Any, str, Path], Any]


def _validate_settings(table: Mapping[Any, Any], prefix: str, base: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        key_path = _join(prefix, key)
        if not isinstance(key, str):
            raise _Invalid(key_path, "keys must be strings")
        if key not in _SETTINGS:
            raise _Invalid(key_path, _unknown_key(key, _SETTINGS))
        if value is None:
            continue
        values[key] = _SETTINGS[key](value, key_path, base)
    return values


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _unknown_key(key: str, known: Mapping[str, Any] | tuple[str, ...]) -> str:
    if key == "api_key":
        return (
            "unknown key; never put a secret in a config file: "
            "name the environment variable with api_key_env"
        )
    close = difflib.get_close_matches(key.replace("-", "_"), list(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    return f"unknown key (known keys: {', '.join(known)})"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _string_list(value: Any, key_path: str) -> list[str]:
    if isinstance(value, str):
        raise _Invalid(
            key_path, f"expected a list of strings, got a string; write it as a list: [{value!r}]"
        )
    if not isinstance(value, (list, tuple)):
        raise _Invalid(key_path, f"expected a list of strings, got {_describe(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _Invalid(f"{key_path}[{index}]", f"expected a string, got {_describe(item)}")
    return list(value)


def _selectors(value: Any, key_path: str, base: Path) -> tuple[str, ...]:
    items = _string_list(value, key_path)
    for index, item in enumerate(items):
        _check_selector(item.strip(), f"{key_path}[{index}]")
    return tuple(item.strip() for item in items)


def _check_selector(item: str, key_path: str) -> None:
    if item in FAMILY_NAMES or _SELECTOR.fullmatch(item):
        return
    hint = ""
    if _SELECTOR.fullmatch(item.upper()):
        hint = f"; rule ids are upper-case: did you mean '{item.upper()}'?"
    else:
        close = difflib.get_close_matches(item.lower(), FAMILY_NAMES, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean '{close[0]}'?"
    raise _Invalid(
        key_path,
        f"{_describe(item)} is not a rule id (TMO001), id prefix (TMO) or family name "
        f"(no-timeout){hint}",
    )


def _globs(value: Any, key_path: str, base: Path) -> tuple[str, ...]:
    items = _string_list(value, key_path)
    for index, item in enumerate(items):
        try:
            compile_glob(item)
        except InvalidGlob as error:
            raise _Invalid(f"{key_path}[{index}]", f"invalid glob {item!r}: {error}") from None
    return tuple(items)


def _severity_map(value: Any, key_path: str, base: Path) -> Mapping[str, Severity]:
    if not isinstance(value, Mapping):
        raise _Invalid(
            key_path, f"expected a mapping of rule id to severity, got {_describe(value)}"
        )
    overrides: dict[str, Severity] = {}
    for rule_id, level in value.items():
        item_path = f"{key_path}.{rule_id}"
        if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
            hint = ""
            if isinstance(rule_id, str) and _RULE_ID.fullmatch(rule_id.upper()):
                hint = f"; did you mean '{rule_id.upper()}'?"
            raise _Invalid(item_path, f"{_describe(rule_id)} is not a rule id (like TMO001){hint}")
        if not isinstance(level, str):
            raise _Invalid(item_path, f"expected low, medium or high, got {_describe(level)}")
        try:
            overrides[rule_id] = Severity.parse(level)
        except ValueError as error:
            raise _Invalid(item_path, str(error)) from None
    return MappingProxyType(overrides)


def _choice(options: tuple[str, ...]) -> Validator:
    def validate(value: Any, key_path: str, base: Path) -> str:
        if isinstance(value, str) and value in options:
            return value
        hint = ""
        if isinstance(value, str):
            normalized = value.lower().replace("-", "_")
            if normalized in options:
                hint = f" (did you mean '{normalized}'?)"
            else:
                close = difflib.get_close_matches(normalized, options, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise _Invalid(
            key_path, f"expected one of {', '.join(options)}, got {_describe(value)}{hint}"
        )

    return validate


def _integer(minimum: int) -> Validator:
    wanted = "a positive integer" if minimum > 0 else "a non-negative integer"

    def validate(value: Any, key_path: str, base: Path) -> int:
        # bool is an int in Python; `max_comments: yes` is still a mistake.
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _Invalid(key_path, f"expected {wanted}, got {_describe(value)}")
        return value

    return validate


def _positive_number(value: Any, key_path: str, base: Path) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _Invalid(key_path, f"expected a positive number of seconds, got {_describe(value)}")
    return float(value)


def _boolean(value: Any, key_path: str, base: Path) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(key_path, f"expected true or false, got {_describe(value)}")
    return value


def _non_empty_string(value: Any, key_path: str, base: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(key_path, f"expected a non-empty string, got {_describe(value)}")
    return value.strip()


def _base_url(value: Any, key_path: str, base: Path) -> str:
    if not isinstance(value, str) or not re.match(r"https?://[^\s/]+", value):
        raise _Invalid(key_path, f"expected an http:// or https:// URL, got {_describe(value)}")
    return value


def _env_var_name(value: Any, key_path: str, base: Path) -> str:
    if not isinstance(value, str) or not _ENV_VAR.fullmatch(value):
        raise _Invalid(key_path, f"expected an environment variable name, got {_describe(value)}")
    return value


def _rules_dirs(value: Any, key_path: str, base: Path) -> tuple[Path, ...]:
    directories = []
    for index, item in enumerate(_string_list(value, key_path)):
        if not item.strip():
            raise _Invalid(f"{key_path}[{index}]", "expected a directory path, got ''")
        directory = Path(os.path.abspath(base / item))
        if not directory.is_dir():
            raise _Invalid(f"{key_path}[{index}]", f"directory not found: {directory}")
        directories.append(directory)
    return tuple(directories)


def _repo_relative_dirs(value: Any, key_path: str, base: Path) -> tuple[str, ...]:
    directories = []
    for index, item in enumerate(_string_list(value, key_path)):
        posix = item.strip().replace("\\", "/").rstrip("/")
        if (
            not posix
            or posix.startswith("/")
            or re.match(r"[A-Za-z]:", posix)
            or ".." in posix.split("/")
        ):
            raise _Invalid(
                f"{key_path}[{index}]",
                f"expected a path relative to the repository root, got {_describe(item)}",
            )
        directories.append(posix)
    return tuple(directories)


def _llm(value: Any, key_path: str, base: Path) -> LLMConfig:
    return _merge_llm(LLMConfig(), value, key_path)


def _merge_llm(current: LLMConfig, value: Any, key_path: str) -> LLMConfig:
    if not isinstance(value, Mapping):
        raise _Invalid(key_path, f"expected a mapping of llm settings, got {_describe(value)}")
    changes: dict[str, Any] = {}
    for key, item in value.items():
        item_path = _join(key_path, key)
        if not isinstance(key, str):
            raise _Invalid(item_path, "keys must be strings")
        if key not in _LLM_SETTINGS:
            raise _Invalid(item_path, _unknown_key(key, _LLM_SETTINGS))
        if item is None and key != "base_url":
            continue
        changes[key] = None if item is None else _LLM_SETTINGS[key](item, item_path, Path())
    return dataclasses.replace(current, **changes)


_LLM_SETTINGS: dict[str, Validator] = {
    "enabled": _boolean,
    "model": _non_empty_string,
    "base_url": _base_url,
    "max_tokens": _integer(1),
    "api_key_env": _env_var_name,
    "timeout": _positive_number,
    "max_findings": _integer(0),
    "max_total_tokens": _integer(1),
    "max_retries": _integer(0),
}

_SETTINGS: dict[str, Validator] = {
    "select": _selectors,
    "ignore": _selectors,
    "exclude": _globs,
    "severity": _severity_map,
    "filter_mode": _choice(FILTER_MODES),
    "fail_level": _choice(FAIL_LEVELS),
    "max_comments": _integer(0),
    "max_file_size": _integer(1),
    "file_timeout": _positive_number,
    "rules_dirs": _rules_dirs,
    "adr_dirs": _repo_relative_dirs,
    "llm": _llm,
}


# --------------------------------------------------------------------------- CLI overrides


def with_overrides(config: Config, **overrides: Any) -> Config:
    """``config`` with command-line values on top; ``None`` means "flag not given".

    ``select``/``ignore`` also take comma-separated strings (``"TMO,no-timeout"``),
    as typed on a command line; ``exclude``, ``rules_dirs`` and ``adr_dirs`` take one
    string or a list; ``llm`` takes an ``LLMConfig`` or a mapping of llm settings to change.
    Relative ``rules_dirs`` resolve against the current directory.
    Errors name the flag: ``--fail-level: expected one of ...``.
    """
    changes: dict[str, Any] = {}
    base = Path.cwd()
    for key, value in overrides.items():
        if key not in _SETTINGS:
            # A caller's bug, not a user's mistake: fail like dataclasses.replace would.
            raise TypeError(f"with_overrides() got an unexpected setting {key!r}")
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if key in ("select", "ignore"):
            value = _split_commas(value)
        elif key in _PATH_LISTS and isinstance(value, (str, Path)):
            value = [str(value)]
        try:
            if key == "llm":
                changes[key] = (
                    value if isinstance(value, LLMConfig) else _merge_llm(config.llm, value, flag)
                )
            else:
                changes[key] = _SETTINGS[key](value, flag, base)
        except _Invalid as invalid:
            raise ConfigError(invalid.problem, key=invalid.key) from None
    return dataclasses.replace(config, **changes)


_PATH_LISTS = ("exclude", "rules_dirs", "adr_dirs")


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return [part.strip() for item in value for part in item.split(",") if part.strip()]
    return value


def _display(path: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)
