"""EventBridge Scheduler's firings at a function of the local stack: asynchronous invocations of it, through the
stack's normal path (Lambda's queue, retries, records), once Scheduler may assume the schedule's role and invoke.

Uses the probe stack of tests/fixtures/stack (its handler counts attempts per ``detail.key``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.aws.scheduler.models import FIRINGS, Firing
from local.stack import LocalStack
from tests.emulator.stack.test_runtime import PROBE

SCHEDULING = PROBE.parents[1] / "scheduling" / "template.yaml"

TRUST_SCHEDULER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
INPUT = json.dumps({"detail": {"key": "scheduled-<aws.scheduler.execution-id>", "target": "a"}})


@pytest.fixture
def probe_stack(local_stack_factory: Callable[..., LocalStack]) -> LocalStack:
    return local_stack_factory(PROBE, "dev")


def scheduler_role(aws: Any, name: str, *, invoke: str | None) -> str:
    """A role EventBridge Scheduler may assume, allowed ``lambda:InvokeFunction`` on ``invoke`` (nothing if None)."""
    iam = aws.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_SCHEDULER))["Role"]["Arn"]
    action = "lambda:InvokeFunction" if invoke else "lambda:GetFunction"
    statement = {"Effect": "Allow", "Action": action, "Resource": invoke or "*"}
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(policy))
    return str(arn)


def one_time_schedule(aws: Any, name: str, function_arn: str, role_arn: str) -> str:
    """A schedule firing now (one-time, deleted after completion, in its own group), as a function would create it."""
    scheduler = aws.client("scheduler")
    scheduler.create_schedule_group(Name="bake-checks")
    return str(
        scheduler.create_schedule(
            Name=name,
            GroupName="bake-checks",
            ScheduleExpression=f"at({datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S')})",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={"Arn": function_arn, "RoleArn": role_arn, "Input": INPUT},
        )["ScheduleArn"]
    )


def firings(arn: str, count: int, timeout: float = 10.0) -> list[Firing]:
    deadline = time.monotonic() + timeout
    while len(FIRINGS.firings(arn)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return FIRINGS.firings(arn)


def records(stack: LocalStack, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(stack.invocations) < count and time.monotonic() < deadline:
        stack.wait_idle(timeout)
    return list(stack.invocations)


def test_a_firing_becomes_an_asynchronous_invocation_of_the_function(probe_stack, embedded_aws):
    spec = probe_stack.functions["ProbeFunction"]
    role = scheduler_role(embedded_aws, "gate-scheduler", invoke=spec.arn)

    arn = one_time_schedule(embedded_aws, "bake-v3", spec.arn, role)

    (firing,) = firings(arn, 1)
    assert firing.error is None
    (record,) = records(probe_stack, 1)
    assert (record["function"], record["outcome"]) == ("ProbeFunction", "ok")
    assert record["result"]["key"] == f"scheduled-{firing.execution_id}"
    assert embedded_aws.client("scheduler").list_schedules()["Schedules"] == []  # ActionAfterCompletion DELETE


def test_a_duplicated_firing_invokes_twice_with_the_same_execution_id(probe_stack, embedded_aws):
    spec = probe_stack.functions["ProbeFunction"]
    role = scheduler_role(embedded_aws, "gate-scheduler", invoke=spec.arn)
    FIRINGS.duplicate(f"arn:aws:scheduler:us-east-1:{embedded_aws.account_id}:schedule/bake-checks/twice")

    arn = one_time_schedule(embedded_aws, "twice", spec.arn, role)

    first, second = firings(arn, 2)
    assert first.execution_id == second.execution_id
    handled = records(probe_stack, 2)
    assert [r["result"]["key"] for r in handled] == [f"scheduled-{first.execution_id}"] * 2
    assert sorted(r["result"]["attempt"] for r in handled) == [1, 2]  # one key: the handler can tell a duplicate


@pytest.mark.expect_denials
def test_a_firing_the_role_does_not_allow_invokes_nothing(probe_stack, embedded_aws):
    spec = probe_stack.functions["ProbeFunction"]
    role = scheduler_role(embedded_aws, "read-only-scheduler", invoke=None)

    arn = one_time_schedule(embedded_aws, "refused", spec.arn, role)

    (firing,) = firings(arn, 1)
    assert firing.error is not None
    assert "lambda:InvokeFunction" in firing.error
    probe_stack.wait_idle(30)
    assert probe_stack.invocations == []


def test_a_stopped_stack_receives_no_firing(local_stack_factory, embedded_aws):
    stack = local_stack_factory(PROBE, "dev")
    spec = stack.functions["ProbeFunction"]
    role = scheduler_role(embedded_aws, "gate-scheduler", invoke=spec.arn)
    stack.stop()

    arn = one_time_schedule(embedded_aws, "after-stop", spec.arn, role)

    (firing,) = firings(arn, 1)
    assert "Function not found" in str(firing.error)


def test_a_function_schedules_a_check_of_itself_and_the_firing_invokes_it(local_stack_factory, embedded_aws):
    # GIVEN the gate stack: its function may create schedules in its group, passing the role Scheduler assumes
    stack = local_stack_factory(SCHEDULING, "dev")
    when = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")

    # WHEN the function, invoked, schedules a one-time check ten (scaled) minutes ahead
    stack.invoke_async("GateFunction", {"plan": "bake-v3", "at": f"at({when})"})
    planned, checked = records(stack, 2)

    # THEN the schedule fires into the function, with the firing's execution id in its input, and is deleted
    arn = planned["result"]["scheduled"]
    (firing,) = firings(arn, 1)
    assert firing.error is None
    assert checked["result"] == {"checked": "bake", "execution": firing.execution_id}
    assert embedded_aws.client("scheduler").list_schedules()["Schedules"] == []
