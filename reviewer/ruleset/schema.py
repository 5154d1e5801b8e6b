"""Rule files: strict validation of one YAML mapping into a CompiledRule.

Every error names the file and the key path (``rules/x.yaml: match.args.missing[0]: ...``).
"""

from __future__ import annotations

import difflib
import re
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from reviewer.config import printable
from reviewer.engine.files import InvalidGlob, compile_glob
from reviewer.engine.patterns import NamePattern, PatternError
from reviewer.ruleset.conditions import (
    PATTERN_PLACES,
    SIMPLE_PLACES,
    ArgConditions,
    ArgRef,
    Place,
    ValueTest,
    Where,
)
from reviewer.types import Family, RuleDocs, RuleMeta, RuleStatus, Severity

RULE_ID = re.compile(r"^[A-Z]{2,6}[0-9]{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Placeholders every finding can fill.
COMMON_FIELDS = frozenset({"function", "symbol", "path", "module", "code"})
# Placeholders a call or method match fills.
CALL_FIELDS = frozenset({"call", "callee", "method", "host", "target"})


class RuleFileError(ValueError):
    """One line: '<file>: <key path>: what is wrong'."""


@dataclass(frozen=True)
class Example:
    code: str
    path: str = "example.py"
    # A change rule's example is a change: the files before it, and what it changed
    # (a path mapped to None is deleted). ``code`` then shows the change as a diff.
    before: tuple[tuple[str, str], ...] = ()
    after: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class CompiledRule:
    meta: RuleMeta
    call: tuple[NamePattern, ...] = ()
    method: tuple[str, ...] = ()
    receiver: tuple[NamePattern, ...] = ()
    detector: str | None = None
    change: str | None = None  # a change-level rule (reviewer/changes.py): it reads the diff, not the tree
    options: Mapping[str, Any] = field(default_factory=dict)
    args: ArgConditions = ArgConditions()
    where: Where = Where()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # The prefilter: the file must contain every word of at least one group;
    # empty: the rule may match any file.
    tokens: frozenset[tuple[str, ...]] = frozenset()
    code_tokens: bool = False  # identifier tokens must be names in code (reviewer/engine/prefilter.py)
    flag_examples: tuple[Example, ...] = ()
    ok_examples: tuple[Example, ...] = ()
    digest: str = ""  # of the rule file's text: part of the cache key

    @property
    def id(self) -> str:
        return self.meta.id


class _Reader:
    """Walks a parsed YAML mapping, remembering the key path for errors."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> RuleFileError:
        where = f"{self.source}: {printable(path)}: " if path else f"{self.source}: "
        return RuleFileError(where + message)

    def mapping(self, value: Any, path: str, allowed: Sequence[str], required: Sequence[str] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise self.fail(_join(path, str(key)), f"unknown key{suggestion}; allowed: {', '.join(allowed)}")
        for key in required:
            if key not in value:
                raise self.fail(_join(path, key), "required key is missing")
        return value

    def string(self, value: Any, path: str, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"expected a non-empty string, got {_kind(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(path, f"{value!r} is not a valid {what}")
        return value

    def string_list(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {_kind(value)}")
        return [self.string(item, f"{path}[{i}]") for i, item in enumerate(value)]

    def patterns(self, value: Any, path: str) -> tuple[NamePattern, ...]:
        texts = self.string_list(value, path)
        if not texts:
            raise self.fail(path, "expected at least one qualified name")
        compiled = []
        for index, text in enumerate(texts):
            try:
                compiled.append(NamePattern.compile(text))
            except PatternError as exc:
                raise self.fail(f"{path}[{index}]", str(exc)) from None
        return tuple(compiled)

    def enum(self, value: Any, path: str, parse: Callable[[str], Any], choices: Sequence[str]) -> Any:
        try:
            return parse(value)
        except (ValueError, TypeError, AttributeError):
            raise self.fail(path, f"expected one of {', '.join(choices)}, got {value!r}") from None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


TOP_KEYS = ("id", "name", "family", "severity", "status", "match", "where", "paths", "tokens",
            "message", "question", "docs", "examples")
MATCH_KEYS = ("call", "method", "receiver", "detector", "change", "options", "args")
ARGS_KEYS = ("missing", "values")
VALUE_KEYS = ("equals", "matches", "lt", "le", "gt", "ge")
WHERE_KEYS = ("inside", "not_inside", "imports", "not_imports")
DOCS_KEYS = ("what", "why", "example", "instead", "references")


def compile_rule(data: Any, source: str, detector_fields: Mapping[str, frozenset[str]]) -> CompiledRule:
    """Validate one rule file's content. ``detector_fields``: registered detector names -> their fields."""
    r = _Reader(source)
    top = r.mapping(data, "", TOP_KEYS, required=("id", "name", "family", "severity", "match", "message", "question", "docs", "examples"))
    rule_id = r.string(top["id"], "id", RULE_ID, "rule id (2-6 capital letters and 3 digits, e.g. TMO001)")
    name = r.string(top["name"], "name", RULE_NAME, "rule name (lowercase words joined by '-')")
    family = r.enum(top["family"], "family", Family, [f.value for f in Family])
    severity = r.enum(top["severity"], "severity", Severity.parse, [s.value for s in Severity])
    status = r.enum(top.get("status", "stable"), "status", RuleStatus, [s.value for s in RuleStatus])

    match = r.mapping(top["match"], "match", MATCH_KEYS)
    kinds = [k for k in ("call", "method", "detector", "change") if k in match]
    if len(kinds) != 1:
        raise r.fail("match", "needs exactly one of call, method, detector or change")
    kind = kinds[0]
    call: tuple[NamePattern, ...] = ()
    method: tuple[str, ...] = ()
    receiver: tuple[NamePattern, ...] = ()
    detector = None
    change = None
    options: dict[str, Any] = {}
    fields = set(COMMON_FIELDS)
    if kind == "call":
        call = r.patterns(match["call"], "match.call")
        fields |= CALL_FIELDS
    elif kind == "method":
        method = tuple(r.string(m, f"match.method[{i}]", IDENTIFIER, "method name")
                       for i, m in enumerate(r.string_list(match["method"], "match.method")))
        if not method:
            raise r.fail("match.method", "expected at least one method name")
        fields |= CALL_FIELDS
    elif kind == "change":
        change_fields = _change_fields()
        change = r.string(match["change"], "match.change")
        if change not in change_fields:
            raise r.fail("match.change", f"expected one of {', '.join(change_fields)}, got {change!r}")
        fields |= change_fields[change]
    else:
        detector = r.string(match["detector"], "match.detector")
        if detector not in detector_fields:
            hint = difflib.get_close_matches(detector, list(detector_fields), n=1)
            raise r.fail("match.detector", f"no detector named {detector!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        fields |= detector_fields[detector]
        if "options" in match:
            options = r.mapping(match["options"], "match.options", list(_detector_defaults(detector)))
    if "receiver" in match:
        if kind != "method":
            raise r.fail("match.receiver", "only applies to a method match")
        receiver = r.patterns(match["receiver"], "match.receiver")
    if "options" in match and kind != "detector":
        raise r.fail("match.options", "only applies to a detector match")
    args = ArgConditions()
    if "args" in match:
        if kind in ("detector", "change"):
            raise r.fail("match.args", f"does not apply to a {kind} match")
        args = _compile_args(r, match["args"])

    if kind == "change":
        for key in ("where", "tokens"):
            if key in top:
                raise r.fail(key, "does not apply to a change rule (it reads the diff, not the syntax tree)")
    where = _compile_where(r, top.get("where", {}))
    include, exclude = _compile_paths(r, top.get("paths", {}))
    message = _template(r, top["message"], "message", fields)
    question = _template(r, top["question"], "question", fields)
    docs = _compile_docs(r, top["docs"])
    flag, ok = _compile_examples(r, top["examples"], change=kind == "change")

    tokens = _tokens(r, top, call, method, receiver, detector)
    code_tokens = "tokens" not in top and (
        bool(method) or (bool(call) and all(p.tokens_are_names for p in call))
        or (detector is not None and _detector_reads_code(detector))
    )
    meta = RuleMeta(id=rule_id, name=name, family=family, severity=severity, status=status,
                    message=message, question=question, docs=docs, source=source)
    return CompiledRule(meta=meta, call=call, method=method, receiver=receiver, detector=detector,
                        change=change, options=options, args=args, where=where, include=include, exclude=exclude,
                        tokens=tokens, code_tokens=code_tokens, flag_examples=flag, ok_examples=ok)


def _change_fields() -> Mapping[str, frozenset[str]]:
    from reviewer.changes import CHANGE_FIELDS

    return CHANGE_FIELDS


def _detector_defaults(name: str) -> Mapping[str, Any]:
    from reviewer.ruleset.detector import DETECTORS

    return DETECTORS[name].defaults


def _compile_args(r: _Reader, data: Any) -> ArgConditions:
    args = r.mapping(data, "match.args", ARGS_KEYS)
    missing = []
    if "missing" in args:
        items = args["missing"]
        if not isinstance(items, list) or not items:
            raise r.fail("match.args.missing", "expected a non-empty list")
        for i, item in enumerate(items):
            missing.append(_arg_ref(r, item, f"match.args.missing[{i}]"))
    values = []
    if "values" in args:
        spec = args["values"]
        if not isinstance(spec, list) or not spec:
            raise r.fail("match.args.values", "expected a non-empty list of {arg: ..., equals|matches|lt|le|gt|ge: ...}")
        for i, item in enumerate(spec):
            path = f"match.args.values[{i}]"
            entry = r.mapping(item, path, ("arg", *VALUE_KEYS), required=("arg",))
            ref = _arg_ref(r, entry["arg"], f"{path}.arg")
            tests = [k for k in VALUE_KEYS if k in entry]
            if not tests:
                raise r.fail(path, f"needs one of {', '.join(VALUE_KEYS)}")
            equals: tuple[Any, ...] = ()
            if "equals" in entry:
                raw = entry["equals"]
                equals = tuple(raw) if isinstance(raw, list) else (raw,)
                for value in equals:
                    if not isinstance(value, (str, int, float, bool, type(None))):
                        raise r.fail(f"{path}.equals", f"expected literals, got {_kind(value)}")
            matches = None
            if "matches" in entry:
                try:
                    matches = re.compile(r.string(entry["matches"], f"{path}.matches"))
                except re.error as exc:
                    raise r.fail(f"{path}.matches", f"bad regular expression: {exc}") from None
            compare = []
            for op in ("lt", "le", "gt", "ge"):
                if op in entry:
                    bound = entry[op]
                    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                        raise r.fail(f"{path}.{op}", f"expected a number, got {_kind(bound)}")
                    compare.append((op, bound))
            values.append(ValueTest(ref, equals, matches, tuple(compare)))
    if not missing and not values:
        raise r.fail("match.args", "needs missing or values")
    return ArgConditions(tuple(missing), tuple(values))


def _arg_ref(r: _Reader, item: Any, path: str) -> ArgRef:
    if isinstance(item, str):
        return ArgRef(r.string(item, path, IDENTIFIER, "keyword name"))
    entry = r.mapping(item, path, ("name", "position", "none_counts_as_missing"), required=("name",))
    name = r.string(entry["name"], f"{path}.name", IDENTIFIER, "keyword name")
    position = entry.get("position")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int) or position < 0):
        raise r.fail(f"{path}.position", f"expected a positional index >= 0, got {position!r}")
    none_counts = entry.get("none_counts_as_missing", False)
    if not isinstance(none_counts, bool):
        raise r.fail(f"{path}.none_counts_as_missing", f"expected true or false, got {_kind(none_counts)}")
    return ArgRef(name, position, none_counts)


def _compile_where(r: _Reader, data: Any) -> Where:
    where = r.mapping(data, "where", WHERE_KEYS)
    places = {key: tuple(_place(r, item, f"where.{key}[{i}]") for i, item in enumerate(_list(r, where.get(key, []), f"where.{key}")))
              for key in ("inside", "not_inside")}
    imports = {}
    for key in ("imports", "not_imports"):
        names = r.string_list(where.get(key, []), f"where.{key}")
        for i, name in enumerate(names):
            r.string(name, f"where.{key}[{i}]", re.compile(r"^[A-Za-z_][\w.]*$"), "module name")
        imports[key] = tuple(names)
    return Where(places["inside"], places["not_inside"], imports["imports"], imports["not_imports"])


def _list(r: _Reader, value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise r.fail(path, f"expected a list, got {_kind(value)}")
    return value


def _place(r: _Reader, item: Any, path: str) -> Place:
    if isinstance(item, str):
        if item not in SIMPLE_PLACES:
            raise r.fail(path, f"unknown place {item!r}; expected one of {', '.join(SIMPLE_PLACES)} or a mapping with {', '.join(PATTERN_PLACES)}")
        return Place(item)
    entry = r.mapping(item, path, PATTERN_PLACES)
    if len(entry) != 1:
        raise r.fail(path, "expected exactly one key")
    key, value = next(iter(entry.items()))
    return Place(key, r.patterns(value, f"{path}.{key}"))


def _compile_paths(r: _Reader, data: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    paths = r.mapping(data, "paths", ("include", "exclude"))
    result = []
    for key in ("include", "exclude"):
        globs = r.string_list(paths.get(key, []), f"paths.{key}")
        for i, glob in enumerate(globs):
            try:
                compile_glob(glob)
            except InvalidGlob as exc:
                raise r.fail(f"paths.{key}[{i}]", str(exc)) from None
        result.append(tuple(globs))
    return result[0], result[1]


def _template(r: _Reader, value: Any, path: str, allowed: set[str]) -> str:
    text = r.string(value, path).strip()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise r.fail(path, f"bad template: {exc}") from None
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in allowed:
            raise r.fail(path, f"unknown placeholder {{{field_name}}}; available: {', '.join(sorted(allowed))}")
        if spec or conversion:
            raise r.fail(path, f"placeholder {{{field_name}}} takes no format spec or conversion")
    return text


def _compile_docs(r: _Reader, data: Any) -> RuleDocs:
    docs = r.mapping(data, "docs", DOCS_KEYS, required=("what", "why", "example", "instead"))
    texts = {key: r.string(docs[key], f"docs.{key}").strip() for key in ("what", "why", "example", "instead")}
    references = tuple(r.string_list(docs.get("references", []), "docs.references"))
    return RuleDocs(references=references, **texts)


def _compile_examples(r: _Reader, data: Any, change: bool = False) -> tuple[tuple[Example, ...], tuple[Example, ...]]:
    examples = r.mapping(data, "examples", ("flag", "ok"), required=("flag", "ok"))
    result = []
    for key in ("flag", "ok"):
        items = _list(r, examples[key], f"examples.{key}")
        if len(items) < 2:
            raise r.fail(f"examples.{key}", f"needs at least two examples, got {len(items)}")
        compiled = []
        for i, item in enumerate(items):
            path = f"examples.{key}[{i}]"
            if change:
                compiled.append(_change_example(r, item, path))
            elif isinstance(item, str):
                compiled.append(Example(item))
            else:
                entry = r.mapping(item, path, ("code", "path"), required=("code",))
                compiled.append(Example(r.string(entry["code"], f"{path}.code"),
                                        r.string(entry.get("path", "example.py"), f"{path}.path")))
        result.append(tuple(compiled))
    return result[0], result[1]


def _change_example(r: _Reader, item: Any, path: str) -> Example:
    """``{before: {path: text}, after: {path: text or null}}``: a change rule's example."""
    entry = r.mapping(item, path, ("before", "after"), required=("after",))
    sides = []
    for side in ("before", "after"):
        files = entry.get(side) or {}
        if not isinstance(files, dict):
            raise r.fail(f"{path}.{side}", f"expected a mapping of file paths to their text, got {_kind(files)}")
        for name, text in files.items():
            if not isinstance(name, str) or not (isinstance(text, str) or (side == "after" and text is None)):
                deleted = " or null (deleted)" if side == "after" else ""
                raise r.fail(f"{path}.{side}.{name}", f"expected the file's text{deleted}, got {_kind(text)}")
        sides.append(tuple(sorted(files.items())))
    if not sides[1]:
        raise r.fail(f"{path}.after", "expected at least one changed file")
    from reviewer.changes import FilesChangeSource

    shown = FilesChangeSource(dict(sides[0]), dict(sides[1])).diff
    return Example(shown or "(no change)", before=sides[0], after=sides[1])


def _tokens(r: _Reader, top: dict, call, method, receiver, detector) -> frozenset[tuple[str, ...]]:
    if "tokens" in top:
        raw = top["tokens"]
        if not isinstance(raw, list) or not raw:
            raise r.fail("tokens", "expected a non-empty list of words, or of lists of words that must all appear")
        groups = []
        for i, item in enumerate(raw):
            words = r.string_list(item, f"tokens[{i}]") if isinstance(item, list) else [r.string(item, f"tokens[{i}]")]
            groups.append(tuple(words))
        return frozenset(groups)
    if call:
        groups = {p.tokens for p in call}
        return frozenset() if () in groups else frozenset(groups)
    if method:
        return frozenset((m,) for m in method)
    if detector:
        from reviewer.ruleset.detector import DETECTORS

        return frozenset(normalize_tokens(DETECTORS[detector].tokens))
    return frozenset()


def _detector_reads_code(detector: str) -> bool:
    from reviewer.ruleset.detector import DETECTORS

    return DETECTORS[detector].code_tokens


def normalize_tokens(tokens) -> set[tuple[str, ...]]:
    """A detector may declare words or patterns (any one suffices) or tuples (all must appear,
    a frozenset in a tuple standing for any one of its words). Within a group, plain words
    come first and patterns last: a group fails on its first missing word, and a search is
    the dearest check."""
    groups = ((t,) if isinstance(t, (str, re.Pattern, frozenset)) else tuple(t) for t in tokens)
    return {tuple(sorted(group, key=_check_cost)) for group in groups}


def _check_cost(word) -> int:
    if isinstance(word, re.Pattern):
        return 2
    return 1 if isinstance(word, frozenset) else 0
