"""Contract tests: a rule whose target is another account's event bus, with the target's role and the bus policy
enforced as EventBridge enforces them (see local/aws/eventbridge/forwarding.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.aws import EmbeddedAWS
from local.aws.eventbridge.forwarding import FORWARDING, Forwarding
from tests.emulator.accounts import ACCOUNT_B, ACCOUNT_C, account_clients

REGION = "us-east-1"
PROMOTION = {"Source": "ml.promotion", "DetailType": "Model Promoted", "Detail": json.dumps({"version": 7})}
TRUST_EVENTS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def bus_arn(account: str, name: str = "default") -> str:
    return f"arn:aws:events:{REGION}:{account}:event-bus/{name}"


def make_role(iam: Any, name: str, *, trust: dict[str, Any], allowed_bus: str | None) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if allowed_bus is not None:
        statement = {"Effect": "Allow", "Action": "events:PutEvents", "Resource": allowed_bus}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_role_policy(RoleName=name, PolicyName="put-events", PolicyDocument=json.dumps(document))
    return str(arn)


def forward_rule(events: Any, name: str, target_bus: str, role_arn: str | None, source: str = "ml.promotion") -> str:
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))["RuleArn"]
    target: dict[str, Any] = {"Id": "bus", "Arn": target_bus}
    if role_arn:
        target["RoleArn"] = role_arn
    events.put_targets(Rule=name, Targets=[target])
    return str(rule_arn)


def receiving_queue(client: Callable[[str], Any], pattern: dict[str, Any], name: str) -> Callable[[], list[Any]]:
    """A rule of the account's default bus sending what matches ``pattern`` to a queue; ``read()`` drains it."""
    sqs, events = client("sqs"), client("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=f"{name}-rule", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"{name}-rule", Targets=[{"Id": "queue", "Arn": arn}])

    def read() -> list[Any]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return read


def admit(events: Any, account: str, statement_id: str = "admit") -> None:
    events.put_permission(Action="events:PutEvents", Principal=account, StatementId=statement_id)


def failed_invocations(aws: EmbeddedAWS, rule_name: str) -> float:
    now = datetime.now(UTC)
    points = aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Events",
        MetricName="FailedInvocations",
        Dimensions=[{"Name": "RuleName", "Value": rule_name}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(point["Sum"] for point in points)


def last_forwarding(rule_arn: str) -> Forwarding:
    return [f for f in FORWARDING.forwarded if f.rule_arn == rule_arn][-1]


@pytest.fixture
def sender(embedded_aws: EmbeddedAWS) -> dict[str, Any]:
    """Account A's forwarding role (trusts EventBridge, may put events on B's default bus)."""
    iam = embedded_aws.client("iam")
    return {"role": make_role(iam, "forward-to-b", trust=TRUST_EVENTS, allowed_bus=bus_arn(ACCOUNT_B)), "iam": iam}


def test_an_event_forwarded_to_an_admitting_bus_arrives_as_the_sender_account_event(embedded_aws, account_b, sender):
    # GIVEN B's default bus admits A, and a rule of B matches A's events only
    admit(account_b("events"), embedded_aws.account_id)
    read = receiving_queue(account_b, {"account": [embedded_aws.account_id], "source": ["ml.promotion"]}, "from-a")
    rule_arn = forward_rule(embedded_aws.client("events"), "to-b", bus_arn(ACCOUNT_B), sender["role"])

    # WHEN A puts an event on its own bus
    (entry,) = embedded_aws.client("events").put_events(Entries=[PROMOTION])["Entries"]

    # THEN it arrives on B's bus with its original account, source, detail-type, detail and id
    (event,) = read()
    assert (event["account"], event["source"], event["detail-type"]) == (
        embedded_aws.account_id,
        "ml.promotion",
        "Model Promoted",
    )
    assert event["detail"] == {"version": 7}
    assert event["id"] == entry["EventId"]
    assert last_forwarding(rule_arn).error is None
    assert failed_invocations(embedded_aws, "to-b") == 0


@pytest.mark.expect_denials
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no bus policy", "may not put events"),
        ("policy for another account", "may not put events"),
        ("role without permission", "may not put events"),
        ("role not trusting events", "cannot assume"),
    ],
)
def test_a_forwarding_the_bus_or_the_role_does_not_allow_fails_and_nothing_arrives(
    embedded_aws, account_b, sender, case, expected
):
    role = sender["role"]
    if case != "no bus policy":
        admit(account_b("events"), ACCOUNT_C if case == "policy for another account" else embedded_aws.account_id)
    if case == "role without permission":
        role = make_role(sender["iam"], "no-put-events", trust=TRUST_EVENTS, allowed_bus=None)
    if case == "role not trusting events":
        lambda_trust = json.loads(json.dumps(TRUST_EVENTS).replace("events.amazonaws.com", "lambda.amazonaws.com"))
        role = make_role(sender["iam"], "trusts-lambda", trust=lambda_trust, allowed_bus=bus_arn(ACCOUNT_B))
    read = receiving_queue(account_b, {"source": ["ml.promotion"]}, "from-anyone")
    rule_arn = forward_rule(embedded_aws.client("events"), "to-b", bus_arn(ACCOUNT_B), role)

    embedded_aws.client("events").put_events(Entries=[PROMOTION])

    assert read() == []
    error = last_forwarding(rule_arn).error
    assert error is not None
    assert expected in error
    assert failed_invocations(embedded_aws, "to-b") == 1
    assert embedded_aws.iam is not None
    assert embedded_aws.iam.log.denials  # the refusal is IAM's, recorded as any denial


def test_a_bus_target_without_a_role_sends_as_the_account_the_bus_policy_admits(embedded_aws, account_b):
    admit(account_b("events"), embedded_aws.account_id)
    read = receiving_queue(account_b, {"source": ["ml.promotion"]}, "no-role")
    rule_arn = forward_rule(embedded_aws.client("events"), "to-b-without-role", bus_arn(ACCOUNT_B), None)

    embedded_aws.client("events").put_events(Entries=[PROMOTION])

    assert [event["account"] for event in read()] == [embedded_aws.account_id]
    assert last_forwarding(rule_arn).error is None


@pytest.mark.expect_denials
def test_a_bus_target_without_a_role_is_refused_by_a_bus_policy_for_another_account(embedded_aws, account_b):
    admit(account_b("events"), ACCOUNT_C)
    read = receiving_queue(account_b, {"source": ["ml.promotion"]}, "no-role")
    rule_arn = forward_rule(embedded_aws.client("events"), "to-b-without-role", bus_arn(ACCOUNT_B), None)

    embedded_aws.client("events").put_events(Entries=[PROMOTION])

    assert read() == []
    assert f"arn:aws:iam::{embedded_aws.account_id}:root may not put events" in str(last_forwarding(rule_arn).error)
    assert failed_invocations(embedded_aws, "to-b-without-role") == 1


def test_an_event_received_from_another_bus_is_not_forwarded_to_a_third_account(embedded_aws, account_b, sender):
    # GIVEN A forwards to B, and B forwards the same events on to C, which admits B
    account_c = account_clients(embedded_aws, ACCOUNT_C)
    admit(account_b("events"), embedded_aws.account_id)
    admit(account_c("events"), ACCOUNT_B)
    b_role = make_role(account_b("iam"), "forward-to-c", trust=TRUST_EVENTS, allowed_bus=bus_arn(ACCOUNT_C))
    forward_rule(embedded_aws.client("events"), "a-to-b", bus_arn(ACCOUNT_B), sender["role"])
    b_rule = forward_rule(account_b("events"), "b-to-c", bus_arn(ACCOUNT_C), b_role)
    at_b = receiving_queue(account_b, {"source": ["ml.promotion"]}, "at-b")
    at_c = receiving_queue(account_c, {"source": ["ml.promotion"]}, "at-c")

    # WHEN A puts an event THEN it reaches B, not C
    embedded_aws.client("events").put_events(Entries=[PROMOTION])
    assert [event["account"] for event in at_b()] == [embedded_aws.account_id]
    assert at_c() == []

    # AND B's own events do reach C through the same rule: only the second hop is refused
    account_b("events").put_events(Entries=[PROMOTION])
    assert [event["account"] for event in at_c()] == [ACCOUNT_B]
    assert all(f.error is None for f in FORWARDING.forwarded if f.rule_arn == b_rule)
