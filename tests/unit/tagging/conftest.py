"""Fixtures: the embedded AWS (moto with the project's SageMaker extensions) in process, a stack's settings, alerts."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.aws.runtime import RUNTIME
from local.aws.sagemaker.pipelines.store import SageMakerStore
from sm_lifecycle.kernel import clients
from sm_lifecycle.tagging.policy import TaggingConfig
from tests.support import LambdaContext, moto_in_process
from tests.worlds.tagging import World

REGION = "us-east-1"
PIPELINE = "fraud-pipeline"
BUCKET = "artifacts"
APP = Path(__file__).resolve().parents[3] / "functions" / "tag_artifacts" / "app.py"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_in_process(monkeypatch):
        yield


@pytest.fixture
def world(aws: None) -> World:
    return World(
        boto3.client("sagemaker", region_name=REGION),
        boto3.client("s3", region_name=REGION),
        SageMakerStore().record_step,
        bucket=BUCKET,
        pipeline=PIPELINE,
    )


@pytest.fixture
def calls(world: World) -> Counter[str]:
    """AWS operations the world's clients make from now on (``PutObjectTagging`` → count), seen by botocore's hooks."""
    counted: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    for client in (world.sm, world.s3):
        client.meta.events.register("before-call.*.*", count)
    return counted


@pytest.fixture
def config() -> TaggingConfig:
    return TaggingConfig(
        artifact_bucket=BUCKET, artifact_prefix=f"{PIPELINE}/", extra_tags=(("cost-center", "ml"),), max_workers=4
    )


@pytest.fixture
def emitted_events() -> Any:
    """Events the embedded AWS emitted after this point (``RUNTIME.emitted_events`` is its log)."""
    start = len(RUNTIME.emitted_events)
    return lambda: RUNTIME.emitted_events[start:]


class Alerts:
    """Alerts published to the stack's topic, read from an SQS queue subscribed to it."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs, self.queue_url = sqs, queue_url

    def received(self) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            messages += [json.loads(m["Body"]) for m in batch]


@pytest.fixture
def stack_env(aws: None, world: World, monkeypatch: pytest.MonkeyPatch) -> Alerts:
    """The environment template.yaml gives TagArtifactsFunction, on the embedded AWS; returns the alert inbox."""
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    inbox = sqs.create_queue(QueueName="alert-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    dlq = sqs.create_queue(QueueName="tag-artifacts-dlq")["QueueUrl"]
    for name, value in {
        "ENVIRONMENT": "dev",
        "TEAM": "ml-platform",
        "GIT_SHA": "stackcommit",
        "PIPELINE_NAME": PIPELINE,
        "MODEL_PACKAGE_GROUP_NAME": world.group,
        "ENDPOINT_NAME": "fraud-detector",
        "ALERT_TOPIC_ARN": topic,
        "IDEMPOTENCY_TABLE_NAME": "unused",
        "DEAD_LETTER_QUEUE_URL": dlq,
        "ARTIFACT_BUCKET": BUCKET,
        "ARTIFACT_PREFIX": f"{PIPELINE}/",
        "EXTRA_TAGS": "cost-center=ml",
        "TAG_MODEL_PACKAGE_GROUP": "true",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "sagemaker-lifecycle",
        "POWERTOOLS_METRICS_NAMESPACE": "SageMakerLifecycle",
    }.items():
        monkeypatch.setenv(name, value)
    clients.reset()
    alerts = Alerts(sqs, inbox)
    alerts.dlq_url = dlq  # type: ignore[attr-defined]
    return alerts


@pytest.fixture
def handler(stack_env: Alerts) -> Any:
    """``(event) -> result`` of the function's handler, as Lambda calls it."""
    spec = importlib.util.spec_from_file_location(f"tag_artifacts_app_{uuid.uuid4().hex}", APP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda event, context=None: module.lambda_handler(
        event, context or LambdaContext("TagArtifactsFunction", remaining_ms=300_000)
    )
