"""The one sanitiser of hostile text: what goes into an alert, a log line, a tag or an ApprovalDescription."""

from __future__ import annotations

import pytest

from sm_lifecycle.kernel.text import (
    APPROVAL_DESCRIPTION,
    LOG_TEXT,
    SNS_MESSAGE,
    SNS_SUBJECT,
    TAG_VALUE,
    FieldLimit,
    clean,
    clean_all,
)

HOSTILE = "ok\ud800 \udfff\x00\x07\x1b[31m\u202eevil\u2066x\u2069\u200f\u061c\x7f\x85end"


@pytest.mark.parametrize("limit", [SNS_SUBJECT, SNS_MESSAGE, TAG_VALUE, APPROVAL_DESCRIPTION, LOG_TEXT])
def test_hostile_text_becomes_encodable_without_controls_or_bidi(limit: FieldLimit) -> None:
    text = clean(HOSTILE, limit)
    text.encode("utf-8")  # no lone surrogate left: this would raise UnicodeEncodeError
    assert "\ufffd" in text  # a lone surrogate is replaced, not dropped silently
    assert not any(ch in text for ch in "\x00\x07\x1b\x7f\x85\u202e\u2066\u2069\u200f\u061c")
    assert text.startswith("ok") and text.endswith("end") and "evil" in text


def test_a_valid_surrogate_pair_is_kept_as_its_character() -> None:
    assert clean("smile \ud83d\ude00", SNS_MESSAGE) == "smile \U0001f600"


def test_invalid_utf8_bytes_are_replaced() -> None:
    assert clean(b"caf\xc3\xa9 \xff\xfe done", SNS_MESSAGE) == "café \ufffd\ufffd done"


def test_line_breaks_survive_in_a_message_but_not_in_one_line_fields() -> None:
    assert clean("a\nb\tc\r\nd", SNS_MESSAGE) == "a\nb\tc\nd"
    assert clean("a\nb\tc\r\nd", LOG_TEXT) == "a b c d"
    assert clean("a\nb", TAG_VALUE) == "a b"


@pytest.mark.parametrize(
    ("limit", "measure"),
    [
        (SNS_SUBJECT, len),
        (TAG_VALUE, len),
        (APPROVAL_DESCRIPTION, len),
        (LOG_TEXT, len),
        (SNS_MESSAGE, lambda text: len(text.encode())),
    ],
)
def test_over_long_text_is_cut_to_the_aws_field_limit(limit: FieldLimit, measure: object) -> None:
    text = clean("é" * 400_000, limit)
    assert measure(text) <= limit.maximum  # type: ignore[operator]
    assert measure(text) > limit.maximum - 8  # type: ignore[operator]


def test_aws_limits_are_the_documented_ones() -> None:
    assert SNS_SUBJECT.maximum == 100
    assert TAG_VALUE.maximum == 256
    assert APPROVAL_DESCRIPTION.maximum == 1024
    assert SNS_MESSAGE.maximum <= 256 * 1024


def test_non_strings_are_rendered_then_cleaned() -> None:
    assert clean(None, LOG_TEXT) == ""
    assert clean(42, LOG_TEXT) == "42"
    assert clean({"k": "\ud800"}, LOG_TEXT) == "{'k': '\\ud800'}"  # repr escapes it: encodable as is


def test_a_whole_record_is_cleaned_for_a_log_line() -> None:
    record = {"status": "invalid", "error\u202e": ["\ud800", b"\xff", 3, None], "nested": {"k": "a\nb"}}
    assert clean_all(record) == {"status": "invalid", "error": ["\ufffd", "\ufffd", 3, None], "nested": {"k": "a b"}}
