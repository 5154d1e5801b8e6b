"""The trimmed OpenAPI description is what trim_openapi.py keeps, with its licence beside it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

DATA = Path(__file__).parent / "data"


def _trim_module():
    spec = importlib.util.spec_from_file_location("trim_openapi", DATA / "trim_openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_trimmed_spec_holds_exactly_the_operations_the_script_keeps():
    trim = _trim_module()
    spec = json.loads((DATA / "github-openapi.json").read_text())
    kept = {path: sorted(m for m in item if m != "parameters") for path, item in spec["paths"].items()}
    assert kept == {path: sorted(methods) for path, methods in trim.OPERATIONS.items()}
    assert spec["info"]["x-trimmed-from"] == f"{trim.PACKAGE}@{trim.VERSION} {trim.MEMBER}"


def test_every_reference_resolves_inside_the_trimmed_spec():
    trim = _trim_module()
    spec = json.loads((DATA / "github-openapi.json").read_text())
    for ref in set(trim._refs(spec)):
        _, _, kind, name = ref.split("/", 3)
        assert name in spec["components"][kind], ref


def test_the_licence_travels_with_the_data():
    text = (DATA / "github-openapi.LICENSE").read_text()
    assert "MIT" in text or "Permission is hereby granted" in text
    assert "@octokit/openapi@" in text
