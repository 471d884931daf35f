"""Fixtures for tests of the local runtime."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from local.aws import EmbeddedAWS


def post_control(aws: EmbeddedAWS, payload: dict[str, Any]) -> dict[str, Any]:
    """POST a control action as another process would; returns the decoded answer (raises HTTPError on 4xx)."""
    request = urllib.request.Request(f"{aws.endpoint_url}/_local/control", data=json.dumps(payload).encode())  # noqa: S310
    with urllib.request.urlopen(request) as response:  # noqa: S310 - a local http URL built above
        return json.loads(response.read())


@pytest.fixture
def control_http(embedded_aws: EmbeddedAWS) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``control_http({"action": ...})``: the HTTP control route of the embedded AWS."""
    return lambda payload: post_control(embedded_aws, payload)


@pytest.fixture
def sagemaker(embedded_aws: EmbeddedAWS) -> Any:
    return embedded_aws.client("sagemaker")


@pytest.fixture
def event_queue(embedded_aws: EmbeddedAWS) -> Callable[..., Callable[[], list[dict[str, Any]]]]:
    """Route events matching a pattern to a fresh SQS queue through an EventBridge rule, as the stack does.

    ``read = event_queue({"source": ["aws.sagemaker"]})``; ``read()`` waits for the embedded AWS to be idle and
    returns the events delivered so far (each once), in delivery order.
    """
    events = embedded_aws.client("events")
    sqs = embedded_aws.client("sqs")
    counter = iter(range(1000))

    def make(pattern: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
        n = next(counter)
        url = sqs.create_queue(QueueName=f"events-{n}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"rule-{n}", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"rule-{n}", Targets=[{"Id": "queue", "Arn": arn}])

        def read() -> list[dict[str, Any]]:
            embedded_aws.wait_idle()
            received: list[dict[str, Any]] = []
            while True:
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    return received
                received.extend(json.loads(m["Body"]) for m in messages)
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )

        return read

    return make
