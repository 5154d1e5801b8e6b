"""The hostile tests run the CLI the way tests/cli does (a subprocess, a clean environment)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for folder in (HERE, REPO_ROOT / "tests" / "cli", REPO_ROOT / "tests" / "platforms", REPO_ROOT):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))  # appended: never shadows another folder's conftest

from cli_helpers import clean_env  # noqa: E402


@pytest.fixture(scope="module")
def module_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    return clean_env(home)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    isolated = clean_env(home)
    isolated["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    return isolated
