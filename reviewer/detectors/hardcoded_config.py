"""Configuration baked into code: a developer's home directory, an internal host.

Both are string literals that name one machine or one network. Text meant for people
(docstrings, help texts, log and error messages) is not configuration, so literals there
are skipped; so are comparisons and string tests (``startswith``). A command-line default
or an environment fallback still is: it is what runs when nobody overrides it.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import libcst as cst

from reviewer.detectors.ml_code import called_name
from reviewer.ruleset.conditions import is_unknown, literal_value
from reviewer.ruleset.detector import Detector, register

_HOME = re.compile(
    r"(?<![\w:/.~])((?:/[\w.-]+)*/home/[\w.-]+/|/Users/[\w.-]+/|[A-Za-z]:[\\/]+Users[\\/]+[^\\/\s]+[\\/])"
)
# Service users of container images and CI runners: their home is part of the image, the
# same on every machine (/home/jovyan in Jupyter images, /home/ray in Ray's, /home/bentoml).
_IMAGE_USERS = frozenset({"jovyan", "ray", "bentoml", "app", "appuser", "runner", "circleci", "vscode", "gitpod",
                          "coder", "docker", "nobody", "codespace", "node"})
_HOST_SUFFIXES = (".internal", ".corp", ".local", ".lan", ".intranet", ".intra", ".localdomain", ".home.arpa")
# Names that are the same everywhere (cloud metadata servers, Docker's host alias), not
# one deployment's machines.
_WELL_KNOWN_HOSTS = frozenset({"metadata.google.internal", "host.docker.internal", "gateway.docker.internal",
                               "kubernetes.default.svc.cluster.local"})
_BARE_HOST = re.compile(r"^[A-Za-z0-9.-]+(?::\d{1,5})?$")

# Calls whose string arguments are read by people, not used as configuration.
_MESSAGE_CALLS = frozenset({
    "print", "echo", "secho", "debug", "info", "warning", "warn", "error", "exception", "critical",
    "log", "fatal", "write", "format", "add_note", "markdown", "Markdown",
})
# String methods: a literal handed to them is a pattern being looked for, not a setting.
_STRING_TESTS = frozenset({"startswith", "endswith", "replace", "split", "rsplit", "strip", "lstrip", "rstrip",
                           "removeprefix", "removesuffix", "find", "index", "count", "match", "search", "sub",
                           "fullmatch", "relpath", "relative_to"})
_MESSAGE_KEYWORDS = frozenset({"help", "description", "epilog", "usage", "msg", "message", "doc", "docstring",
                               "example", "examples", "title", "label", "placeholder", "info", "text"})


class _QuietZones:
    """Where a string literal is text for people.

    The walk calls visit/leave in nesting order, so a stack of the nodes that opened
    a quiet zone says whether the current literal is inside one. An argument's call is
    the innermost open call when the argument is visited (calls in the callee
    expression were left before).
    """

    def __init__(self) -> None:
        self.openers: list[cst.CSTNode] = []
        self.calls: list[cst.Call] = []

    @property
    def quiet(self) -> bool:
        return bool(self.openers)

    def enter_call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def enter_arg(self, node: cst.Arg) -> None:
        if not self.calls:
            return
        call = self.calls[-1]
        name = called_name(call)
        keyword = node.keyword.value if node.keyword is not None else None
        if (
            keyword in _MESSAGE_KEYWORDS
            or name in _MESSAGE_CALLS
            or name in _STRING_TESTS
            or name.endswith(("Error", "Exception", "Warning"))
        ):
            self.openers.append(node)

    def enter_quiet(self, node: cst.CSTNode) -> None:
        self.openers.append(node)

    def leave(self, node: cst.CSTNode) -> None:
        if self.openers and self.openers[-1] is node:
            self.openers.pop()
        if self.calls and self.calls[-1] is node:
            self.calls.pop()


def home_path(text: str) -> str | None:
    for match in _HOME.finditer(text):
        user = re.split(r"[\\/]+", match.group(1).rstrip("\\/"))[-1]
        if user.lower() not in _IMAGE_USERS:
            return match.group(1)
    return None


def internal_host(text: str) -> str | None:
    """The private or internal host a literal names (a URL's host, or the whole literal)."""
    text = text.strip()
    if "://" in text:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return None
    elif _BARE_HOST.match(text) and "." in text:
        host = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    else:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    if host in _WELL_KNOWN_HOSTS:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host if host.endswith(_HOST_SUFFIXES) and not host.startswith(".") else None
    if address.version == 4 and address.is_private and not address.is_loopback and not address.is_link_local:
        last = int(str(address).rsplit(".", 1)[-1])
        return str(address) if last not in (0, 255) else None  # network or broadcast: a range, not a host
    return None


class _BakedLiteral(Detector):
    """Reports string literals ``find`` recognises, outside quiet zones."""

    fields = frozenset({"literal"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.zones = _QuietZones()

    def find(self, text: str) -> str | None:
        raise NotImplementedError

    def visit_Call(self, node: cst.Call) -> None:
        self.zones.enter_call(node)

    def visit_Arg(self, node: cst.Arg) -> None:
        self.zones.enter_arg(node)

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            self.zones.enter_quiet(node)  # a docstring or a bare string

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self.zones.enter_quiet(node)

    def visit_Assert(self, node: cst.Assert) -> None:
        self.zones.enter_quiet(node)

    def visit_Raise(self, node: cst.Raise) -> None:
        self.zones.enter_quiet(node)

    def leave_Call(self, node: cst.Call) -> None:
        self.zones.leave(node)

    def leave_Arg(self, node: cst.Arg) -> None:
        self.zones.leave(node)

    def leave_Expr(self, node: cst.Expr) -> None:
        self.zones.leave(node)

    def leave_Comparison(self, node: cst.Comparison) -> None:
        self.zones.leave(node)

    def leave_Assert(self, node: cst.Assert) -> None:
        self.zones.leave(node)

    def leave_Raise(self, node: cst.Raise) -> None:
        self.zones.leave(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self.zones.quiet:
            return
        value = literal_value(node)
        if is_unknown(value) or not isinstance(value, str):
            return
        self._check(node, value)

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        if not self.zones.quiet:
            self._check(node, node.value)

    def _check(self, node: cst.CSTNode, text: str) -> None:
        found = self.find(text)
        if found is not None:
            self.report(node, literal=found)


@register
class HomeDirectoryPath(_BakedLiteral):
    name = "home-directory-path"
    tokens = ("/home/", "/Users/", "Users\\", "Users/")

    def find(self, text: str) -> str | None:
        return home_path(text)


@register
class InternalHost(_BakedLiteral):
    name = "internal-host"
    # What internal_host accepts, as written in a literal: a dotted IPv4 address (is_private
    # spans more than 10/172/192.168: 0/8, 198.18/15, 240/4...; its middle ``.b.c.`` is looked
    # for, a pattern that starts with a literal is searched fast), or a name ending in an
    # internal suffix, in any case (hosts are compared lowercased).
    tokens = (
        re.compile(r"\.\d{1,3}\.\d{1,3}\.\d"),
        re.compile("(?i)(?:" + "|".join(map(re.escape, _HOST_SUFFIXES)) + r")(?!\w)"),
    )

    def find(self, text: str) -> str | None:
        return internal_host(text)
