"""Shared fixtures: an embedded AWS, the stack of template.yaml running on it, and an inbox for SNS topics.

- ``embedded_aws``: a started ``local.aws.EmbeddedAWS`` with fresh state and zero SageMaker delays.
- ``local_stack``: template.yaml (env ``dev``) deployed and started on ``embedded_aws``, with zero retry delays.
- ``stack_outputs``: the template's Outputs of ``local_stack``, resolved.
- ``local_stack_factory``: ``local_stack_factory(template_path=..., env=..., **LocalStack kwargs)`` for other templates.
- ``sns_inbox``: ``inbox = sns_inbox(topic_arn)`` subscribes an SQS queue to the topic; ``inbox.messages(wait=5)``.

IAM is enforced on every embedded AWS: a test fails when any function, job or service was denied anything while it
ran, unless it is marked ``@pytest.mark.expect_denials`` (a test that denies on purpose asserts its denials itself).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from tests.support import DRIFT_CHECKS_ON_DEMAND

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def embedded_aws() -> Iterator[EmbeddedAWS]:
    """A started embedded AWS with fresh state and zero delays."""
    aws = EmbeddedAWS(timings=Timings()).start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After each test, while its fixtures still run: fail it if IAM denied anything on the embedded AWS since the
    last test (its fixtures' set-up included), unless it is marked ``expect_denials``."""
    try:
        result = yield
    except BaseException:
        _forget_denials()
        raise
    denials = _forget_denials()
    if denials and item.get_closest_marker("expect_denials") is None:
        listed = "\n".join(f"- {denial.message}" for denial in denials[:20])
        pytest.fail(f"IAM denied {len(denials)} request(s) during the test:\n{listed}", pytrace=False)
    return result


def _forget_denials() -> list[Any]:
    aws = EmbeddedAWS.current()
    if aws is None or aws.iam is None:
        return []
    denials = aws.iam.log.denials
    aws.iam.log.reset()
    return denials


@pytest.fixture
def local_stack_factory(embedded_aws: EmbeddedAWS) -> Iterator[Callable[..., LocalStack]]:
    """Deploy and start stacks of any template on ``embedded_aws`` (zero retry delays); all stopped at teardown."""
    stacks: list[LocalStack] = []

    def make(template_path: str | Path = ROOT / "template.yaml", env: str = "dev", **kwargs: Any) -> LocalStack:
        kwargs.setdefault("retry_delays", (0.0, 0.0))
        if (
            Path(template_path).resolve() == (ROOT / "template.yaml").resolve()
        ):  # other templates: probes of the runtime
            kwargs["parameter_overrides"] = {**DRIFT_CHECKS_ON_DEMAND, **(kwargs.get("parameter_overrides") or {})}
        stack = LocalStack(embedded_aws, env=env, template_path=template_path, **kwargs)
        stacks.append(stack)
        stack.deploy()
        return stack.start()

    yield make
    for stack in stacks:
        stack.stop()


@pytest.fixture
def local_stack(local_stack_factory: Callable[..., LocalStack]) -> LocalStack:
    """template.yaml (dev) deployed and running on a fresh embedded AWS; Lambda retries without delay."""
    return local_stack_factory()


@pytest.fixture
def stack_outputs(local_stack: LocalStack) -> dict[str, Any]:
    return dict(local_stack.outputs)


@dataclass(frozen=True)
class SnsMessage:
    """One SNS notification as an SQS subscriber receives it (the SNS JSON envelope, parsed)."""

    message_id: str
    topic_arn: str
    subject: str | None
    message: str
    attributes: dict[str, str]
    envelope: dict[str, Any] = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.message)


class SnsInbox:
    """An SQS queue subscribed to a topic; ``messages()`` returns every notification received so far."""

    def __init__(self, aws: EmbeddedAWS, topic_arn: str, name: str, account_id: str | None = None) -> None:
        self._sqs = aws.client("sqs", account_id=account_id)  # the topic's account (default: the default account)
        self.topic_arn = topic_arn
        self.queue_url = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        aws.client("sns", account_id=account_id).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self._received: list[SnsMessage] = []

    def _drain(self) -> None:
        while True:
            messages = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            for message in messages:
                envelope = json.loads(message["Body"])
                self._received.append(
                    SnsMessage(
                        message_id=envelope["MessageId"],
                        topic_arn=envelope["TopicArn"],
                        subject=envelope.get("Subject"),
                        message=envelope["Message"],
                        attributes={k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                        envelope=envelope,
                    )
                )
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def messages(self, wait: float = 0.0, count: int = 1) -> list[SnsMessage]:
        """Every message received so far, waiting up to ``wait`` seconds for at least ``count`` of them."""
        deadline = time.monotonic() + wait
        self._drain()
        while len(self._received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            self._drain()
        return list(self._received)


@pytest.fixture
def sns_inbox(embedded_aws: EmbeddedAWS) -> Callable[[str], SnsInbox]:
    numbers = itertools.count(1)

    def make(topic_arn: str) -> SnsInbox:
        return SnsInbox(embedded_aws, topic_arn, f"test-inbox-{next(numbers)}")

    return make
