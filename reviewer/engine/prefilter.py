"""The text prefilter: which rules could match a file, decided from its text alone.

A rule's tokens are groups of words; a file passes when it holds every word of one
group. A word is looked for in the raw text (a substring). A detector may also give a
compiled regular expression (searched for) or a frozenset of alternatives, any one of
which will do (an alternative is a word or a tuple of words). A detector that declares
``code_tokens`` has its identifier words looked for among the names in the code,
outside comments and string literals. A model's docstring that shows ``from_pretrained(...)``
then no longer makes the file a candidate for rules about calling it. F-strings count
as code (their ``{...}`` parts are expressions), so a name is only ever missed where
the parser would not see it either.
"""

from __future__ import annotations

import re
from typing import Sequence

from reviewer.ruleset.schema import CompiledRule

# DOTALL: an escape may be a backslash before a line end. A prefix only counts at the
# start of a word; a plain string may follow a word directly (``return"x"``).
_STRINGS_AND_COMMENTS = re.compile(
    r"\#[^\n]*"
    r"|(?:(?<!\w)(?P<prefix>[rRbBuUfF]{1,2}))?"
    r"""(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""",
    re.DOTALL,
)
_NAME = re.compile(r"[^\W\d]\w*")


def _blank(match: re.Match[str]) -> str:
    prefix = match.group("prefix")
    if prefix and ("f" in prefix or "F" in prefix):
        return match.group(0)
    return " "


class FileText:
    """A file's text, and (worked out on first use) the names its code uses."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._names: frozenset[str] | None = None
        self._held: dict[tuple[object, bool], bool] = {}  # rules share words: each is looked for once

    @property
    def code_names(self) -> frozenset[str]:
        if self._names is None:
            self._names = frozenset(_NAME.findall(_STRINGS_AND_COMMENTS.sub(_blank, self.text)))
        return self._names

    def holds(self, word: str | re.Pattern[str] | frozenset | tuple, in_code: bool) -> bool:
        key = (word, in_code)
        held = self._held.get(key)
        if held is None:
            if isinstance(word, frozenset):
                held = any(self.holds(alternative, in_code) for alternative in word)
            elif isinstance(word, tuple):  # an alternative of several words, inside a frozenset
                held = all(self.holds(part, in_code) for part in word)
            elif isinstance(word, re.Pattern):
                held = word.search(self.text) is not None
            elif in_code and word.isidentifier():
                held = word in self.code_names
            else:
                held = word in self.text
            self._held[key] = held
        return held


def names_of(qualified: str) -> tuple[str, ...]:
    """Every name ``qualified`` is built from (prefilter words for a call resolved to it): the
    resolver builds a qualified name only out of names in the code (imports, attributes,
    assignments), except a builtin's module."""
    parts = qualified.split(".")
    return tuple(dict.fromkeys(parts[1:] if parts[0] == "builtins" else parts))


def root_and_last(qualified: str) -> tuple[str, str]:
    """A qualified name's imported root module and its own last name."""
    return qualified.partition(".")[0], qualified.rpartition(".")[2]


def last_names(qualified_names) -> frozenset[str]:
    """The last names of these qualified names: any one of them (next to their root)."""
    return frozenset(root_and_last(name)[1] for name in qualified_names)


def admits(rule: CompiledRule, file: FileText) -> bool:
    """Whether ``rule`` could match this file (a rule without tokens may match any file)."""
    if not rule.tokens:
        return True
    return any(all(file.holds(word, rule.code_tokens) for word in group) for group in rule.tokens)


def admitted(rules: Sequence[CompiledRule], text: str) -> list[CompiledRule]:
    file = FileText(text)
    return [rule for rule in rules if admits(rule, file)]
