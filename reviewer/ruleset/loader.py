"""Finding rule files, loading them, and choosing which rules run."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from reviewer.config import ConfigError, parse_yaml
from reviewer.ruleset.detector import load_detectors
from reviewer.ruleset.schema import CompiledRule, RuleFileError, compile_rule
from reviewer.types import Family, RuleStatus, Severity

MAX_RULE_FILE_BYTES = 256_000


def builtin_rules_dir() -> Path:
    """rules/ inside the installed wheel, or beside the package in a checkout."""
    packaged = importlib.resources.files("reviewer") / "rules"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "rules"


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _read_yaml(text: str, path: Path, trusted: bool) -> Any:
    """The built-in rules, shipped with the package, are read with libyaml's C parser
    (a fifth of a PR run's time otherwise); other rule files go through the same guarded
    pure-Python loader as config files: no alias bombs, no deep nesting."""
    fast = getattr(yaml, "CSafeLoader", None)
    if trusted and fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 - a safe loader, on files of the package
        except yaml.YAMLError:
            pass  # the guarded loader says where and why
    return parse_yaml(text, path)


def load_rule_file(path: Path, display: str, trusted: bool = False) -> CompiledRule:
    try:
        size = path.stat().st_size
        if size > MAX_RULE_FILE_BYTES:
            raise RuleFileError(f"{display}: file too large ({size:,} bytes; limit {MAX_RULE_FILE_BYTES:,})")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise RuleFileError(f"{display}: not valid UTF-8") from None
    except OSError as exc:
        raise RuleFileError(f"{display}: cannot read: {exc.strerror or exc}") from None
    try:
        data = _read_yaml(text, path, trusted)
    except ConfigError as exc:
        where = "" if exc.line is None else f":{exc.line}" + ("" if exc.column is None else f":{exc.column}")
        raise RuleFileError(f"{display}{where}: {exc.problem}") from None
    detectors = load_detectors()
    rule = compile_rule(data, display, {name: cls.fields for name, cls in detectors.items()})
    return dataclasses.replace(rule, digest=hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_rules(extra_dirs: Sequence[Path] = ()) -> dict[str, CompiledRule]:
    """Every rule, built in and from the team's rules_dirs, by id."""
    rules: dict[str, CompiledRule] = {}
    sources = [(builtin_rules_dir(), "rules", True)]
    sources.extend((Path(d), str(d), False) for d in extra_dirs)
    for directory, label, trusted in sources:
        if not directory.is_dir():
            raise RuleFileError(f"{label}: rules directory does not exist")
        for path in rule_files(directory):
            display = f"{label}/{path.relative_to(directory).as_posix()}"
            rule = load_rule_file(path, display, trusted)
            if rule.id in rules:
                raise RuleFileError(f"{display}: id: {rule.id} is already defined in {rules[rule.id].meta.source}")
            rules[rule.id] = rule
    return rules


def _selector_matches(selector: str, rule: CompiledRule, exact_only: bool = False) -> bool:
    if selector == rule.id:
        return True
    if exact_only:
        return False
    return selector == rule.meta.family.value or (selector.isupper() and rule.id.startswith(selector)) or selector == "ALL"


@dataclass(frozen=True)
class Selection:
    rules: tuple[CompiledRule, ...]
    unknown_selectors: tuple[str, ...]


def select_rules(
    rules: Mapping[str, CompiledRule],
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    severity: Mapping[str, Severity] | None = None,
) -> Selection:
    """Stable rules by default; ``select`` narrows; preview rules run only when selected by id."""
    select = tuple(select)
    ignore = tuple(ignore)
    chosen = []
    for rule in rules.values():
        preview = rule.meta.status is RuleStatus.PREVIEW
        if select:
            wanted = any(_selector_matches(s, rule, exact_only=preview) for s in select)
        else:
            wanted = not preview
        if wanted and not any(_selector_matches(s, rule) for s in ignore):
            chosen.append(_with_severity(rule, (severity or {}).get(rule.id)))
    known = {r.id for r in rules.values()} | {f.value for f in Family} | {"ALL"}
    unknown = tuple(
        s for s in (*select, *ignore)
        if s not in known and not any(r.id.startswith(s) for r in rules.values())
    )
    return Selection(tuple(sorted(chosen, key=lambda r: r.id)), unknown)


def _with_severity(rule: CompiledRule, severity: Severity | None) -> CompiledRule:
    if severity is None or severity == rule.meta.severity:
        return rule
    return dataclasses.replace(rule, meta=dataclasses.replace(rule.meta, severity=severity))
