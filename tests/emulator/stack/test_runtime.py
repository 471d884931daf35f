"""The local stack runs functions as Lambda runs asynchronous invocations from EventBridge rules.

Uses the probe stack of tests/fixtures/stack: ProbeFunction (rule: detail.target a|both; 2 retries; dead-letter
queue with a depth alarm; at most 2 concurrent executions) and OtherFunction (rule: detail.target b|both and
detail.count > 2; no retry; an Errors alarm; 1 s timeout).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack
from local.stack.invoker import FunctionRunner, Invocation
from local.stack.workers import Worker

PROBE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "stack" / "template.yaml"


def probe_event(**detail: Any) -> dict[str, Any]:
    return {"source": "local.probe", "detail-type": "Probe", "detail": detail}


@pytest.fixture
def probe_stack(local_stack_factory: Callable[..., LocalStack]) -> LocalStack:
    return local_stack_factory(PROBE, "dev")


def _functions(records: list[dict[str, Any]]) -> set[str]:
    return {record["function"] for record in records}


ROUTING = [
    ({"target": "a"}, {"ProbeFunction"}),
    ({"target": "b", "count": 3}, {"OtherFunction"}),
    ({"target": "both", "count": 5}, {"ProbeFunction", "OtherFunction"}),
    ({"target": "both", "count": 1}, {"ProbeFunction"}),
    ({"target": "c", "count": 5}, set()),
]


def test_an_event_reaches_exactly_the_functions_whose_rules_match(probe_stack: LocalStack) -> None:
    # GIVEN events matching one rule, both rules, or none (including one from another source)
    events = [probe_event(**detail) for detail, _ in ROUTING]
    events.append({"source": "local.other", "detail-type": "Probe", "detail": {"target": "a"}})
    expected = [functions for _, functions in ROUTING] + [set()]

    # WHEN they go through EventBridge
    ids = probe_stack.put_events(events)
    probe_stack.wait_idle(timeout=60)

    # THEN each reached exactly the functions whose patterns match, once each, successfully
    for event_id, functions in zip(ids, expected, strict=True):
        records = probe_stack.records_for(event_id)
        assert _functions(records) == functions
        assert len(records) == len(functions)
        assert all(record["outcome"] == "ok" and record["attempts"] == 1 for record in records)


def test_the_handler_runs_with_a_lambda_context_in_its_own_code_folder(probe_stack: LocalStack) -> None:
    # WHEN the probe function handles an event
    [record] = probe_stack.replay([probe_event(target="a", key="context")])

    # THEN it got Lambda's context, its layer, its code folder as cwd, and nothing else of the repository
    result = record["result"]
    spec = probe_stack.functions["ProbeFunction"]
    assert result["function_name"] == spec.name
    assert result["memory_limit_in_mb"] == "192"
    assert 0 < result["remaining_ms"] <= 5000
    assert result["request_id"] == record["request_id"]
    assert result["layer"] == "from-probe-layer"
    assert Path(result["cwd"]) == PROBE.parent / "functions" / "probe"
    assert result["repository_importable"] == []
    assert any("probe probe handling context attempt 1" in line for line in probe_stack.logs("ProbeFunction"))


def test_a_warm_worker_serves_the_next_invocation(probe_stack: LocalStack) -> None:
    first = probe_stack.replay([probe_event(target="a", key="warm-1")])[0]["result"]
    second = probe_stack.replay([probe_event(target="a", key="warm-2")])[0]["result"]
    assert second["pid"] == first["pid"]
    assert second["calls"] == first["calls"] + 1


def test_concurrency_is_bounded_by_reserved_concurrency(probe_stack: LocalStack) -> None:
    # GIVEN ProbeFunction reserves 2 concurrent executions
    # WHEN 4 slow events arrive at once
    records = probe_stack.replay(
        [probe_event(target="a", key=f"slow-{n}", mode="sleep", seconds=0.3) for n in range(4)]
    )

    # THEN all ran, on at most 2 execution environments
    assert len(records) == 4
    assert len({record["result"]["pid"] for record in records}) <= 2
    assert probe_stack.runners["ProbeFunction"].worker_count <= 2


def test_a_failing_event_is_retried_then_succeeds(probe_stack: LocalStack) -> None:
    [record] = probe_stack.replay([probe_event(target="a", key="flaky", mode="fail", fail_times=1)])
    assert record["outcome"] == "ok"
    assert record["attempts"] == 2
    assert record["result"]["attempt"] == 2


def test_an_event_failing_every_attempt_goes_to_the_dead_letter_queue_with_lambda_attributes(
    probe_stack: LocalStack, embedded_aws: Any
) -> None:
    # WHEN the handler fails on every attempt
    [record] = probe_stack.replay([probe_event(target="a", key="doomed", mode="fail")])

    # THEN Lambda tried 3 times (1 + MaximumRetryAttempts 2) and dead-lettered the event
    assert record["outcome"] == "dead-lettered"
    assert record["attempts"] == 3
    assert record["error"] == "failing on purpose (doomed, attempt 3)"
    assert record["error_type"] == "RuntimeError"

    # AND the DLQ message is the event, with RequestID / ErrorCode / ErrorMessage attributes
    sqs = embedded_aws.client("sqs")
    [message] = sqs.receive_message(
        QueueUrl=probe_stack.outputs["DeadLetterQueueUrl"], MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    body = json.loads(message["Body"])
    assert body["id"] == record["event_id"]
    assert body["detail"]["key"] == "doomed"
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"] == {"DataType": "String", "StringValue": record["request_id"]}
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"]["StringValue"] == "failing on purpose (doomed, attempt 3)"


def test_without_retries_or_dead_letter_queue_a_failure_is_recorded_as_an_error(probe_stack: LocalStack) -> None:
    records = probe_stack.replay([probe_event(target="b", count=3, key="once", mode="fail")])
    assert [(r["function"], r["outcome"], r["attempts"]) for r in records] == [("OtherFunction", "error", 1)]


def test_a_crashed_execution_environment_is_replaced(probe_stack: LocalStack) -> None:
    # WHEN the handler's process dies
    [crashed] = probe_stack.replay([probe_event(target="b", count=3, key="crash", mode="exit")])
    # THEN the invocation fails with Lambda's runtime exit error, and the next event gets a fresh environment
    assert crashed["outcome"] == "error"
    assert crashed["error_type"] == "Runtime.ExitError"
    assert "exit status 3" in crashed["error"]
    [after] = probe_stack.replay([probe_event(target="b", count=3, key="after-crash")])
    assert after["outcome"] == "ok"


@pytest.mark.slow
def test_a_handler_running_past_its_timeout_fails_like_lambda(probe_stack: LocalStack) -> None:
    records = probe_stack.replay([probe_event(target="b", count=3, key="late", mode="sleep", seconds=3)])
    [record] = records
    assert record["outcome"] == "error"
    assert record["error_type"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in record["error"]


def test_alarms_of_the_template_notify_their_topic_as_cloudwatch_does(
    probe_stack: LocalStack, sns_inbox: Callable[[str], Any], embedded_aws: Any
) -> None:
    # GIVEN a subscriber of the alert topic and a first event that succeeds everywhere
    inbox = sns_inbox(probe_stack.outputs["AlertTopicArn"])
    dlq_alarm = probe_stack.resources["ProbeDeadLetterAlarm"].ref
    errors_alarm = probe_stack.resources["OtherErrorsAlarm"].ref
    probe_stack.replay([probe_event(target="both", count=3, key="fine")])
    assert inbox.messages() == []

    # WHEN an event fails in both functions (dead-lettered by one, an error of the other)
    probe_stack.replay([probe_event(target="both", count=3, key="alarm", mode="fail")])

    # THEN both alarms are in ALARM and CloudWatch's notifications reached the topic
    states = embedded_aws.client("cloudwatch").describe_alarms(AlarmNames=[dlq_alarm, errors_alarm])["MetricAlarms"]
    assert {a["AlarmName"]: a["StateValue"] for a in states} == {dlq_alarm: "ALARM", errors_alarm: "ALARM"}
    messages = {m.json()["AlarmName"]: m for m in inbox.messages(wait=5, count=2)}
    assert set(messages) == {dlq_alarm, errors_alarm}
    dlq_message = messages[dlq_alarm]
    assert dlq_message.subject == f'ALARM: "{dlq_alarm}" in US East (N. Virginia)'
    notification = dlq_message.json()
    assert notification["NewStateValue"] == "ALARM"
    assert notification["OldStateValue"] == "OK"
    assert notification["Trigger"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    queue_name = probe_stack.outputs["DeadLetterQueueUrl"].rsplit("/", 1)[1]
    assert notification["Trigger"]["Dimensions"] == [{"value": queue_name, "name": "QueueName"}]
    errors = messages[errors_alarm].json()
    assert errors["Trigger"]["MetricName"] == "Errors"
    assert errors["Trigger"]["Dimensions"] == [
        {"value": probe_stack.functions["OtherFunction"].name, "name": "FunctionName"}
    ]


def test_errors_count_every_failed_attempt_and_async_events_dropped_only_the_events_given_up(
    probe_stack: LocalStack, embedded_aws: Any
) -> None:
    # GIVEN one event whose first attempt fails (the retry succeeds), and one that fails on every attempt
    name = probe_stack.functions["ProbeFunction"].name
    records = probe_stack.replay(
        [
            probe_event(target="a", key="fixed", mode="fail", fail_times=1),
            probe_event(target="a", key="lost", mode="fail"),
        ]
    )
    assert [(r["outcome"], r["attempts"]) for r in records] == [("ok", 2), ("dead-lettered", 3)]

    # THEN AWS/Lambda has one Errors per failed attempt (1 + 3) and one AsyncEventsDropped (the lost event only,
    # dead-lettered: no DeadLetterErrors)
    cloudwatch = embedded_aws.client("cloudwatch")

    def total(metric: str) -> float:
        now = time.time()
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": name}],
            StartTime=now - 600,
            EndTime=now + 60,
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(p["Sum"] for p in points)

    assert (total("Errors"), total("AsyncEventsDropped"), total("DeadLetterErrors")) == (4.0, 1.0, 0.0)


def test_wait_idle_times_out_while_a_handler_is_running(probe_stack: LocalStack) -> None:
    probe_stack.put_events([probe_event(target="a", key="busy", mode="sleep", seconds=1.5)])
    with pytest.raises(TimeoutError):
        probe_stack.wait_idle(timeout=0.3)
    probe_stack.wait_idle(timeout=30)
    assert [r["outcome"] for r in probe_stack.invocations] == ["ok"]


def test_stop_ends_the_execution_environments(probe_stack: LocalStack) -> None:
    [record] = probe_stack.replay([probe_event(target="a", key="stop")])
    pid = record["result"]["pid"]
    probe_stack.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_event_older_than_its_maximum_age_is_discarded_without_running(probe_stack: LocalStack) -> None:
    # GIVEN the probe function's runtime, and an event queued longer ago than MaximumEventAgeInSeconds
    spec = probe_stack.functions["ProbeFunction"]
    finished: list[tuple[str, int]] = []
    done = threading.Event()

    def on_finished(_spec: Any, invocation: Invocation, status: str, _result: Any) -> None:
        finished.append((status, invocation.attempts))
        done.set()

    runner = FunctionRunner(spec, retry_delays=(0.0,), on_finished=on_finished, on_attempt=lambda *_: None)
    stale = Invocation(event=probe_event(target="a"), enqueued_at=time.time() - spec.max_event_age - 1)

    # WHEN it comes up for execution
    runner.submit(stale)
    assert done.wait(timeout=10)
    runner.stop()

    # THEN it expired without an attempt and without starting an execution environment
    assert finished == [("expired", 0)]
    assert runner.worker_count == 0


def test_an_attempt_the_stop_cuts_short_is_not_retried(probe_stack: LocalStack, caplog: Any) -> None:
    # GIVEN the probe function's runtime running a long handler, with a retry due after a failed attempt
    spec = probe_stack.functions["ProbeFunction"]
    attempted = threading.Event()
    runner = FunctionRunner(
        spec, retry_delays=(30.0,), on_finished=lambda *_: None, on_attempt=lambda *_: attempted.set()
    )
    invocation = Invocation(event=probe_event(target="a", key="cut", mode="sleep", seconds=5))
    runner.submit(invocation)
    deadline = time.monotonic() + 10
    while runner.worker_count == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    # WHEN the runtime stops while it runs (its execution environment killed: the attempt fails)
    with caplog.at_level(logging.INFO, logger="local.stack.invoker"):
        runner.stop()
        assert attempted.wait(timeout=10)
        while "not retried: the stack stops" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    # THEN no retry is scheduled (at interpreter shutdown a timer cannot even start)
    assert f"request {invocation.request_id} not retried: the stack stops" in caplog.text
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]


def test_function_logs_reach_its_log_group(probe_stack: LocalStack, embedded_aws: Any) -> None:
    # WHEN the probe function handles an event and the stack stops
    [record] = probe_stack.replay([probe_event(target="a", key="logged")])
    probe_stack.stop()

    # THEN its log group (/aws/lambda/<name>: the template sets none) holds Lambda's lines and the handler's output
    group = f"/aws/lambda/{probe_stack.functions['ProbeFunction'].name}"
    messages = [e["message"] for e in embedded_aws.client("logs").filter_log_events(logGroupName=group)["events"]]
    assert f"START RequestId: {record['request_id']} Version: $LATEST" in messages
    assert "probe probe handling logged attempt 1" in messages


def test_empty_lines_a_function_prints_leave_the_others_shipped(probe_stack: LocalStack, embedded_aws: Any) -> None:
    # WHEN the probe prints lines with empty ones between them (a traceback's), and the stack stops
    probe_stack.replay([probe_event(target="a", key="gaps", mode="chatty", lines=3, blank_lines=True)])
    probe_stack.stop()

    # THEN its other lines are in its log group (CloudWatch Logs refuses an empty message: those are left out)
    group = f"/aws/lambda/{probe_stack.functions['ProbeFunction'].name}"
    messages = [e["message"] for e in embedded_aws.client("logs").filter_log_events(logGroupName=group)["events"]]
    assert [m for m in messages if m.startswith("probe gaps line")] == [f"probe gaps line {n}" for n in range(3)]
    assert "" not in messages


def test_every_line_an_invocation_logs_is_taken_with_its_answer(probe_stack: LocalStack) -> None:
    # GIVEN an execution environment whose log reader lags (the runtime reads the logs and the answer apart)
    def lagging(line: str) -> None:
        time.sleep(0.002)

    worker = Worker(probe_stack.functions["ProbeFunction"], lagging)
    try:
        worker.wait_ready()
        # WHEN the handler writes many lines just before it returns
        event = probe_event(target="a", key="chatty", mode="chatty", lines=500)
        ok, _ = worker.invoke("request-1", {"id": "chatty-1", **event}, timeout=30)
        # THEN its answer comes with every line, in order, and nothing of the runtime's own protocol
        lines = [line for _, line in worker.take_log_events()]
    finally:
        worker.kill()
    assert ok
    assert [line for line in lines if line.startswith("probe chatty line")] == [
        f"probe chatty line {n}" for n in range(500)
    ]
    assert not [line for line in lines if "end-of-logs" in line]


# ------------------------------------------------------------------------------------ EventBridge -> Lambda delivery
@pytest.fixture
def delivering_stack(local_stack_factory: Callable[..., LocalStack]) -> LocalStack:
    """The probe stack with EventBridge's retries without delay."""
    return local_stack_factory(PROBE, "dev", delivery_retry_delays=(0.0,))


def delivery_dead_letters(stack: LocalStack, aws: Any) -> list[dict[str, Any]]:
    url = stack.outputs["DeliveryDeadLetterQueueUrl"]
    sqs = aws.client("sqs")
    return sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=10).get("Messages", [])


def attribute(message: dict[str, Any], name: str) -> str:
    return str(message["MessageAttributes"][name]["StringValue"])


def test_a_throttled_delivery_is_retried_by_eventbridge_and_reaches_the_function(
    delivering_stack: LocalStack, embedded_aws: Any
) -> None:
    # GIVEN Lambda throttles EventBridge's first two calls to the probe function (its rule retries twice)
    delivering_stack.fail_deliveries("ProbeFunction", "THROTTLING", times=2)

    # WHEN an event matches its rule
    [record] = delivering_stack.replay([probe_event(target="a", key="throttled")])

    # THEN EventBridge's third call got through: the function ran once, nothing was dead-lettered
    assert (record["function"], record["outcome"], record["attempts"]) == ("ProbeFunction", "ok", 1)
    assert delivery_dead_letters(delivering_stack, embedded_aws) == []


def test_a_delivery_that_outlasts_the_retry_policy_goes_to_the_target_dead_letter_queue_and_alarms(
    delivering_stack: LocalStack, embedded_aws: Any, sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN Lambda throttling every call of EventBridge to the probe function
    inbox = sns_inbox(delivering_stack.outputs["AlertTopicArn"])
    delivering_stack.fail_deliveries("ProbeFunction", "THROTTLING")

    # WHEN an event matches its rule
    [event_id] = delivering_stack.put_events([probe_event(target="a", key="lost")])
    delivering_stack.wait_idle()

    # THEN the function never ran; the event is in the target's dead-letter queue, with EventBridge's attributes
    assert delivering_stack.records_for(event_id) == []
    [message] = delivery_dead_letters(delivering_stack, embedded_aws)
    assert json.loads(message["Body"])["id"] == event_id
    rule = delivering_stack.resources["ProbeFunctionTargetA"]
    assert attribute(message, "RULE_ARN") == rule.attributes["Arn"]
    assert attribute(message, "TARGET_ARN") == delivering_stack.functions["ProbeFunction"].arn
    assert attribute(message, "ERROR_CODE") == "THROTTLING"
    assert "TooManyRequestsException" in attribute(message, "ERROR_MESSAGE")
    assert attribute(message, "EXHAUSTED_RETRY_CONDITION") == "MaximumRetryAttempts"
    assert attribute(message, "RETRY_ATTEMPTS") == "2"
    # AND the rule's FailedInvocations alarm notified the topic
    alarm = delivering_stack.resources["TargetAFailedInvocationsAlarm"].ref
    [notification] = [m.json() for m in inbox.messages(wait=5) if m.json().get("AlarmName") == alarm]
    assert notification["Trigger"]["MetricName"] == "FailedInvocations"
    assert notification["Trigger"]["Dimensions"] == [{"value": rule.ref, "name": "RuleName"}]


@pytest.mark.expect_denials
def test_eventbridge_sends_to_a_dead_letter_queue_only_if_its_policy_lets_it(
    delivering_stack: LocalStack, embedded_aws: Any
) -> None:
    # GIVEN the delivery dead-letter queue without its policy for EventBridge
    url = delivering_stack.outputs["DeliveryDeadLetterQueueUrl"]
    embedded_aws.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    delivering_stack.fail_deliveries("ProbeFunction", "NO_RESOURCE")
    # WHEN an event cannot be delivered
    [event_id] = delivering_stack.put_events([probe_event(target="a")])
    delivering_stack.wait_idle()
    # THEN it is not in the queue: EventBridge was refused, and counted it as InvocationsFailedToBeSentToDLQ
    assert delivering_stack.records_for(event_id) == []
    assert delivery_dead_letters(delivering_stack, embedded_aws) == []
    rule = delivering_stack.resources["ProbeFunctionTargetA"].ref
    metrics = embedded_aws.client("cloudwatch").list_metrics(Namespace="AWS/Events")["Metrics"]
    counted = {m["MetricName"] for m in metrics if {"Name": "RuleName", "Value": rule} in m["Dimensions"]}
    assert "InvocationsFailedToBeSentToDLQ" in counted and "InvocationsSentToDLQ" not in counted
    [denial] = embedded_aws.iam.log.denials
    assert denial.principal == "events.amazonaws.com"
    assert denial.resource.endswith(f":{url.rsplit('/', 1)[-1]}")


@pytest.mark.parametrize(
    ("event", "fault", "error_code"),
    [
        (probe_event(target="unpermitted"), None, "NO_PERMISSIONS"),  # the rule has no AWS::Lambda::Permission
        (probe_event(target="a"), "NO_RESOURCE", "NO_RESOURCE"),  # the function was deleted
    ],
)
def test_a_delivery_retrying_cannot_mend_is_dead_lettered_at_once(
    delivering_stack: LocalStack, embedded_aws: Any, event: dict[str, Any], fault: str | None, error_code: str
) -> None:
    if fault:
        delivering_stack.fail_deliveries("ProbeFunction", fault)

    # WHEN the event matches the rule
    [event_id] = delivering_stack.put_events([event])
    delivering_stack.wait_idle()

    # THEN no function ran and the event is dead-lettered without a retry
    assert delivering_stack.records_for(event_id) == []
    [message] = delivery_dead_letters(delivering_stack, embedded_aws)
    assert attribute(message, "ERROR_CODE") == error_code
    assert attribute(message, "RETRY_ATTEMPTS") == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in message["MessageAttributes"]
