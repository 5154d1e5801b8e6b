"""``# arch-review: ignore[...]`` comments.

A directive on line D covers findings whose first line is D or D + 1, so it works
both as a trailing comment and on its own line above the flagged code::

    requests.get(url)  # arch-review: ignore[TMO001] vendor API has its own deadline

    # arch-review: ignore[no-timeout, RTY002]
    requests.get(url)

Targets are rule ids or family names, case-insensitive; a bare
``# arch-review: ignore`` covers every rule. Text after the directive is the reason.
A malformed directive (unclosed ``[``, no targets, an unknown target) suppresses
nothing for that target and is recorded in ``Suppressions.problems`` so the caller
can warn: a typo must not silently hide or silently keep a finding without a trace.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field

from reviewer.types import Family

_DIRECTIVE = re.compile(r"#\s*arch-review\s*:\s*ignore(?=[\s\[#]|$)", re.IGNORECASE)
_RULE_ID = re.compile(r"[A-Za-z]+[0-9]+")
_FAMILY_NAMES = frozenset(family.value for family in Family)


@dataclass(frozen=True)
class Directive:
    line: int
    targets: frozenset[str] | None  # None: every rule
    reason: str = ""

    def covers(self, rule_id: str, family: str) -> bool:
        return self.targets is None or rule_id.upper() in self.targets or family in self.targets


@dataclass(frozen=True)
class Suppressions:
    directives: tuple[Directive, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()  # (line, what is wrong with a directive)
    _by_line: dict[int, tuple[Directive, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_line: dict[int, tuple[Directive, ...]] = {}
        for directive in self.directives:
            by_line[directive.line] = (*by_line.get(directive.line, ()), directive)
        object.__setattr__(self, "_by_line", by_line)

    def covers(self, line: int, rule_id: str, family: str) -> bool:
        """Whether a finding of ``rule_id``/``family`` starting on ``line`` is suppressed."""
        family_name = family.value if isinstance(family, Family) else str(family).lower()
        return any(
            directive.covers(rule_id, family_name)
            for directive_line in (line, line - 1)
            for directive in self._by_line.get(directive_line, ())
        )


def find_suppressions(source: str) -> Suppressions:
    directives: list[Directive] = []
    problems: list[tuple[int, str]] = []
    for line, comment in _comments(source):
        for directive, problem in _parse_comment(line, comment):
            if directive is not None:
                directives.append(directive)
            if problem is not None:
                problems.append((line, problem))
    return Suppressions(tuple(directives), tuple(problems))


def _comments(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment; strings never count, unless the source cannot be tokenized."""
    if "arch-review" not in source.lower():
        return
    comments = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments.append((token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        # Such a file is reported as skipped by the parser anyway; scanning lines keeps
        # the directives usable for whatever tooling still looks at it. ValueError:
        # CPython 3.13's C tokenizer raises UnicodeDecodeError on some stray characters.
        for number, text in enumerate(source.splitlines(), start=1):
            match = _DIRECTIVE.search(text)
            if match:
                yield number, text[match.start() :]
        return
    yield from comments


def _parse_comment(line: int, comment: str) -> Iterator[tuple[Directive | None, str | None]]:
    matches = list(_DIRECTIVE.finditer(comment))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(comment)
        yield _parse_directive(line, comment[match.end() : end].strip())


def _parse_directive(line: int, rest: str) -> tuple[Directive | None, str | None]:
    if not rest.startswith("["):
        return Directive(line, None, rest), None
    close = rest.find("]")
    if close < 0:
        return None, "unclosed '[' in arch-review: ignore[...]; nothing suppressed"
    reason = rest[close + 1 :].strip()
    targets: set[str] = set()
    unknown: list[str] = []
    for raw in rest[1:close].split(","):
        target = raw.strip()
        if not target:
            continue
        if _RULE_ID.fullmatch(target):
            targets.add(target.upper())
        elif target.lower() in _FAMILY_NAMES:
            targets.add(target.lower())
        else:
            unknown.append(target)
    problem = None
    if unknown:
        problem = (
            f"not a rule id or family: {', '.join(repr(t) for t in unknown)}; "
            "ignored in arch-review: ignore[...]"
        )
    if not targets:
        return None, problem or "arch-review: ignore[] names no rule; nothing suppressed"
    return Directive(line, frozenset(targets), reason), problem
