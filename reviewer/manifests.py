"""Dependency manifests -> the dependencies they declare, line by line.

Reads requirements files, pyproject.toml (PEP 621, PEP 735 groups, Poetry), setup.cfg,
conda environment files and Pipfile line by line rather than with a full parser, because
a change rule needs the line each dependency stands on, and a half-edited manifest in a
pull request must still be readable. Development-only groups (dev, test, docs, lint...)
are reported as such so rules can leave them alone: a new test tool is not an
architectural choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_QUOTED = re.compile(r"""["']([^"']+)["']""")
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_INI_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_KEY = re.compile(r"""^\s*["']?([A-Za-z0-9_.-]+)["']?\s*=""")
_DEV_WORDS = re.compile(r"(?:^|[\W_])(dev|develop|development|test|tests|testing|docs?|lint|linting|typing|style|ci)(?:$|[\W_])", re.I)


@dataclass(frozen=True)
class Dependency:
    line: int  # 1-based
    name: str  # normalized (PEP 503): lowercase, runs of -_. as one '-'
    section: str  # where it is declared: "project.dependencies", "packages", "" for requirements files
    dev: bool  # declared for development only


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def manifest_kind(path: str) -> str | None:
    """Which reader understands this file, or None if it is no manifest."""
    pure = PurePosixPath(path)
    name = pure.name.lower()
    if name == "pyproject.toml":
        return "pyproject"
    if name == "setup.cfg":
        return "setup.cfg"
    if name == "pipfile":
        return "pipfile"
    if name in ("environment.yml", "environment.yaml", "conda.yml", "conda.yaml") or (
        name.startswith("environment") and pure.suffix in (".yml", ".yaml")
    ):
        return "conda"
    in_requirements_dir = "requirements" in (p.lower() for p in pure.parts[:-1])
    if pure.suffix in (".txt", ".in") and (name.startswith("requirements") or in_requirements_dir):
        return "requirements"
    return None


def dependencies(path: str, text: str) -> list[Dependency]:
    kind = manifest_kind(path)
    if kind is None:
        return []
    lines = text.split("\n")
    if kind == "requirements":
        dev = bool(_DEV_WORDS.search(PurePosixPath(path).stem.replace("requirements", "")))
        dev = dev or any(_DEV_WORDS.search(part) for part in PurePosixPath(path).parts[:-1])
        return [Dependency(n, name, "", dev) for n, name in _requirement_lines(lines)]
    return {"pyproject": _pyproject, "setup.cfg": _setup_cfg, "pipfile": _pipfile, "conda": _conda}[kind](lines)


def _requirement_name(spec: str) -> str | None:
    """The project name of a PEP 508 requirement string, or None (URLs, options, paths)."""
    spec = spec.split("#", 1)[0].strip()
    if not spec or spec.startswith(("-", ".", "/", "git+", "http:", "https:", "file:")):
        return None
    match = _NAME.match(spec)
    if match is None:
        return None
    rest = spec[match.end():].lstrip()
    if rest and rest[0] not in "[<>=!~;@(,":
        return None
    return normalize(match.group())


def _requirement_lines(lines: list[str]) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(lines, 1):
        name = _requirement_name(line)
        if name is not None:
            found.append((number, name))
    return found


def _pyproject(lines: list[str]) -> list[Dependency]:
    found: list[Dependency] = []
    table = ""
    array_key: str | None = None  # inside a multi-line array value under this key
    for number, line in enumerate(lines, 1):
        code = _toml_code(line)
        header = _TABLE.match(code)
        if header and array_key is None:
            table, array_key = header.group(1).replace('"', "").replace("'", ""), None
            continue
        key_match = _KEY.match(code)
        key = key_match.group(1) if key_match else None
        value = code[key_match.end():] if key_match else code
        if array_key is None and key is not None:
            section = _pyproject_array_section(table, key)
            if section is not None:
                opened = value.count("[") > value.count("]")
                if opened:
                    array_key = section
                found += _quoted_requirements(number, value, section)
                continue
            if _is_poetry_dependency_table(table) and key != "python":
                found.append(Dependency(number, normalize(key), table, _is_dev_section(table)))
            continue
        if array_key is not None:
            found += _quoted_requirements(number, code, array_key)
            if "]" in code and code.count("]") >= code.count("["):
                array_key = None
    return found


def _pyproject_array_section(table: str, key: str) -> str | None:
    if table == "project" and key == "dependencies":
        return "project.dependencies"
    if table in ("project.optional-dependencies", "dependency-groups"):
        return f"{table}.{key}"
    return None


def _is_poetry_dependency_table(table: str) -> bool:
    return table in ("tool.poetry.dependencies", "tool.poetry.dev-dependencies") or (
        table.startswith("tool.poetry.group.") and table.endswith(".dependencies")
    )


def _is_dev_section(section: str) -> bool:
    return bool(_DEV_WORDS.search(section))


def _quoted_requirements(number: int, text: str, section: str) -> list[Dependency]:
    names = (_requirement_name(m.group(1)) for m in _QUOTED.finditer(text))
    return [Dependency(number, name, section, _is_dev_section(section)) for name in names if name]


def _toml_code(line: str) -> str:
    """The line without a trailing comment (a '#' outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def _setup_cfg(lines: list[str]) -> list[Dependency]:
    found: list[Dependency] = []
    section, key = "", None
    for number, line in enumerate(lines, 1):
        header = _INI_SECTION.match(line.strip())
        if header:
            section, key = header.group(1).strip(), None
            continue
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        continued = line[:1] in (" ", "\t")
        if not continued:
            name, _, value = line.partition("=")
            key = name.strip()
        else:
            value = line
        if section == "options" and key == "install_requires":
            where = "options.install_requires"
        elif section == "options.extras_require" and key:
            where = f"options.extras_require.{key}"
        else:
            continue
        name = _requirement_name(value)
        if name is not None:
            found.append(Dependency(number, name, where, _is_dev_section(where)))
    return found


def _pipfile(lines: list[str]) -> list[Dependency]:
    found: list[Dependency] = []
    table = ""
    for number, line in enumerate(lines, 1):
        code = _toml_code(line)
        header = _TABLE.match(code)
        if header:
            table = header.group(1)
            continue
        key = _KEY.match(code)
        if key and table in ("packages", "dev-packages"):
            found.append(Dependency(number, normalize(key.group(1)), table, table == "dev-packages"))
    return found


_CONDA_ITEM = re.compile(r"^(\s*)-\s*([^\s#]+)")


def _conda(lines: list[str]) -> list[Dependency]:
    found: list[Dependency] = []
    in_dependencies = False
    for number, line in enumerate(lines, 1):
        if re.match(r"^dependencies\s*:", line):
            in_dependencies = True
            continue
        if re.match(r"^\S", line) and not line.startswith("#"):
            in_dependencies = False
        item = _CONDA_ITEM.match(line) if in_dependencies else None
        if item is None:
            continue
        spec = item.group(2)
        if spec.endswith(":"):  # "- pip:" opens the pip list
            continue
        spec = spec.split("::")[-1]  # conda-forge::numpy
        name = _requirement_name(re.sub(r"=+", "==", spec, count=1))
        if name is not None and name not in ("python", "pip"):
            found.append(Dependency(number, name, "dependencies", False))
    return found
