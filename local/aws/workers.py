"""The two background threads of the SageMaker extensions, so that request threads never wait.

* the :class:`Scheduler` runs state transitions when they fall due (``Timings``); it can be paused so that a test can
  look at an endpoint while it is ``Updating``;
* the :class:`Dispatcher` delivers events to EventBridge one at a time, in the order they were produced, so the
  events of one resource always arrive in order.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


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
