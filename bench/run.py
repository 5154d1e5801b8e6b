#!/usr/bin/env python3
"""Speed and memory of arch-review against its peers, measured side by side in one run.

    python bench/run.py                 3 runs of every case (medians)
    python bench/run.py --quick         1 run of every case
    python bench/run.py --profile       cProfile of arch-review scanning a sample: top 25 functions
    python bench/run.py --admission     per rule, the files its tokens let through the prefilter
    python bench/run.py --choose-sample print the deterministic PR sample (to pin in corpus.toml)

Cases: (a) the whole transformers source tree (pinned in corpus.toml), (b) a 10-file,
~2,000-line PR sample of it, held as a real change in a throwaway git repo so that
`arch-review diff` has a branch to review. Peers (pinned in corpus.toml) run their rule
closest to arch-review's TMO001: bandit -t B113, ruff --select S113,ASYNC, semgrep with
bench/semgrep-timeout.yaml; fixit runs its default rules. Each peer lives in its own
virtualenv (their dependencies conflict). Only the package registries are reached, to
install the peers and fetch the pinned wheel; nothing else goes over the network.

Wall time is process start to exit, outputs written; peak memory is the largest sum of
PSS over the process tree (sampled), and the largest single process's max RSS.
Ratios are peer time / arch-review time, from the same run, whose runs take turns (run i of
every case, then run i+1): the machine may be loaded, so absolute numbers are noisy, the
ratios much less so. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS_TOML = HERE / "corpus.toml"
SEMGREP_RULES = HERE / "semgrep-timeout.yaml"
DEFAULT_VENV = HERE / ".venv"
DEFAULT_CORPUS_DIR = HERE / ".corpus"
TIME_BIN = "/usr/bin/time"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost",
    "GIT_AUTHOR_DATE": "2024-10-24T00:00:00+00:00", "GIT_COMMITTER_DATE": "2024-10-24T00:00:00+00:00",
}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Corpus:
    repo: Path  # the throwaway git repo, checked out on the PR branch (the full tree)
    tree: str  # the scanned folder inside it, e.g. "transformers"
    files: tuple[str, ...]  # every .py file of the tree, repo-relative
    lines: dict[str, int]
    pr_files: tuple[str, ...]
    base_branch: str
    pr_branch: str

    def loc(self, paths: Sequence[str]) -> int:
        return sum(self.lines[p] for p in paths)


def load_spec() -> dict:
    with CORPUS_TOML.open("rb") as handle:
        return tomllib.load(handle)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(spec: dict, corpus_dir: Path) -> Path:
    """The pinned wheel: from the local cache, a precision-harness cache, or `pip download`."""
    package = spec["package"]
    name, version, expected = package["name"], package["version"], package["sha256"]
    wheels = corpus_dir / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    search = [wheels]
    shared = os.environ.get("ARCH_REVIEW_CORPUS")
    search.append(Path(shared) / "wheels" if shared else Path("/tmp/corpus/wheels"))
    for folder in search:
        for candidate in sorted(folder.glob(pattern)) if folder.is_dir() else ():
            if sha256_file(candidate) == expected:
                if folder != wheels:
                    shutil.copy2(candidate, wheels / candidate.name)
                return wheels / candidate.name
    log(f"downloading {name}=={version} (wheel) with pip")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", str(wheels), f"{name}=={version}"],
        capture_output=True, text=True,
    )
    for candidate in sorted(wheels.glob(pattern)):
        if sha256_file(candidate) == expected:
            return candidate
    raise SystemExit(f"bench: cannot get {name}=={version} with sha256 {expected}:\n{done.stderr[-2000:]}")


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_IDENTITY, "LC_ALL": "C"}
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", "-c", "init.defaultBranch=main",
         *args],
        cwd=repo, env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: git {' '.join(args)} failed in {repo}:\n{done.stderr}")
    return done.stdout


def prepare_corpus(spec: dict, corpus_dir: Path) -> Corpus:
    """The wheel's source in a git repo: `main` lacks the PR (added files absent, modified
    files cut to their first half); the `pr` branch holds the tree as released."""
    package, sample = spec["package"], spec["pr_sample"]
    tree = package["tree"]
    added, modified = list(sample["added"]), list(sample["modified"])
    key = hashlib.sha256(json.dumps([package, sample], sort_keys=True).encode()).hexdigest()[:12]
    repo = corpus_dir / f"{package['name']}-{package['version']}-{key}"
    marker = repo / ".git" / "bench-ready"
    if not marker.exists():
        wheel = fetch_wheel(spec, corpus_dir)
        log(f"building the corpus repo in {repo}")
        if repo.exists():
            shutil.rmtree(repo)
        repo.mkdir(parents=True)
        with zipfile.ZipFile(wheel) as zipped:
            members = [m for m in zipped.namelist() if m.startswith(tree + "/") and ".." not in Path(m).parts]
            zipped.extractall(repo, members)
        full = {path: (repo / path).read_bytes() for path in added + modified}
        for path in added:
            (repo / path).unlink()
        for path in modified:
            lines = full[path].splitlines(keepends=True)
            (repo / path).write_bytes(b"".join(lines[: len(lines) // 2]))
        _git(repo, "init", "--quiet")
        _git(repo, "add", "--all")
        _git(repo, "commit", "--quiet", "-m", f"{package['name']} {package['version']} without the PR sample")
        _git(repo, "checkout", "--quiet", "-b", sample["branch"])
        for path, data in full.items():
            (repo / path).write_bytes(data)
        _git(repo, "add", "--all")
        _git(repo, "commit", "--quiet", "-m", "the PR sample: 10 files added or grown")
        marker.write_text(key)
    files = tuple(sorted(p.relative_to(repo).as_posix() for p in (repo / tree).rglob("*.py")))
    lines = {path: (repo / path).read_bytes().count(b"\n") for path in files}
    missing = [p for p in added + modified if p not in lines]
    if missing:
        raise SystemExit(f"bench: PR sample files missing from the tree: {missing}")
    return Corpus(repo, tree, files, lines, tuple(added + modified), "main", sample["branch"])


def choose_sample(files: Sequence[str], lines: dict[str, int], sample: dict) -> list[str]:
    """Deterministic: files ordered by a salted hash of their path; greedily take those of
    the allowed size that keep the total under target + slack, until `files` are taken."""
    seed = sample["seed"]
    ordered = sorted(files, key=lambda p: hashlib.sha256(f"{seed}:{p}".encode()).hexdigest())
    want, target = sample["files"], sample["target_lines"]
    low, high = sample["min_lines"], sample["max_lines"]
    chosen: list[str] = []
    total = 0
    for path in ordered:
        n = lines[path]
        too_many_models = "/models/" in path and sum("/models/" in c for c in chosen) >= want // 2
        if not low <= n <= high or too_many_models:
            continue
        remaining = want - len(chosen) - 1
        if total + n + remaining * low > target * 1.05:
            continue
        chosen.append(path)
        total += n
        if len(chosen) == want:
            break
    return chosen


# --------------------------------------------------------------------------- peers


@dataclass
class Tool:
    name: str
    version: str = ""
    exe: dict[str, str] = field(default_factory=dict)  # command name -> path
    problem: str | None = None  # why it is unavailable

    def command(self, name: str | None = None) -> str:
        return self.exe[name or self.name]


def install_peer(name: str, requirement: str, commands: Sequence[str], venv_root: Path) -> Tool:
    venv = venv_root / name
    bin_dir = venv / "bin"
    marker = venv / "bench-requirement.txt"
    try:
        if not (marker.exists() and marker.read_text() == requirement):
            log(f"installing {requirement} into {venv}")
            if venv.exists():
                shutil.rmtree(venv)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
            done = subprocess.run(
                [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
                capture_output=True, text=True, timeout=1800,
            )
            if done.returncode != 0:
                lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.startswith("ERROR")]
                return Tool(name, problem=f"pip install {requirement} failed: {(lines or ['?'])[-1][:160]}")
            marker.write_text(requirement)
        exe = {c: str(bin_dir / c) for c in commands}
        missing = [c for c in commands if not Path(exe[c]).exists()]
        if missing:
            return Tool(name, problem=f"{requirement} installed no {', '.join(missing)}")
        version = subprocess.run([exe[commands[0]], "--version"], capture_output=True, text=True, timeout=120)
        text = (version.stdout or version.stderr).strip().splitlines()
        return Tool(name, version=(text[0] if text else requirement), exe=exe)
    except (OSError, subprocess.SubprocessError) as exc:
        return Tool(name, problem=f"{type(exc).__name__}: {exc}"[:200])


def arch_review_snapshot(source: Path, venv_root: Path) -> Tool:
    """arch-review installed from ``source`` (not editable) into its own virtualenv: the
    measured code cannot change under the benchmark when someone edits the checkout,
    and its modules are byte-compiled as in any real install."""
    venv = venv_root / "arch-review"
    python = venv / "bin" / "python"
    head = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--", "reviewer", "rules", "pyproject.toml"],
                           capture_output=True, text=True)
    try:
        fresh = not python.exists()
        if fresh:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        log(f"installing a snapshot of {source} into {venv}")
        # Dependencies once; after that only arch-review itself is rebuilt from the checkout.
        reinstall = [] if fresh else ["--force-reinstall", "--no-deps"]
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *reinstall, str(source)],
            capture_output=True, text=True, timeout=1800,
        )
        if done.returncode == 0 and not fresh:  # a changed pyproject may need new dependencies
            done = subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
                capture_output=True, text=True, timeout=1800,
            )
        if done.returncode != 0:
            lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.startswith("ERROR")]
            return Tool("arch-review", problem=f"pip install {source} failed: {(lines or ['?'])[-1][:160]}")
    except (OSError, subprocess.SubprocessError) as exc:
        return Tool("arch-review", problem=f"{type(exc).__name__}: {exc}"[:200])
    tool = arch_review_tool(str(venv / "bin" / "arch-review"), describe_source=False)
    if not tool.problem:
        tool.version += f" (snapshot of {head.stdout.strip() or '?'}"
        tool.version += " + uncommitted changes)" if dirty.stdout.strip() else ")"
    return tool


def arch_review_tool(command: str, describe_source: bool = True) -> Tool:
    exe = shutil.which(command)
    if exe is None:
        return Tool("arch-review", problem=f"{command} not on PATH (pip install -e .)")
    done = subprocess.run([exe, "--version"], capture_output=True, text=True)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "reviewer", "rules"],
                           capture_output=True, text=True)
    version = done.stdout.strip()
    if describe_source:
        version += f" @ {head.stdout.strip()}" if head.returncode == 0 else ""
        version += " (+ uncommitted changes in reviewer/ or rules/)" if dirty.stdout.strip() else ""
    return Tool("arch-review", version=version, exe={"arch-review": exe})


def interpreter_of(script: str) -> str:
    """The Python that runs a console script (its shebang), for in-process profiling."""
    try:
        first = Path(script).read_bytes().split(b"\n", 1)[0].decode()
    except OSError:
        return sys.executable
    if first.startswith("#!") and "python" in first:
        return first[2:].strip().split()[0]
    return sys.executable


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float | None  # user + system, of the process and the children it waited for
    peak_pss_mb: float | None
    max_rss_mb: float | None
    returncode: int


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_table() -> tuple[dict[int, list[int]], dict[int, float]]:
    """Children of each process, and each process's own CPU seconds (user + system)."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return children, cpu


def _peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _memory_kb(pid: int) -> int:
    """PSS (shared pages split between the processes sharing them), else RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError):
        return 0


class TreeMemory:
    """Samples a process and all its descendants until stopped: the peak of their summed
    PSS, each one's peak RSS and CPU time (worker pools are not always reaped by the
    process that /usr/bin/time waits for, so its rusage can miss them)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.cpu: dict[int, float] = {}
        self.hwm_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.enabled = os.path.isdir("/proc/self")

    def __enter__(self) -> TreeMemory:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            children, cpu = _process_table()
            pending, total = [self.pid], 0
            while pending:
                pid = pending.pop()
                total += _memory_kb(pid)
                self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), _peak_rss_kb(pid))
                if pid in cpu:
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu[pid])
                pending.extend(children.get(pid, ()))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(self.interval)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    @property
    def max_rss_kb(self) -> int:
        return max(self.hwm_kb.values(), default=0)


def measure(argv: Sequence[str], cwd: Path, env: dict[str, str] | None, timeout: float) -> Sample:
    """One run in a fresh process: wall time, peak tree PSS, the largest max RSS."""
    use_time = os.access(TIME_BIN, os.X_OK)
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as handle:
        time_file = handle.name
    wrapped = [TIME_BIN, "-v", "-o", time_file, *argv] if use_time else list(argv)
    before = _children_maxrss()
    started = time.perf_counter()
    process = subprocess.Popen(
        wrapped, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True,
    )
    with TreeMemory(process.pid) as memory:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    seconds = time.perf_counter() - started
    max_rss_mb = cpu = None
    if use_time:
        text = Path(time_file).read_text(errors="replace")
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        max_rss_mb = int(found.group(1)) / 1024 if found else None
        status = re.search(r"Exit status: (\d+)", text)
        returncode = int(status.group(1)) if status else process.returncode
        user = re.search(r"User time \(seconds\): ([\d.]+)", text)
        system = re.search(r"System time \(seconds\): ([\d.]+)", text)
        cpu = float(user.group(1)) + float(system.group(1)) if user and system else None
    else:
        after = _children_maxrss()
        max_rss_mb = after / 1024 if after > before else None  # a new maximum is this run's
        returncode = process.returncode
    os.unlink(time_file)
    peak = memory.peak_kb / 1024 if memory.peak_kb else None
    # Take whichever saw more: rusage (exact, but only for reaped children) or the samples.
    if memory.cpu_seconds and (cpu is None or memory.cpu_seconds > cpu):
        cpu = memory.cpu_seconds
    if memory.max_rss_kb and (max_rss_mb is None or memory.max_rss_kb / 1024 > max_rss_mb):
        max_rss_mb = memory.max_rss_kb / 1024
    sample = Sample(seconds, cpu, peak, max_rss_mb, returncode)
    sample.stderr = stderr.decode(errors="replace")  # type: ignore[attr-defined]
    return sample


def _children_maxrss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


@dataclass
class Case:
    suite: str  # "full" | "pr"
    tool: str
    label: str
    argv: list[str] = field(default_factory=list)
    ok_codes: tuple[int, ...] = (0, 1)
    env: dict[str, str] | None = None
    prime: bool = False  # one unmeasured run first (the warm cache)
    files: int = 0
    loc: int = 0
    reference: bool = False  # arch-review's row that peers of the suite are compared with
    extrapolate: tuple[int, float] | None = None  # (sampled loc, startup seconds) -> scale to `loc`
    samples: list[Sample] = field(default_factory=list)
    problem: str | None = None
    note: str = ""

    @property
    def seconds(self) -> float | None:
        if not self.samples:
            return None
        median = statistics.median(s.seconds for s in self.samples)
        if self.extrapolate is not None:
            sampled_loc, startup = self.extrapolate
            return startup + max(0.0, median - startup) * self.loc / sampled_loc
        return median

    @property
    def cpu_seconds(self) -> float | None:
        values = [s.cpu_seconds for s in self.samples if s.cpu_seconds is not None]
        if not values:
            return None
        median = statistics.median(values)
        if self.extrapolate is not None:
            sampled_loc, _ = self.extrapolate
            return median * self.loc / sampled_loc
        return median

    def peak(self, attr: str) -> float | None:
        values = [getattr(s, attr) for s in self.samples if getattr(s, attr) is not None]
        return max(values) if values else None


def run_cases(cases: Sequence[Case], cwd: Path, runs: int, timeout: float) -> None:
    """Round robin: run i of every case before run i+1 of any, so a slow spell of the machine
    (this class of machine has them) falls on every tool alike, not on whichever case met it."""
    for case in cases:
        if case.prime:
            _run_once(case, cwd, timeout, None, runs)
    for index in range(runs):
        for case in cases:
            _run_once(case, cwd, timeout, index, runs)


def _run_once(case: Case, cwd: Path, timeout: float, index: int | None, runs: int) -> None:
    """``index`` None: the unmeasured priming run."""
    if case.problem:
        return
    try:
        sample = measure(case.argv, cwd, case.env, timeout)
    except subprocess.TimeoutExpired:
        case.problem = f"timed out after {timeout:.0f} s"
        return
    except OSError as exc:
        case.problem = f"could not start: {exc}"
        return
    if index is None:
        return
    if sample.returncode not in case.ok_codes:
        tail = " | ".join(sample.stderr.strip().splitlines()[-3:])  # type: ignore[attr-defined]
        case.problem = f"failed: exit {sample.returncode}: {tail[:200]}"
        return
    case.samples.append(sample)
    log(f"  {case.suite:4} {case.label:34} run {index + 1}/{runs}: {sample.seconds:8.2f} s")


# --------------------------------------------------------------------------- cases


def fixit_subset(corpus: Corpus, fraction: float, seed: str) -> list[str]:
    ordered = sorted(corpus.files, key=lambda p: hashlib.sha256(f"{seed}:fixit:{p}".encode()).hexdigest())
    budget = corpus.loc(corpus.files) * fraction
    chosen, total = [], 0
    for path in ordered:
        if total >= budget:
            break
        chosen.append(path)
        total += corpus.lines[path]
    return sorted(chosen)


def build_cases(args: argparse.Namespace, corpus: Corpus, tools: dict[str, Tool], out: Path, seed: str) -> list[Case]:
    full_files, pr_files = list(corpus.files), list(corpus.pr_files)
    cache_dir = out / "arch-cache"
    base_env = bench_env()
    arch_env = {**base_env, "ARCH_REVIEW_CACHE_DIR": str(cache_dir), "NO_COLOR": "1"}
    semgrep_env = {**base_env, "SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0",
                   "SEMGREP_USER_AGENT_APPEND": "arch-review-bench"}
    cases: list[Case] = []

    def add(suite: str, tool: str, label: str, argv: Callable[[Tool], list[str]], **kw) -> None:
        paths = full_files if suite == "full" else pr_files
        kw.setdefault("files", len(paths))
        kw.setdefault("env", base_env)
        # The first run of a small case is not measured: imports compiled, files in the page cache.
        kw.setdefault("prime", suite == "pr")
        kw.setdefault("loc", corpus.loc(paths))
        case = Case(suite, tool, label, **kw)
        t = tools.get(tool)
        if t is None or t.problem:
            case.problem = f"unavailable: {t.problem if t else 'not selected'}"
        else:
            case.argv = argv(t)
        cases.append(case)

    wanted = set(args.suites)
    def a(t: Tool) -> str:
        return t.command("arch-review")

    def fixit_argv(t: Tool, paths: Sequence[str]) -> list[str]:
        return [t.command(), "--quiet", "lint", *paths]

    if "pr" in wanted:
        add("pr", "arch-review", "arch-review diff", lambda t: [
            a(t), "diff", "--base", corpus.base_branch, "--format", "json", "--output", str(out / "arch-diff.json")],
            env=arch_env, reference=True)
        add("pr", "arch-review", "arch-review scan (10 files, no cache)", lambda t: [
            a(t), "scan", *pr_files, "--no-cache", "--format", "json", "--output", str(out / "arch-pr.json")],
            env=arch_env)
    if "full" in wanted:
        add("full", "arch-review", "arch-review scan (cold, --no-cache)", lambda t: [
            a(t), "scan", corpus.tree, "--no-cache", "--format", "json", "--output", str(out / "arch-full.json")],
            env=arch_env, reference=True)
        add("full", "arch-review", "arch-review scan (warm cache)", lambda t: [
            a(t), "scan", corpus.tree, "--format", "json", "--output", str(out / "arch-warm.json")],
            env=arch_env, prime=True)

    peers = set(args.peers)
    for suite in ("pr", "full"):
        if suite not in wanted:
            continue
        paths = [corpus.tree] if suite == "full" else pr_files
        tag = suite
        if "bandit" in peers:
            add(suite, "bandit", "bandit -t B113", lambda t, p=paths, g=tag: [
                t.command(), "-q", "-t", "B113", "-r", *p, "-f", "json", "-o", str(out / f"bandit-{g}.json")])
        if "semgrep" in peers:
            add(suite, "semgrep", "semgrep (1 local rule)", lambda t, p=paths, g=tag: [
                t.command(), "scan", "--config", str(SEMGREP_RULES), "--metrics=off", "--disable-version-check",
                "--quiet", "--json", "--output", str(out / f"semgrep-{g}.json"), *p], env=semgrep_env)
        if "ruff" in peers:
            add(suite, "ruff", "ruff --select S113,ASYNC", lambda t, p=paths, g=tag: [
                t.command(), "check", "--isolated", "--no-cache", "--select", "S113,ASYNC", "--exit-zero",
                "--output-format", "json", "--output-file", str(out / f"ruff-{g}.json"), *p])
        if "fixit" in peers:
            if suite == "full" and not args.fixit_full:
                subset = fixit_subset(corpus, args.fixit_fraction, seed)
                startup = fixit_startup(tools["fixit"], corpus, args.timeout) if not tools["fixit"].problem else 0.0
                add(suite, "fixit", "fixit lint (default rules)", lambda t, s=subset: fixit_argv(t, s),
                    extrapolate=(corpus.loc(subset), startup),
                    note=f"extrapolated from {len(subset)} files / {corpus.loc(subset) / 1000:.1f} kLOC "
                    f"(startup {startup:.1f} s kept fixed)")
            else:
                add(suite, "fixit", "fixit lint (default rules)", lambda t, p=paths: fixit_argv(t, p))
    order = ("pr", "full")
    return sorted(cases, key=lambda c: order.index(c.suite))  # stable: arch-review first in each suite


def bench_env() -> dict[str, str]:
    """The environment of every measured run: the user's, except settings that make a
    tool slower than it is where it is installed normally (bytecode never cached)."""
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONDEVMODE", "PYTHONTRACEMALLOC"):
        env.pop(name, None)
    return env


def warm_up(corpus: Corpus, tools: dict[str, Tool]) -> None:
    """As a user's machine is: arch-review's modules byte-compiled (pip does it for the
    peers), the corpus in the page cache. Nothing here is measured."""
    arch = tools["arch-review"]
    if not arch.problem:
        python = interpreter_of(arch.command("arch-review"))
        find = subprocess.run([python, "-c", "import os, reviewer; print(os.path.dirname(reviewer.__file__))"],
                              capture_output=True, text=True, env=bench_env())
        if find.returncode == 0:
            subprocess.run([python, "-m", "compileall", "-q", find.stdout.strip()],
                           capture_output=True, env=bench_env())
    for path in corpus.files:
        (corpus.repo / path).read_bytes()


def fixit_startup(tool: Tool, corpus: Corpus, timeout: float) -> float:
    """fixit's fixed cost (interpreter, imports, rule loading): a run on one one-line file."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "one.py").write_text("x = 1\n")
        try:
            argv = [tool.command(), "--quiet", "lint", "one.py"]
            measure(argv, Path(folder), bench_env(), timeout)
            return min(measure(argv, Path(folder), bench_env(), timeout).seconds for _ in range(2))
        except (subprocess.TimeoutExpired, OSError):
            return 0.0


# --------------------------------------------------------------------------- report


def _fmt(value: float | None, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def table(cases: Sequence[Case], markdown: bool) -> str:
    refs = {c.suite: c.seconds for c in cases if c.reference and c.seconds}
    cpu_refs = {c.suite: c.cpu_seconds for c in cases if c.reference and c.cpu_seconds}
    head = ["case", "tool", "files", "kLOC", "runs", "median s", "CPU s", "kLOC/s", "peak MB (tree PSS)",
            "max RSS MB (1 proc)", "peer / arch-review", "same, CPU s"]
    rows = []
    for c in cases:
        seconds = c.seconds
        if c.problem:
            rest = [c.problem] + [""] * 7
        else:
            approx = "~" if c.extrapolate else ""
            ratio = cpu_ratio = ""
            if not c.reference and seconds and refs.get(c.suite):
                ratio = f"{approx}{seconds / refs[c.suite]:.2f}x"
            if not c.reference and c.cpu_seconds and cpu_refs.get(c.suite):
                cpu_ratio = f"{approx}{c.cpu_seconds / cpu_refs[c.suite]:.2f}x"
            if c.reference:
                ratio = cpu_ratio = "(reference)"
            rest = [
                f"{approx}{_fmt(seconds, '.2f')}",
                f"{approx}{_fmt(c.cpu_seconds, '.2f')}",
                f"{approx}{_fmt(c.loc / 1000 / seconds if seconds else None, '.1f')}",
                _fmt(c.peak("peak_pss_mb"), ".0f") if not c.extrapolate else f"({_fmt(c.peak('peak_pss_mb'), '.0f')})",
                _fmt(c.peak("max_rss_mb"), ".0f") if not c.extrapolate else f"({_fmt(c.peak('max_rss_mb'), '.0f')})",
                ratio,
                cpu_ratio,
            ]
        rows.append([c.suite, c.label, str(c.files), f"{c.loc / 1000:.1f}", str(len(c.samples)), *rest])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        widths[5] = max(widths[5], 8) if rows else widths[5]
        def fmt(row: Sequence[str]) -> str:
            return "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip()

        lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    notes = [f"{c.label} ({c.suite}): {c.note}" for c in cases if c.note and not c.problem]
    if notes:
        lines.append("")
        lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def verdicts(cases: Sequence[Case]) -> list[str]:
    def get(suite: str, label_start: str) -> Case | None:
        return next((c for c in cases if c.suite == suite and c.label.startswith(label_start) and c.seconds), None)

    out = []

    def ratio_check(text: str, peer: Case | None, ref: Case | None, need: float, aim: bool = False) -> None:
        if peer is None or ref is None:
            out.append(f"[ n/a ] {text}: not measured")
            return
        ratio = peer.seconds / ref.seconds  # type: ignore[operator]
        ok = ratio >= need
        tag = ("AIM ok" if ok else "AIM --") if aim else ("PASS" if ok else "FAIL")
        approx = "~" if peer.extrapolate else ""
        cpu = ""
        if peer.cpu_seconds and ref.cpu_seconds:
            cpu = f"; CPU time {approx}{peer.cpu_seconds / ref.cpu_seconds:.2f}x"
        out.append(f"[{tag:^5}] {text}: {approx}{ratio:.2f}x wall (need >= {need:.2g}x){cpu}")

    diff, scan = get("pr", "arch-review diff"), get("full", "arch-review scan (cold")
    if diff is not None:
        ok = diff.seconds <= 1.0  # type: ignore[operator]
        out.append(f"[{'PASS' if ok else 'FAIL':^5}] PR: arch-review diff end to end <= 1.0 s: {diff.seconds:.2f} s "
                   f"(CPU {_fmt(diff.cpu_seconds, '.2f')} s: the wall time of an idle machine is about that)")
    ratio_check("PR: fixit / arch-review diff", get("pr", "fixit"), diff, 3)
    ratio_check("PR: semgrep / arch-review diff", get("pr", "semgrep"), diff, 3)
    ratio_check("full: fixit / arch-review scan", get("full", "fixit"), scan, 10)
    ratio_check("full: bandit / arch-review scan (faster than bandit)", get("full", "bandit"), scan, 1.0)
    ratio_check("full: semgrep / arch-review scan (within 3x of semgrep)", get("full", "semgrep"), scan, 1 / 3, aim=True)
    warm = get("full", "arch-review scan (warm")
    if warm is not None:
        ok = warm.seconds < 2.0  # type: ignore[operator]
        out.append(f"[{'PASS' if ok else 'FAIL':^5}] full: warm re-scan with cache < 2 s: {warm.seconds:.2f} s")
    if scan is not None and scan.peak("peak_pss_mb") is not None:
        peak = scan.peak("peak_pss_mb")
        ok = peak < 400  # type: ignore[operator]
        out.append(f"[{'PASS' if ok else 'FAIL':^5}] full: peak memory < 400 MB: {peak:.0f} MB (tree PSS), "
                   f"largest process {_fmt(scan.peak('max_rss_mb'), '.0f')} MB RSS")
    return out


def python_startup() -> float:
    """Median wall time of `python -c pass` (5 runs): how loaded the machine is right now."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-S", "-c", "pass"], env=bench_env())
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def machine_line() -> str:
    try:
        load = os.getloadavg()
        load_text = f"load avg {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    except OSError:
        load_text = "load avg ?"
    return f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, " \
        f"`python -S -c pass` {python_startup() * 1000:.0f} ms, {load_text}"


# --------------------------------------------------------------------------- profile


PROFILE_SCRIPT = r"""
import cProfile, pstats, sys
from reviewer.cli import main
argv, out, top = sys.argv[1:-2], sys.argv[-2], int(sys.argv[-1])
profile = cProfile.Profile()
profile.enable()
try:
    main(argv)
finally:
    profile.disable()
    profile.dump_stats(out)
stats = pstats.Stats(out, stream=sys.stderr)
stats.strip_dirs().sort_stats("cumulative").print_stats(top)
stats.sort_stats("tottime").print_stats(top)
"""


def profile(args: argparse.Namespace, corpus: Corpus, tools: dict[str, Tool], out: Path) -> int:
    arch = tools["arch-review"]
    if arch.problem:
        print(f"arch-review unavailable: {arch.problem}")
        return 2
    if args.profile_sample == "pr":
        paths = list(corpus.pr_files)
    else:
        count = int(args.profile_sample)
        ordered = sorted(corpus.files, key=lambda p: hashlib.sha256(f"profile:{p}".encode()).hexdigest())
        paths = sorted(ordered[:count])
    python = interpreter_of(arch.command("arch-review"))
    stats_file = out / "arch-review.prof"
    argv = [python, "-c", PROFILE_SCRIPT, "scan", *paths, "--no-cache", "--jobs", "1", "--format", "json",
            "--output", str(out / "arch-profile.json"), str(stats_file), str(args.top)]
    print(f"cProfile of `arch-review scan --no-cache --jobs 1` on {len(paths)} files, "
          f"{corpus.loc(paths) / 1000:.1f} kLOC of {corpus.tree} (stats: {stats_file})", flush=True)
    started = time.perf_counter()
    warm_up(corpus, tools)
    done = subprocess.run(argv, cwd=corpus.repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=bench_env())
    print(f"wall {time.perf_counter() - started:.2f} s (with profiling overhead)\n")
    print(done.stderr)
    return 0 if done.returncode in (0, 1) else done.returncode


# --------------------------------------------------------------------------- admission


ADMISSION_SCRIPT = r"""
import sys
from collections import Counter
from pathlib import Path
from reviewer.engine.pipeline import rules_for
from reviewer.ruleset.loader import load_rules, select_rules
rules = [r for r in select_rules(load_rules()).rules if r.change is None]
paths = sys.argv[1:]
files, lines, alone = Counter(), Counter(), Counter()
parsed = parsed_lines = total_lines = 0
for path in paths:
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    count = text.count("\n")
    total_lines += count
    wanted = rules_for(rules, path, text)
    if wanted:
        parsed += 1
        parsed_lines += count
    for rule in wanted:
        files[rule.id] += 1
        lines[rule.id] += count
    if len(wanted) == 1:
        alone[wanted[0].id] += 1
print(f"{parsed} of {len(paths)} files pass the prefilter ({parsed_lines / max(total_lines, 1):.0%} of the lines)")
print()
print("| rule | files | share of lines | files only this rule admits | tokens |")
print("|---|---|---|---|---|")
def word_text(word):
    if isinstance(word, frozenset):
        return "(" + " | ".join(sorted(map(word_text, word))) + ")"
    return getattr(word, "pattern", word)
for rule in sorted(rules, key=lambda r: (-files[r.id], r.id)):
    tokens = ", ".join(sorted(" + ".join(word_text(w) for w in group) for group in rule.tokens)) or "(none: every file)"
    if len(tokens) > 60:
        tokens = tokens[:57] + "..."
    print(f"| {rule.id} | {files[rule.id]} | {lines[rule.id] / max(total_lines, 1):.0%} | {alone[rule.id]} | {tokens} |")
"""


def admission(corpus: Corpus, tools: dict[str, Tool]) -> int:
    """Which default rules' tokens let each file of the tree through the prefilter."""
    arch = tools["arch-review"]
    if arch.problem:
        print(f"arch-review unavailable: {arch.problem}")
        return 2
    python = interpreter_of(arch.command("arch-review"))
    print(f"prefilter admission of the default rules on {corpus.tree} ({len(corpus.files)} files)", flush=True)
    done = subprocess.run([python, "-c", ADMISSION_SCRIPT, *corpus.files], cwd=corpus.repo, env=bench_env())
    return done.returncode


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs per case (default 3)")
    parser.add_argument("--quick", action="store_true", help="one run per case")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="where the peers' virtualenvs live")
    parser.add_argument("--corpus-dir", type=Path, default=DEFAULT_CORPUS_DIR,
                        help="where the wheel, the corpus repo and the outputs live")
    parser.add_argument("--suites", nargs="+", default=["pr", "full"], choices=["pr", "full"])
    parser.add_argument("--peers", nargs="*", default=["fixit", "semgrep", "bandit", "ruff"],
                        choices=["fixit", "semgrep", "bandit", "ruff"])
    parser.add_argument("--arch-review", default=None, metavar="CMD",
                        help="measure this arch-review command as it is (default: install a snapshot of "
                        "this checkout into VENV/arch-review and measure that)")
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="only the cases whose label holds one of these")
    parser.add_argument("--fixit-fraction", type=float, default=0.03,
                        help="share of the full tree's lines fixit runs on, extrapolated (default 0.03)")
    parser.add_argument("--fixit-full", action="store_true", help="run fixit on the whole tree (~20+ min)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before one run is killed")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument("--profile", action="store_true", help="cProfile arch-review on a sample; no peers")
    parser.add_argument("--profile-sample", default="300", help="'pr' or a number of files (default 300)")
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    parser.add_argument("--admission", action="store_true",
                        help="per rule: how many files of the tree its tokens let through the prefilter; no timing")
    parser.add_argument("--choose-sample", action="store_true", help="print the deterministic PR sample and exit")
    parser.add_argument("--report", type=Path, metavar="JSON", help="print the table of a run saved with --json")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        return print_report(args.report, args.markdown)
    spec = load_spec()
    args.corpus_dir.mkdir(parents=True, exist_ok=True)
    if args.choose_sample:
        return print_sample(spec, args.corpus_dir)
    corpus = prepare_corpus(spec, args.corpus_dir)
    # One folder per invocation (outputs, arch-review's cache), so runs never share state.
    out = args.corpus_dir / "out" / f"{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
    out.mkdir(parents=True)
    if args.arch_review:
        tools = {"arch-review": arch_review_tool(args.arch_review)}
    else:
        tools = {"arch-review": arch_review_snapshot(REPO, args.venv)}
    if args.profile:
        return profile(args, corpus, tools, out)
    if args.admission:
        return admission(corpus, tools)
    for name in args.peers:
        peer = spec["peers"][name]
        tools[name] = install_peer(name, peer["requirement"], peer["commands"], args.venv)
    warm_up(corpus, tools)
    started = dt.datetime.now(dt.timezone.utc)
    before = machine_line()
    cases = build_cases(args, corpus, tools, out, spec["pr_sample"]["seed"])
    if args.only:
        cases = [c for c in cases if any(text in c.label for text in args.only)]
    log(f"{len(cases)} cases x {args.runs} run(s) on {corpus.repo}")
    for suite in ("pr", "full"):
        run_cases([c for c in cases if c.suite == suite], corpus.repo, args.runs, args.timeout)
    after = machine_line()

    header = [
        f"arch-review benchmark, {started:%Y-%m-%d %H:%M} UTC, {args.runs} run(s) per case (median)",
        (f"corpus: {spec['package']['name']}=={spec['package']['version']} wheel source, "
         f"{len(corpus.files)} files / {corpus.loc(corpus.files) / 1000:.0f} kLOC; PR sample "
         f"{len(corpus.pr_files)} files / {corpus.loc(corpus.pr_files):,} lines"),
        f"machine: {before} (at start); {', '.join(after.rsplit(', ', 2)[-2:])} (at end)",
        "tools: " + "; ".join(f"{t.name} {t.version}" if not t.problem else f"{t.name} unavailable"
                              for t in tools.values()),
    ]
    print(render(header, cases, args.markdown))
    if args.json:
        args.json.write_text(json.dumps({
            "header": header,
            "started": started.isoformat(), "runs": args.runs, "machine_start": before, "machine_end": after,
            "tools": {t.name: {"version": t.version, "problem": t.problem} for t in tools.values()},
            "cases": [{
                "suite": c.suite, "tool": c.tool, "label": c.label, "files": c.files, "loc": c.loc,
                "seconds": c.seconds, "samples": [s.__dict__ | {"stderr": None} for s in c.samples],
                "problem": c.problem, "note": c.note, "reference": c.reference, "extrapolate": c.extrapolate,
            } for c in cases],
        }, indent=2, default=str))
    return 0


def render(header: Sequence[str], cases: Sequence[Case], markdown: bool) -> str:
    lines = [*header, "", table(cases, markdown), "", "targets (ratios from this run):", *verdicts(cases)]
    return "\n".join(lines)


def print_report(path: Path, markdown: bool) -> int:
    saved = json.loads(path.read_text())
    cases = []
    for item in saved["cases"]:
        case = Case(item["suite"], item["tool"], item["label"], files=item["files"], loc=item["loc"],
                    reference=item.get("reference", False), problem=item["problem"], note=item["note"])
        case.extrapolate = tuple(item["extrapolate"]) if item.get("extrapolate") else None  # type: ignore[assignment]
        for sample in item["samples"]:
            case.samples.append(Sample(sample["seconds"], sample.get("cpu_seconds"), sample.get("peak_pss_mb"),
                                       sample.get("max_rss_mb"), sample["returncode"]))
        cases.append(case)
    print(render(saved.get("header", [f"arch-review benchmark, {saved['started']}"]), cases, markdown))
    return 0


def print_sample(spec: dict, corpus_dir: Path) -> int:
    wheel = fetch_wheel(spec, corpus_dir)
    tree = spec["package"]["tree"]
    lines: dict[str, int] = {}
    with zipfile.ZipFile(wheel) as zipped:
        for name in zipped.namelist():
            if name.startswith(tree + "/") and name.endswith(".py"):
                lines[name] = zipped.read(name).count(b"\n")
    sample = spec["pr_sample"]
    chosen = choose_sample(sorted(lines), lines, sample)
    modified = sample.get("modified_count", 4)
    print(f"# {len(chosen)} files, {sum(lines[p] for p in chosen)} lines")
    print("modified = [\n" + "".join(f'    "{p}",  # {lines[p]} lines\n' for p in chosen[:modified]) + "]")
    print("added = [\n" + "".join(f'    "{p}",  # {lines[p]} lines\n' for p in chosen[modified:]) + "]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
