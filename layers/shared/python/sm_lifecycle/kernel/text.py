"""The one sanitiser of hostile text: everything that goes into an alert, a log line, a tag or an
``ApprovalDescription`` passes through :func:`clean` with the limit of the AWS field it is written to.

Text from events, reports, object keys and AWS error messages is attacker-controlled until it has been through here:

- invalid UTF-8 (bytes) and invalid UTF-16 (a lone surrogate, which JSON's ``\\ud800`` escapes produce) become
  U+FFFD: nothing downstream (botocore's serialiser, the log stream) can fail to encode it; valid surrogate pairs
  become their character;
- control characters (Unicode category Cc: C0, DEL, C1) and the bidirectional controls (which make a reader see text
  in another order than it is, "Trojan Source") are removed; a line break is kept where the field allows several
  lines, else it becomes a space, as a tab does;
- the text is cut to the field's limit (characters, or UTF-8 bytes for SNS messages), ending with ``...`` when cut.

    clean(reason, SNS_MESSAGE)   clean(value, TAG_VALUE)   clean(error, LOG_TEXT)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "APPROVAL_DESCRIPTION",
    "DEAD_LETTER_ERROR",
    "LOG_TEXT",
    "SNS_ATTRIBUTE",
    "SNS_MESSAGE",
    "SNS_SUBJECT",
    "TAG_VALUE",
    "FieldLimit",
    "clean",
    "clean_all",
]

# U+061C ALM, U+200E/F LRM/RLM, U+202A-E embeddings and overrides, U+2066-9 isolates
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029]")


@dataclass(frozen=True)
class FieldLimit:
    """Where a text goes: its maximum length (``unit``: characters or UTF-8 bytes) and whether it may hold lines."""

    name: str
    maximum: int
    unit: str = "chars"  # "chars" | "bytes"
    multiline: bool = False
    marker: str = "..."  # ends a text that was cut


SNS_SUBJECT = FieldLimit("SNS Subject", 100)  # printable ASCII on one line: notify.subject_line finishes it
SNS_MESSAGE = FieldLimit("SNS Message", 256 * 1024 - 4096, unit="bytes", multiline=True)  # room for attributes
SNS_ATTRIBUTE = FieldLimit("SNS message attribute value", 256)
TAG_VALUE = FieldLimit("tag value", 256, marker="")  # S3 and SageMaker tag values
APPROVAL_DESCRIPTION = FieldLimit("ApprovalDescription", 1024, multiline=True)
STAGE_DESCRIPTION = FieldLimit("StageDescription", 1024)  # ModelLifeCycle's: ".{0,1024}", Java's dot, one line
DEAD_LETTER_ERROR = FieldLimit("dead-letter ErrorMessage", 1024, unit="bytes")  # Lambda keeps the first 1 KB
LOG_TEXT = FieldLimit("log text", 2000)


def _valid_unicode(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    text = value if isinstance(value, str) else str(value)
    # joins valid surrogate pairs, replaces lone surrogates with U+FFFD
    return text.encode("utf-16-le", errors="surrogatepass").decode("utf-16-le", errors="replace")


def _keep(char: str, multiline: bool) -> str:
    if char in "\n\t":
        return char if multiline else " "
    if char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc":
        return ""
    return char


def _cut(text: str, limit: FieldLimit) -> str:
    if limit.unit == "bytes":
        data = text.encode("utf-8")
        if len(data) <= limit.maximum:
            return text
        room = limit.maximum - len(limit.marker.encode())
        return data[:room].decode("utf-8", errors="ignore") + limit.marker
    if len(text) <= limit.maximum:
        return text
    return text[: limit.maximum - len(limit.marker)] + limit.marker


def clean(value: object, limit: FieldLimit) -> str:
    """``value`` (text, bytes, or anything ``str()`` renders) made safe for the AWS field ``limit`` describes."""
    text = _LINE_BREAKS.sub("\n", _valid_unicode(value))
    text = "".join(_keep(char, limit.multiline) for char in text)
    return _cut(text, limit)


def clean_all(value: object, limit: FieldLimit = LOG_TEXT) -> object:
    """Every string (keys too) of a JSON-like ``value`` (dicts, lists, scalars) cleaned for ``limit``: for a result
    or a record that is logged as a whole."""
    if isinstance(value, str | bytes | bytearray):
        return clean(value, limit)
    if isinstance(value, dict):
        return {clean(key, limit): clean_all(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_all(item, limit) for item in value]
    return value
