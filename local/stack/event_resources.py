"""CloudFormation's EventBridge buses and bus policies, and EventBridge Scheduler's groups and schedules.

Each ``(client, logical id / name, properties) -> (Ref, attributes)``, as :mod:`local.stack.security_resources`:

* ``AWS::Events::EventBus``: ``CreateEventBus`` (``Ref``: the name; ``Arn``, ``Name``);
* ``AWS::Events::EventBusPolicy``: one statement added to the bus's resource policy, either ``Statement`` (a policy
  statement, its ``Sid`` the ``StatementId``) or the older ``Action`` / ``Principal`` / ``Condition``
  (``PutPermission``'s parameters); ``Ref``: ``<bus>|<StatementId>``, the resource's primary identifier;
* ``AWS::Scheduler::ScheduleGroup``: ``CreateScheduleGroup`` (``Ref``: the name; ``Arn``);
* ``AWS::Scheduler::Schedule``: ``CreateSchedule`` with the template's properties, which are the API's (``Ref``:
  the name; ``Arn``), planned to fire by the embedded scheduler.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Created = tuple[str, dict[str, Any]]

_SCHEDULE_KEYS = (
    "GroupName",
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "FlexibleTimeWindow",
    "State",
    "Target",
    "KmsKeyArn",
)


def event_bus(client: Callable[[str], Any], props: dict[str, Any]) -> Created:
    """A custom event bus, named as the template names it (``Name`` is required)."""
    request: dict[str, Any] = {"Name": props["Name"]}
    for key in ("EventSourceName", "Description", "KmsKeyIdentifier", "DeadLetterConfig"):
        if key in props:
            request[key] = props[key]
    if props.get("Tags"):
        request["Tags"] = props["Tags"]
    arn = client("events").create_event_bus(**request)["EventBusArn"]
    if "Policy" in props:
        policy = props["Policy"]
        client("events").put_permission(
            EventBusName=props["Name"], Policy=policy if isinstance(policy, str) else json.dumps(policy)
        )
    return str(props["Name"]), {"Arn": arn, "Name": props["Name"]}


def event_bus_policy(client: Callable[[str], Any], props: dict[str, Any]) -> Created:
    """The statement added to the bus's policy (the bus's other statements kept)."""
    events = client("events")
    bus, sid = props.get("EventBusName", "default"), props["StatementId"]
    if "Statement" in props:
        statement = props["Statement"]
        statement = json.loads(statement) if isinstance(statement, str) else dict(statement)
        current = events.describe_event_bus(Name=bus).get("Policy")
        statements = [s for s in (json.loads(current)["Statement"] if current else []) if s.get("Sid") != sid]
        policy = {"Version": "2012-10-17", "Statement": [*statements, {**statement, "Sid": sid}]}
        events.put_permission(EventBusName=bus, Policy=json.dumps(policy))
    else:
        request: dict[str, Any] = {
            "EventBusName": bus,
            "StatementId": sid,
            "Action": props.get("Action", "events:PutEvents"),
            "Principal": props["Principal"],
        }
        if "Condition" in props:
            request["Condition"] = props["Condition"]
        events.put_permission(**request)
    return f"{bus}|{sid}", {}


def schedule_group(client: Callable[[str], Any], name: str, props: dict[str, Any]) -> Created:
    request: dict[str, Any] = {"Name": props.get("Name") or name}
    if props.get("Tags"):
        request["Tags"] = props["Tags"]
    arn = client("scheduler").create_schedule_group(**request)["ScheduleGroupArn"]
    return str(request["Name"]), {"Arn": arn}


def schedule(client: Callable[[str], Any], name: str, props: dict[str, Any]) -> Created:
    request: dict[str, Any] = {"Name": props.get("Name") or name}
    request.update({key: props[key] for key in _SCHEDULE_KEYS if key in props})
    arn = client("scheduler").create_schedule(**request)["ScheduleArn"]
    return str(request["Name"]), {"Arn": arn}
