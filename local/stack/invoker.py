"""Lambda's asynchronous invocation, locally: warm worker subprocesses, retries, event age, dead-letter queues.

Semantics follow the Lambda developer guide ("Asynchronous invocation", "Dead-letter queues", "Event invoke config"):
an event is queued, the function runs; on a function error Lambda retries up to ``MaximumRetryAttempts`` times
(default 2), waiting about one minute then two; an event older than ``MaximumEventAgeInSeconds`` is discarded; a
discarded event goes to the function's dead-letter queue (SQS message or SNS notification whose body is the event and
whose message attributes are ``RequestID``, ``ErrorCode`` (200) and ``ErrorMessage``) and to the ``OnFailure``
destination if one is configured. Retries of one event keep its request id.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from local.stack.functions import FunctionSpec
from local.stack.workers import Worker

logger = logging.getLogger(__name__)
function_logger = logging.getLogger("local.lambda")

LAMBDA_RETRY_DELAYS = (60.0, 120.0)  # what Lambda waits before the 2nd and the 3rd attempt


@dataclass
class Invocation:
    """One asynchronous invocation (one event for one function) through its attempts."""

    event: Any
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    enqueued_at: float = field(default_factory=time.time)
    attempts: int = 0
    last_error: dict[str, Any] | None = None

    @property
    def event_id(self) -> str | None:
        return self.event.get("id") if isinstance(self.event, dict) else None


class FunctionRunner:
    """Runs one function's asynchronous invocations on up to ``max_concurrency`` warm workers."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        retry_delays: tuple[float, ...],
        on_finished: Callable[[FunctionSpec, Invocation, str, Any], None],
        on_attempt: Callable[[FunctionSpec, bool, float], None],
        on_logs: Callable[[FunctionSpec, str, list[tuple[int, str]]], None] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.spec = spec
        self._on_logs = on_logs
        self.retry_delays = tuple(retry_delays) or (0.0,)
        self._on_finished = on_finished
        self._on_attempt = on_attempt
        self._python = python
        self._idle: list[Worker] = []
        self._workers: list[Worker] = []
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._stopping = False
        self._executor = ThreadPoolExecutor(
            max_workers=max(spec.max_concurrency, 1), thread_name_prefix=f"lambda-{spec.logical_id}"
        )
        self.logs: deque[str] = deque(maxlen=10_000)

    # ------------------------------------------------------------------ logs
    def log(self, line: str) -> None:
        self.logs.append(line)
        function_logger.info("[%s] %s", self.spec.logical_id, line)

    # ------------------------------------------------------------------ workers
    def _acquire(self) -> Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                self._workers.remove(worker)
        worker = Worker(self.spec, self.log, self._python)
        with self._lock:
            self._workers.append(worker)
        worker.wait_ready()
        return worker

    def _ship_logs(self, worker: Worker, *, stopping: bool = False) -> None:
        events = worker.take_log_events()
        if events and self._on_logs is not None:
            try:
                self._on_logs(self.spec, worker.log_stream, events)
            except Exception:  # the invocation stands; its lines are lost to CloudWatch Logs: say so, loudly
                # (while the stack stops, the embedded AWS may be gone already: nothing to tell then)
                logger.log(
                    logging.DEBUG if stopping else logging.WARNING,
                    "%s: %d log lines not shipped to CloudWatch Logs",
                    self.spec.logical_id,
                    len(events),
                    exc_info=not stopping,
                )

    def _release(self, worker: Worker) -> None:
        with self._lock:
            if worker.alive and not self._stopping:
                self._idle.append(worker)
            else:
                if worker in self._workers:
                    self._workers.remove(worker)
                worker.kill()

    @property
    def worker_count(self) -> int:
        with self._lock:
            return len(self._workers)

    # ------------------------------------------------------------------ invocations
    def submit(self, invocation: Invocation) -> None:
        if not self._stopping:
            self._executor.submit(self._attempt, invocation)

    def _attempt(self, invocation: Invocation) -> None:
        try:
            self._run_attempt(invocation)
        except Exception:  # a fault of the runtime itself: never lose the event silently
            logger.exception("%s: local runtime failed on request %s", self.spec.logical_id, invocation.request_id)
            invocation.last_error = {"errorType": "LocalRuntimeError", "errorMessage": "local runtime failure"}
            self._on_finished(self.spec, invocation, "error", None)

    def _run_attempt(self, invocation: Invocation) -> None:
        spec = self.spec
        if time.time() - invocation.enqueued_at > spec.max_event_age:
            self._on_finished(spec, invocation, "expired", None)
            return
        invocation.attempts += 1
        worker = self._acquire()
        worker.write_log(f"START RequestId: {invocation.request_id} Version: $LATEST")
        started = time.monotonic()
        if worker.init_error is not None:
            ok, payload = False, worker.init_error
        else:
            ok, payload = worker.invoke(invocation.request_id, invocation.event, spec.timeout)
        duration_ms = (time.monotonic() - started) * 1000
        worker.write_log(f"END RequestId: {invocation.request_id}")
        worker.write_log(
            f"REPORT RequestId: {invocation.request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Memory Size: {spec.memory_size} MB"
        )
        self._ship_logs(worker, stopping=self._stopping)  # an attempt the stop cut short: the AWS may be gone
        self._release(worker)
        self._on_attempt(spec, ok, duration_ms)
        if ok:
            self._on_finished(spec, invocation, "ok", payload)
            return
        invocation.last_error = payload
        if invocation.attempts > spec.max_retries:
            self._on_finished(spec, invocation, "failed", None)
            return
        delay = self.retry_delays[min(invocation.attempts - 1, len(self.retry_delays) - 1)]
        if time.time() + delay - invocation.enqueued_at > spec.max_event_age:
            self._on_finished(spec, invocation, "expired", None)
            return
        logger.info(
            "%s: attempt %d of request %s failed (%s); retrying in %.1fs",
            spec.logical_id,
            invocation.attempts,
            invocation.request_id,
            payload.get("errorType") if isinstance(payload, dict) else payload,
            delay,
        )
        self._schedule(invocation, delay)

    def _schedule(self, invocation: Invocation, delay: float) -> None:
        if self._stopping:  # an attempt the stop cut short: nothing retries it (the process may be ending)
            logger.info("%s: request %s not retried: the stack stops", self.spec.logical_id, invocation.request_id)
            return
        if delay <= 0:
            self.submit(invocation)
            return
        timer: threading.Timer

        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            self.submit(invocation)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            timers, self._timers = list(self._timers), set()
            workers, self._workers, self._idle = list(self._workers), [], []
        for timer in timers:
            timer.cancel()
        for worker in workers:
            worker.kill()
            self._ship_logs(worker, stopping=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
