"""Functions' log lines shipped to CloudWatch Logs, as Lambda does: the function's log group, created on first use,
one stream per execution environment."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from local.stack.functions import FunctionSpec


class FunctionLogs:
    """``client_of(spec)``: clients with the function's role (Lambda writes logs with the execution role's rights)."""

    def __init__(self, client_of: Callable[[FunctionSpec], Callable[[str], Any]]) -> None:
        self.client_of = client_of
        self._streams: set[str] = set()
        self._lock = threading.Lock()

    def ship(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        """``events``: ``(epoch ms, line)`` of one execution environment's stream (empty lines carry nothing, and
        CloudWatch Logs refuses an empty message: they are left out)."""
        events = [(stamp, line) for stamp, line in events if line]
        logs = self.client_of(spec)("logs")
        with self._lock:
            if stream not in self._streams:
                with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                    logs.create_log_group(logGroupName=spec.log_group)
                logs.create_log_stream(logGroupName=spec.log_group, logStreamName=stream)
                self._streams.add(stream)
        if not events:
            return
        logs.put_log_events(
            logGroupName=spec.log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": stamp, "message": line} for stamp, line in sorted(events, key=lambda e: e[0])],
        )
