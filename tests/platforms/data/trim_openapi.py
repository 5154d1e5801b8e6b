"""Regenerate github-openapi.json: the paths arch-review uses, from a pinned @octokit/openapi.

    python tests/platforms/data/trim_openapi.py            # runs `npm pack @octokit/openapi@VERSION`
    python tests/platforms/data/trim_openapi.py PACKAGE.tgz

Only the operations below are kept, with every component they reference (transitively),
so the test data stays small and the test server can validate requests and responses.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "23.0.2"
PACKAGE = "@octokit/openapi"
MEMBER = "package/generated/api.github.com.json"
HERE = Path(__file__).resolve().parent

OPERATIONS = {
    "/repos/{owner}/{repo}/pulls/{pull_number}": ["get"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/files": ["get"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/reviews": ["post"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/comments": ["get"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies": ["post"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["patch"],
    "/repos/{owner}/{repo}/check-runs": ["post"],
    "/repos/{owner}/{repo}/check-runs/{check_run_id}": ["patch"],
    "/repos/{owner}/{repo}/commits/{ref}/check-runs": ["get"],
}


def trim(spec: dict) -> dict:
    paths = {}
    for path, methods in OPERATIONS.items():
        item = spec["paths"][path]
        paths[path] = {method: item[method] for method in methods}
        if "parameters" in item:
            paths[path]["parameters"] = item["parameters"]
    components: dict[str, dict] = {}
    pending = [paths]
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        for ref in _refs(node):
            if ref in seen:
                continue
            seen.add(ref)
            _, _, kind, name = ref.split("/", 3)
            target = spec["components"][kind][name]
            components.setdefault(kind, {})[name] = target
            pending.append(target)
    return {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-trimmed-from": f"{PACKAGE}@{VERSION} {MEMBER}"},
        "paths": paths,
        "components": {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())},
    }


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        if argv:
            tarball = Path(argv[0])
        else:
            subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}"], cwd=scratch, check=True)
            tarball = next(Path(scratch).glob("*.tgz"))
        with tarfile.open(tarball) as archive:
            spec = json.load(archive.extractfile(MEMBER))
            licence = archive.extractfile("package/LICENSE").read().decode()
    (HERE / "github-openapi.json").write_text(json.dumps(trim(spec), indent=1, sort_keys=False) + "\n")
    (HERE / "github-openapi.LICENSE").write_text(
        f"The file github-openapi.json is trimmed from {PACKAGE}@{VERSION} ({MEMBER}).\n\n" + licence
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
