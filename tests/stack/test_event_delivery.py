"""EventBridge's deliveries to the stack's functions: a delivery that fails is retried, then kept and alarmed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.aws.scheduler.models import FIRINGS
from local.stack import LocalStack

EVENTS = Path(__file__).resolve().parents[2] / "events"

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(local_stack_factory: Callable[..., LocalStack]) -> LocalStack:
    """The dev stack, EventBridge's retries without delay."""
    return local_stack_factory(delivery_retry_delays=(0.0,))


def test_every_rule_target_has_a_retry_policy_a_dead_letter_queue_and_an_alarm(stack: LocalStack) -> None:
    # GIVEN the rules of template.yaml as deployed
    targets = stack.deployment.targets
    # (every function is a rule's target but those EventBridge Scheduler starts)
    arns = {spec.arn: logical_id for logical_id, spec in stack.functions.items()}
    scheduled = {
        arns[resource.properties["Target"]["Arn"]] for resource in stack.deployment.of_type("AWS::Scheduler::Schedule")
    }
    assert scheduled == {"DriftCheckFunction"}
    assert {target.function for target in targets} == set(stack.functions) - scheduled

    # THEN each target gives up within the functions' own event age and keeps what it gives up
    queue = stack.resources["EventDeliveryDeadLetterQueue"].attributes["Arn"]
    for target in targets:
        assert target.dead_letter_arn == queue, target.rule_name
        assert target.maximum_event_age <= 21_600 and target.maximum_retry_attempts > 0, target.rule_name
    # AND each rule has a FailedInvocations alarm on the alert topic
    alarmed = {
        dimension["Value"]
        for resource in stack.deployment.of_type("AWS::CloudWatch::Alarm")
        if resource.properties.get("MetricName") == "FailedInvocations"
        for dimension in resource.properties["Dimensions"]
        if dimension["Name"] == "RuleName"
    }
    assert alarmed == {target.rule_name for target in targets}
    # AND the queue admits EventBridge, for the stack's rules only
    policy = json.loads(
        stack.client("sqs").get_queue_attributes(
            QueueUrl=stack.resources["EventDeliveryDeadLetterQueue"].ref, AttributeNames=["Policy"]
        )["Attributes"]["Policy"]
    )
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert set(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == {target.rule_arn for target in targets}


def test_an_event_eventbridge_cannot_deliver_is_kept_and_alerted(
    stack: LocalStack, sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN Lambda throttling every call EventBridge makes to the alert function
    inbox = sns_inbox(stack.outputs["AlertTopicArn"])
    stack.fail_deliveries("AlertFunction", "THROTTLING")

    # WHEN a pipeline execution fails
    [event_id] = stack.put_events([json.loads((EVENTS / "pipeline-execution-failed.json").read_text())])
    stack.wait_idle(timeout=60)

    # THEN the event is not lost: it waits in the delivery dead-letter queue, naming its rule and the error
    assert stack.records_for(event_id) == []
    sqs = stack.client("sqs")
    url = stack.outputs["EventDeliveryDeadLetterQueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"])["id"] == event_id
    rule = stack.resources["AlertFunctionPipelineExecutionFailed"]
    assert message["MessageAttributes"]["RULE_ARN"]["StringValue"] == rule.attributes["Arn"]
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "THROTTLING"
    # AND ops hear of it: the rule's FailedInvocations alarm and the queue's depth alarm notified the topic
    alarms = {m.json().get("AlarmName"): m.json() for m in inbox.messages(wait=5, count=2)}
    failed = stack.resources["AlertFunctionPipelineExecutionFailedFailedInvocationsAlarm"].ref
    depth = stack.resources["EventDeliveryDeadLetterAlarm"].ref
    assert {failed, depth} <= set(alarms)
    assert alarms[failed]["Trigger"]["Dimensions"] == [{"value": rule.ref, "name": "RuleName"}]


def test_a_drift_check_firing_lambda_refuses_is_retried_then_kept_and_alerted(
    stack: LocalStack, sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN Lambda throttling every call EventBridge Scheduler makes to the drift-check starter
    inbox = sns_inbox(stack.outputs["AlertTopicArn"])
    stack.fail_deliveries("DriftCheckFunction", "THROTTLING")

    # WHEN the drift-check schedule fires
    firing = FIRINGS.fire_now(stack.outputs["DriftCheckScheduleArn"])

    # THEN Scheduler tried as often as the schedule's retry policy says, then kept the firing's event with the
    # events EventBridge could not deliver (its execution role may send there); the function never ran
    [schedule] = stack.deployment.of_type("AWS::Scheduler::Schedule")
    retries = schedule.properties["Target"]["RetryPolicy"]["MaximumRetryAttempts"]
    assert (firing.attempts, firing.dead_lettered) == (retries + 1, True)
    stack.wait_idle(timeout=30)
    assert stack.records_for(json.loads(firing.payload)["id"]) == []
    sqs = stack.client("sqs")
    [message] = sqs.receive_message(QueueUrl=stack.outputs["EventDeliveryDeadLetterQueueUrl"])["Messages"]
    kept = json.loads(message["Body"])
    assert (kept["detail-type"], kept["id"]) == ("Drift Check Due", firing.execution_id)
    # AND ops hear of it: the queue's depth alarm notified the topic
    alarms = {m.json().get("AlarmName") for m in inbox.messages(wait=5, count=1)}
    assert stack.resources["EventDeliveryDeadLetterAlarm"].ref in alarms
