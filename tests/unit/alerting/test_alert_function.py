"""The alert function end to end in process: moto with the project's SageMaker extensions, a real DynamoDB
idempotency table, and the alert topic delivering into an SQS queue that the tests read."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from local.aws.sagemaker.pipelines.store import SageMakerStore
from sm_lifecycle.alerting import service
from sm_lifecycle.kernel.errors import TransientError
from sm_lifecycle.kernel.idempotency import DEDUPE_WINDOW_SECONDS
from tests.support import REGION, LambdaContext, moto_in_process

ROOT = Path(__file__).resolve().parents[3]
TABLE = "idempotency"
JOB_ARN_PREFIX = "arn:aws:sagemaker:us-east-1:123456789012:training-job/"


def sample(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


@dataclass
class AlertStack:
    """The alert function with its topic, dead-letter queue and idempotency table on the embedded AWS."""

    app: ModuleType
    topic_arn: str
    dead_letter_queue_url: str
    inbox_url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.app.lambda_handler(copy.deepcopy(event), LambdaContext())

    def alerts(self) -> list[dict[str, Any]]:
        """Every notification the topic delivered so far (each once), attributes flattened."""
        sqs = boto3.client("sqs", region_name=REGION)
        while messages := sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                body["attributes"] = {k: v["Value"] for k, v in body.get("MessageAttributes", {}).items()}
                self.received.append(body)
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])
        return list(self.received)

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        return sqs.receive_message(
            QueueUrl=self.dead_letter_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertStack]:
    with moto_in_process(monkeypatch):
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
        dlq = sqs.create_queue(QueueName="alert-dlq")["QueueUrl"]
        # as template.yaml's IdempotencyTable
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"AttributeName": "expiration", "Enabled": True}
        )
        for name, value in {
            "ENVIRONMENT": "dev",
            "TEAM": "ml-platform",
            "GIT_SHA": "3f2c1e9",
            "PIPELINE_NAME": "fraud-pipeline-dev",
            "MODEL_PACKAGE_GROUP_NAME": "fraud-detector-dev",
            "ENDPOINT_NAME": "fraud-detector-dev",
            "ALERT_TOPIC_ARN": topic,
            "IDEMPOTENCY_TABLE_NAME": TABLE,
            "DEAD_LETTER_QUEUE_URL": dlq,
            "AWS_LAMBDA_FUNCTION_NAME": "AlertFunction",
            "POWERTOOLS_SERVICE_NAME": "sagemaker-lifecycle",
            "POWERTOOLS_METRICS_NAMESPACE": "SageMakerLifecycle",
        }.items():
            monkeypatch.setenv(name, value)
        yield AlertStack(importlib.import_module("functions.alert.app"), topic, dlq, inbox)


def record_failed_training_step(execution_arn: str, reason: str) -> None:
    """What SageMaker reports through ListPipelineExecutionSteps for the execution of the samples."""
    store = SageMakerStore()
    started = datetime(2025, 11, 20, 10, 2, 11, tzinfo=UTC)
    store.record_step(
        execution_arn, {"StepName": "Prepare", "StepStatus": "Succeeded", "StartTime": started, "EndTime": started}
    )
    store.record_step(
        execution_arn,
        {
            "StepName": "Training",
            "StepStatus": "Failed",
            "StartTime": datetime(2025, 11, 20, 10, 9, 30, tzinfo=UTC),
            "FailureReason": reason,
            "Metadata": {"TrainingJob": {"Arn": f"{JOB_ARN_PREFIX}pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a"}},
        },
    )


# ---------------------------------------------------------------------------------------------------- one per failure


@pytest.mark.parametrize(
    ("name", "kind", "severity"),
    [
        ("pipeline-step-failed", "pipeline-execution", "error"),
        ("pipeline-execution-stopped", "pipeline-execution", "warning"),
        ("training-job-failed", "training-job", "error"),
        ("training-job-stopped-spot", "training-job", "warning"),
    ],
)
def test_each_failure_sample_publishes_one_alert(stack: AlertStack, name: str, kind: str, severity: str) -> None:
    # WHEN the function receives the sample event
    result = stack.invoke(sample(name))
    # THEN it published exactly one alert, filterable by its attributes
    assert result["status"] == "published"
    [alert] = stack.alerts()
    assert alert["MessageId"] == result["message_id"]
    assert alert["attributes"]["kind"] == kind
    assert alert["attributes"]["severity"] == severity
    assert alert["attributes"]["environment"] == "dev"
    assert alert["attributes"]["pipeline"] == "fraud-pipeline-dev"
    assert alert["Subject"].startswith("[dev] ")
    assert len(alert["Subject"]) <= 100
    assert "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/" in alert["Message"]


def test_execution_failure_alert_reads_the_failed_step_from_list_pipeline_execution_steps(stack: AlertStack) -> None:
    # GIVEN SageMaker's record of the execution's steps, the Training step failed
    event = sample("pipeline-execution-failed")
    record_failed_training_step(event["detail"]["pipelineExecutionArn"], "AlgorithmError: label must be in [0,1]")
    # WHEN the execution's Failed event arrives (it carries no reason)
    result = stack.invoke(event)
    # THEN the one alert names the pipeline, the execution, the failed step and its reason
    assert result["status"] == "published"
    [alert] = stack.alerts()
    assert alert["Subject"] == "[dev] Pipeline fraud-pipeline-dev execution 7k2m9q4x1b3c Failed at step Training"
    assert "AlgorithmError: label must be in [0,1]" in alert["Message"]
    assert "Training job: pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a" in alert["Message"]
    assert alert["attributes"]["step"] == "Training"


def test_hostile_failure_reason_is_alerted_sanitised(stack: AlertStack) -> None:
    # GIVEN a failure reason with a lone UTF-16 surrogate, control and bidi characters, and far too long
    event = sample("training-job-failed")
    event["detail"]["FailureReason"] = "AlgorithmError: \ud800 bad\x1b[2J\u202egnp.exe " + "x" * 300_000
    # WHEN the function receives it
    result = stack.invoke(event)
    # THEN the alert is published once, readable and within SNS's limits
    assert result["status"] == "published"
    [alert] = stack.alerts()
    assert "AlgorithmError: \ufffd bad[2Jgnp.exe" in alert["Message"]
    assert "\u202e" not in alert["Message"] and "\x1b" not in alert["Message"]
    assert len(alert["Message"].encode()) <= 256 * 1024
    assert stack.dead_letters() == []


def test_spot_failure_is_called_out(stack: AlertStack) -> None:
    stack.invoke(sample("training-job-stopped-spot"))
    [alert] = stack.alerts()
    assert alert["Subject"].endswith("(Spot capacity)")
    assert "SPOT:" in alert["Message"]
    assert "MaxWaitTimeInSeconds=7200" in alert["Message"]
    assert alert["attributes"]["cause"] == "spot"


# ---------------------------------------------------------------------------------------------------- deduplication


def test_same_event_delivered_twice_publishes_once(stack: AlertStack) -> None:
    event = sample("training-job-failed")
    first = stack.invoke(event)
    second = stack.invoke(event)
    assert first["status"] == "published"
    assert second["status"] == "duplicate"
    assert second["message_id"] == first["message_id"]
    assert len(stack.alerts()) == 1


def test_two_events_for_one_change_publish_once(stack: AlertStack) -> None:
    # GIVEN two different events (ids, times) that SageMaker sent for the same training job failure
    first = sample("training-job-failed")
    second = {**sample("training-job-failed"), "id": "d3e5f7a9-0000-4000-8000-000000000002", "time": 1763635262000}
    # WHEN both are handled
    results = [stack.invoke(first), stack.invoke(second)]
    # THEN one alert
    assert [r["status"] for r in results] == ["published", "duplicate"]
    assert len(stack.alerts()) == 1


def test_step_failure_then_execution_failure_is_one_alert(stack: AlertStack) -> None:
    # GIVEN the step's Failed event arrives first, then the execution's
    results = [stack.invoke(sample("pipeline-step-failed")), stack.invoke(sample("pipeline-execution-failed"))]
    # THEN one alert, from the step event, naming step and reason
    assert [r["status"] for r in results] == ["published", "duplicate"]
    [alert] = stack.alerts()
    assert "at step Training" in alert["Subject"]
    assert "XGBoostError: label must be in [0,1]" in alert["Message"]


def test_execution_failure_then_step_failure_is_one_alert(stack: AlertStack) -> None:
    execution = sample("pipeline-execution-failed")
    record_failed_training_step(execution["detail"]["pipelineExecutionArn"], "AlgorithmError: boom")
    results = [stack.invoke(execution), stack.invoke(sample("pipeline-step-failed"))]
    assert [r["status"] for r in results] == ["published", "duplicate"]
    [alert] = stack.alerts()
    assert "AlgorithmError: boom" in alert["Message"]


def test_different_failures_each_alert(stack: AlertStack) -> None:
    # GIVEN a failed execution, another execution stopped, and a failed training job
    other = sample("pipeline-execution-stopped")
    other["detail"]["pipelineExecutionArn"] = other["detail"]["pipelineExecutionArn"].replace("7k2m9q4x1b3c", "z9y8x7")
    for event in (sample("pipeline-step-failed"), other, sample("training-job-failed")):
        stack.invoke(event)
    # THEN three alerts
    assert len(stack.alerts()) == 3


def test_dedupe_record_expires_after_the_window(stack: AlertStack) -> None:
    stack.invoke(sample("training-job-failed"))
    [item] = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"]
    assert item["id"]["S"].startswith("sm-lifecycle-alert#")
    assert item["status"]["S"] == "COMPLETED"
    remaining = int(item["expiration"]["N"]) - datetime.now(UTC).timestamp()
    assert DEDUPE_WINDOW_SECONDS - 60 < remaining <= DEDUPE_WINDOW_SECONDS


def test_failed_publish_is_retried_and_then_published_once(stack: AlertStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the topic is unreachable for the first attempt
    monkeypatch.setenv("ALERT_TOPIC_ARN", stack.topic_arn + "-missing")
    # WHEN invoked  THEN the error propagates so Lambda retries, and no dedupe record blocks the retry
    with pytest.raises(TransientError):
        stack.invoke(sample("training-job-failed"))
    assert boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"] == []
    # WHEN the retry finds the topic
    monkeypatch.setenv("ALERT_TOPIC_ARN", stack.topic_arn)
    assert stack.invoke(sample("training-job-failed"))["status"] == "published"
    assert len(stack.alerts()) == 1


def test_concurrent_delivery_of_the_same_change_leaves_the_publishing_to_the_first(
    stack: AlertStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a second delivery of the change arrives while the first is publishing
    concurrent: list[dict[str, Any]] = []
    publish = service.publish_alert

    def publish_while_a_duplicate_arrives(*args: Any, **kwargs: Any) -> str:
        if not concurrent:
            concurrent.append(stack.invoke({**sample("training-job-failed"), "id": "concurrent-delivery"}))
        return publish(*args, **kwargs)

    monkeypatch.setattr(service, "publish_alert", publish_while_a_duplicate_arrives)
    # WHEN the first is handled
    first = stack.invoke(sample("training-job-failed"))
    # THEN the concurrent one ends as a conflict (a normal outcome: no retry), the first publishes the only alert
    assert concurrent[0]["status"] == "conflict"
    assert first["status"] == "published"
    assert len(stack.alerts()) == 1


# ---------------------------------------------------------------------------------------------------- not alerts


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (
            json.loads(json.dumps(sample("pipeline-step-failed")).replace("fraud-pipeline-dev", "someone-elses")),
            "detail.pipelineArn",
        ),
        ({**sample("pipeline-execution-failed"), "account": "210987654321"}, "account"),
        ({**sample("training-job-failed"), "account": "210987654321"}, "account"),
    ],
    ids=["other-pipeline", "other-account-execution", "other-account-job"],
)
def test_a_failure_that_is_not_this_stacks_is_ignored_without_alert(
    stack: AlertStack, event: dict[str, Any], field: str
) -> None:
    # WHEN the function receives a failure of another pipeline or account (a rule that let it through)
    result = stack.invoke(event)
    # THEN it is ignored with the reason: no alert, no dead letter, no retry
    assert (result["status"], result["field"]) == ("foreign", field)
    assert stack.alerts() == []
    assert stack.dead_letters() == []


def test_succeeded_execution_is_ignored(stack: AlertStack) -> None:
    assert stack.invoke(sample("pipeline-execution-succeeded"))["status"] == "ignored"
    assert stack.alerts() == []
    assert stack.dead_letters() == []


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**sample("training-job-failed"), "detail": {"TrainingJobStatus": "Failed"}}, "detail.TrainingJobName"),
        (sample("model-package-approved"), "detail-type"),
    ],
    ids=["malformed", "other-detail-type"],
)
def test_invalid_event_is_dead_lettered_and_alerted_without_retry(
    stack: AlertStack, event: dict[str, Any], field: str
) -> None:
    # WHEN the function receives an event it cannot process
    result = stack.invoke(event)
    # THEN it returns normally (no Lambda retry), naming the field
    assert result["status"] == "invalid"
    assert result["field"] == field
    # AND the event is in the dead-letter queue with Lambda's attributes
    [message] = stack.dead_letters()
    assert json.loads(message["Body"]) == event
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == LambdaContext.aws_request_id
    assert attributes["ErrorCode"]["DataType"] == "Number"
    assert attributes["ErrorType"]["StringValue"] == "InvalidEventError"
    assert field in attributes["ErrorMessage"]["StringValue"]
    # AND one alert says so
    [alert] = stack.alerts()
    assert alert["attributes"]["kind"] == "invalid-event"
    assert f"Field: {field}" in alert["Message"]
