"""Process-wide state of the SageMaker extensions: timings, background workers, injected faults.

moto keeps its backends in process-global dictionaries, so the behaviour we add on top of them (status transitions
that complete later, events delivered to EventBridge, failures injected by tests) is process-global too. One
``ExtensionRuntime`` holds it; :class:`local.aws.server.EmbeddedAWS` configures and resets it.

Two background threads do the asynchronous work, never the request threads:

* the *scheduler* runs state transitions when they fall due (``Timings``); it can be paused so that a test can look
  at an endpoint while it is ``Updating``;
* the *dispatcher* delivers events to EventBridge one at a time, in the order they were produced, so the events of
  one resource always arrive in order.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timings:
    """How long SageMaker's asynchronous operations take, in seconds (0 completes them at once, in the background)."""

    endpoint_create: float = 0.0
    endpoint_update: float = 0.0
    endpoint_delete: float = 0.0

    @classmethod
    def demo(cls) -> Timings:
        """Delays long enough to watch an endpoint go through its states."""
        return cls(endpoint_create=4.0, endpoint_update=6.0, endpoint_delete=1.0)

    def replace(self, **changes: float) -> Timings:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown timings: {sorted(unknown)}")
        return dataclasses.replace(self, **{k: float(v) for k, v in changes.items()})


@dataclass(order=True)
class _Task:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)


class _WorkerThread:
    """One daemon thread running ``_run`` under a condition variable; ``start`` and ``stop`` are idempotent."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._cond = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        with self._cond:
            if self._thread and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._discard()
            self._cond.notify_all()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def _discard(self) -> None:
        """What stopping drops (called with the condition held)."""

    def _run(self) -> None:
        raise NotImplementedError


class Scheduler(_WorkerThread):
    """Runs callables when they fall due, on one worker thread, in (due time, submission) order."""

    def __init__(self, name: str = "sagemaker-transitions") -> None:
        super().__init__(name)
        self._heap: list[_Task] = []
        self._seq = itertools.count()
        self._paused = False

    def _discard(self) -> None:
        self._heap.clear()

    def clear(self) -> None:
        with self._cond:
            for task in self._heap:
                task.cancelled = True
            self._heap.clear()
            self._cond.notify_all()

    def submit(self, delay: float, action: Callable[[], None], label: str = "") -> _Task:
        task = _Task(time.monotonic() + max(0.0, delay), next(self._seq), action, label)
        with self._cond:
            heapq.heappush(self._heap, task)
            self._cond.notify_all()
        return task

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def pending(self) -> int:
        with self._cond:
            return sum(1 for t in self._heap if not t.cancelled)

    def is_idle(self) -> bool:
        """No task running and none waiting (tasks held by a pause do not count)."""
        with self._cond:
            return not self._busy and (self._paused or not any(not t.cancelled for t in self._heap))

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    while self._heap and self._heap[0].cancelled:
                        heapq.heappop(self._heap)
                    if self._heap and not self._paused:
                        wait = self._heap[0].due - time.monotonic()
                        if wait <= 0:
                            task = heapq.heappop(self._heap)
                            self._busy = True
                            break
                        self._cond.wait(timeout=wait)
                    else:
                        self._cond.wait()
            try:
                task.action()
            except Exception:
                logger.exception("scheduled task %s failed", task.label)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


class Dispatcher(_WorkerThread):
    """Delivers items one at a time, first in first out, on one worker thread."""

    def __init__(self, deliver: Callable[[Any], None], name: str = "eventbridge-delivery") -> None:
        super().__init__(name)
        self._deliver = deliver
        self._queue: list[tuple[Any, threading.Event | None]] = []

    def clear(self) -> None:
        with self._cond:
            for _, done in self._queue:
                if done:
                    done.set()
            self._queue.clear()

    def put(self, item: Any, wait: bool = False, timeout: float = 30.0) -> None:
        done = threading.Event() if wait and threading.current_thread() is not self._thread else None
        with self._cond:
            self._queue.append((item, done))
            self._cond.notify_all()
        if done and not done.wait(timeout):
            raise TimeoutError(f"event not delivered within {timeout}s")

    def is_idle(self) -> bool:
        with self._cond:
            return not self._busy and not self._queue

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                item, done = self._queue.pop(0)
                self._busy = True
            try:
                self._deliver(item)
            except Exception:
                logger.exception("delivery failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
                if done:
                    done.set()


@dataclass
class Fault:
    """A failure waiting for the next operation of its kind on one endpoint."""

    kind: str  # "fail" | "rollback"
    operation: str  # "create" | "update" | "any"
    reason: str | None = None
    alarm_name: str | None = None


class ExtensionRuntime:
    """Everything the SageMaker extensions keep besides moto's own state."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.timings = Timings()
        self.scheduler = Scheduler()
        self.dispatcher: Dispatcher | None = None  # set by sagemaker_events.install()
        self.emitted_events: list[dict[str, Any]] = []
        self._faults: dict[str, list[Fault]] = {}

    def start(self) -> None:
        self.scheduler.start()
        if self.dispatcher:
            self.dispatcher.start()

    def stop(self) -> None:
        self.scheduler.stop()
        if self.dispatcher:
            self.dispatcher.stop()

    def reset(self) -> None:
        """Forget scheduled transitions, queued events, faults and the event log."""
        with self.lock:
            self.scheduler.clear()
            self.scheduler.resume()
            if self.dispatcher:
                self.dispatcher.clear()
            self.emitted_events.clear()
            self._faults.clear()

    # -- faults ---------------------------------------------------------------------------------------------------
    def add_fault(self, endpoint_name: str, fault: Fault) -> None:
        with self.lock:
            self._faults.setdefault(endpoint_name, []).append(fault)

    def take_fault(
        self, endpoint_name: str, operation: str, kinds: tuple[str, ...] = ("fail", "rollback")
    ) -> Fault | None:
        with self.lock:
            queue = self._faults.get(endpoint_name, [])
            for i, fault in enumerate(queue):
                if fault.kind in kinds and fault.operation in (operation, "any"):
                    return queue.pop(i)
            return None

    def clear_faults(self, endpoint_name: str | None = None) -> None:
        with self.lock:
            if endpoint_name is None:
                self._faults.clear()
            else:
                self._faults.pop(endpoint_name, None)

    def pending_faults(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            return {name: [dataclasses.asdict(f) for f in faults] for name, faults in self._faults.items() if faults}

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
