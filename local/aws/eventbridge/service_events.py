"""Events an AWS service puts on the default bus itself (``aws.sagemaker``, ``aws.s3``...), injected by hand.

Customers cannot send them: ``PutEvents`` refuses ``aws.*`` sources (:mod:`local.aws.eventbridge.put_events`).
The embedded AWS sends its own SageMaker's events this way already (:mod:`local.aws.sagemaker.events`); the control
API's ``put_service_events`` action lets tests and ``make replay`` send any service's documented events the same
way: matched against the default bus's rules and delivered to their targets as EventBridge delivers them, with a
fresh ``id``, this account and region, and the ``time`` the event carries (now when it carries none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from local.aws.eventbridge.put_events import EMULATOR_MAX_DEPTH, RESERVED_SOURCE_PREFIX, depth
from local.aws.sagemaker.events.models import envelope, publish


def service_event(event: Mapping[str, Any], *, account: str, region: str) -> dict[str, Any]:
    """The event as the service would send it; ``ValueError`` naming what is wrong with one no service sends."""
    source = event.get("source")
    if not isinstance(source, str) or not source.startswith(RESERVED_SOURCE_PREFIX):
        raise ValueError(f"a service event's source starts with {RESERVED_SOURCE_PREFIX!r}, not {source!r}")
    detail_type, detail, resources = event.get("detail-type"), event.get("detail", {}), event.get("resources", [])
    if not isinstance(detail_type, str) or not detail_type:
        raise ValueError("a service event has a detail-type")
    if not isinstance(detail, dict):
        raise ValueError("a service event's detail is a JSON object")
    if depth(detail) > EMULATOR_MAX_DEPTH:
        raise ValueError(f"the embedded EventBridge delivers a detail nested {EMULATOR_MAX_DEPTH} levels at most")
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise ValueError("a service event's resources are a list of ARNs")
    time = event.get("time")
    built = envelope(detail_type, detail, resources, account=account, region=region, time=str(time) if time else None)
    return {**built, "source": source}


def put_service_events(events: Iterable[Mapping[str, Any]], *, account: str, region: str) -> list[str]:
    """Deliver each event as its service would (all checked first: none is sent if one is wrong); their ids."""
    built = [service_event(event, account=account, region=region) for event in events]
    return [publish(event, wait=True)["id"] for event in built]
