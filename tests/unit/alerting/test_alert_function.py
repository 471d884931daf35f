"""The alert function end to end in process: moto with the project's SageMaker extensions, a real DynamoDB
idempotency table, and the alert topic delivering into an SQS queue that the tests read. The failures the events
report exist in SageMaker first (:mod:`tests.worlds.alerting`): the function takes its facts from there."""

from __future__ import annotations

import copy
import importlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest

from local.aws.sagemaker.pipelines.store import SageMakerStore
from sm_lifecycle.alerting import service
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.errors import TransientError
from sm_lifecycle.kernel.idempotency import DEDUPE_WINDOW_SECONDS
from tests.support import REGION, LambdaContext, emitted_metrics, moto_in_process
from tests.worlds.alerting import SAMPLE_JOB, Failures, failed_step

ROOT = Path(__file__).resolve().parents[3]
TABLE = "idempotency"
JOB_ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-lifecycle-dev-sagemaker-job"  # the template's job role


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
            "SAGEMAKER_JOB_ROLE_ARN": JOB_ROLE_ARN,
            "AWS_LAMBDA_FUNCTION_NAME": "AlertFunction",
            "POWERTOOLS_SERVICE_NAME": "sagemaker-lifecycle",
            "POWERTOOLS_METRICS_NAMESPACE": "SageMakerLifecycle",
        }.items():
            monkeypatch.setenv(name, value)
        yield AlertStack(importlib.import_module("functions.alert.app"), topic, dlq, inbox)


@pytest.fixture
def world(stack: AlertStack) -> Failures:
    """Failures in the SageMaker of ``stack``."""
    return Failures(boto3.client("sagemaker", region_name=REGION), SageMakerStore())


def training_execution(world: Failures, reason: str) -> Any:
    """A failed execution whose Training step failed with ``reason`` (after Prepare succeeded)."""
    steps = [failed_step("Prepare", status="Succeeded"), failed_step("Training", reason, job=SAMPLE_JOB)]
    return world.execution("Failed", steps=steps)


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
def test_each_failure_sample_publishes_one_alert(
    stack: AlertStack, world: Failures, name: str, kind: str, severity: str
) -> None:
    # GIVEN the failure the sample reports, as SageMaker reports it
    event = world.failure_for(sample(name))
    # WHEN the function receives the sample event
    result = stack.invoke(event)
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


def test_execution_failure_alert_reads_the_failed_step_from_list_pipeline_execution_steps(
    stack: AlertStack, world: Failures
) -> None:
    # GIVEN SageMaker's record of the execution's steps, the Training step failed
    run = training_execution(world, "AlgorithmError: label must be in [0,1]")
    # WHEN the execution's Failed event arrives (it carries no reason)
    result = stack.invoke(run.event(sample("pipeline-execution-failed")))
    # THEN the one alert names the pipeline, the execution, the failed step and its reason
    assert result["status"] == "published"
    [alert] = stack.alerts()
    assert alert["Subject"] == f"[dev] Pipeline fraud-pipeline-dev execution {run.execution_id} Failed at step Training"
    assert "AlgorithmError: label must be in [0,1]" in alert["Message"]
    assert "Training job: pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a" in alert["Message"]
    assert alert["attributes"]["step"] == "Training"


def test_hostile_failure_reason_is_alerted_sanitised(stack: AlertStack, world: Failures) -> None:
    # GIVEN SageMaker reporting a failure reason (a training script's text) with a lone UTF-16 surrogate, control
    # and bidi characters, and far too long
    world.training_job(reason="AlgorithmError: \ud800 bad\x1b[2J\u202egnp.exe " + "x" * 300_000)
    # WHEN the function receives the job's event
    result = stack.invoke(sample("training-job-failed"))
    # THEN the alert is published once, readable and within SNS's limits
    assert result["status"] == "published"
    [alert] = stack.alerts()
    assert "AlgorithmError: \ufffd bad[2Jgnp.exe" in alert["Message"]
    assert "\u202e" not in alert["Message"] and "\x1b" not in alert["Message"]
    assert len(alert["Message"].encode()) <= 256 * 1024
    assert stack.dead_letters() == []


def test_spot_failure_is_called_out(stack: AlertStack, world: Failures) -> None:
    stack.invoke(world.failure_for(sample("training-job-stopped-spot")))
    [alert] = stack.alerts()
    assert alert["Subject"].endswith("(Spot capacity)")
    assert "SPOT:" in alert["Message"]
    assert "MaxWaitTimeInSeconds=7200" in alert["Message"]
    assert alert["attributes"]["cause"] == "spot"


# ---------------------------------------------------------------------------------------------------- deduplication


def test_same_event_delivered_twice_publishes_once(stack: AlertStack, world: Failures) -> None:
    event = world.failure_for(sample("training-job-failed"))
    first = stack.invoke(event)
    second = stack.invoke(event)
    assert first["status"] == "published"
    assert second["status"] == "duplicate"
    assert second["message_id"] == first["message_id"]
    assert len(stack.alerts()) == 1


def test_two_events_for_one_change_publish_once(stack: AlertStack, world: Failures) -> None:
    # GIVEN two different events (ids, times) that SageMaker sent for the same training job failure
    first = world.failure_for(sample("training-job-failed"))
    second = {**sample("training-job-failed"), "id": "d3e5f7a9-0000-4000-8000-000000000002", "time": 1763635262000}
    # WHEN both are handled
    results = [stack.invoke(first), stack.invoke(second)]
    # THEN one alert
    assert [r["status"] for r in results] == ["published", "duplicate"]
    assert len(stack.alerts()) == 1


def test_step_failure_then_execution_failure_is_one_alert(stack: AlertStack, world: Failures) -> None:
    # GIVEN an execution whose Training step failed
    run = training_execution(world, "XGBoostError: label must be in [0,1]")
    # WHEN the step's Failed event arrives first, then the execution's
    events = [run.event(sample("pipeline-step-failed")), run.event(sample("pipeline-execution-failed"))]
    results = [stack.invoke(event) for event in events]
    # THEN one alert, from the step event, naming step and reason
    assert [r["status"] for r in results] == ["published", "duplicate"]
    [alert] = stack.alerts()
    assert "at step Training" in alert["Subject"]
    assert "XGBoostError: label must be in [0,1]" in alert["Message"]


def test_execution_failure_then_step_failure_is_one_alert(stack: AlertStack, world: Failures) -> None:
    run = training_execution(world, "AlgorithmError: boom")
    events = [run.event(sample("pipeline-execution-failed")), run.event(sample("pipeline-step-failed"))]
    results = [stack.invoke(event) for event in events]
    assert [r["status"] for r in results] == ["published", "duplicate"]
    [alert] = stack.alerts()
    assert "AlgorithmError: boom" in alert["Message"]


def test_different_failures_each_alert(stack: AlertStack, world: Failures) -> None:
    # GIVEN a failed execution, another execution stopped, and a failed training job
    names = ("pipeline-step-failed", "pipeline-execution-stopped", "training-job-failed")
    for event in [world.failure_for(sample(name)) for name in names]:
        stack.invoke(event)
    # THEN three alerts
    assert len(stack.alerts()) == 3


def test_dedupe_record_expires_after_the_window(stack: AlertStack, world: Failures) -> None:
    stack.invoke(world.failure_for(sample("training-job-failed")))
    [item] = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"]
    assert item["id"]["S"].startswith("sm-lifecycle-alert#")
    assert item["status"]["S"] == "COMPLETED"
    remaining = int(item["expiration"]["N"]) - datetime.now(UTC).timestamp()
    assert DEDUPE_WINDOW_SECONDS - 60 < remaining <= DEDUPE_WINDOW_SECONDS


def test_failed_publish_is_retried_and_then_published_once(
    stack: AlertStack, world: Failures, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a failed training job, and the topic is unreachable for the first attempt
    world.failure_for(sample("training-job-failed"))
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
    stack: AlertStack, world: Failures, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a failed training job, a second delivery of whose change arrives while the first is publishing
    world.failure_for(sample("training-job-failed"))
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


# ---------------------------------------------------------------------------------------------------- events are hints


def test_a_forged_failure_of_an_execution_that_does_not_exist_is_logged_not_alerted_nor_dead_lettered(
    stack: AlertStack, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an execution event for an execution SageMaker does not know (the sample's, never started here)
    event = sample("pipeline-execution-failed")
    # WHEN the function receives it
    with caplog.at_level(logging.WARNING):
        result = stack.invoke(event)
    # THEN it is ignored, saying why, with no alert and no dead letter
    assert result["status"] == "ignored"
    assert "SageMaker does not know" in result["reason"]
    assert event["detail"]["pipelineExecutionArn"] in result["reason"]
    assert stack.alerts() == []
    assert stack.dead_letters() == []
    # AND a warning is logged, and the ignored event counted
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING and "does not confirm" in r.getMessage()]
    assert "SageMaker does not know" in str(warning.__dict__.get("reason"))
    assert "AlertEventsIgnored" in emitted_metrics(capfd.readouterr().out)


def test_an_event_saying_failed_for_an_execution_sagemaker_reports_succeeded_is_not_alerted(
    stack: AlertStack, world: Failures, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an execution that succeeded, and a forged event saying it failed
    run = world.execution("Succeeded")
    # WHEN the function receives it
    with caplog.at_level(logging.WARNING):
        result = stack.invoke(run.event(sample("pipeline-execution-failed")))
    # THEN nothing is alerted nor dead-lettered; the warning names both statuses
    assert result == {
        "status": "ignored",
        "reason": f"execution {run.arn}: the event says Failed, SageMaker says Succeeded",
    }
    assert stack.alerts() == []
    assert stack.dead_letters() == []
    assert any(
        "the event says Failed, SageMaker says Succeeded" in str(r.__dict__.get("reason")) for r in caplog.records
    )


def test_a_forged_failure_reason_is_not_quoted_the_api_reason_is(stack: AlertStack, world: Failures) -> None:
    # GIVEN a failed step, and its event with a forged failure reason and job
    run = training_execution(world, "AlgorithmError: the real reason")
    event = run.event(
        sample("pipeline-step-failed"),
        failureReason="Forged: see https://evil.example",
        metadata={"trainingJob": {"arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/forged-job"}},
    )
    # WHEN the function receives it
    assert stack.invoke(event)["status"] == "published"
    # THEN the alert quotes SageMaker's reason and job, not the event's
    [alert] = stack.alerts()
    assert "AlgorithmError: the real reason" in alert["Message"]
    assert f"Training job: {SAMPLE_JOB}" in alert["Message"]
    assert "Forged" not in alert["Message"] and "evil" not in alert["Message"] and "forged-job" not in alert["Message"]


def test_a_step_sagemaker_does_not_report_failed_is_not_alerted(stack: AlertStack, world: Failures) -> None:
    run = world.execution("Executing", steps=[failed_step("Training", status="Executing")])
    result = stack.invoke(run.event(sample("pipeline-step-failed")))
    assert result["status"] == "ignored"
    assert "the event says Failed, SageMaker says Executing" in result["reason"]
    assert stack.alerts() == []
    assert stack.dead_letters() == []


@pytest.mark.parametrize(("claimed", "actual", "published"), [("Stopped", "Failed", False), ("Failed", "Failed", True)])
def test_the_api_status_of_a_training_job_decides(
    stack: AlertStack, world: Failures, claimed: str, actual: str, published: bool
) -> None:
    # GIVEN a failed training job, and its event, whose status may be forged
    world.training_job(status=actual, reason="AlgorithmError: boom")
    event = sample("training-job-failed")
    event["detail"]["TrainingJobStatus"] = claimed
    # WHEN the function receives it  THEN only the status SageMaker reports is alerted
    result = stack.invoke(event)
    assert result["status"] == ("published" if published else "ignored")
    assert [alert["Subject"].rsplit(" ", 1)[-1] for alert in stack.alerts()] == ([actual] if published else [])
    assert stack.dead_letters() == []


def test_a_failed_job_that_runs_as_another_role_is_not_this_stacks_and_not_alerted(
    stack: AlertStack, world: Failures
) -> None:
    # GIVEN a failed training job of someone else (another role), and an event saying it runs as the stack's role
    other = "arn:aws:iam::123456789012:role/someone-elses-training"
    event = sample("training-job-failed")
    world.training_job(event["detail"]["TrainingJobName"], "Failed", "AlgorithmError: theirs", role_arn=other)
    assert event["detail"]["RoleArn"] == JOB_ROLE_ARN
    # WHEN the function receives it  THEN SageMaker's RoleArn decides: foreign, no alert, no dead letter
    result = stack.invoke(event)
    assert result["status"] == "foreign"
    assert other in result["reason"]
    assert stack.alerts() == []
    assert stack.dead_letters() == []
    # AND the same failure of a job running as the stack's role is alerted
    mine = world.failure_for(sample("training-job-stopped-spot"))
    assert stack.invoke(mine)["status"] == "published"


def test_a_training_job_that_does_not_exist_is_not_alerted(stack: AlertStack) -> None:
    result = stack.invoke(sample("training-job-failed"))
    assert result["status"] == "ignored"
    assert "SageMaker does not know pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a" in result["reason"]
    assert stack.alerts() == []
    assert stack.dead_letters() == []


def test_a_throttled_sagemaker_is_retried_and_the_retry_alerts(stack: AlertStack, world: Failures) -> None:
    # GIVEN a failed training job, and SageMaker throttling DescribeTrainingJob past the SDK's retries
    event = world.failure_for(sample("training-job-failed"))
    sagemaker = clients.client("sagemaker")
    throttled = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}

    def throttle(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=400), {**throttled, "ResponseMetadata": {"HTTPStatusCode": 400}}

    sagemaker.meta.events.register("before-call.sagemaker.DescribeTrainingJob", throttle)
    # WHEN invoked  THEN the error propagates so that Lambda retries, and no dedupe record blocks the retry
    with pytest.raises(TransientError, match="ThrottlingException"):
        stack.invoke(event)
    assert boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"] == []
    # WHEN the retry finds SageMaker answering  THEN the alert goes out
    sagemaker.meta.events.unregister("before-call.sagemaker.DescribeTrainingJob", throttle)
    assert stack.invoke(event)["status"] == "published"
    assert len(stack.alerts()) == 1


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
