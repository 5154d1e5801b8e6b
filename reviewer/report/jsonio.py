"""How every machine-readable format here writes JSON."""

from __future__ import annotations

import json
from typing import Any


def dump(document: Any) -> str:
    # Key order is the order the format builds; sorting would scramble what the specs show first.
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
