"""CloudWatch alarms reach the alert topic only because its key lets them: the stack's customer managed key admits
``cloudwatch.amazonaws.com``; the AWS managed ``alias/aws/sns`` key does not, and the emulator refuses such a
publication as AWS does (the alarm changes state, its action fails, nothing is delivered)."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack import LocalStack
from tests.conftest import SnsInbox


def _fill_dead_letter_queue(stack: LocalStack, outputs: dict[str, Any]) -> str:
    stack.client("sqs").send_message(QueueUrl=outputs["AlertDeadLetterQueueUrl"], MessageBody="{}")
    stack.wait_idle()
    return str(stack.physical_id("AlertDeadLetterAlarm"))


def test_a_dead_letter_alarm_reaches_the_topic_through_its_customer_managed_key(
    local_stack: LocalStack, stack_outputs: dict[str, Any], sns_inbox: Any
) -> None:
    inbox: SnsInbox = sns_inbox(stack_outputs["AlertTopicArn"])
    topic = local_stack.client("sns").get_topic_attributes(TopicArn=stack_outputs["AlertTopicArn"])["Attributes"]
    key = local_stack.client("kms").describe_key(KeyId=topic["KmsMasterKeyId"])["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER"
    alarm = _fill_dead_letter_queue(local_stack, stack_outputs)
    subjects = [m.subject for m in inbox.messages(wait=5)]
    assert any(s and s.startswith("ALARM: ") and alarm in s for s in subjects), subjects
    assert local_stack.alarms.failed_actions == []


@pytest.mark.expect_denials
def test_an_alarm_cannot_publish_to_a_topic_under_the_aws_managed_key(
    local_stack: LocalStack, stack_outputs: dict[str, Any], sns_inbox: Any
) -> None:
    # GIVEN the alert topic encrypted with alias/aws/sns, as it once was
    topic_arn = stack_outputs["AlertTopicArn"]
    local_stack.client("sns").set_topic_attributes(
        TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
    )
    inbox: SnsInbox = sns_inbox(topic_arn)
    # WHEN a dead-letter queue's alarm goes off
    alarm = _fill_dead_letter_queue(local_stack, stack_outputs)
    # THEN the alarm is in ALARM, but its action failed with CloudWatch's reason and nothing reached the topic
    state = local_stack.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
    assert state == "ALARM"
    [failed] = [f for f in local_stack.alarms.failed_actions if f["alarm"] == alarm]
    assert failed["topic"] == topic_arn
    assert "does not have authorization to access the SNS topic encryption key" in failed["reason"]
    assert not [m for m in inbox.messages(wait=1) if m.subject and alarm in m.subject]
    # AND IAM recorded CloudWatch's denial on the AWS managed key
    assert local_stack.iam is not None
    [denial] = [d for d in local_stack.iam.log.denials if d.principal == "cloudwatch.amazonaws.com"]
    assert denial.action == "kms:GenerateDataKey" and ":key/" in denial.resource
