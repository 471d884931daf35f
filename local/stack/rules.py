"""The template's EventBridge rules, created in the embedded EventBridge, so that EventBridge alone routes events.

A rule's target that is a function of the stack becomes an SQS queue of that target, from which EventBridge's
delivery to the function (its retry policy and dead-letter queue, :mod:`local.stack.deliveries`) reads; targets
EventBridge delivers itself (SQS, CloudWatch Logs, other buses) stay as they are, their ``DeadLetterConfig``,
``RetryPolicy`` and ``RoleArn`` (with which EventBridge forwards to a bus, :mod:`local.aws.eventbridge.forwarding`)
passed on; other targets are not delivered locally. ``Input`` and ``InputPath`` become the
InputTransformer that delivers the same thing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from local.stack.deliveries import RuleTarget
from local.stack.functions import LambdaResources
from local.stack.resources import Provisioned, physical_name

logger = logging.getLogger(__name__)

DELIVERED_BY_EVENTBRIDGE = {"sqs", "logs", "events"}  # target services the embedded EventBridge delivers to itself
_TARGET_KEYS = {"Id", "InputTransformer", "SqsParameters", "DeadLetterConfig", "RetryPolicy"}


def as_input_transformer(target: Mapping[str, Any]) -> dict[str, Any]:
    """A target's ``Input`` (constant JSON) or ``InputPath`` as the InputTransformer that delivers the same thing."""
    if "Input" in target:
        return {"InputTransformer": {"InputPathsMap": {}, "InputTemplate": target["Input"]}}
    if "InputPath" in target:
        return {"InputTransformer": {"InputPathsMap": {"value": target["InputPath"]}, "InputTemplate": "<value>"}}
    return {}


def _rule_request(name: str, props: dict[str, Any], bus: str) -> dict[str, Any]:
    request: dict[str, Any] = {"Name": name, "State": props.get("State", "ENABLED"), "EventBusName": bus}
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    for key in ("ScheduleExpression", "Description", "RoleArn"):
        if key in props:
            request[key] = props[key]
    return request


def create_rule(
    client: Callable[[str], Any], lambdas: LambdaResources, logical_id: str, props: dict[str, Any]
) -> tuple[Provisioned, list[RuleTarget]]:
    """The rule, and its targets that are functions of the stack (each delivered through a queue of its own)."""
    events = client("events")
    name = props.get("Name") or physical_name(lambdas.stack_name, logical_id, max_length=64)
    bus = props.get("EventBusName", "default")
    arn = events.put_rule(**_rule_request(name, props, bus))["RuleArn"]
    targets, functions = [], []
    for target in props.get("Targets", []):
        entry = {key: value for key, value in target.items() if key in _TARGET_KEYS}
        entry.update(as_input_transformer(target))
        spec = lambdas.by_arn(target["Arn"])
        if spec is not None:
            queue_name = physical_name(lambdas.stack_name, f"{logical_id}-{target.get('Id', 'target')}", max_length=80)
            sqs = client("sqs")
            url = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "900"})["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            where = {"rule_name": name, "rule_arn": arn, "function": spec.logical_id, "function_arn": spec.arn}
            functions.append(RuleTarget.of(target, queue_url=url, **where))
            targets.append({**entry, "Arn": queue_arn})
        elif target["Arn"].split(":")[2] in DELIVERED_BY_EVENTBRIDGE:
            role = {"RoleArn": target["RoleArn"]} if "RoleArn" in target else {}  # a bus target's (forwarding)
            targets.append({**entry, **role, "Arn": target["Arn"]})
        else:
            logger.warning("%s: target %s is not delivered locally", logical_id, target["Arn"])
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    ref = name if bus == "default" else f"{bus}|{name}"
    return Provisioned(logical_id, "AWS::Events::Rule", ref, {"Arn": arn}), functions
