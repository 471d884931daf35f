"""``python -m local serve`` as a subprocess for tests: its ready line, boto3 clients of it, its control API."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from local.aws.control_client import ControlClient

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Served:
    process: subprocess.Popen[str]
    ready: dict[str, Any]

    @property
    def endpoint_url(self) -> str:
        return str(self.ready["endpoint_url"])

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.ready["outputs"])

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.ready["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the embedded AWS's fixed credentials
        )

    @property
    def control(self) -> ControlClient:
        return ControlClient(self.endpoint_url)

    def alive(self) -> bool:
        return self.process.poll() is None


def readline(process: subprocess.Popen[str], timeout: float) -> str:
    """The next line the process prints, waiting at most ``timeout`` seconds ("" once it has exited)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            return process.stdout.readline()
        if process.poll() is not None:
            return ""
    raise TimeoutError(f"no line printed in {timeout} s")


@contextmanager
def serving(env: str = "dev", **parameters: str) -> Iterator[Served]:
    """``make serve`` of ``env`` with zero delays (and stack ``parameters``), until the block ends (then SIGTERM, as
    Ctrl-C would)."""
    overrides = [f"--parameter={key}={value}" for key, value in parameters.items()]
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "serve", "--env", env, "--delays", "zero", *overrides],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield Served(process, json.loads(readline(process, timeout=180)))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class Inbox:
    """An SQS queue of the served stack subscribed to its alert topic."""

    def __init__(self, served: Served, name: str) -> None:
        self.sqs = served.client("sqs")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        served.client("sns").subscribe(TopicArn=served.outputs["AlertTopicArn"], Protocol="sqs", Endpoint=arn)

    def drain(self, quiet_rounds: int = 2) -> list[dict[str, Any]]:
        """Every SNS envelope received until the queue has stayed empty ``quiet_rounds`` receives in a row."""
        return [message["Body"] for message in drain(self.sqs, self.url, quiet_rounds=quiet_rounds)]

    def until(self, predicate: Any, timeout: float = 60) -> list[dict[str, Any]]:
        """The SNS envelopes received until one satisfies ``predicate`` (or the timeout)."""
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(predicate(m) for m in received):
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in messages.get("Messages", []):
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return received


def drain(sqs: Any, url: str, quiet_rounds: int = 2) -> list[dict[str, Any]]:
    """Every message of the queue ``url`` (deleted once read) until it stayed empty ``quiet_rounds`` receives in a
    row; each as ``{"Body": <parsed JSON body>, "MessageAttributes": {name: string value}}``."""
    received: list[dict[str, Any]] = []
    quiet = 0
    while quiet < quiet_rounds:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        quiet = 0 if messages else quiet + 1
        for message in messages:
            attributes = {k: v.get("StringValue") for k, v in message.get("MessageAttributes", {}).items()}
            received.append({"Body": json.loads(message["Body"]), "MessageAttributes": attributes})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received
