"""Failures injected into the embedded SageMaker's endpoints, waiting for the operation they fail."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("fail", "rollback")
FAULT_OPERATIONS = ("create", "update", "any")


@dataclass
class Fault:
    """A failure waiting for the next operation of its kind on one endpoint."""

    kind: str  # "fail" | "rollback"
    operation: str  # "create" | "update" | "any"
    reason: str | None = None
    alarm_name: str | None = None


class Faults:
    """The faults waiting per endpoint name, first injected first taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: dict[str, list[Fault]] = {}

    def add(self, endpoint_name: str, fault: Fault) -> None:
        with self._lock:
            self._by_endpoint.setdefault(endpoint_name, []).append(fault)

    def take(self, endpoint_name: str, operation: str, kinds: tuple[str, ...] = FAULT_KINDS) -> Fault | None:
        """The first fault of ``kinds`` waiting for ``operation`` on the endpoint, removed; ``None`` if none."""
        with self._lock:
            queue = self._by_endpoint.get(endpoint_name, [])
            for i, fault in enumerate(queue):
                if fault.kind in kinds and fault.operation in (operation, "any"):
                    return queue.pop(i)
            return None

    def clear(self, endpoint_name: str | None = None) -> None:
        with self._lock:
            if endpoint_name is None:
                self._by_endpoint.clear()
            else:
                self._by_endpoint.pop(endpoint_name, None)

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {
                name: [dataclasses.asdict(f) for f in faults] for name, faults in self._by_endpoint.items() if faults
            }
