"""Delivery of SageMaker's events through moto's EventBridge, as AWS delivers service events.

Real AWS refuses ``PutEvents`` with an ``aws.*`` source from customers, so events are not put through the API:
:func:`deliver` matches them against the rules of the default bus inside moto's EventBridge backend, which then
sends them to the rules' targets (SQS queues, log groups, other buses) as EventBridge would. Where moto's matching or
its targets differ from EventBridge's, they are patched (:data:`PATCHES`).
"""

from __future__ import annotations

import copy
import json
from typing import Any, cast

from moto.events.models import EventPattern, Rule, events_backends
from moto.events.utils import EventTemplateParser
from moto.sqs import sqs_backends

from local.aws.patches import Patch
from local.aws.timestamps import iso


def deliver(event: dict[str, Any]) -> None:
    """Match ``event`` against the enabled rules of the default bus and send it to their targets (moto)."""
    backend = events_backends[event["account"]][event["region"]]
    bus = backend.event_buses.get("default")
    if bus is None:
        return
    for rule in list(bus.rules.values()):
        if getattr(rule, "state", "ENABLED") != "ENABLED" or not rule.event_pattern.matches_event(cast(Any, event)):
            continue
        for target in list(rule.targets):
            # moto's default input template drops ``account`` and cannot hold ISO times: pass the event whole
            # unless the target has its own InputTransformer (which needs the ingestion time)
            single = copy.copy(rule)
            single.targets = [target]
            single.send_to_targets(
                cast(Any, {**copy.deepcopy(event), "ingestion-time": iso()}),  # moto types it as its own PutEvents
                transform_input=bool(target.get("InputTransformer")),
            )


_moto_send_to_sqs_queue = Rule._send_to_sqs_queue


def _send_to_sqs_queue(self: Rule, resource_id: str, event: dict[str, Any], group_id: str | None = None) -> None:
    """Send SageMaker's events (``time`` a string) to an SQS target whole; other events as moto does."""
    if not (isinstance(event, dict) and isinstance(event.get("time"), str)):
        _moto_send_to_sqs_queue(self, resource_id, event, group_id)
        return
    sqs = sqs_backends[self.account_id][self.region_name]
    if group_id:
        attrs = sqs.get_queue_attributes(queue_name=resource_id, attribute_names=["ContentBasedDeduplication"])
        if attrs["ContentBasedDeduplication"] == "false":
            return
    body = {k: v for k, v in event.items() if k != "ingestion-time"}
    sqs.send_message(queue_name=resource_id, message_body=json.dumps(body), group_id=group_id)


def _flatten_leaves(node: Any, prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event's fields as event-ruler (EventBridge's matcher) records them: one per leaf value, so an empty
    array or object is no field at all (``exists: false`` matches it, ``exists: true`` does not); moto records
    ``[]`` and ``{}`` as values."""
    result = {} if result is None else result
    for key, value in node.items() if isinstance(node, dict) else ():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten_leaves(value, name, result)
        elif value != []:
            result[name] = value
    return result


def _template_with_account(template: str) -> str:
    if '"account"' in template:
        return template
    return template.replace('"version": "0", ', '"version": "0", "account": "<account>", ')


PATCHES = (
    Patch(
        EventPattern,
        "_flatten_dict",
        staticmethod(_flatten_leaves),
        "EventBridge matches leaf values only: an empty array or object is an absent field, which moto records as a "
        "value (so `exists: false` never matched a creation event with `UpdatedModelPackageFields: []`)",
    ),
    Patch(
        Rule,
        "_send_to_sqs_queue",
        _send_to_sqs_queue,
        "moto's SQS target rewrites `time` assuming the epoch seconds its own PutEvents records; SageMaker's events "
        "carry ISO-8601 or epoch-millisecond strings that EventBridge passes through untouched",
    ),
    Patch(
        EventTemplateParser,
        "DEFAULT_EVENT_INPUT_TEMPLATE",
        _template_with_account(EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE),
        "moto's default input template leaves `account` out of what PutEvents delivers; EventBridge delivers the "
        "whole event to targets without an InputTransformer",
    ),
)
