"""Reading a Python file once, as bytes, into text the parser can take.

Every way a file can be unreadable ends in ``SourceError`` with a reason that
goes into the run's ``skipped`` list; nothing here raises anything else.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_UTF8_BOM = codecs.BOM_UTF8


class SourceError(Exception):
    """Why a file was skipped, in a few words."""


@dataclass(frozen=True)
class Source:
    path: Path
    data: bytes
    text: str
    encoding: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def read_source(path: Path, max_bytes: int) -> Source:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise SourceError(f"file too large ({size:,} bytes; limit {max_bytes:,})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    return decode_source(path, data)


def decode_source(path: Path, data: bytes) -> Source:
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)")
    encoding = declared_encoding(data)
    body = data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data
    if not _ascii_compatible(encoding):
        # CPython refuses these too: the cookie itself could not have been read in them.
        raise SourceError(f"coding cookie names {encoding!r}, which Python source cannot be written in")
    try:
        text = body.decode(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in coding cookie") from None
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise SourceError(f"not valid {encoding} (byte {exc.start} on line {line})") from None
    return Source(path=path, data=data, text=text, encoding=encoding)


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "# coding: x\n".encode(encoding) == b"# coding: x\n"
    except LookupError:
        return True  # reported as an unknown encoding
    except UnicodeError:
        return False


def declared_encoding(data: bytes) -> str:
    """PEP 263: a BOM means UTF-8; else a cookie on line 1 or 2; else UTF-8."""
    if data.startswith(_UTF8_BOM):
        return "utf-8"
    for line in data.split(b"\n", 2)[:2]:
        match = _CODING_COOKIE.match(line)
        if match:
            name = match.group(1).decode("ascii", "replace")
            try:
                return codecs.lookup(name).name
            except LookupError:
                return name
        if line.strip() and not line.lstrip().startswith(b"#"):
            break
    return "utf-8"
