"""What comes back from the model is untrusted text: cleaned, then kept only if it fits.

Cleaning removes what could hide content or act on the reader: control and format
characters (terminal escapes, bidi overrides), HTML and HTML comments (so no answer can
forge the tool's hidden markers), Markdown links and images, and autolinks. @mentions
and #references stay as text: every renderer escapes them, and a question that
@-mentions anything not in the code does not fit anyway.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

from reviewer.report.escape import defang_links

MAX_QUESTION_CHARS = 400
MAX_QUESTION_SENTENCES = 3
MAX_SUMMARY_CHARS = 2000
_MAX_PASSES = 8
# What is read of an answer at all: far more than any that could fit once cleaned, and a bound
# on the work a hostile endpoint can cause.
MAX_RAW_CHARS = 20_000

# Terminal escape sequences (CSI and OSC): removing ESC alone would leave "[31m" behind.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x9b[0-?]*[ -/]*[@-~]")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
# "[" is excluded inside the text, so each "[" is scanned past once (no quadratic backtracking).
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\([^()\n]*\)")
_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\n]*\)")
_LINK_DEFINITION = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S.*$", re.M)
_WHITESPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
_PREAMBLE = re.compile(r"^(?:question\s*:\s*|[-*>]\s+)", re.I)
_QUOTES = "\"'“”‘’ "
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SENTENCE_END = re.compile(r"[.?!](?:\s|$)")
# Outside backticks, what reads as code: dotted names, snake_case, calls, @names.
_CODE_LIKE = re.compile(
    r"@[A-Za-z_][\w.]*"
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?"
    r"|\b[A-Za-z]\w*_\w*\b"
    r"|\b[A-Za-z_]\w*\(\)"
)
_ALWAYS_KNOWN = frozenset(keyword.kwlist) | frozenset(dir(builtins))


def clean(text: str) -> str:
    """Plain text: no control characters, HTML, Markdown links or autolinks; lines kept."""
    text = "".join(char for char in _ANSI.sub("", text) if _is_visible(char))
    for _ in range(_MAX_PASSES):
        # Repeated, because removing one tag can join the pieces of another.
        stripped = _HTML_TAG.sub("", _HTML_COMMENT.sub("", text))
        if stripped == text:
            break
        text = stripped
    else:
        text = text.replace("<", "").replace(">", "")
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _LINK_DEFINITION.sub("", text)
    return defang_links(text)


def fitting_question(answer: object, known_code: str) -> tuple[str | None, str]:
    """The cleaned one-line question, or None and why it does not fit.

    ``known_code`` is everything the model was shown: a name the answer uses that is not
    in it is invented.
    """
    if not isinstance(answer, str):
        return None, "no text"
    if len(answer) > MAX_RAW_CHARS:
        return None, "too long"
    question = _WHITESPACE.sub(" ", clean(answer)).strip()
    question = _PREAMBLE.sub("", question).strip(_QUOTES)
    if not question:
        return None, "empty"
    if len(question) > MAX_QUESTION_CHARS:
        return None, "too long"
    if "?" not in question:
        return None, "not a question"
    if len(_SENTENCE_END.findall(_CODE_SPAN.sub("code", question))) > MAX_QUESTION_SENTENCES:
        return None, "too long"
    if invented_names(question, known_code):
        return None, "names code that is not in the snippet"
    return question, ""


def fitting_summary(answer: object) -> str | None:
    """The cleaned summary, cut to MAX_SUMMARY_CHARS at a line or sentence end; None if empty."""
    if not isinstance(answer, str):
        return None
    lines = [_WHITESPACE.sub(" ", line).strip() for line in clean(answer[:MAX_RAW_CHARS]).splitlines()]
    summary = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if len(summary) > MAX_SUMMARY_CHARS:
        cut = summary[:MAX_SUMMARY_CHARS]
        end = max(cut.rfind("\n"), cut.rfind(". "), cut.rfind("? "))
        summary = (cut[: end + 1] if end > MAX_SUMMARY_CHARS // 2 else cut).rstrip() + " …"
    return summary or None


def invented_names(text: str, known_code: str) -> list[str]:
    """Names in ``text`` written as code that ``known_code`` does not contain."""
    known = set(_IDENTIFIER.findall(known_code)) | _ALWAYS_KNOWN
    invented = []
    for span in _CODE_SPAN.finditer(text):
        invented += [name for name in _IDENTIFIER.findall(span.group(2)) if name not in known]
    prose = _CODE_SPAN.sub(" ", text)
    for token in _CODE_LIKE.finditer(prose):
        if _is_abbreviation(token.group()):
            continue
        invented += [name for name in _IDENTIFIER.findall(token.group()) if name not in known]
    return invented


def _is_abbreviation(token: str) -> bool:
    # "e.g", "i.e": dotted, but every part a single letter.
    return "." in token and all(len(part) == 1 for part in token.split("."))


def _is_visible(char: str) -> bool:
    if char in "\n\t":
        return True
    return unicodedata.category(char) not in ("Cc", "Cf", "Co", "Cs", "Cn")
