"""Process-wide state of the SageMaker extensions: timings, background workers, injected faults, the event log.

moto keeps its backends in process-global dictionaries, so the behaviour we add on top of them (status transitions
that complete later, events delivered to EventBridge, failures injected by tests) is process-global too. One
``ExtensionRuntime`` holds it; :class:`local.aws.server.EmbeddedAWS` configures and resets it. Its workers are
described in :mod:`local.aws.workers`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from local.aws.faults import Fault, Faults
from local.aws.service_faults import ServiceFaults
from local.aws.timings import Timings
from local.aws.workers import Dispatcher, Scheduler

__all__ = ["RUNTIME", "ExtensionRuntime", "Fault", "Timings"]


class ExtensionRuntime:
    """Everything the SageMaker extensions keep besides moto's own state."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.timings = Timings()
        self.scheduler = Scheduler()
        # EventBridge Scheduler's clock: its own thread, not waited for by wait_idle (a rate schedule never ends)
        self.schedules = Scheduler("eventbridge-scheduler")
        self.reset_hooks: list[Callable[[], None]] = []  # what else the extensions forget on reset
        self.dispatcher: Dispatcher | None = None  # set by connect_delivery() when the extensions are installed
        self.emitted_events: list[dict[str, Any]] = []
        self.faults = Faults()
        self.service_faults = ServiceFaults()  # throttling, 5xx, latency of the APIs (local.aws.service_faults)
        # How a model package's creation event carries UpdatedModelPackageFields, which AWS does not document:
        # "absent" (the documented samples), "empty" ([]) or "given" (the fields the request set).
        self.package_creation_fields = "absent"

    def connect_delivery(self, deliver: Callable[[Any], None]) -> None:
        """Deliver published events with ``deliver`` (once; later calls keep the first dispatcher)."""
        with self.lock:
            if self.dispatcher is None:
                self.dispatcher = Dispatcher(deliver)

    def start(self) -> None:
        self.scheduler.start()
        self.schedules.start()
        if self.dispatcher:
            self.dispatcher.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.schedules.stop()
        if self.dispatcher:
            self.dispatcher.stop()

    def reset(self) -> None:
        """Forget scheduled transitions and schedules, queued events, faults (and their log), the event log and the
        creation-event shape."""
        with self.lock:
            self.scheduler.clear()
            self.scheduler.resume()
            self.schedules.clear()
            for hook in self.reset_hooks:
                hook()
            if self.dispatcher:
                self.dispatcher.clear()
            self.emitted_events.clear()
            self.faults.clear()
            self.service_faults.reset()
            self.package_creation_fields = "absent"

    # -- waiting --------------------------------------------------------------------------------------------------
    def is_idle(self) -> bool:
        return self.scheduler.is_idle() and (self.dispatcher is None or self.dispatcher.is_idle())

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every due transition has run and every queued event is delivered."""
        deadline = time.monotonic() + timeout
        stable = 0
        while True:
            # idle twice in a row: a delivery may schedule nothing, but a transition may queue a delivery
            stable = stable + 1 if self.is_idle() else 0
            if stable >= 2:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"embedded AWS not idle after {timeout}s ({self.scheduler.pending()} transitions pending)"
                )
            time.sleep(0.002)


RUNTIME = ExtensionRuntime()
