"""Secrets out of text before it leaves the machine.

Everything the LLM pass sends goes through :func:`redact`. It errs on the side of
hiding: a model name or a hash that looks like a key is replaced too, because a
question phrased without it is still a question, and a leaked key is not undone.
"""

from __future__ import annotations

import os
import re
from typing import Mapping

REDACTED = "[REDACTED]"

# Where a secret's value is recognised by its name: api_key, DB_PASSWORD, hfToken, client-secret.
_SECRET_NAME_WORDS = ("password", "passwd", "secret", "apikey", "accesskey", "privatekey",
                      "credential", "authtoken", "signingkey", "connectionstring")
_SECRET_NAME_PARTS = frozenset({"token", "pwd", "pass", "pat", "key"})
# "key" alone is too common (dict keys, cache keys); with one of these before it, it is a secret.
_KEY_QUALIFIERS = frozenset({"api", "access", "secret", "private", "account", "master", "signing", "auth"})
_NAME_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
# scheme://user:password@host -> the password goes, the user and host stay (they help the question).
_URL_PASSWORD = re.compile(r"((?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)([^\s@/'\"]+)(@)")
_TOKEN_FORMATS = re.compile(
    r"""\b(?:
        gh[pousr]_[A-Za-z0-9]{30,}
      | github_pat_[A-Za-z0-9_]{30,}
      | glpat-[A-Za-z0-9_-]{20,}
      | sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{20,}
      | xox[abposr]-[A-Za-z0-9-]{10,}
      | (?:AKIA|ASIA)[0-9A-Z]{16}
      | AIza[0-9A-Za-z_-]{35}
      | hf_[A-Za-z0-9]{30,}
      | eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}
    )""",
    re.X,
)
_BEARER = re.compile(r"(\b(?:Bearer|Basic|Token)\s+)([A-Za-z0-9._~+/-]{12,}=*)", re.I)
# Password=...; in ADO/JDBC connection strings and ?token=... in query strings; a value that
# is a call or an attribute (password=get_password()) is code, not a secret.
_KEY_VALUE_SECRET = re.compile(
    r"(?i)(\b(?:password|pwd|passwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key"
    r"|shared[_-]?access[_-]?key|sig)\s*=\s*)([^;\s'\"&()\[\],]+)(?![\w(.\[])"
)
# NAME = "value", "name": "value", name: str = "value", name="value"
_NAMED_LITERAL = re.compile(
    r"""(?<![\w.\-])([A-Za-z_][\w.\-]*)(['"]?\s*(?::\s*[\w\[\], .|]+?\s*)?(?:=|:)\s*[rbuRBU]{0,2})(['"])((?:(?!\3)[^\\\n]|\\.)+)\3"""
)
# requests' auth=("user", "password")
_AUTH_TUPLE = re.compile(r"""(\bauth\s*=\s*[(\[]\s*(['"])[^'"\n]*\2\s*,\s*)(['"])([^'"\n]+)\3""")
_LONG_OPAQUE_LITERAL = re.compile(r"""(['"])([A-Za-z0-9+/=_\-]{32,})\1""")
_MIN_ENV_SECRET = 8


def redact(text: str, environ: Mapping[str, str] = os.environ) -> str:
    """``text`` with tokens, keys, passwords and credentials in URLs replaced by [REDACTED]."""
    for value in _secret_environment_values(environ):
        text = text.replace(value, REDACTED)
    text = _PRIVATE_KEY_BLOCK.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}\3", text)
    text = _TOKEN_FORMATS.sub(REDACTED, text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _KEY_VALUE_SECRET.sub(rf"\1{REDACTED}", text)
    text = _NAMED_LITERAL.sub(_redact_named_literal, text)
    text = _AUTH_TUPLE.sub(rf"\1\3{REDACTED}\3", text)
    return _LONG_OPAQUE_LITERAL.sub(_redact_opaque_literal, text)


def is_secret_name(name: str) -> bool:
    folded = re.sub(r"[^a-z0-9]", "", name.lower())
    if any(word in folded for word in _SECRET_NAME_WORDS):
        return True
    parts = [part.lower() for part in _NAME_PART.findall(name)]
    for index, part in enumerate(parts):
        if part == "key":
            if index and parts[index - 1] in _KEY_QUALIFIERS:
                return True
        elif part in _SECRET_NAME_PARTS:
            return True
    return False


def _secret_environment_values(environ: Mapping[str, str]) -> list[str]:
    values = {value for name, value in environ.items() if is_secret_name(name) and len(value) >= _MIN_ENV_SECRET}
    # Longest first, so a value that contains another is replaced whole.
    return sorted(values, key=len, reverse=True)


def _redact_named_literal(match: re.Match[str]) -> str:
    name, between, quote, value = match.groups()
    if value == REDACTED or not is_secret_name(name.rsplit(".", 1)[-1]):
        return match.group()
    return f"{name}{between}{quote}{REDACTED}{quote}"


def _redact_opaque_literal(match: re.Match[str]) -> str:
    quote, value = match.groups()
    has_letter = any(char.isalpha() for char in value)
    has_digit = any(char.isdigit() for char in value)
    return f"{quote}{REDACTED}{quote}" if has_letter and has_digit else match.group()


