"""Text from a dossier or a rule file → text safe to print in each output format.

A dossier is written by someone else: a reference, a holder's name or a file name may hold a line break, a
terminal escape sequence or a bidirectional override, and must never add a line to a report, move a terminal's
cursor or turn into Markdown or HTML. Every renderer passes the text it did not write itself through the
function of its format, at the boundary, and nowhere else.
"""

from __future__ import annotations

import json
import re

import orjson

# Unicode categories Cc (C0, DEL, C1), Cf (invisible format characters: bidirectional marks and overrides,
# zero-width characters, BOM), Cs (lone surrogates, which no UTF-8 output can encode), Zl and Zp
# (U+2028, U+2029, which some readers take for line breaks). Written out rather than computed from
# unicodedata at import, which would cost a scan of every code point at each start; a test checks the class
# against unicodedata.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")


def visible(text: str) -> str:
    """`text` with each unsafe character written as JSON writes it (`\\n`, `\\u001b`, `\\u202e`).

    The dossier file itself writes a control character that way, so the report shows what the file says. A
    backslash is left as it is: the form is readable, and applying it twice changes nothing.
    """
    return UNSAFE.sub(_escape, text)


EXCERPT_CHARS = 60


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of a value, made visible, « … » marking a cut: enough to find the value in
    the dossier, not enough to copy personal data into logs."""
    return visible(text[:limit]) + "…" if len(text) > limit else visible(text)


def html(text: str) -> str:
    import html as _html  # for the HTML report only: a cold start does without it

    return _html.escape(visible(text))


# Every character CommonMark or GitHub's Markdown reads as markup inside a line: emphasis, code, links and
# images, HTML and autolinks, entities (&#x202e; would bring an override back), tables, strikethrough.
# Line-start markup (# titre, > citation, - liste) cannot occur: visible() leaves no line break.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]<>&|~"})


def markdown(text: str) -> str:
    return visible(text).translate(_MARKDOWN)


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(text: str) -> str:
    """A CSV cell that a spreadsheet opens as text: a value starting like a formula (=, +, -, @) is prefixed
    with an apostrophe, unless it is a plain number; unsafe characters are made visible."""
    text = visible(text)
    if text[:1] in ("=", "+", "-", "@") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def markdown_code(text: str) -> str:
    """An inline code span that a backtick inside the text cannot close."""
    text = visible(text)
    fence = "`" * (_longest_backtick_run(text) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def markdown_fence(lines: list[str]) -> str:
    """A fence (```) longer than any run of backticks in `lines`, so that none of them can close it."""
    return "`" * max(3, max((_longest_backtick_run(line) for line in lines), default=0) + 1)


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)


# What json.dumps(ensure_ascii=False) leaves raw and must not be: C1 and DEL (terminal controls on some
# terminals), U+2028/U+2029 and U+0085 (line breaks for str.splitlines() and JavaScript, which would split a
# JSON Lines record), bidirectional overrides, and lone surrogates (which no UTF-8 stream can encode).
# Written as \uXXXX, the document decodes to exactly the same strings.
def _json_escape(match: re.Match) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# json.dumps escapes C0 inside strings itself; outside them, C0 is the layout's own line breaks.
_JSON_UNSAFE = re.compile(UNSAFE.pattern.replace("\x00-\x1f", "", 1))


_ASCII_SAFE = bytes(range(0x7F))  # every ASCII byte but DEL
# The two layouts of immat's machine outputs, in which orjson writes what json.dumps(ensure_ascii=False)
# writes, byte for byte, many times faster (json.dumps with an indent runs in pure Python).
_ORJSON_LAYOUTS = (({"indent": 2}, orjson.OPT_INDENT_2), ({"separators": (",", ":")}, 0))
_PLAIN = frozenset({dict, list, tuple, str, int, bool, type(None)})


def json_dumps(value, known_plain: bool = False, **kwargs) -> str:
    """json.dumps with accents kept readable and every unsafe character escaped: same data, safe bytes.

    `known_plain`: the caller builds `value` of plain types alone (see _plain), as a report does, so the walk
    that checks it, a third of writing an explained report, is skipped; a test holds the reports to it."""
    written = _orjson(value, kwargs, known_plain)
    if written is None:
        return _JSON_UNSAFE.sub(_json_escape, json.dumps(value, ensure_ascii=False, **kwargs))
    return safe_text(written)


def safe_text(written: bytes) -> str:
    """JSON that orjson wrote, with every unsafe character escaped, as json_dumps gives it."""
    text = written.decode()
    # The regex costs tens of nanoseconds a character; over the bytes beyond ASCII alone (DEL kept, and the
    # layout's C0 is safe), a few percent of a report, it costs next to nothing.
    if _JSON_UNSAFE.search(written.translate(None, _ASCII_SAFE).decode()):
        return _JSON_UNSAFE.sub(_json_escape, text)
    return text


def _orjson(value, kwargs: dict, known_plain: bool = False) -> bytes | None:
    """`value` as orjson writes it in the layout `kwargs` asks for, if that is what json.dumps writes."""
    option = next((option for layout, option in _ORJSON_LAYOUTS if kwargs == layout), None)
    if option is None or not (known_plain or _plain(value)):
        return None
    try:
        return orjson.dumps(value, option=option)
    except TypeError:  # an integer beyond 64 bits, a key not a text, a lone surrogate, nesting past 254
        return None


def _plain(value) -> bool:
    """Whether `value` holds only what orjson writes as json.dumps does: no float (1e-07 would become 1e-7),
    no other type (orjson writes an Enum, a dataclass or a date, which json.dumps refuses)."""
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind not in _PLAIN:
            return False
        if kind is dict:
            stack.extend(node.values())
        elif kind is list or kind is tuple:
            stack.extend(node)
    return True
