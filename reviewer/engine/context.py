"""Where the walk is: a stack of frames, read by rules as questions.

Context follows the innermost function: a loop, ``with`` or ``try`` only counts
when it is inside the same function as the node, and a nested ``def`` or
``lambda`` starts afresh (a callback defined in an async function is not
itself async).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import libcst as cst

from reviewer.engine.patterns import NamePattern

FUNCTION_KINDS = ("function", "lambda")


@dataclass(frozen=True)
class Frame:
    kind: str  # "function" | "lambda" | "class" | "loop" | "with" | "try" | "except" | "finally" | "comprehension"
    node: cst.CSTNode
    name: str = ""
    is_async: bool = False
    names: tuple[str, ...] = ()  # decorators of a function, bases of a class, items of a with


class Context:
    def __init__(self, module_name: str) -> None:
        self.module_name = module_name
        self.frames: list[Frame] = []

    def push(self, frame: Frame) -> None:
        self.frames.append(frame)

    def pop(self) -> Frame:
        return self.frames.pop()

    # -- the innermost function and what lies between it and here -------------

    def _local_frames(self) -> Iterator[Frame]:
        """Frames from the innermost outwards, stopping at the innermost function."""
        for frame in reversed(self.frames):
            yield frame
            if frame.kind in FUNCTION_KINDS:
                return

    @property
    def function(self) -> Frame | None:
        for frame in reversed(self.frames):
            if frame.kind in FUNCTION_KINDS:
                return frame
        return None

    @property
    def enclosing_class(self) -> Frame | None:
        """The class whose body holds the innermost function (or the node itself)."""
        seen_function = False
        for frame in reversed(self.frames):
            if frame.kind == "class":
                return frame
            if frame.kind in FUNCTION_KINDS:
                if seen_function:
                    return None
                seen_function = True
        return None

    @property
    def in_async_function(self) -> bool:
        function = self.function
        return function is not None and function.is_async

    @property
    def in_loop(self) -> bool:
        return any(frame.kind in ("loop", "comprehension") for frame in self._local_frames())

    @property
    def in_try_body(self) -> bool:
        return any(frame.kind == "try" for frame in self._local_frames())

    @property
    def in_except_handler(self) -> bool:
        return any(frame.kind == "except" for frame in self._local_frames())

    def decorated_by(self, patterns: Sequence[NamePattern]) -> bool:
        function = self.function
        return function is not None and _any_match(function.names, patterns)

    def class_based_on(self, patterns: Sequence[NamePattern]) -> bool:
        cls = self.enclosing_class
        return cls is not None and _any_match(cls.names, patterns)

    def inside_with(self, patterns: Sequence[NamePattern]) -> bool:
        """Inside ``with X():`` in this function, or in a function decorated with X."""
        for frame in self._local_frames():
            if frame.kind == "with" and _any_match(frame.names, patterns):
                return True
        return self.decorated_by(patterns)

    @property
    def symbol(self) -> str:
        names = [frame.name for frame in self.frames if frame.kind in ("function", "class")]
        return ".".join(n for n in [self.module_name, *names] if n)

    @property
    def function_name(self) -> str:
        for frame in reversed(self.frames):
            if frame.kind == "function":
                return frame.name
        return "<module>"


def _any_match(names: Sequence[str], patterns: Sequence[NamePattern]) -> bool:
    return any(pattern.matches(name) for name in names for pattern in patterns)
