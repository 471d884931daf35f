"""``PutEvents`` as EventBridge answers customers: the request's limits and each entry's errors.

As the EventBridge API reference documents ``PutEvents`` and ``PutEventsResultEntry``:

* at most 10 entries per request, and the entries' total size (EventBridge's own calculation:
  :func:`entry_size`) at most 256 KB, else the whole request fails with ``ValidationException``;
* per entry: a missing ``Source``, ``DetailType`` or ``Detail`` is ``InvalidArgument``; a source starting with
  ``aws.`` (reserved for AWS services) is ``NotAuthorizedForSourceException``; a ``Detail`` that is not a JSON
  object, or nested deeper than the 1100 levels PutEvents processes, is ``MalformedDetail``.

Valid entries go on to moto's EventBridge, failed ones do not; results keep the request's order. Events that AWS
services send are not put through this API (:mod:`local.aws.eventbridge.service_events`).

The embedded EventBridge itself matches and delivers events with recursive code, which cannot follow JSON nested
as deep as AWS accepts: an entry nested deeper than :data:`EMULATOR_MAX_DEPTH` gets the retryable
``InternalFailure`` with a message saying so, never an HTTP 500 and never a partial delivery.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.responses import EventsHandler

from local.aws.patches import Patch

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
TIME_BYTES = 14  # "If specified, the Time parameter is 14 bytes."
MAX_DEPTH = 1100  # "PutEvents will only process nested JSON up to 1100 levels deep."
EMULATOR_MAX_DEPTH = 200
RESERVED_SOURCE_PREFIX = "aws."

TOO_MANY_ENTRIES = (
    "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: "
    "Member must have length less than or equal to 10"
)
TOO_LARGE = "Total size of the entries in the request is over the limit."
NOT_AUTHORIZED_FOR_SOURCE = "Not authorized for the source."
MALFORMED_DETAIL = "Detail is malformed."
TOO_DEEP_FOR_EMULATOR = (
    f"The embedded EventBridge cannot deliver a Detail nested deeper than {EMULATOR_MAX_DEPTH} levels "
    f"(AWS accepts up to {MAX_DEPTH})."
)


def entry_size(entry: Mapping[str, Any]) -> int:
    """The size EventBridge counts for one entry ("Calculating PutEvents event entry size")."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        size += len(str(value).encode("utf-8", "surrogatepass")) if value is not None else 0
    for resource in entry.get("Resources") or []:
        size += len(str(resource).encode("utf-8", "surrogatepass")) if resource is not None else 0
    return size


def depth(value: Any) -> int:
    """How deeply ``value`` (parsed JSON) nests objects and arrays: 0 for a scalar; without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _required_argument(name: str) -> dict[str, str]:
    return {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": f"Parameter {name} is not valid. Reason: {name} is a required argument.",
    }


def entry_error(entry: Mapping[str, Any]) -> dict[str, str] | None:
    """The ``PutEventsResultEntry`` error of an entry EventBridge refuses; ``None`` for an entry it accepts."""
    for name in ("Source", "DetailType", "Detail"):
        if not entry.get(name):
            return _required_argument(name)
    if str(entry["Source"]).startswith(RESERVED_SOURCE_PREFIX):
        return {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": NOT_AUTHORIZED_FOR_SOURCE}
    try:
        detail = json.loads(entry["Detail"])
    except (ValueError, RecursionError):
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": MALFORMED_DETAIL}
    nesting = depth(detail)
    if not isinstance(detail, dict) or nesting > MAX_DEPTH:
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": MALFORMED_DETAIL}
    if nesting > EMULATOR_MAX_DEPTH:
        return {"ErrorCode": "InternalFailure", "ErrorMessage": TOO_DEEP_FOR_EMULATOR}
    return None


def check_request(entries: Sequence[Mapping[str, Any]]) -> None:
    """Raise the ``ValidationException`` EventBridge answers a request over its limits with."""
    if len(entries) > MAX_ENTRIES:
        raise ValidationException(TOO_MANY_ENTRIES)
    if sum(entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
        raise ValidationException(TOO_LARGE)


def put_events(self: EventsHandler) -> str:
    """``PutEvents``: the request checked, each entry checked, the valid ones put on their bus by moto."""
    entries = [entry if isinstance(entry, dict) else {} for entry in self._get_param("Entries") or []]
    check_request(entries)
    errors = [entry_error(entry) for entry in entries]
    accepted = iter(self.events_backend.put_events([e for e, error in zip(entries, errors, strict=True) if not error]))
    results = [error or next(accepted) for error in errors]
    failed = sum(1 for result in results if "ErrorCode" in result)
    return json.dumps({"FailedEntryCount": failed, "Entries": results})


PATCHES = (
    Patch(
        EventsHandler,
        "put_events",
        put_events,
        "moto's PutEvents accepts `aws.*` sources (reserved for AWS services), entries over 256 KB and a Detail that "
        "is not a JSON object, and answers deeply nested JSON with an HTTP 500; EventBridge refuses each as documented",
    ),
)
