"""Notifications: alerts to the stack's SNS topic, and events to a function's dead-letter queue.

    publish_alert(settings, "Pipeline execution failed", "…text…", severity=Severity.ERROR,
                  attributes={"kind": "pipeline-execution"})
    dead_letter(settings, event, error, request_id=context.aws_request_id)

Every alert carries the SNS message attributes ``severity``, ``environment``, ``pipeline`` and ``kind`` (String), so
subscribers can filter with a subscription filter policy, e.g. ``{"severity": ["critical", "error"]}``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.errors import ConfigurationError
from sm_lifecycle.kernel.settings import Settings
from sm_lifecycle.kernel.text import DEAD_LETTER_ERROR, SNS_ATTRIBUTE, SNS_MESSAGE, SNS_SUBJECT, FieldLimit, clean

if TYPE_CHECKING:
    from types_boto3_sns.type_defs import MessageAttributeValueTypeDef as SnsAttribute
    from types_boto3_sqs.type_defs import MessageAttributeValueTypeDef as SqsAttribute

__all__ = ["SUBJECT_MAX", "Severity", "dead_letter", "publish_alert", "subject_line"]

SUBJECT_MAX = SNS_SUBJECT.maximum  # SNS: at most 100 printable ASCII characters, no line breaks
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]+")


class Severity(StrEnum):
    """Alert severity (the ``severity`` message attribute)."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def subject_line(text: str) -> str:
    """``text`` made a valid SNS Subject: printable ASCII on one line, at most 100 characters."""
    # hostile characters out first, then "échoué" → "echoue"
    ascii_text = unicodedata.normalize("NFKD", clean(text, SNS_SUBJECT)).encode("ascii", "ignore").decode()
    line = " ".join(_NOT_PRINTABLE.sub(" ", ascii_text).split())
    if len(line) > SUBJECT_MAX:
        line = line[: SUBJECT_MAX - 3].rstrip() + "..."
    return line or "SageMaker lifecycle alert"


def _strings(values: Mapping[str, Any], limit: FieldLimit = SNS_ATTRIBUTE) -> dict[str, str]:
    # SNS rejects empty attribute values: leave those out rather than fail the alert.
    cleaned = {name: clean(value, limit) for name, value in values.items()}
    return {name: value for name, value in cleaned.items() if value}


def publish_alert(
    settings: Settings,
    subject: str,
    message: str,
    severity: Severity | str = Severity.ERROR,
    attributes: Mapping[str, Any] | None = None,
) -> str:
    """Publish one alert to ``settings.alert_topic_arn``; returns the SNS MessageId.

    ``subject`` is cleaned to a valid SNS Subject (:func:`subject_line`); ``message`` is the readable body, cleaned
    (:mod:`sm_lifecycle.kernel.text`: hostile characters removed, cut to the SNS limit), as the attributes are. Message
    attributes: ``severity``, ``environment`` (settings), ``pipeline`` (settings, unless ``attributes`` names
    another), ``kind`` (from ``attributes``, default ``"general"``) plus any other entries of ``attributes``.
    Botocore errors propagate (the caller's error taxonomy decides: normally Lambda retries).
    """
    values: dict[str, Any] = {"kind": "general", "pipeline": settings.pipeline_name}
    values.update(attributes or {})
    values.update({"severity": str(Severity(severity)), "environment": settings.environment})
    body = clean(message, SNS_MESSAGE)
    message_attributes: dict[str, SnsAttribute] = {
        name: {"DataType": "String", "StringValue": value} for name, value in _strings(values).items()
    }
    response = clients.client("sns").publish(
        TopicArn=settings.alert_topic_arn,
        Subject=subject_line(subject),
        Message=body,
        MessageAttributes=message_attributes,
    )
    return str(response["MessageId"])


def dead_letter(
    settings: Settings,
    event: object,
    error: BaseException,
    *,
    request_id: str | None = None,
    error_code: int = 200,
    field: str | None = None,
) -> str:
    """Send ``event`` (as JSON) to ``settings.dead_letter_queue_url`` the way Lambda's dead-letter queue does.

    Message attributes as Lambda sets them: ``RequestID`` (String), ``ErrorCode`` (Number: the invoke status, 200
    for a function error), ``ErrorMessage`` (String, first 1 KB); plus ``ErrorType`` (String, the exception class)
    so a redrive tool can tell an invalid event from an exhausted retry. ``ErrorMessage`` names ``field`` (the
    offending field, when known) first unless the error's text names it already. Returns the SQS MessageId.
    Raises ``ConfigurationError`` when the function has no DEAD_LETTER_QUEUE_URL; botocore errors propagate.
    """
    if not settings.dead_letter_queue_url:
        raise ConfigurationError("DEAD_LETTER_QUEUE_URL is not set: cannot dead-letter the event")
    reason = str(error) if not field or field in str(error) else f"{field}: {error}"
    text = clean(f"{type(error).__name__}: {reason}", DEAD_LETTER_ERROR)
    event_id = event.get("id") if isinstance(event, dict) else None
    strings = {
        "RequestID": request_id or event_id or "unknown",
        "ErrorMessage": text,
        "ErrorType": type(error).__name__,
    }
    attributes: dict[str, SqsAttribute] = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in _strings(strings, DEAD_LETTER_ERROR).items()
    }
    attributes["ErrorCode"] = {"DataType": "Number", "StringValue": str(error_code)}
    response = clients.client("sqs").send_message(
        QueueUrl=settings.dead_letter_queue_url,
        MessageBody=json.dumps(event, default=str),
        MessageAttributes=attributes,
    )
    return str(response["MessageId"])
