"""Fixtures for the end-to-end CLI tests: an isolated HOME, git config and throwaway repos."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from cli_helpers import REPO_ROOT, clean_env

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.gitrepo import GitRepo  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than 20 seconds (deselect with -m 'not slow')")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of every command in the test, git's included (tests/gitrepo.py
    runs git with os.environ, so os.environ gets the same isolation)."""
    isolated = clean_env(home)
    # Git must not find a repository above tmp_path either (the throwaway repos live in it).
    isolated["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    for name in set(os.environ) - set(isolated):
        monkeypatch.delenv(name)
    for name, value in isolated.items():
        monkeypatch.setenv(name, value)
    return isolated


@pytest.fixture(scope="module")
def module_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The same isolation for module-scoped runs (it leaves os.environ alone)."""
    isolated = clean_env(tmp_path_factory.mktemp("home"))
    isolated["GIT_CEILING_DIRECTORIES"] = str(tmp_path_factory.getbasetemp())
    return isolated


@pytest.fixture
def repo(env: dict[str, str], tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "repo")
