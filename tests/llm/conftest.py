from __future__ import annotations

import pytest

from reviewer.types import Finding
from tests.llm.fake_openai import FakeOpenAI
from tests.llm.llm_helpers import analyzed


@pytest.fixture(scope="session")
def findings() -> list[Finding]:
    return analyzed()


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server
