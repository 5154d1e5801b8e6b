"""A content-hash cache of per-file outcomes, so an unchanged tree re-scans in a blink.

The key of an entry is the file's bytes and path; the folder it lives in is named
after everything else that decides the outcome (the arch-review version and
source, and each selected rule's file and severity). Entries are written to a
temporary name and renamed, so concurrent runs never read half an entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Sequence

import reviewer
from reviewer.engine.runner import FileOutcome
from reviewer.ruleset.schema import CompiledRule
from reviewer.types import Finding, Skipped

CACHE_FORMAT = "1"


def default_cache_dir() -> Path:
    override = os.environ.get("ARCH_REVIEW_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arch-review"


def _source_digest() -> str:
    digest = hashlib.sha256()
    package = Path(reviewer.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class OutcomeCache:
    def __init__(self, directory: Path, rules: Sequence[CompiledRule], max_bytes: int) -> None:
        run_key = hashlib.sha256()
        for part in (CACHE_FORMAT, reviewer.__version__, _source_digest(), str(max_bytes)):
            run_key.update(part.encode() + b"\0")
        for rule in sorted(rules, key=lambda r: r.id):
            run_key.update(f"{rule.id}|{rule.meta.severity.value}|{rule.digest}\0".encode())
        self.directory = directory / f"v{CACHE_FORMAT}" / run_key.hexdigest()[:24]

    def _entry(self, path: str, data: bytes) -> Path:
        key = hashlib.sha256(path.encode("utf-8", "surrogateescape") + b"\0" + data).hexdigest()
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, path: str, data: bytes) -> FileOutcome | None:
        try:
            payload = json.loads(self._entry(path, data).read_text(encoding="utf-8"))
            return FileOutcome(
                findings=[Finding.from_json(f) for f in payload["findings"]],
                skipped=Skipped(**payload["skipped"]) if payload["skipped"] else None,
                parsed=payload["parsed"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, path: str, data: bytes, outcome: FileOutcome) -> None:
        if outcome.rule_errors:
            return  # a rule that failed may succeed next time
        payload = {
            "findings": [f.to_json() for f in outcome.findings],
            "skipped": outcome.skipped.to_json() if outcome.skipped else None,
            "parsed": outcome.parsed,
        }
        entry = self._entry(path, data)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=entry.parent, delete=False, encoding="utf-8", suffix=".tmp") as out:
                json.dump(payload, out, ensure_ascii=False)
            os.replace(out.name, entry)
        except OSError:
            return  # a read-only or full cache directory only costs speed
