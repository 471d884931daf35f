"""Errors injected into an endpoint's model: its next invocations answered with a status the model "returned".

A test (or the control API's ``inject_invocation_errors``) makes the next ``times`` invocations of an endpoint fail
as SageMaker reports a model's error: ``ModelError`` (HTTP 424) with the model's ``OriginalStatusCode`` and the
message ``Received server error (500) from primary with message "..."`` (``client error`` for a 4xx), counted in
the endpoint's ``Invocation5XXErrors`` / ``Invocation4XXErrors`` (:mod:`.metrics`): a 5xx burst for a bake check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from local.aws.runtime import RUNTIME


@dataclass
class InvocationFault:
    status: int
    times: int
    message: str = "injected failure"


class InvocationFaults:
    """The errors waiting per endpoint name, first injected first taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: dict[str, list[InvocationFault]] = {}

    def inject(self, endpoint_name: str, status: int = 500, times: int = 1, message: str = "injected failure") -> None:
        if not 400 <= status <= 599 or times < 1:
            raise ValueError("status is a 4xx or 5xx code and times at least 1")
        with self._lock:
            self._by_endpoint.setdefault(endpoint_name, []).append(InvocationFault(status, times, message))

    def take(self, endpoint_name: str) -> InvocationFault | None:
        """The fault of the endpoint's next invocation (one of its ``times`` used up), or None."""
        with self._lock:
            queue = self._by_endpoint.get(endpoint_name) or []
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return InvocationFault(fault.status, 1, fault.message)

    def clear(self) -> None:
        with self._lock:
            self._by_endpoint.clear()


INVOCATION_FAULTS = InvocationFaults()
RUNTIME.reset_hooks.append(INVOCATION_FAULTS.clear)
