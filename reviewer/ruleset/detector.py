"""Named checks for what a YAML rule cannot say, and their registry.

A detector is a class with ``visit_<Node>`` / ``leave_<Node>`` methods (named
after LibCST node classes) and an optional ``finish``. One instance is made per
rule and file; it reports through ``self.report``. YAML rules reference a
detector by name (``match: {detector: training-loop-without-checkpoint}``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import libcst as cst

if TYPE_CHECKING:
    from reviewer.engine.runner import FileScan
    from reviewer.ruleset.schema import CompiledRule

DETECTORS: dict[str, type["Detector"]] = {}


class Detector:
    name: ClassVar[str] = ""
    # Words a file must contain for this detector to find anything (prefilter);
    # empty means every file.
    tokens: ClassVar[tuple[str, ...]] = ()
    # True: identifier tokens must be names in the code, not only in comments or strings.
    code_tokens: ClassVar[bool] = False
    # Template placeholders this detector fills, besides the common ones.
    fields: ClassVar[frozenset[str]] = frozenset()
    # Option names a rule file may set under match.options, with defaults.
    defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, scan: "FileScan", rule: "CompiledRule", options: Mapping[str, Any]) -> None:
        self.scan = scan
        self.rule = rule
        self.options = {**self.defaults, **options}

    def report(
        self,
        node: cst.CSTNode,
        *,
        end: cst.CSTNode | None = None,
        symbol: str | None = None,
        **fields: str,
    ) -> None:
        self.scan.report(self.rule, node, end=end, symbol=symbol, fields=fields)

    def finish(self) -> None:
        """Called once after the whole module was walked."""


def register(cls: type[Detector]) -> type[Detector]:
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    if cls.name in DETECTORS and DETECTORS[cls.name] is not cls:
        raise TypeError(f"two detectors are named {cls.name!r}")
    DETECTORS[cls.name] = cls
    return cls


_loaded = False


def load_detectors() -> Mapping[str, type[Detector]]:
    """Import every module of reviewer.detectors so their @register runs."""
    global _loaded
    if not _loaded:
        import reviewer.detectors as package

        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
        _loaded = True
    return DETECTORS
