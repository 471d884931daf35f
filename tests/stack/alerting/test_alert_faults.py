"""The alert function under an AWS bad day: SNS throttles its Publish past its retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack
from tests.stack.dead_letters import assert_failed_past_its_retries
from tests.worlds.alerting import Failures

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def test_a_throttled_topic_dead_letters_the_failure_and_the_queue_alarm_still_alerts(
    local_stack: LocalStack, failures: Failures, stack_outputs: dict[str, Any], sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN a subscriber of the alert topic, and SNS throttling Publish until further notice
    inbox = sns_inbox(stack_outputs["AlertTopicArn"])
    event = json.loads((ROOT / "events" / "training-job-failed.json").read_text())
    event["detail"]["RoleArn"] = stack_outputs["SageMakerJobRoleArn"]
    event = failures.failure_for(event)
    local_stack.aws.control.inject_service_fault("sns", "Publish")

    # WHEN SageMaker reports a failed training job of the stack's role
    local_stack.replay([event], timeout=180)

    # THEN the alert function failed past its retries, the event is in its dead-letter queue, and the queue's
    # alarm (CloudWatch's own notification, which the customer's throttling does not touch) reached the topic
    log = local_stack.aws.control.service_fault_log()
    [dead] = assert_failed_past_its_retries(
        local_stack,
        "AlertFunction",
        queue="AlertDeadLetterQueueUrl",
        alarm="AlertDeadLetterAlarm",
        inbox=inbox,
        fault_log=log,
    )
    assert dead["detail"]["TrainingJobName"] == event["detail"]["TrainingJobName"]
    assert {(h["operation"], h["code"], h["status"]) for h in log} == {("Publish", "Throttled", 429)}
