"""Fixtures of the unit tests: moto in process, the stack's settings, and an SNS topic whose messages can be read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.settings import Settings
from tests.support import REGION, moto_in_process


@dataclass
class Inbox:
    """An SQS queue subscribed to a topic (envelope delivery), read as SNS notifications."""

    sqs: Any
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def read(self) -> list[dict[str, Any]]:
        """Every notification delivered so far (each once), oldest first, attributes flattened to strings."""
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return list(self.received)
            for message in messages:
                body = json.loads(message["Body"])
                body["attributes"] = {k: v["Value"] for k, v in body.get("MessageAttributes", {}).items()}
                self.received.append(body)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every service, fake credentials, fresh shared clients."""
    with moto_in_process(monkeypatch):
        yield
    clients.reset()


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A topic, a dead-letter queue and the function environment of the dev stack (also set as env variables)."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    dlq = sqs.create_queue(QueueName="alert-dlq")["QueueUrl"]
    env = {
        "ENVIRONMENT": "dev",
        "TEAM": "ml-platform",
        "GIT_SHA": "3f2c1e9",
        "PIPELINE_NAME": "fraud-pipeline-dev",
        "MODEL_PACKAGE_GROUP_NAME": "fraud-detector-dev",
        "ENDPOINT_NAME": "fraud-detector-dev",
        "ALERT_TOPIC_ARN": topic,
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
        "DEAD_LETTER_QUEUE_URL": dlq,
        "AWS_LAMBDA_FUNCTION_NAME": "AlertFunction",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


@pytest.fixture
def inbox(stack: Settings) -> Inbox:
    """What the alert topic delivered."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.alert_topic_arn, Protocol="sqs", Endpoint=arn)
    return Inbox(sqs, url)


@pytest.fixture
def dead_letters(stack: Settings) -> Callable[[], list[dict[str, Any]]]:
    """Read (and delete) the messages of the function's dead-letter queue, with their attributes."""
    sqs = boto3.client("sqs", region_name=REGION)

    def read() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=stack.dead_letter_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append(message)
                sqs.delete_message(QueueUrl=stack.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])

    return read
