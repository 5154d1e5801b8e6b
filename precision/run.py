#!/usr/bin/env python3
"""Precision harness: scan pinned public ML packages and score the findings against labels.

    python precision/run.py                      findings per rule and package
    python precision/run.py --labels             precision and recall against labels.csv
    python precision/run.py --sample TMO001 10   ten findings of a rule, with code, to read
    python precision/run.py --unlabeled          findings that no label covers yet

Only the standard library and the installed `arch-review` command are used. See README.md
in this folder for the matching rule and what the numbers mean.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Mapping, Sequence

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path(os.environ.get("ARCH_REVIEW_CORPUS", "/tmp/corpus"))
DEFAULT_PACKAGES = HERE / "packages.toml"
DEFAULT_LABELS = HERE / "labels.csv"
LABELS_DIR = HERE / "labels"
SCAN_CONFIG = HERE / "scan-config.yml"

CORE_FAMILIES = (
    "no-timeout",
    "no-retry",
    "blocking-in-async",
    "unbounded-load",
    "unbounded-cache",
    "single-gpu",
    "no-checkpoint",
    "swallowed-error",
)
ALL_FAMILIES = CORE_FAMILIES + ("serving", "reproducibility", "hardcoded-config", "dependency")
KINDS = ("wheel", "sdist")
LABEL_COLUMNS = ("package", "version", "path", "line", "family", "label", "rule_hint", "note")
LABEL_VALUES = ("positive", "negative")


# --------------------------------------------------------------------------- data


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str
    kind: str
    why: str = ""
    spelling: str = ""  # the name as written in packages.toml, for cache folder names

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def folder_names(self) -> tuple[str, ...]:
        names = [f"{self.spelling or self.name}-{self.version}", self.key]
        names += [f"{name}-{self.kind}" for name in list(names)]
        return tuple(dict.fromkeys(names))


@dataclasses.dataclass(frozen=True)
class Label:
    package: str
    version: str
    path: str
    line: int
    family: str
    positive: bool
    rule_hint: str = ""
    note: str = ""
    row: int = 0  # line in its file, for messages
    source: str = "labels.csv"  # the file's name, for messages

    @property
    def pointer(self) -> str:
        return f"{self.package} {self.path}:{self.line}"


@dataclasses.dataclass(frozen=True)
class Finding:
    package: str
    path: str
    line: int
    end_line: int
    rule: str
    family: str
    message: str = ""
    symbol: str = ""

    @property
    def pointer(self) -> str:
        return f"{self.package} {self.path}:{self.line}"

    def covers(self, line: int) -> bool:
        return self.line <= line <= self.end_line


class LabelError(ValueError):
    """labels.csv is malformed; the message names the row."""


# --------------------------------------------------------------------------- packages


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of '-', '_' and '.' become one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_packages(text: str) -> list[Package]:
    document = tomllib.loads(text)
    entries = document.get("package")
    if not isinstance(entries, list) or not entries:
        raise ValueError("packages.toml: expected one or more [[package]] tables")
    packages = []
    seen = set()
    for index, entry in enumerate(entries, 1):
        missing = [key for key in ("name", "version", "kind") if not entry.get(key)]
        if missing:
            raise ValueError(f"packages.toml: package #{index}: missing {', '.join(missing)}")
        if entry["kind"] not in KINDS:
            raise ValueError(f"packages.toml: {entry['name']}: kind must be wheel or sdist")
        name = normalize(entry["name"])
        if name in seen:
            raise ValueError(f"packages.toml: {name} is listed twice")
        seen.add(name)
        packages.append(Package(name, str(entry["version"]), entry["kind"], entry.get("why", ""),
                                entry["name"]))
    return packages


def load_packages(path: Path) -> list[Package]:
    return parse_packages(path.read_text(encoding="utf-8"))


def _archive_matches(filename: str, package: Package) -> bool:
    if package.kind == "wheel":
        if not filename.endswith(".whl"):
            return False
        name, version = filename.split("-")[:2]
    else:
        match = re.fullmatch(r"(.+)-([^-]+)\.(?:tar\.gz|zip|tgz|tar\.bz2)", filename)
        if not match:
            return False
        name, version = match.groups()
    return normalize(name) == package.name and version == package.version


def find_archive(package: Package, cache: Path) -> Path | None:
    for folder in (cache / "wheels", cache / "sdists"):
        if folder.is_dir():
            for candidate in sorted(folder.iterdir()):
                if _archive_matches(candidate.name, package):
                    return candidate
    return None


def download(package: Package, cache: Path) -> Path:
    archive = find_archive(package, cache)
    if archive is not None:
        return archive
    dest = cache / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    binary = ["--only-binary=:all:"] if package.kind == "wheel" else ["--no-binary=:all:"]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *binary,
               "--dest", str(dest), f"{package.name}=={package.version}"]
    done = subprocess.run(command, capture_output=True, text=True)
    archive = find_archive(package, cache)
    if archive is None:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"could not download {package.key} ({package.kind}):\n{tail}")
    return archive


def _kind_of_tree(folder: Path) -> str:
    if any(child.name.endswith(".dist-info") for child in folder.iterdir()):
        return "wheel"
    return "sdist"


def source_dir(package: Package, cache: Path) -> Path | None:
    """The extracted tree of ``package`` if present: src/NAME-VERSION, or src/NAME-VERSION-sdist
    when NAME-VERSION already holds the wheel (the cache is shared)."""
    for name in package.folder_names:
        folder = cache / "src" / name
        if folder.is_dir() and _kind_of_tree(folder) == package.kind:
            return folder
    return None


def _safe_members(names: Iterable[str]) -> None:
    for name in names:
        parts = Path(name).parts
        if name.startswith("/") or ".." in parts:
            raise RuntimeError(f"refusing archive member {name!r}")


def extract(package: Package, archive: Path, cache: Path) -> Path:
    existing = source_dir(package, cache)
    if existing is not None:
        return existing
    names = package.folder_names
    target = cache / "src" / names[0]
    if target.exists():
        target = cache / "src" / f"{names[0]}-{package.kind}"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{package.key}.", dir=target.parent))
    try:
        if archive.name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive) as zipped:
                _safe_members(zipped.namelist())
                zipped.extractall(staging)
        else:
            with tarfile.open(archive) as tarred:
                _safe_members(tarred.getnames())
                tarred.extractall(staging, filter="data")
        top = list(staging.iterdir())
        root = top[0] if package.kind == "sdist" and len(top) == 1 and top[0].is_dir() else staging
        os.rename(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def prepare(package: Package, cache: Path) -> Path:
    existing = source_dir(package, cache)
    if existing is not None:
        return existing
    return extract(package, download(package, cache), cache)


# --------------------------------------------------------------------------- scanning


def all_rule_ids() -> list[dict]:
    done = subprocess.run(["arch-review", "rules", "--all", "--format", "json"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"arch-review rules failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def _reviewer_fingerprint(rule_ids: Sequence[str]) -> str:
    """Changes whenever the analyzer, its rules or the selection change, so a cached scan is
    reused only when it would come out the same."""
    digest = hashlib.sha256(",".join(sorted(rule_ids)).encode())
    digest.update(SCAN_CONFIG.read_bytes())
    try:
        import reviewer  # the installed arch-review

        roots = [Path(reviewer.__file__).resolve().parent]
        rules = roots[0].parent / "rules"
        roots.append(rules if rules.is_dir() else roots[0] / "rules")
    except ImportError:
        roots = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".yaml", ".yml") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def parse_report(document: Mapping, package: str) -> list[Finding]:
    findings = []
    for item in document.get("findings", []):
        line = int(item["line"])
        findings.append(Finding(
            package=package,
            path=item["path"],
            line=line,
            end_line=int(item.get("end_line") or line),
            rule=item["rule"],
            family=item["family"],
            message=item.get("message", ""),
            symbol=item.get("symbol") or "",
        ))
    return findings


def scan(package: Package, folder: Path, rule_ids: Sequence[str], cache: Path,
         fingerprint: str, reuse: bool = True) -> tuple[list[Finding], dict]:
    stored = cache / "scans" / f"{package.key}-{package.kind}-{fingerprint}.json"
    if reuse and stored.is_file():
        document = json.loads(stored.read_text(encoding="utf-8"))
    else:
        command = ["arch-review", "scan", ".", "--format", "json", "--config", str(SCAN_CONFIG),
                   "--select", ",".join(rule_ids)]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"scan of {package.key} failed ({done.returncode}): "
                               f"{done.stderr.strip()[-2000:]}")
        document = json.loads(done.stdout)
        document["rule_errors"] = [line for line in done.stderr.splitlines() if line.strip()]
        stored.parent.mkdir(parents=True, exist_ok=True)
        temporary = stored.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document), encoding="utf-8")
        os.replace(temporary, stored)
    return parse_report(document, package.name), document


# --------------------------------------------------------------------------- labels


def parse_labels(text: str) -> list[Label]:
    """Rows of labels.csv; raises LabelError naming the first bad row."""
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if header != LABEL_COLUMNS:
        raise LabelError(f"header must be {','.join(LABEL_COLUMNS)}, got {','.join(header)}")
    labels = []
    seen: dict[tuple, int] = {}
    for row in reader:
        number = reader.line_num
        if None in row or any(value is None for value in row.values()):
            raise LabelError(f"row {number}: expected {len(LABEL_COLUMNS)} columns")
        values = {key: value.strip() for key, value in row.items()}
        for key in ("package", "version", "path", "line", "family", "label"):
            if not values[key]:
                raise LabelError(f"row {number}: {key} is empty")
        try:
            line = int(values["line"])
        except ValueError:
            raise LabelError(f"row {number}: line {values['line']!r} is not a number") from None
        if line < 1:
            raise LabelError(f"row {number}: line must be 1 or more")
        if values["family"] not in ALL_FAMILIES:
            raise LabelError(f"row {number}: unknown family {values['family']!r}")
        if values["label"] not in LABEL_VALUES:
            raise LabelError(f"row {number}: label must be positive or negative")
        if values["path"].startswith("/") or "\\" in values["path"]:
            raise LabelError(f"row {number}: path must be relative with forward slashes")
        label = Label(
            package=normalize(values["package"]),
            version=values["version"],
            path=values["path"],
            line=line,
            family=values["family"],
            positive=values["label"] == "positive",
            rule_hint=values["rule_hint"],
            note=values["note"],
            row=number,
        )
        key = (label.package, label.path, label.line, label.family)
        if key in seen:
            raise LabelError(f"row {number}: same package, path, line and family as row {seen[key]}")
        seen[key] = number
        labels.append(label)
    return labels


def label_files(given: Sequence[Path] | None) -> list[Path]:
    """The files given, or labels.csv and every labels/*.csv (one file per family or pack
    keeps concurrent labelling from colliding)."""
    if given:
        return list(given)
    return [DEFAULT_LABELS, *sorted(LABELS_DIR.glob("*.csv"))]


def load_labels(paths: Sequence[Path]) -> list[Label]:
    """Labels of every file; a pointer labelled twice (in one file or across files) is an error."""
    labels: list[Label] = []
    seen: dict[tuple, str] = {}
    for path in paths:
        try:
            rows = parse_labels(path.read_text(encoding="utf-8"))
        except LabelError as error:
            raise LabelError(f"{path.name}: {error}") from None
        for label in rows:
            label = dataclasses.replace(label, source=path.name)
            key = (label.package, label.path, label.line, label.family)
            if key in seen:
                raise LabelError(f"{path.name} row {label.row}: same package, path, line and "
                                 f"family as {seen[key]}")
            seen[key] = f"{path.name} row {label.row}"
            labels.append(label)
    return labels


@dataclasses.dataclass
class Match:
    """Each label with the findings that match it, and the findings no label matches."""

    by_label: list[tuple[Label, list[Finding]]]
    unlabeled: list[Finding]


def match(findings: Sequence[Finding], labels: Sequence[Label]) -> Match:
    """A finding matches a label when package, path and family are equal and the label's line
    lies within the finding's span (first line to end line, both included)."""
    index: dict[tuple, list[Finding]] = defaultdict(list)
    for finding in findings:
        index[(finding.package, finding.path, finding.family)].append(finding)
    matched_ids: set[int] = set()
    by_label = []
    for label in labels:
        hits = [f for f in index.get((label.package, label.path, label.family), ())
                if f.covers(label.line)]
        matched_ids.update(id(f) for f in hits)
        by_label.append((label, hits))
    unlabeled = [f for f in findings if id(f) not in matched_ids]
    return Match(by_label, unlabeled)


@dataclasses.dataclass
class Score:
    tp: int = 0  # positive label, matched
    fn: int = 0  # positive label, no finding
    fp: int = 0  # negative label, matched
    tn: int = 0  # negative label, no finding

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.tp + self.fn)

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.tn += other.tn


def ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


@dataclasses.dataclass
class Scores:
    families: dict[str, Score]
    rules: dict[str, Score]  # tp/fp per rule; fn = family positives the rule missed
    core: Score


def score(result: Match, rule_families: Mapping[str, str] | None = None) -> Scores:
    """Label-centred counts. Per family: each positive label is a TP (some finding of the family
    matches it) or an FN; each negative label is an FP or a TN. Per rule: TP/FP are the labels that
    rule's findings match; FN are the family's positive labels that this rule did not match, so a
    rule's recall is its share of the family (several rules may split a family)."""
    families: dict[str, Score] = defaultdict(Score)
    rules: dict[str, Score] = defaultdict(Score)
    rule_families = dict(rule_families or {})
    for _, hits in result.by_label:
        for finding in hits:
            rule_families.setdefault(finding.rule, finding.family)
    for rule in rule_families:
        rules[rule] = Score()
    for label, hits in result.by_label:
        family = families[label.family]
        hit_rules = {finding.rule for finding in hits}
        if label.positive:
            if hits:
                family.tp += 1
            else:
                family.fn += 1
        elif hits:
            family.fp += 1
        else:
            family.tn += 1
        for rule, rule_family in rule_families.items():
            if rule_family != label.family:
                continue
            entry = rules[rule]
            if label.positive:
                if rule in hit_rules:
                    entry.tp += 1
                else:
                    entry.fn += 1
            elif rule in hit_rules:
                entry.fp += 1
            else:
                entry.tn += 1
    core = Score()
    for name in CORE_FAMILIES:
        if name in families:
            core.add(families[name])
    return Scores(dict(families), dict(rules), core)


# --------------------------------------------------------------------------- rendering


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def counts_table(findings: Sequence[Finding], packages: Sequence[Package],
                 rules: Sequence[dict]) -> str:
    per_rule: dict[str, Counter] = defaultdict(Counter)
    for finding in findings:
        per_rule[finding.rule][finding.package] += 1
    rows = []
    known = {rule["id"]: rule for rule in rules}
    for rule_id in sorted(set(known) | set(per_rule)):
        counter = per_rule.get(rule_id, Counter())
        meta = known.get(rule_id, {})
        spread = ", ".join(f"{name} {count}" for name, count in counter.most_common())
        rows.append((rule_id, meta.get("family", "?"), meta.get("status", "?"),
                     sum(counter.values()), spread or "-"))
    return markdown_table(("rule", "family", "status", "findings", "per package"), rows)


def score_tables(scores: Scores, rule_families: Mapping[str, str],
                 unlabeled: Sequence[Finding]) -> str:
    rows = []
    for name in ALL_FAMILIES:
        entry = scores.families.get(name)
        if entry is None:
            continue
        rows.append((name, entry.tp + entry.fn, entry.fp + entry.tn, entry.tp, entry.fp,
                     entry.fn, percent(entry.precision), percent(entry.recall)))
    core = scores.core
    rows.append(("**core 8**", core.tp + core.fn, core.fp + core.tn, core.tp, core.fp, core.fn,
                 percent(core.precision), percent(core.recall)))
    family_table = markdown_table(
        ("family", "pos", "neg", "TP", "FP", "FN", "precision", "recall"), rows)
    unlabeled_by_rule = Counter(finding.rule for finding in unlabeled)
    rule_rows = []
    for rule in sorted(set(rule_families) | set(unlabeled_by_rule)):
        entry = scores.rules.get(rule, Score())
        rule_rows.append((rule, rule_families.get(rule, "?"), entry.tp, entry.fp,
                          percent(entry.precision), percent(entry.recall),
                          unlabeled_by_rule.get(rule, 0)))
    rule_table = markdown_table(
        ("rule", "family", "TP", "FP", "precision", "recall (share of family)", "unlabeled"),
        rule_rows)
    return family_table + "\n\n" + rule_table


def error_lists(result: Match) -> str:
    lines = []
    false_positives = [(label, hits) for label, hits in result.by_label
                       if not label.positive and hits]
    false_negatives = [label for label, hits in result.by_label if label.positive and not hits]
    lines.append(f"False positives ({len(false_positives)}): negative labels that a finding matches")
    for label, hits in sorted(false_positives, key=lambda item: (item[1][0].rule, item[0].pointer)):
        rules = ",".join(sorted({finding.rule for finding in hits}))
        lines.append(f"  {rules:8} {label.pointer}  [{label.family}] {label.note}")
    lines.append(f"False negatives ({len(false_negatives)}): positive labels no finding matches")
    for label in sorted(false_negatives, key=lambda item: (item.family, item.pointer)):
        hint = label.rule_hint or "-"
        lines.append(f"  {label.family:17} {hint:8} {label.pointer}  {label.note}")
    return "\n".join(lines)


def code_context(folder: Path, path: str, line: int, end_line: int, around: int = 3) -> str:
    try:
        text = (folder / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "    (source not found)"
    first = max(1, line - around)
    last = min(len(text), max(line, min(end_line, line + 8)) + around)
    out = []
    for number in range(first, last + 1):
        marker = ">" if line <= number <= end_line else " "
        out.append(f"  {marker}{number:5} | {text[number - 1]}")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="download/extract cache (default: %(default)s)")
    parser.add_argument("--packages-file", type=Path, default=DEFAULT_PACKAGES)
    parser.add_argument("--labels-file", type=Path, action="append",
                        help="label file (repeatable; default: labels.csv and labels/*.csv)")
    parser.add_argument("--only", metavar="NAMES", default="",
                        help="comma-separated package names to scan (default: all)")
    parser.add_argument("--rules", metavar="IDS", default="",
                        help="comma-separated rule ids to run (default: every rule, preview too)")
    parser.add_argument("--labels", action="store_true",
                        help="precision and recall against the labels, with FP and FN lists")
    parser.add_argument("--sample", nargs=2, metavar=("RULE", "N"),
                        help="N seeded random findings of RULE with code around them")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unlabeled", action="store_true",
                        help="list findings that no label matches")
    parser.add_argument("--rescan", action="store_true",
                        help="ignore cached scan results (they are keyed by the analyzer's code)")
    parser.add_argument("--jobs", type=int, default=2, help="packages scanned at once")
    parser.add_argument("--fetch-only", action="store_true", help="download and extract, no scan")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    packages = load_packages(args.packages_file)
    if args.only:
        wanted = {normalize(name) for name in args.only.split(",") if name}
        unknown = wanted - {package.name for package in packages}
        if unknown:
            print(f"unknown package(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        packages = [package for package in packages if package.name in wanted]
    cache = args.cache
    folders = {package.name: prepare(package, cache) for package in packages}
    if args.fetch_only:
        for package in packages:
            print(f"{package.key:32} {package.kind:5} {folders[package.name]}")
        return 0

    rules = all_rule_ids()
    if args.rules:
        wanted_rules = {rule_id for rule_id in args.rules.split(",") if rule_id}
        rules = [rule for rule in rules if rule["id"] in wanted_rules]
    rule_ids = [rule["id"] for rule in rules]
    rule_families = {rule["id"]: rule["family"] for rule in rules}
    findings: list[Finding] = []
    failed: set[str] = set()  # packages whose scan failed: their labels are not scored
    if rule_ids:
        fingerprint = _reviewer_fingerprint(rule_ids)

        def one(package: Package) -> tuple[Package, list[Finding], dict]:
            try:
                found, document = scan(package, folders[package.name], rule_ids, cache, fingerprint,
                                       reuse=not args.rescan)
            except RuntimeError as error:  # one broken scan must not cost the other packages
                return package, [], {"failed": str(error)}
            return package, found, document

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for package, found, document in pool.map(one, packages):
                if "failed" in document:
                    failed.add(package.name)
                    print(f"FAILED  {package.key}: {document['failed']}", file=sys.stderr)
                    continue
                findings.extend(found)
                stats = document.get("stats", {})
                errors = document.get("rule_errors", [])
                print(f"scanned {package.key:32} files {stats.get('files', '?'):>5} "
                      f"findings {len(found):>5}" + (f"  rule errors {len(errors)}" if errors else ""),
                      file=sys.stderr)
    else:
        print("no rules: nothing to scan", file=sys.stderr)

    print(f"## Findings per rule ({len(packages)} packages, {len(rule_ids)} rules)\n")
    print(counts_table(findings, packages, rules))

    labels: list[Label] = []
    if args.labels or args.unlabeled or args.sample:
        scanned = {package.name: package for package in packages}
        labels_all = load_labels(label_files(args.labels_file))
        stale = [label for label in labels_all
                 if label.package in scanned and label.version != scanned[label.package].version]
        for label in stale:
            print(f"warning: {label.source} row {label.row}: {label.package} {label.version} is not "
                  f"the pinned {scanned[label.package].version}; skipped", file=sys.stderr)
        labels = [label for label in labels_all
                  if label.package in scanned and label not in stale and label.package not in failed]
        for label in labels:
            source = folders[label.package] / label.path
            if not source.is_file():
                print(f"warning: {label.source} row {label.row}: no file {label.path} in "
                      f"{label.package}", file=sys.stderr)
    result = match(findings, labels)

    if args.labels:
        scores = score(result, rule_families)
        positives = sum(label.positive for label in labels)
        print(f"\n## Against labels ({len(labels)} labels: {positives} positive, "
              f"{len(labels) - positives} negative; {len(result.unlabeled)} findings unlabeled)\n")
        print(score_tables(scores, rule_families, result.unlabeled))
        print()
        print(error_lists(result))

    if args.sample:
        rule_id, count = args.sample[0], int(args.sample[1])
        pool_ = sorted((f for f in findings if f.rule == rule_id),
                       key=lambda f: (f.package, f.path, f.line))
        chosen = random.Random(args.seed).sample(pool_, min(count, len(pool_)))
        status = {}
        for label, hits in result.by_label:
            for finding in hits:
                status[id(finding)] = "positive" if label.positive else "negative"
        print(f"\n## Sample of {len(chosen)} of {len(pool_)} findings of {rule_id} "
              f"(seed {args.seed})")
        for finding in chosen:
            print(f"\n{finding.pointer}  [{status.get(id(finding), 'unlabeled')}]  "
                  f"{finding.symbol}  {finding.message}")
            print(code_context(folders[finding.package], finding.path, finding.line,
                               finding.end_line))

    if args.unlabeled:
        print(f"\n## Unlabeled findings ({len(result.unlabeled)})")
        for finding in sorted(result.unlabeled, key=lambda f: (f.rule, f.package, f.path, f.line)):
            print(f"{finding.rule:8} {finding.family:17} {finding.pointer}  {finding.message}")
    if failed:
        print(f"\n{len(failed)} package scan(s) failed, their labels left out: {', '.join(sorted(failed))}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
