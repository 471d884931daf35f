"""Contract tests: EventBridge Scheduler schedules that fire, through boto3, at their scaled time."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from local.aws import EmbeddedAWS, Timings
from local.aws.scheduler.models import FIRINGS, Firing

ROLE = "arn:aws:iam::123456789012:role/scheduler-invokes-targets"
OFF = {"Mode": "OFF"}


def eventually(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``condition`` until it is truthy (the emulator's clock runs on its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.01)


def at(moment: datetime) -> str:
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


TRUST_SCHEDULER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
INVOKE_TARGETS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction", "sqs:SendMessage", "events:PutEvents"],
            "Resource": "*",
        }
    ],
}


def execution_role(aws: EmbeddedAWS, name: str, trust: dict[str, Any], policy: dict[str, Any] | None) -> str:
    """A role for schedules' targets: ``trust`` as its trust policy, ``policy`` inline (none if None)."""
    iam = aws.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="targets", PolicyDocument=json.dumps(policy))
    return str(arn)


@pytest.fixture
def scheduler(embedded_aws: EmbeddedAWS) -> Any:
    """The scheduler's client; ``ROLE`` exists, trusts EventBridge Scheduler and may invoke every target."""
    execution_role(embedded_aws, ROLE.rsplit("/", 1)[1], TRUST_SCHEDULER, INVOKE_TARGETS)
    return embedded_aws.client("scheduler")


@pytest.fixture
def queue(embedded_aws: EmbeddedAWS) -> tuple[str, Callable[[], list[str]]]:
    """An SQS queue as a schedule target: ``(arn, read)``; ``read()`` returns the bodies received so far."""
    sqs = embedded_aws.client("sqs")
    url = sqs.create_queue(QueueName="schedule-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    received: list[str] = []

    def read() -> list[str]:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return list(received)

    return arn, read


def fired(schedule_arn: str, count: int = 1) -> list[Firing]:
    return eventually(lambda: len(FIRINGS.firings(schedule_arn)) >= count and FIRINGS.firings(schedule_arn)) or []


def test_a_one_time_schedule_fires_once_with_its_context_attributes_then_deletes_itself(scheduler, queue):
    # GIVEN a one-time schedule ten minutes ahead (milliseconds at the default scale), deleted after completion
    queue_arn, read = queue
    when = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {"schedule": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", "n": 7}
    arn = scheduler.create_schedule(
        Name="bake-v3-staging",
        ScheduleExpression=at(when),
        FlexibleTimeWindow=OFF,
        Target={"Arn": queue_arn, "RoleArn": ROLE, "Input": json.dumps(body)},
        ActionAfterCompletion="DELETE",
    )["ScheduleArn"]

    # THEN its target receives the input once, the keywords replaced by the schedule's ARN and own time
    (message,) = eventually(read)
    assert json.loads(message) == {"schedule": arn, "at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "n": 7}
    (firing,) = fired(arn)
    assert (firing.target_arn, firing.error) == (queue_arn, None)
    # AND the schedule is gone, as ActionAfterCompletion DELETE says
    assert eventually(lambda: not scheduler.list_schedules()["Schedules"])
    with pytest.raises(ClientError) as missing:
        scheduler.get_schedule(Name="bake-v3-staging")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    time.sleep(0.05)
    assert read() == [message]


def test_a_completed_schedule_without_delete_stays_and_does_not_fire_again(scheduler, queue):
    queue_arn, read = queue
    scheduler.create_schedule(
        Name="once",
        ScheduleExpression=at(datetime.now(UTC) - timedelta(minutes=1)),  # already past: fires at once
        FlexibleTimeWindow=OFF,
        Target={"Arn": queue_arn, "RoleArn": ROLE},
    )
    assert eventually(read) == ["{}"]  # no Input: an empty JSON object
    time.sleep(0.05)
    assert read() == ["{}"]
    assert scheduler.get_schedule(Name="once")["State"] == "ENABLED"


def test_at_is_read_in_the_schedule_time_zone(scheduler, queue):
    queue_arn, read = queue
    tokyo = (datetime.now(UTC) + timedelta(minutes=5)).astimezone(ZoneInfo("Asia/Tokyo")).replace(microsecond=0)
    scheduler.create_schedule(
        Name="tokyo",
        ScheduleExpression=at(tokyo),
        ScheduleExpressionTimezone="Asia/Tokyo",
        FlexibleTimeWindow=OFF,
        Target={"Arn": queue_arn, "RoleArn": ROLE, "Input": '"<aws.scheduler.scheduled-time>"'},
    )
    (message,) = eventually(read)
    assert json.loads(message) == tokyo.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_rate_schedule_fires_repeatedly_a_period_apart_until_deleted(scheduler, queue):
    # GIVEN a schedule every minute (every 60 ms at the default scale)
    queue_arn, read = queue
    arn = scheduler.create_schedule(
        Name="drift-check",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow=OFF,
        Target={"Arn": queue_arn, "RoleArn": ROLE, "Input": '{"at": "<aws.scheduler.scheduled-time>"}'},
    )["ScheduleArn"]

    # THEN it fires again and again, each firing's scheduled time one minute after the previous one
    firings = fired(arn, count=3)
    assert len(firings) >= 3
    times = [datetime.fromisoformat(f.scheduled_time.replace("Z", "+00:00")) for f in firings[:3]]
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(minutes=1)] * 2
    assert len({f.execution_id for f in firings}) == len(firings)
    assert eventually(lambda: len(read()) >= 3)

    # WHEN it is deleted THEN it fires no more
    scheduler.delete_schedule(Name="drift-check")
    settled = len(FIRINGS.firings(arn))
    time.sleep(0.3)
    assert len(FIRINGS.firings(arn)) <= settled + 1  # at most one firing already under way


def test_a_rate_schedule_stops_at_its_end_date(scheduler, queue):
    queue_arn, _ = queue
    start = datetime.now(UTC) + timedelta(minutes=1)
    arn = scheduler.create_schedule(
        Name="three-times",
        ScheduleExpression="rate(1 minute)",
        StartDate=start,
        EndDate=start + timedelta(minutes=2, seconds=30),
        FlexibleTimeWindow=OFF,
        Target={"Arn": queue_arn, "RoleArn": ROLE},
    )["ScheduleArn"]
    assert len(fired(arn, count=3)) == 3
    time.sleep(0.3)  # five periods at the default scale
    assert len(FIRINGS.firings(arn)) == 3


def test_disabled_and_updated_schedules(scheduler, queue):
    queue_arn, read = queue
    target = {"Arn": queue_arn, "RoleArn": ROLE, "Input": '"first"'}
    arn = scheduler.create_schedule(
        Name="held", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF, Target=target, State="DISABLED"
    )["ScheduleArn"]
    time.sleep(0.3)
    assert FIRINGS.firings(arn) == []

    # WHEN it is updated to a one-time schedule, enabled, with another input, deleted after completion
    scheduler.update_schedule(
        Name="held",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={**target, "Input": '"second"'},
        State="ENABLED",
        ActionAfterCompletion="DELETE",
    )
    assert eventually(read) == ['"second"']
    assert eventually(lambda: not scheduler.list_schedules()["Schedules"])  # the update's ActionAfterCompletion


def test_an_event_bus_target_receives_the_input_as_detail(embedded_aws, scheduler, queue):
    # GIVEN a custom bus whose rule forwards the gate's events to a queue
    queue_arn, read = queue
    events = embedded_aws.client("events")
    bus_arn = events.create_event_bus(Name="promotions")["EventBusArn"]
    events.put_rule(Name="bake-ended", EventBusName="promotions", EventPattern=json.dumps({"source": ["ml.gate"]}))
    events.put_targets(Rule="bake-ended", EventBusName="promotions", Targets=[{"Id": "q", "Arn": queue_arn}])

    # WHEN a schedule puts its event on that bus
    scheduler.create_schedule(
        Name="bake-end",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={
            "Arn": bus_arn,
            "RoleArn": ROLE,
            "Input": '{"version": 3, "stage": "Staging"}',
            "EventBridgeParameters": {"DetailType": "Bake Ended", "Source": "ml.gate"},
        },
    )

    # THEN the rule's target receives an event with that source, detail-type and detail
    (message,) = eventually(read)
    event = json.loads(message)
    assert (event["source"], event["detail-type"]) == ("ml.gate", "Bake Ended")
    assert event["detail"] == {"version": 3, "stage": "Staging"}


def test_a_lambda_target_is_invoked_through_the_connected_function_runtime(scheduler):
    function = "arn:aws:lambda:us-east-1:123456789012:function:stage-gate"
    invoked: list[str] = []
    FIRINGS.connect_function(function, invoked.append)
    arn = scheduler.create_schedule(
        Name="gate",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={"Arn": function, "RoleArn": ROLE, "Input": '{"check": "bake"}'},
    )["ScheduleArn"]
    assert eventually(lambda: invoked) == ['{"check": "bake"}']
    assert fired(arn)[0].error is None


def test_a_firing_whose_target_is_missing_is_recorded_as_failed(scheduler):
    arn = scheduler.create_schedule(
        Name="orphan",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:gone", "RoleArn": ROLE},
    )["ScheduleArn"]
    (firing,) = fired(arn)
    assert firing.error is not None
    assert "Function not found" in firing.error


def test_a_failed_delivery_is_retried_by_the_retry_policy_then_sent_to_the_dead_letter_queue(scheduler, queue):
    # GIVEN a function target that is missing, two retries and a dead-letter queue
    queue_arn, read = queue
    target = {
        "Arn": "arn:aws:lambda:us-east-1:123456789012:function:gone",
        "RoleArn": ROLE,
        "Input": '{"attempt": "<aws.scheduler.attempt-number>"}',
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": queue_arn},
    }

    # WHEN the schedule fires
    arn = scheduler.create_schedule(
        Name="to-dlq", ScheduleExpression=at(datetime.now(UTC)), FlexibleTimeWindow=OFF, Target=target
    )["ScheduleArn"]

    # THEN it was attempted three times, and the last attempt's input waits in the queue
    (firing,) = fired(arn)
    assert (firing.attempts, firing.dead_lettered) == (3, True)
    assert "Function not found" in (firing.error or "")
    assert eventually(read) == ['{"attempt": "3"}']


def test_a_delivery_that_fails_once_succeeds_on_its_retry_and_is_not_dead_lettered(scheduler, queue):
    queue_arn, read = queue
    function = "arn:aws:lambda:us-east-1:123456789012:function:flaky"
    calls: list[str] = []

    def flaky(payload: str) -> None:
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("TooManyRequestsException")

    FIRINGS.connect_function(function, flaky)
    arn = scheduler.create_schedule(
        Name="flaky",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={
            "Arn": function,
            "RoleArn": ROLE,
            "Input": "<aws.scheduler.attempt-number>",
            "DeadLetterConfig": {"Arn": queue_arn},
        },
    )["ScheduleArn"]

    (firing,) = fired(arn)
    assert (firing.error, firing.attempts, firing.dead_lettered) == (None, 2, False)
    assert calls == ["1", "2"]
    assert read() == []


def test_without_a_retry_policy_a_failed_delivery_is_retried_185_times(scheduler):
    arn = scheduler.create_schedule(
        Name="defaults",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:gone", "RoleArn": ROLE},
    )["ScheduleArn"]
    (firing,) = fired(arn)
    assert (firing.attempts, firing.dead_lettered) == (186, False)


@pytest.mark.expect_denials
def test_a_role_that_may_not_send_to_the_dead_letter_queue_loses_the_firing(embedded_aws, scheduler, queue):
    # GIVEN a role that may invoke functions but not send to the queue
    queue_arn, read = queue
    policy = {"Version": "2012-10-17", "Statement": [{**INVOKE_TARGETS["Statement"][0], "Action": "lambda:*"}]}
    role = execution_role(embedded_aws, "no-dlq", TRUST_SCHEDULER, policy)
    target = {
        "Arn": "arn:aws:lambda:us-east-1:123456789012:function:gone",
        "RoleArn": role,
        "RetryPolicy": {"MaximumRetryAttempts": 0},
        "DeadLetterConfig": {"Arn": queue_arn},
    }
    arn = scheduler.create_schedule(
        Name="no-dlq", ScheduleExpression=at(datetime.now(UTC)), FlexibleTimeWindow=OFF, Target=target
    )["ScheduleArn"]

    # THEN the firing failed once and is not in the queue
    (firing,) = fired(arn)
    assert (firing.attempts, firing.dead_lettered) == (1, False)
    time.sleep(0.05)
    assert read() == []


def test_waits_are_scaled_by_the_timings(embedded_aws, scheduler, queue):
    # GIVEN real time: a schedule an hour ahead does not fire now
    queue_arn, _read = queue
    embedded_aws.control.set_timings(schedule_scale=1.0)
    later = at(datetime.now(UTC) + timedelta(hours=1))
    real = scheduler.create_schedule(
        Name="real-time", ScheduleExpression=later, FlexibleTimeWindow=OFF, Target={"Arn": queue_arn, "RoleArn": ROLE}
    )["ScheduleArn"]
    time.sleep(0.2)
    assert FIRINGS.firings(real) == []

    # WHEN time runs ten thousand times faster THEN the same hour passes in well under the test's patience
    embedded_aws.control.set_timings(schedule_scale=0.0001)
    fast = scheduler.create_schedule(
        Name="scaled", ScheduleExpression=later, FlexibleTimeWindow=OFF, Target={"Arn": queue_arn, "RoleArn": ROLE}
    )["ScheduleArn"]
    assert fired(fast)
    assert FIRINGS.firings(real) == []


def test_the_zero_and_demo_presets_shorten_an_hour_to_seconds():
    assert 0 < Timings().schedule_scale * 3600 <= 5
    assert Timings().schedule_scale <= Timings.demo().schedule_scale < 1


@pytest.mark.parametrize(
    ("expression", "timezone"),
    [
        ("at(tomorrow)", None),
        ("at(2026-13-01T00:00:00)", None),
        ("rate(0 minutes)", None),
        ("rate(5 weeks)", None),
        ("every 5 minutes", None),
        ("at(2030-01-01T00:00:00)", "Mars/Olympus"),
    ],
)
def test_invalid_expressions_are_refused(scheduler, queue, expression, timezone):
    extra = {"ScheduleExpressionTimezone": timezone} if timezone else {}
    with pytest.raises(ClientError) as refused:
        scheduler.create_schedule(
            Name="invalid",
            ScheduleExpression=expression,
            FlexibleTimeWindow=OFF,
            Target={"Arn": queue[0], "RoleArn": ROLE},
            **extra,
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert scheduler.list_schedules()["Schedules"] == []


def test_a_duplicated_firing_reaches_the_target_twice_with_one_execution_id(
    embedded_aws, scheduler, queue, control_http
):
    # GIVEN the next firing of a schedule is to be delivered twice (asked over the control route)
    queue_arn, read = queue
    arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/bake-twice"
    assert control_http({"action": "duplicate_schedule_firings", "schedule_arn": arn}) == {"ok": True, "result": None}

    # WHEN it fires
    scheduler.create_schedule(
        Name="bake-twice",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={"Arn": queue_arn, "RoleArn": ROLE, "Input": '"<aws.scheduler.execution-id>"'},
    )

    # THEN the target receives the same payload twice, and both deliveries are recorded
    assert eventually(lambda: len(read()) == 2)
    first, second = read()
    assert first == second
    recorded = control_http({"action": "schedule_firings", "schedule_arn": arn})["result"]
    assert [json.dumps(r["execution_id"]) for r in recorded] == [first, second]


@pytest.mark.expect_denials
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("role may not invoke", "is not authorized to perform lambda:InvokeFunction"),
        ("role trusts lambda", "cannot assume"),
        ("trust for another group", "cannot assume"),
    ],
)
def test_a_firing_whose_role_does_not_allow_it_invokes_nothing(embedded_aws, scheduler, case, expected):
    # GIVEN a function target and a role that does not let Scheduler invoke it
    function = "arn:aws:lambda:us-east-1:123456789012:function:stage-gate"
    invoked: list[str] = []
    FIRINGS.connect_function(function, invoked.append)
    trust, policy = TRUST_SCHEDULER, INVOKE_TARGETS
    if case == "role may not invoke":
        policy = {"Version": "2012-10-17", "Statement": [{**INVOKE_TARGETS["Statement"][0], "Action": "sqs:*"}]}
    if case == "role trusts lambda":
        trust = json.loads(json.dumps(TRUST_SCHEDULER).replace("scheduler.amazonaws.com", "lambda.amazonaws.com"))
    if case == "trust for another group":
        other_group = "arn:aws:scheduler:us-east-1:123456789012:schedule-group/other"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {**TRUST_SCHEDULER["Statement"][0], "Condition": {"ArnEquals": {"aws:SourceArn": other_group}}}
            ],
        }
    role = execution_role(embedded_aws, "refused", trust, policy)

    # WHEN the schedule fires
    arn = scheduler.create_schedule(
        Name="refused",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={"Arn": function, "RoleArn": role, "Input": "{}"},
    )["ScheduleArn"]

    # THEN the firing is recorded as failed with the reason, and the function is not invoked
    (firing,) = fired(arn)
    assert firing.error is not None
    assert expected in firing.error
    time.sleep(0.05)
    assert invoked == []


def test_a_trust_policy_with_the_confused_deputy_conditions_admits_its_own_group(embedded_aws, scheduler):
    # GIVEN a role trusting Scheduler only for the account's group "gates" (the user guide's conditions)
    scheduler.create_schedule_group(Name="gates")
    condition = {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnEquals": {"aws:SourceArn": "arn:aws:scheduler:us-east-1:123456789012:schedule-group/gates"},
    }
    trust = {"Version": "2012-10-17", "Statement": [{**TRUST_SCHEDULER["Statement"][0], "Condition": condition}]}
    role = execution_role(embedded_aws, "gates-only", trust, INVOKE_TARGETS)
    function = "arn:aws:lambda:us-east-1:123456789012:function:stage-gate"
    invoked: list[str] = []
    FIRINGS.connect_function(function, invoked.append)

    # WHEN a schedule of that group fires THEN the function is invoked
    arn = scheduler.create_schedule(
        Name="gate",
        GroupName="gates",
        ScheduleExpression=at(datetime.now(UTC)),
        FlexibleTimeWindow=OFF,
        Target={"Arn": function, "RoleArn": role, "Input": '{"check": "bake"}'},
    )["ScheduleArn"]
    assert eventually(lambda: invoked) == ['{"check": "bake"}']
    assert fired(arn)[0].error is None
