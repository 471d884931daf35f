"""Alerts to SNS and events to a dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sm_lifecycle.kernel.errors import ConfigurationError, InvalidEventError
from sm_lifecycle.kernel.notify import SUBJECT_MAX, Severity, dead_letter, publish_alert, subject_line
from sm_lifecycle.kernel.settings import Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pipeline failed", "Pipeline failed"),
        ("line one\nline two\ttab", "line one line two tab"),
        ("Modèle échoué ✗ now", "Modele echoue now"),
        ("   ", "SageMaker lifecycle alert"),
    ],
)
def test_subject_line_is_one_line_of_printable_ascii(text: str, expected: str) -> None:
    assert subject_line(text) == expected


def test_long_subject_is_cut_to_the_sns_limit_with_an_ellipsis() -> None:
    subject = subject_line("[dev] Pipeline " + "x" * 200)
    assert len(subject) == SUBJECT_MAX
    assert subject.startswith("[dev] Pipeline xxx")
    assert subject.endswith("...")


def test_publish_alert_sends_subject_message_and_filterable_attributes(stack: Settings, inbox: Any) -> None:
    # GIVEN the stack's topic with a subscriber
    # WHEN an alert is published with a kind and an extra attribute
    message_id = publish_alert(
        stack,
        "Training job failed\nsecond line",
        "The job failed.\nReason: x",
        Severity.WARNING,
        attributes={"kind": "training-job", "job": "job-1", "empty": ""},
    )
    # THEN exactly one notification arrives, with a clean subject, the text, and the attributes
    [notification] = inbox.read()
    assert notification["MessageId"] == message_id
    assert notification["Subject"] == "Training job failed second line"
    assert notification["Message"] == "The job failed.\nReason: x"
    assert notification["attributes"] == {
        "severity": "warning",
        "environment": "dev",
        "pipeline": "fraud-pipeline-dev",
        "kind": "training-job",
        "job": "job-1",
    }


def test_publish_alert_defaults_kind_and_keeps_environment_from_settings(stack: Settings, inbox: Any) -> None:
    # GIVEN attributes that try to override the environment
    publish_alert(stack, "s", "m", "critical", attributes={"environment": "prod", "pipeline": "other"})
    [notification] = inbox.read()
    # THEN the environment is the stack's, the pipeline may be named by the caller, kind defaults to general
    assert notification["attributes"]["environment"] == "dev"
    assert notification["attributes"]["pipeline"] == "other"
    assert notification["attributes"]["kind"] == "general"
    assert notification["attributes"]["severity"] == "critical"


def test_unknown_severity_is_refused(stack: Settings) -> None:
    with pytest.raises(ValueError, match="severe"):
        publish_alert(stack, "s", "m", "severe")


def test_dead_letter_sends_the_event_with_lambdas_attributes(stack: Settings, dead_letters: Any) -> None:
    # GIVEN an event and the error that makes it invalid
    event = {"id": "event-1", "detail-type": "X", "detail": {"a": 1}}
    error = InvalidEventError("detail.a: wrong", field="detail.a")
    # WHEN dead-lettered
    message_id = dead_letter(stack, event, error, request_id="request-1")
    # THEN the queue holds the event as sent, with RequestID / ErrorCode / ErrorMessage like Lambda's DLQ
    [message] = dead_letters()
    assert message["MessageId"] == message_id
    assert json.loads(message["Body"]) == event
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"] == {"StringValue": "request-1", "DataType": "String"}
    assert attributes["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attributes["ErrorMessage"]["StringValue"] == "InvalidEventError: detail.a: wrong"
    assert attributes["ErrorType"]["StringValue"] == "InvalidEventError"


def test_dead_letter_uses_the_event_id_without_a_request_id_and_cuts_long_errors(
    stack: Settings, dead_letters: Any
) -> None:
    dead_letter(stack, {"id": "event-2"}, InvalidEventError("x" * 5000))
    [message] = dead_letters()
    assert message["MessageAttributes"]["RequestID"]["StringValue"] == "event-2"
    assert len(message["MessageAttributes"]["ErrorMessage"]["StringValue"]) == 1024


def test_dead_letter_without_a_queue_is_a_configuration_error(stack: Settings) -> None:
    settings = Settings(**{**stack.__dict__, "dead_letter_queue_url": None})
    with pytest.raises(ConfigurationError, match="DEAD_LETTER_QUEUE_URL"):
        dead_letter(settings, {"id": "e"}, InvalidEventError("x"))
