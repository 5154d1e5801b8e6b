"""The one vocabulary of arch-review: findings, locations, rules and run results.

Every other module speaks in these types. They are frozen so that a finding,
once made, is the same object in every sink.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:
    from reviewer.llm.outcome import LLMReview


class Severity(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, text: str) -> "Severity":
        aliases = {"med": "medium"}
        try:
            return cls(aliases.get(text.lower(), text.lower()))
        except ValueError:
            raise ValueError(f"unknown severity {text!r} (expected low, medium or high)") from None


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


class Family(str, enum.Enum):
    UNBOUNDED_LOAD = "unbounded-load"
    NO_TIMEOUT = "no-timeout"
    NO_RETRY = "no-retry"
    SINGLE_GPU = "single-gpu"
    NO_CHECKPOINT = "no-checkpoint"
    BLOCKING_IN_ASYNC = "blocking-in-async"
    UNBOUNDED_CACHE = "unbounded-cache"
    SWALLOWED_ERROR = "swallowed-error"
    SERVING = "serving"
    REPRODUCIBILITY = "reproducibility"
    HARDCODED_CONFIG = "hardcoded-config"
    DEPENDENCY = "dependency"

    @property
    def is_core(self) -> bool:
        return self in CORE_FAMILIES

    @property
    def title(self) -> str:
        return _FAMILY_TITLES[self]


CORE_FAMILIES = frozenset(
    {
        Family.UNBOUNDED_LOAD,
        Family.NO_TIMEOUT,
        Family.NO_RETRY,
        Family.SINGLE_GPU,
        Family.NO_CHECKPOINT,
        Family.BLOCKING_IN_ASYNC,
        Family.UNBOUNDED_CACHE,
        Family.SWALLOWED_ERROR,
    }
)

_FAMILY_TITLES = {
    Family.UNBOUNDED_LOAD: "Unbounded loads",
    Family.NO_TIMEOUT: "Calls without a timeout",
    Family.NO_RETRY: "Remote calls without a retry policy",
    Family.SINGLE_GPU: "Code that assumes one GPU",
    Family.NO_CHECKPOINT: "Training that cannot resume",
    Family.BLOCKING_IN_ASYNC: "Blocking work in async code",
    Family.UNBOUNDED_CACHE: "Caches and queues that only grow",
    Family.SWALLOWED_ERROR: "Swallowed errors",
    Family.SERVING: "Serving",
    Family.REPRODUCIBILITY: "Reproducibility",
    Family.HARDCODED_CONFIG: "Hard-coded configuration",
    Family.DEPENDENCY: "Dependencies and architecture decisions",
}


class RuleStatus(str, enum.Enum):
    STABLE = "stable"
    PREVIEW = "preview"


@dataclass(frozen=True)
class Location:
    """A span in a file.

    ``path`` is relative to the repository root with forward slashes. Lines and
    columns are 1-based; ``end_column`` points one past the last character, as
    in SARIF.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def lines(self) -> range:
        return range(self.line, self.end_line + 1)


@dataclass(frozen=True)
class RuleDocs:
    what: str
    why: str
    example: str = ""
    instead: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleMeta:
    """What a rule is, independent of how it matches."""

    id: str
    name: str
    family: Family
    severity: Severity
    status: RuleStatus
    message: str
    question: str
    docs: RuleDocs
    source: str = ""  # the rule file it came from, for error messages

    @property
    def docs_anchor(self) -> str:
        return f"{self.id.lower()}-{self.name}"


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    family: Family
    severity: Severity
    location: Location
    symbol: str
    message: str
    question: str
    fingerprint: str

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int:
        return self.location.line

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule, self.fingerprint)

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "rule": self.rule,
            "name": self.name,
            "family": self.family.value,
            "severity": self.severity.value,
            "path": loc.path,
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line,
            "end_column": loc.end_column,
            "symbol": self.symbol,
            "message": self.message,
            "question": self.question,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Finding":
        return cls(
            rule=data["rule"],
            name=data["name"],
            family=Family(data["family"]),
            severity=Severity(data["severity"]),
            location=Location(
                data["path"], data["line"], data["column"], data["end_line"], data["end_column"]
            ),
            symbol=data["symbol"],
            message=data["message"],
            question=data["question"],
            fingerprint=data["fingerprint"],
        )


@dataclass(frozen=True)
class Skipped:
    """A file that was selected but not analysed, and why."""

    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class RuleError:
    """A rule that raised on one file; its other files and the other rules go on."""

    rule: str
    path: str
    error: str


@dataclass
class Stats:
    files: int = 0
    parsed: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "parsed": self.parsed, "seconds": round(self.seconds, 3)}


@dataclass
class RunResult:
    """Everything one run produced, in deterministic order once ``sort`` ran."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rule_errors: list[RuleError] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    llm_review: LLMReview | None = None  # set when the optional LLM pass ran or was skipped

    def sort(self) -> None:
        self.findings.sort(key=Finding.sort_key)
        self.skipped.sort(key=lambda s: s.path)
        self.rule_errors.sort(key=lambda e: (e.path, e.rule))


_WHITESPACE = re.compile(r"\s+")


def fingerprint(rule: str, path: str, symbol: str, node_text: str, occurrence: int = 1) -> str:
    """Stable identity of a finding: no line numbers, so moved code keeps it.

    Identical flagged text in the same symbol is told apart by its occurrence
    number; the first occurrence hashes exactly as DESIGN.md says.
    """
    normalized = _WHITESPACE.sub(" ", node_text).strip()
    parts = [rule, path, symbol, normalized]
    if occurrence > 1:
        parts.append(str(occurrence))
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:20]


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)
