"""The alert flow through the local stack: template.yaml's rules on the embedded EventBridge, the alert function in
a worker process with the template's environment, the alert topic read by an SQS subscriber. The failures the
events report exist in the embedded SageMaker first (the ``failures`` fixture): the function confirms them there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack
from tests.support import create_training_job
from tests.worlds.alerting import Failures, failed_step

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def sample(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def alert_records(stack: LocalStack, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if record["function"] == "AlertFunction"]


def test_training_job_failure_reaches_the_topic_once(
    local_stack: LocalStack, failures: Failures, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN the dev stack and a subscriber of its alert topic
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    # AND a failed training job of the stack's role, delivered twice by SageMaker (two events, one change)
    event = sample("training-job-failed")
    event["detail"]["RoleArn"] = stack_outputs["SageMakerJobRoleArn"]
    event = failures.failure_for(event)
    # WHEN both go through EventBridge
    records = alert_records(local_stack, local_stack.replay([event, event]))
    # THEN the rule matched both, both invocations succeeded, and one alert went out
    assert [r["outcome"] for r in records] == ["ok", "ok"]
    # (the second is either after the first, or concurrent with it and leaves the publishing to it)
    statuses = sorted(r["result"]["status"] for r in records)
    assert statuses in (["duplicate", "published"], ["conflict", "published"])
    [message] = inbox.messages()
    assert message.subject == "[dev] Training job pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a Failed"
    assert message.attributes["environment"] == "dev"
    assert message.attributes["pipeline"] == "fraud-pipeline-dev"
    assert message.attributes["kind"] == "training-job"


def test_training_job_of_another_role_is_not_alerted(
    local_stack: LocalStack, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    event = sample("training-job-failed")
    event["detail"]["RoleArn"] = "arn:aws:iam::123456789012:role/someone-else"
    assert alert_records(local_stack, local_stack.replay([event])) == []
    assert inbox.messages() == []


def test_failed_step_and_failed_execution_make_one_alert(
    local_stack: LocalStack, failures: Failures, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN SageMaker knows the failed step (whichever of the two events is handled first reports it)
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    run = failures.execution("Failed", steps=[failed_step("Training", "ClientError: AlgorithmError: XGBoostError")])
    # WHEN the step's and the execution's Failed events are delivered  THEN one alert, naming step and reason
    events = [run.event(sample("pipeline-step-failed")), run.event(sample("pipeline-execution-failed"))]
    records = alert_records(local_stack, local_stack.replay(events))
    assert sorted(r["result"]["status"] for r in records) in (["duplicate", "published"], ["conflict", "published"])
    [message] = inbox.messages()
    assert message.subject == f"[dev] Pipeline fraud-pipeline-dev execution {run.execution_id} Failed at step Training"
    assert "XGBoostError" in message.message


def test_an_execution_that_completed_with_failures_is_alerted_once_with_its_failed_step(
    local_stack: LocalStack, failures: Failures, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN an execution whose Evaluate step failed while the execution went on to complete (CompletedWithFailures)
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    reason = "CapacityError: Unable to provision requested ML compute capacity."
    run = failures.execution("CompletedWithFailures", steps=[failed_step("Evaluate", reason)])
    event = run.event(sample("pipeline-execution-completed-with-failures"))

    # WHEN SageMaker reports the execution's end, twice
    records = alert_records(local_stack, local_stack.replay([event, event]))

    # THEN the alert rule took it and one alert went out, saying so, with the failed step and its reason
    assert sorted(r["result"]["status"] for r in records) in (["duplicate", "published"], ["conflict", "published"])
    [message] = inbox.messages()
    assert message.subject == (
        f"[dev] Pipeline fraud-pipeline-dev execution {run.execution_id} completed with failures at step Evaluate"
    )
    assert reason in message.message
    assert message.attributes["severity"] == "error"


def test_a_failed_step_names_its_job_by_its_real_name(
    local_stack: LocalStack,
    embedded_aws: Any,
    failures: Failures,
    stack_outputs: dict[str, Any],
    sns_inbox: Callable[[str], Any],
) -> None:
    # GIVEN the failed step's training job, named in the step's case (its ARN, in SageMaker's steps, is lower case)
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    name = "pipelines-7k2m9q4x1b3c-Training-Gx7Q2rtZ1a"
    create_training_job(embedded_aws.client("sagemaker"), name, stack_outputs["SageMakerJobRoleArn"])
    run = failures.execution("Failed", steps=[failed_step("Training", "AlgorithmError: boom", job=name)])
    event = run.event(sample("pipeline-step-failed"))

    # WHEN the step's failure is reported
    local_stack.replay([event])

    # THEN the alert names the job as it is named (what the console and DescribeTrainingJob know it by)
    [message] = inbox.messages()
    assert f"Training job: {name}" in message.message


def test_spot_stop_is_called_out(
    local_stack: LocalStack, failures: Failures, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    event = sample("training-job-stopped-spot")
    event["detail"]["RoleArn"] = stack_outputs["SageMakerJobRoleArn"]
    local_stack.replay([failures.failure_for(event)])
    [message] = inbox.messages()
    assert message.subject.endswith("(Spot capacity)")
    assert message.attributes["cause"] == "spot"
    assert message.attributes["severity"] == "warning"


def test_invalid_event_is_dead_lettered_not_retried_and_alerted(
    local_stack: LocalStack, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN a step event that matches the rule but lacks its step name
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    event = sample("pipeline-step-failed")
    del event["detail"]["stepName"]
    # WHEN delivered
    [record] = alert_records(local_stack, local_stack.replay([event]))
    # THEN one attempt, handled as invalid (no Lambda retry), dead-lettered by the function, alert sent
    assert record["outcome"] == "ok"
    assert record["attempts"] == 1
    assert record["result"]["status"] == "invalid"
    assert record["result"]["field"] == "detail.stepName"
    sqs = local_stack.client("sqs")
    [message] = sqs.receive_message(
        QueueUrl=stack_outputs["AlertDeadLetterQueueUrl"], MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert "stepName" not in json.loads(message["Body"])["detail"]
    assert message["MessageAttributes"]["RequestID"]["StringValue"] == record["request_id"]
    [alert] = [m for m in inbox.messages() if m.attributes.get("kind") == "invalid-event"]
    assert "Field: detail.stepName" in alert.message
    # AND the dead-letter queue's alarm reaches the same topic
    assert any(m.subject and "ALARM" in m.subject for m in inbox.messages()), [m.subject for m in inbox.messages()]


def test_execution_failure_reason_comes_from_the_embedded_list_pipeline_execution_steps(
    local_stack: LocalStack, failures: Failures, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN SageMaker's record of the execution: its Training step failed on Spot capacity
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    reason = "ClientError: Spot capacity not available after MaxWaitTimeInSeconds"
    run = failures.execution("Failed", steps=[failed_step("Training", reason)])
    # WHEN only the execution's Failed event arrives (it carries no reason)
    local_stack.replay([run.event(sample("pipeline-execution-failed"))])
    # THEN the alert names the step, its reason, and calls out Spot
    [message] = inbox.messages()
    assert message.subject == (
        f"[dev] Pipeline fraud-pipeline-dev execution {run.execution_id} Failed at step Training (Spot capacity)"
    )
    assert "Spot capacity not available after MaxWaitTimeInSeconds" in message.message
    assert message.attributes["step"] == "Training"


def test_a_forged_failure_of_an_execution_that_does_not_exist_is_neither_alerted_nor_dead_lettered(
    local_stack: LocalStack, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN an event on the bus reporting the failure of an execution that does not exist
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    # WHEN delivered
    [record] = alert_records(local_stack, local_stack.replay([sample("pipeline-execution-failed")]))
    # THEN the function handled it once (no retry), ignored it, and nothing reached the topic nor the dead letters
    assert (record["outcome"], record["attempts"], record["result"]["status"]) == ("ok", 1, "ignored")
    assert "SageMaker does not know" in record["result"]["reason"]
    assert inbox.messages(wait=1) == []
    sqs = local_stack.client("sqs")
    assert sqs.receive_message(QueueUrl=stack_outputs["AlertDeadLetterQueueUrl"]).get("Messages", []) == []


def test_an_event_saying_failed_for_a_training_job_sagemaker_reports_completed_is_not_alerted(
    local_stack: LocalStack, failures: Failures, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    failures.training_job(status="Completed", role_arn=stack_outputs["SageMakerJobRoleArn"])
    event = sample("training-job-failed")
    event["detail"]["RoleArn"] = stack_outputs["SageMakerJobRoleArn"]
    [record] = alert_records(local_stack, local_stack.replay([event]))
    assert record["result"]["status"] == "ignored"
    assert "the event says Failed, SageMaker says Completed" in record["result"]["reason"]
    assert inbox.messages(wait=1) == []


@pytest.mark.expect_denials
def test_a_failure_sagemaker_will_not_describe_to_the_function_is_still_alerted_saying_so(
    local_stack: LocalStack,
    embedded_aws: Any,
    failures: Failures,
    stack_outputs: dict[str, Any],
    sns_inbox: Callable[[str], Any],
) -> None:
    # GIVEN a failed training job, and the alert function's role denied DescribeTrainingJob (a broken deployment)
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    event = sample("training-job-failed")
    event["detail"]["RoleArn"] = stack_outputs["SageMakerJobRoleArn"]
    event = failures.failure_for(event)
    deny = {"Effect": "Deny", "Action": "sagemaker:DescribeTrainingJob", "Resource": "*"}
    embedded_aws.client("iam").put_role_policy(
        RoleName=local_stack.physical_id("AlertFunctionRole"),
        PolicyName="deny-describe-training-job",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny]}),
    )
    # WHEN its event arrives
    [record] = alert_records(local_stack, local_stack.replay([event]))
    # THEN the alert still goes out, saying SageMaker could not confirm it, and why
    assert record["result"]["status"] == "published"
    [message] = inbox.messages()
    assert message.subject == "[dev] Training job pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a Failed"
    assert "SageMaker could not confirm it, lookup failed: AccessDeniedException" in message.message
    # AND IAM denied exactly that call
    assert local_stack.iam is not None
    assert {d.action for d in local_stack.iam.log.denials} == {"sagemaker:DescribeTrainingJob"}
