"""Faults of AWS's APIs injected into the embedded AWS: throttling, server errors and latency, per service and
operation, for a number of calls or for a time window (endpoint lifecycle faults are :mod:`local.aws.faults`).

A fault answers matching calls as the service answers under load, with the service's own error code and HTTP
status (:data:`THROTTLING`, :data:`INTERNAL`, :data:`UNAVAILABLE`; ``code``/``status``/``message`` override them),
or delays them (``latency``) and lets them through. Every fault counts the calls it answered; the log keeps each
one. Calls the embedded AWS makes as an AWS service itself (event delivery, alarm actions, Lambda's dead-letter
queues: clients carrying :data:`SERVICE_CALLER_AGENT` in their user agent) are AWS-internal and never faulted, as
AWS's own service-to-service calls are not subject to a customer's throttling.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

SERVICE_CALLER_AGENT = "embedded-aws-service"
FAULT_KINDS = ("throttle", "internal", "unavailable", "latency", "error")
RATE_EXCEEDED = "Rate exceeded"

# (code, HTTP status, message) as each service answers; "*" for the AWS common errors
THROTTLING: dict[str, tuple[str, int, str]] = {
    "*": ("ThrottlingException", 400, RATE_EXCEEDED),
    "s3": ("SlowDown", 503, "Please reduce your request rate."),
    "sns": ("Throttled", 429, RATE_EXCEEDED),
    "sqs": ("RequestThrottled", 400, RATE_EXCEEDED),
    "lambda": ("TooManyRequestsException", 429, RATE_EXCEEDED),
    "cloudwatch": ("Throttling", 400, RATE_EXCEEDED),
    "sts": ("Throttling", 400, RATE_EXCEEDED),
    "iam": ("Throttling", 400, RATE_EXCEEDED),
}
DYNAMODB_DATA_PLANE = frozenset(
    {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
        "TransactGetItems", "TransactWriteItems",
    }
)  # fmt: skip
PROVISIONED_THROUGHPUT_EXCEEDED = (
    "ProvisionedThroughputExceededException",
    400,
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API.",
)
INTERNAL: dict[str, tuple[str, int, str]] = {
    "*": (
        "InternalFailure",
        500,
        "The request processing has failed because of an unknown error, exception or failure.",
    ),
    "s3": ("InternalError", 500, "We encountered an internal error. Please try again."),
    "dynamodb": ("InternalServerError", 500, "Internal server error"),
    "sns": ("InternalError", 500, "Internal error"),
    "lambda": ("ServiceException", 500, "The AWS Lambda service encountered an internal error."),
}
UNAVAILABLE: dict[str, tuple[str, int, str]] = {
    "*": ("ServiceUnavailable", 503, "The request has failed due to a temporary failure of the server."),
    "s3": ("ServiceUnavailable", 503, "Please reduce your request rate."),
}


def default_error(kind: str, service: str, operation: str) -> tuple[str, int, str]:
    """The (code, status, message) ``service`` answers ``operation`` with for a fault of ``kind``."""
    if kind == "throttle" and service == "dynamodb" and operation in DYNAMODB_DATA_PLANE:
        return PROVISIONED_THROUGHPUT_EXCEEDED
    table = {"throttle": THROTTLING, "internal": INTERNAL, "unavailable": UNAVAILABLE}[kind]
    return table.get(service, table["*"])


@dataclass
class ServiceFault:
    """A fault of one service's operation (``"*"``: every operation), for ``times`` calls and/or ``seconds``."""

    id: str
    service: str
    operation: str = "*"
    kind: str = "throttle"
    times: int | None = None  # calls it answers; None: every call while it lasts
    seconds: float | None = None  # how long it lasts from its injection; None: until its calls are used or cleared
    after: int = 0  # matching calls let through before it starts
    latency: float = 0.0  # seconds each call it answers waits first (the whole fault, for kind "latency")
    code: str | None = None
    status: int | None = None
    message: str | None = None
    applied: int = 0
    seen: int = 0
    expires_at: float | None = field(default=None, repr=False)

    def matches(self, service: str, operation: str) -> bool:
        return self.service == service and self.operation in ("*", operation)

    def expired(self, now: float) -> bool:
        used_up = self.times is not None and self.applied >= self.times
        return used_up or (self.expires_at is not None and now >= self.expires_at)

    def error(self, operation: str) -> tuple[str, int, str] | None:
        """(code, status, message) of the error it answers with; ``None`` for a latency fault."""
        if self.kind == "latency":
            return None
        code, status, message = (
            ("", 400, "") if self.kind == "error" else default_error(self.kind, self.service, operation)
        )
        return self.code or code, self.status or status, self.message if self.message is not None else message

    def describe(self, now: float) -> dict[str, Any]:
        described = {k: v for k, v in dataclasses.asdict(self).items() if k != "expires_at"}
        described["remaining"] = None if self.times is None else max(self.times - self.applied, 0)
        described["expires_in"] = None if self.expires_at is None else max(self.expires_at - now, 0.0)
        return described


@dataclass(frozen=True)
class FaultHit:
    """What one faulted call met: the fault's id, the call, and the error (``None``: latency only)."""

    fault_id: str
    service: str
    operation: str
    code: str | None
    status: int | None
    message: str
    latency: float


class ServiceFaults:
    """The injected faults, first injected first applied; one fault answers a call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[ServiceFault] = []
        self._ids = itertools.count(1)
        self.hits: list[FaultHit] = []

    def add(self, service: str, kind: str = "throttle", **options: Any) -> ServiceFault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
        if kind == "error" and not (options.get("code") and options.get("status")):
            raise ValueError("a fault of kind 'error' names its code and status")
        if kind == "latency" and not options.get("latency"):
            raise ValueError("a fault of kind 'latency' says how many seconds (latency=...)")
        with self._lock:
            fault = ServiceFault(id=f"fault-{next(self._ids)}", service=service, kind=kind, **options)
            if fault.seconds is not None:
                fault.expires_at = time.monotonic() + float(fault.seconds)
            self._faults.append(fault)
            return fault

    def active_for(self, service: str) -> bool:
        """Whether any fault may answer a call of ``service`` (cheap: no request parsing when none)."""
        with self._lock:
            return any(f.service == service for f in self._faults)

    def take(self, service: str, operation: str) -> FaultHit | None:
        """The fault answering this call, counted; ``None`` if the call goes through untouched."""
        now = time.monotonic()
        with self._lock:
            self._faults = [f for f in self._faults if not f.expired(now)]
            for fault in self._faults:
                if not fault.matches(service, operation):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.applied += 1
                code, status, message = fault.error(operation) or (None, None, "")
                hit = FaultHit(fault.id, service, operation, code, status, message, fault.latency)
                self.hits.append(hit)
                return hit
            return None

    def pending(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            return [f.describe(now) for f in self._faults if not f.expired(now)]

    def clear(self, fault_id: str | None = None, service: str | None = None) -> int:
        """Remove one fault, a service's faults, or all (the log stays); how many were removed."""
        with self._lock:
            kept = [f for f in self._faults if (fault_id and f.id != fault_id) or (service and f.service != service)]
            removed = len(self._faults) - len(kept)
            self._faults = kept
            return removed

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.hits.clear()
