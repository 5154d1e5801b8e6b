"""A clean install: build the wheel, install it into a fresh venv, run it outside the checkout.

Proves that rules/ ships inside the wheel and that nothing reaches back into the source tree.
The venv sees the host's site-packages (libcst, pyyaml) so no network is needed for them;
only building the wheel asks pip for hatchling, from the configured package index.
"""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

from cli_helpers import EXAMPLES, REPO_ROOT, assert_exit, clean_env, findings, run_many


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{command} -> {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home)
    env.pop("PYTHONPATH")  # the installed copy only, never the checkout
    env["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    for name in ("VIRTUAL_ENV", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV", "PIP_USER"):
        env.pop(name, None)

    rule_files = {p.relative_to(REPO_ROOT / "rules").as_posix() for p in (REPO_ROOT / "rules").rglob("*.yaml")}
    assert "no-timeout/TMO001-http-call-without-timeout.yaml" in rule_files
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", str(REPO_ROOT), "--no-deps", "-q", "-w", str(wheels)], tmp_path, env)
    [wheel] = wheels.glob("arch_review-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    shipped_rules = [n for n in names if n.startswith("reviewer/rules/") and n.endswith((".yaml", ".yml"))]
    # Every rule file of the checkout, at its place under the package.
    assert {f"reviewer/rules/{name}" for name in rule_files} <= set(shipped_rules), names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # Run from inside a venv: "system" site-packages would be the base interpreter's,
        # not the ones holding libcst and pyyaml; show the venv those too.
        [site_dir] = (venv / "lib").glob("python3*/site-packages")
        (site_dir / "host-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # The host's pip (visible through system site-packages) installs into the venv;
    # --ignore-installed because the checkout's editable install is visible too.
    run([str(python), "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", str(wheel)], tmp_path, env)

    outside = tmp_path / "elsewhere"
    shutil.copytree(EXAMPLES, outside / "examples")
    imported_from = run([str(python), "-c", "import reviewer; print(reviewer.__file__)"], outside, env).strip()
    assert Path(imported_from).resolve().is_relative_to(venv.resolve()), imported_from

    jobs = [["rules", "--format", "json"], ["scan", "examples", "--format", "json"], ["test-rules"], ["explain", "TMO001"]]
    rules, scan, test_rules, explain = run_many(
        [(args, outside) for args in jobs], env=env, executable=[str(venv / "bin" / "arch-review")]
    )
    assert_exit(rules, 0)
    assert "TMO001" in [rule["id"] for rule in json.loads(rules.stdout)]
    assert_exit(scan, 0, 1)
    tmo = findings(scan, "TMO001")
    assert {"examples/ml-project/data/loader.py", "examples/ml-project/serving/app.py"} <= {f["path"] for f in tmo}
    assert scan.json["skipped"] == []
    assert_exit(test_rules, 0)
    assert " passed, 0 failed" in test_rules.stdout
    assert_exit(explain, 0)
    assert "Why it matters:" in explain.stdout
    assert [p.name for p in outside.iterdir()] == ["examples"]  # wrote nothing where it ran
