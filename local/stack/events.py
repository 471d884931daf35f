"""Events put through the embedded EventBridge, as AWS would receive them.

Events of AWS services (``aws.*`` sources, e.g. SageMaker's) come from the service, not from PutEvents (which
refuses ``aws.*`` sources from customers): they go through the embedded AWS's control action
``put_service_events`` (in this process, or over HTTP for a served stack), with their ``time`` as written. Other
events go through PutEvents, ten per call. Either way EventBridge assigns a fresh ``id``, and the events keep their
order.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from local.aws.control_client import ControlClient
from local.aws.eventbridge.put_events import RESERVED_SOURCE_PREFIX
from local.aws.timestamps import as_datetime

PUT_EVENTS_BATCH = 10


def entry(event: Mapping[str, Any]) -> dict[str, Any]:
    """A PutEvents entry from an event in EventBridge's delivered shape (or already an entry)."""
    if "DetailType" in event:
        return dict(event)
    result: dict[str, Any] = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event.get("detail", {})),
        "Resources": list(event.get("resources", [])),
    }
    if event.get("time"):
        with contextlib.suppress(ValueError):
            result["Time"] = as_datetime(event["time"])
    return result


def is_service_event(event: Mapping[str, Any]) -> bool:
    """Whether an AWS service sends the event (its source is ``aws.*``), so customers cannot put it."""
    return str(event.get("source", "")).startswith(RESERVED_SOURCE_PREFIX)


def put_events(aws: Any, client: Callable[[str], Any], events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Send AWS-shaped events (``source``, ``detail-type``, ``detail``...) through EventBridge; their new ids."""
    ids: list[str] = []
    for from_service, group in itertools.groupby(events, key=is_service_event):
        batch = [dict(event) for event in group]
        if from_service:
            ids.extend(put_service_events(aws, batch))
        else:
            ids.extend(_put_customer_events(client, [entry(event) for event in batch]))
    return ids


def put_service_events(aws: Any, events: list[dict[str, Any]]) -> list[str]:
    """The control action ``put_service_events`` of ``aws`` (an ``EmbeddedAWS``, or the URL of a served one)."""
    control = getattr(aws, "control", None)
    if control is not None:
        return list(control.put_service_events(events))
    endpoint_url = aws if isinstance(aws, str) else aws.endpoint_url
    return list(ControlClient(endpoint_url).call("put_service_events", events=events))


def _put_customer_events(client: Callable[[str], Any], entries: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(entries), PUT_EVENTS_BATCH):
        batch = entries[start : start + PUT_EVENTS_BATCH]
        response = client("events").put_events(Entries=batch)
        for sent, result in zip(batch, response["Entries"], strict=True):
            if "EventId" not in result:
                refusal = f"{result.get('ErrorCode')}: {result.get('ErrorMessage')}"
                raise ValueError(f"EventBridge refused {sent.get('DetailType')}: {refusal}")
            ids.append(result["EventId"])
    return ids
