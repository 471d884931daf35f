"""The queues of the local runtime, read into their handlers: each function's queue (Lambda's event queue: direct
asynchronous invocations, destinations) and each rule target's (EventBridge's delivery to a function,
:mod:`local.stack.deliveries`).

Lambda accepts an asynchronous invocation, queues it, and runs it later; here each queue is long-polled and every
message becomes an :class:`~local.stack.invoker.Invocation` (enqueued at its ``SentTimestamp``, so event age counts
from then). :class:`InFlight` counts the invocations taken off a queue and not finished yet.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from local.stack.functions import FunctionSpec
from local.stack.invoker import FunctionRunner, Invocation

logger = logging.getLogger(__name__)

QUEUE_DEPTHS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class InFlight:
    """Invocations taken off an event queue and not finished yet."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def begin(self) -> None:
        with self._changed:
            self._count += 1

    def end(self) -> None:
        with self._changed:
            self._count -= 1
            self._changed.notify_all()

    def busy(self) -> bool:
        with self._changed:
            return self._count > 0

    def wait_none(self, deadline: float, timeout: float) -> None:
        """Until none is in flight; TimeoutError at ``deadline`` (``timeout`` is for the message)."""
        with self._changed:
            while self._count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._count} invocation(s) still in flight after {timeout}s")
                self._changed.wait(min(remaining, 0.5))


class EventQueues:
    """Reads queues (each function's, each rule target's) into their handlers until stopped."""

    def __init__(self, client: Callable[[str], Any], inflight: InFlight, stopping: threading.Event) -> None:
        self.client = client
        self.inflight = inflight
        self.stopping = stopping
        self._pollers: list[threading.Thread] = []
        self.urls: list[str] = []  # every queue read so far

    def start(self, runner: FunctionRunner) -> None:
        """Read the function's own queue: each message is an asynchronous invocation of it."""
        self.watch(f"poll-{runner.spec.logical_id}", runner.spec.queue_url, runner.submit)

    def watch(self, name: str, queue_url: str, handle: Callable[[Invocation], None]) -> None:
        """Read ``queue_url``: each message becomes an :class:`Invocation`, counted in flight, given to ``handle``."""
        poller = threading.Thread(target=self._poll, args=(queue_url, handle), daemon=True, name=name)
        poller.start()
        self._pollers.append(poller)
        self.urls.append(queue_url)

    def stop(self) -> None:
        # pollers finish their current long poll (at most 1 s) on their own: daemon threads, nothing to wait for
        self._pollers.clear()

    def send(self, spec: FunctionSpec, event: Any) -> None:
        """An asynchronous invocation of the function (``lambda invoke --invocation-type Event``)."""
        self.client("sqs").send_message(QueueUrl=spec.queue_url, MessageBody=json.dumps(event))

    def empty(self, queue_urls: Iterable[str]) -> bool:
        """Whether none of the queues holds a message (visible, in flight or delayed)."""
        sqs = self.client("sqs")
        for url in queue_urls:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(QUEUE_DEPTHS))
            if any(int(attributes["Attributes"].get(name, 0)) for name in QUEUE_DEPTHS):
                return False
        return True

    def _poll(self, queue_url: str, handle: Callable[[Invocation], None]) -> None:
        sqs = self.client("sqs")
        while not self.stopping.is_set():
            try:
                response = sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
                )
            except Exception:
                if self.stopping.is_set():
                    return
                logger.exception("polling %s failed", queue_url)
                time.sleep(0.5)
                continue
            for message in response.get("Messages", []):
                if self.stopping.is_set():
                    return
                self.inflight.begin()
                sent = float(message.get("Attributes", {}).get("SentTimestamp", time.time() * 1000)) / 1000
                invocation = Invocation(event=json.loads(message["Body"]), enqueued_at=sent)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                handle(invocation)
