"""Qualified-name patterns: ``requests.get``, ``requests.Session.*``, ``pandas.read_*``.

``*`` matches within one dotted segment, ``**`` matches any number of segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, Iterable, TypeVar

_SEGMENT = re.compile(r"^(\*\*|[A-Za-z_*][A-Za-z0-9_*]*)$")

T = TypeVar("T")


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class NamePattern:
    text: str
    regex: re.Pattern[str] | None  # None: an exact name

    @classmethod
    def compile(cls, text: str) -> "NamePattern":
        if not isinstance(text, str) or not text:
            raise PatternError(f"expected a dotted name, got {text!r}")
        segments = text.split(".")
        for segment in segments:
            if not _SEGMENT.match(segment) or ("**" in segment and segment != "**"):
                raise PatternError(f"bad qualified-name pattern {text!r} (segment {segment!r})")
        if "*" not in text:
            return cls(text, None)
        parts = []
        for segment in segments:
            if segment == "**":
                parts.append(r"[^.]+(?:\.[^.]+)*")
            else:
                parts.append("[^.]*".join(re.escape(p) for p in segment.split("*")))
        return cls(text, re.compile(r"\.".join(parts) + r"\Z"))

    def matches(self, name: str) -> bool:
        if self.regex is None:
            return name == self.text
        return self.regex.match(name) is not None

    @property
    def tokens_are_names(self) -> bool:
        """Whether ``tokens`` are whole names (not pieces of a ``*`` segment), which the
        prefilter may then look for among the code's names."""
        segments = self.text.split(".")
        return "*" not in (segments[-1] if len(segments) > 1 else segments[0])

    @property
    def tokens(self) -> tuple[str, ...]:
        """Words a file must contain to resolve a name to this pattern: the
        imported root (not for builtins, which are never imported) and the
        last literal segment. Empty when the pattern has no literal part."""
        segments = self.text.split(".")
        words = []
        root = segments[0]
        if "*" not in root and root != "builtins":
            words.append(root)
        for segment in reversed(segments[1:] if len(segments) > 1 else segments):
            literal = max(segment.split("*"), key=len)
            if literal:
                words.append(literal)
                break
        return tuple(dict.fromkeys(words))


@dataclass
class PatternIndex(Generic[T]):
    """Many patterns, each with a payload; exact names are looked up in a dict."""

    exact: dict[str, list[T]] = field(default_factory=dict)
    wildcard: list[tuple[NamePattern, T]] = field(default_factory=list)

    def add(self, pattern: NamePattern, payload: T) -> None:
        if pattern.regex is None:
            self.exact.setdefault(pattern.text, []).append(payload)
        else:
            self.wildcard.append((pattern, payload))

    def lookup(self, name: str) -> list[T]:
        found = list(self.exact.get(name, ()))
        found.extend(payload for pattern, payload in self.wildcard if pattern.matches(name))
        return found

    def __bool__(self) -> bool:
        return bool(self.exact or self.wildcard)


def compile_patterns(texts: Iterable[str]) -> tuple[NamePattern, ...]:
    return tuple(NamePattern.compile(t) for t in texts)
