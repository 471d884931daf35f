"""Events put through the embedded EventBridge, as AWS would receive them.

SageMaker's events (``aws.sagemaker``) come from the service, not from PutEvents (which refuses ``aws.*`` sources):
they are emitted by the embedded SageMaker (``aws.emit``) with their ``time`` as written. Other events go through
PutEvents, ten per call. Either way EventBridge assigns a fresh ``id``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

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


def put_events(aws: Any, client: Callable[[str], Any], events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Send AWS-shaped events (``source``, ``detail-type``, ``detail``...) through EventBridge; their new ids."""
    ids: list[str] = []
    entries: list[dict[str, Any]] = []
    for event in events:
        if event.get("source") == "aws.sagemaker" and callable(getattr(aws, "emit", None)):
            _flush(client, entries, ids)
            emitted = aws.emit(
                event["detail-type"], event.get("detail", {}), event.get("resources", []), time=event.get("time")
            )
            ids.append(emitted["id"])
        else:
            entries.append(entry(event))
    _flush(client, entries, ids)
    return ids


def _flush(client: Callable[[str], Any], entries: list[dict[str, Any]], ids: list[str]) -> None:
    for start in range(0, len(entries), PUT_EVENTS_BATCH):
        batch = entries[start : start + PUT_EVENTS_BATCH]
        response = client("events").put_events(Entries=batch)
        for sent, result in zip(batch, response["Entries"], strict=True):
            if "EventId" not in result:
                raise ValueError(f"EventBridge refused {sent['DetailType']}: {result.get('ErrorMessage')}")
            ids.append(result["EventId"])
    entries.clear()
