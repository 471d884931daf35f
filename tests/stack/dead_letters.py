"""What the tests of a function's retry → dead letter → alert path observe, with an API fault injected past the
function's retries (the SDK's and Lambda's): the invocation record, the dead-letter queue, the alarm's alert."""

from __future__ import annotations

import json
from typing import Any

from local.stack import LocalStack

LAMBDA_ATTEMPTS = 3  # the first invocation and Lambda's two retries of an asynchronous event


def dead_lettered(
    stack: LocalStack, function: str, queue_output: str, since: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The function's one invocation record after the first ``since`` records, and its dead-letter queue's events."""
    records = [r for r in stack.invocations[since:] if r["function"] == function]
    assert len(records) == 1, records
    [record] = records
    sqs = stack.client("sqs")
    messages = sqs.receive_message(QueueUrl=stack.outputs[queue_output], MaxNumberOfMessages=10).get("Messages", [])
    return record, [json.loads(m["Body"]) for m in messages]


def alarm_subjects(inbox: Any) -> list[str]:
    return [str(message.subject) for message in inbox.messages(wait=5)]


def assert_failed_past_its_retries(
    stack: LocalStack,
    function: str,
    *,
    queue: str,
    alarm: str,
    inbox: Any,
    fault_log: list[dict[str, Any]],
    since: int = 0,
) -> list[dict[str, Any]]:
    """The function failed on every attempt, Lambda dead-lettered the event, the queue's alarm alerted the topic.
    Only invocations after the first ``since`` records count. Returns the dead-lettered events."""
    record, events = dead_lettered(stack, function, queue, since)
    assert (record["outcome"], record["attempts"]) == ("dead-lettered", LAMBDA_ATTEMPTS), record
    assert len(events) == 1, events
    alarm_name = stack.physical_id(alarm)
    assert any(s.startswith("ALARM: ") and alarm_name in s for s in alarm_subjects(inbox)), alarm_subjects(inbox)
    assert fault_log, "the fault answered no call"
    return events
