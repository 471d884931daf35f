"""The local stack's EventBridge buses, bus policies, bus targets and Scheduler groups (tests/fixtures/buses).

The stack (account A) admits partner account B on its default bus and its ``promotions`` bus, and forwards
``ml.promotion`` events to B's default bus with a role of its own; an alarm watches that rule's FailedInvocations.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack
from tests.emulator.accounts import ACCOUNT_B, account_clients

BUSES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "buses" / "template.yaml"
PROMOTION = {"Source": "ml.promotion", "DetailType": "Model Promoted", "Detail": json.dumps({"version": 3})}
TRUST_EVENTS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture
def buses_stack(local_stack_factory: Callable[..., LocalStack]) -> LocalStack:
    return local_stack_factory(BUSES, "dev")


@pytest.fixture
def partner(embedded_aws: Any) -> Callable[[str], Any]:
    return account_clients(embedded_aws, ACCOUNT_B)


def queue_of_rule(client: Callable[[str], Any], pattern: dict[str, Any], name: str) -> Callable[[], list[Any]]:
    sqs, events = client("sqs"), client("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return lambda: [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url).get("Messages", [])]


def statement_ids(events: Any, bus: str) -> set[str]:
    return {s["Sid"] for s in json.loads(events.describe_event_bus(Name=bus)["Policy"])["Statement"]}


def test_bus_policies_buses_and_schedule_groups_are_created(buses_stack, embedded_aws):
    events = embedded_aws.client("events")
    assert "partner-puts-events" in statement_ids(events, "default")
    assert "partner-puts-promotions" in statement_ids(events, "promotions")
    group = embedded_aws.client("scheduler").get_schedule_group(Name=buses_stack.outputs["ScheduleGroupName"])
    assert group["Arn"] == buses_stack.outputs["ScheduleGroupArn"]
    schedule = embedded_aws.client("scheduler").get_schedule(
        Name=buses_stack.resources["YearlyGate"].ref, GroupName=buses_stack.outputs["ScheduleGroupName"]
    )
    assert (schedule["Arn"], schedule["Target"]["Input"]) == (buses_stack.outputs["ScheduleArn"], '{"check": "bake"}')
    (target,) = events.list_targets_by_rule(Rule=buses_stack.outputs["ForwardRuleName"])["Targets"]
    assert target["RoleArn"] == buses_stack.resources["ForwarderRole"].attributes["Arn"]


def test_the_stack_rule_forwards_to_the_partner_bus_that_admits_it(buses_stack, embedded_aws, partner):
    partner("events").put_permission(Action="events:PutEvents", Principal=embedded_aws.account_id, StatementId="a")
    read = queue_of_rule(partner, {"account": [embedded_aws.account_id]}, "from-stack")

    embedded_aws.client("events").put_events(Entries=[PROMOTION])

    (event,) = read()
    assert (event["account"], event["source"], event["detail"]) == (
        embedded_aws.account_id,
        "ml.promotion",
        {"version": 3},
    )


def test_the_stack_bus_policy_admits_the_partner_forwarding(buses_stack, embedded_aws, partner):
    # GIVEN the partner forwards its promotions to the stack's default bus with a role of its own
    arn = f"arn:aws:events:{embedded_aws.region}:{embedded_aws.account_id}:event-bus/default"
    iam = partner("iam")
    role = iam.create_role(RoleName="to-stack", AssumeRolePolicyDocument=json.dumps(TRUST_EVENTS))["Role"]["Arn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": arn}],
    }
    iam.put_role_policy(RoleName="to-stack", PolicyName="put", PolicyDocument=json.dumps(policy))
    partner("events").put_rule(Name="to-stack", EventPattern=json.dumps({"source": ["partner.promotion"]}))
    partner("events").put_targets(Rule="to-stack", Targets=[{"Id": "stack", "Arn": arn, "RoleArn": role}])
    read = queue_of_rule(embedded_aws.client, {"account": [ACCOUNT_B]}, "from-partner")

    # WHEN the partner puts one THEN the stack's bus receives it, as the partner's event
    partner("events").put_events(Entries=[{**PROMOTION, "Source": "partner.promotion"}])
    assert [event["account"] for event in read()] == [ACCOUNT_B]


@pytest.mark.expect_denials
def test_a_refused_forwarding_sets_off_the_failed_invocations_alarm(buses_stack, embedded_aws, partner):
    # GIVEN the partner's bus admits nobody
    embedded_aws.client("events").put_events(Entries=[PROMOTION])
    buses_stack.wait_idle(30)

    alarm = buses_stack.resources["ForwardFailedAlarm"].ref
    (state,) = embedded_aws.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    assert state["StateValue"] == "ALARM"
