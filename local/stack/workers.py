"""Lambda's execution environments, locally: one warm subprocess per environment, serving one invoke at a time.

Each worker runs :mod:`local.stack.lambda_worker` as ``python -S -P`` with the function's environment, so that only
the function's code and layers (and the interpreter's third-party packages) are importable, as in Lambda. The
worker script speaks JSON lines on a private copy of stdout; the handler's output is the environment's log stream.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.stack.functions import FunctionSpec
from local.stack.lambda_worker import LOG_BARRIER

WORKER_SCRIPT = Path(__file__).resolve().parent / "lambda_worker.py"
INIT_TIMEOUT = 10.0  # Lambda's init phase limit for on-demand functions
LOG_DRAIN_TIMEOUT = 5.0  # how long an answer waits for its log lines (the worker writes them before it answers)


class WorkerDied(Exception):
    pass


class Worker:
    """One warm execution environment: a subprocess that imported the handler and serves one invoke at a time."""

    _ids = itertools.count(1)

    def __init__(self, spec: FunctionSpec, log: Callable[[str], None], python: str = sys.executable) -> None:
        self.spec = spec
        self.number = next(self._ids)
        self.log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        env = dict(spec.environment)
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream
        self._log = log
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._log_events: list[tuple[int, str]] = []  # (epoch ms, line) not yet shipped to CloudWatch Logs
        self._log_lock = threading.Lock()
        self._log_ends: queue.Queue[str | None] = queue.Queue()  # the request ids whose log lines have all been read
        self.process = subprocess.Popen(
            # -S: no site module, so no .pth file runs (the development install of this repository is one): the
            # worker sees exactly the PYTHONPATH of worker_environment, as a Lambda environment sees its own paths.
            [python, "-S", "-P", str(WORKER_SCRIPT), spec.handler],
            cwd=spec.code_dir if spec.code_dir.is_dir() else None,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        threading.Thread(target=self._read_protocol, daemon=True, name=f"{spec.logical_id}-out").start()
        threading.Thread(target=self._read_logs, daemon=True, name=f"{spec.logical_id}-err").start()
        self.init_error: dict[str, Any] | None = None

    def _read_protocol(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._messages.put(json.loads(line))
            except ValueError:
                self.write_log(line.rstrip("\n"))
        self._messages.put(None)

    def _read_logs(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith(LOG_BARRIER):
                self._log_ends.put(line[len(LOG_BARRIER) :].strip())
            else:
                self.write_log(line.rstrip("\n"))
        self._log_ends.put(None)

    def _drain_logs(self, request_id: str) -> None:
        """Until the invocation's log lines have been read (its barrier), or the stream ended, or the drain timeout."""
        deadline = time.monotonic() + LOG_DRAIN_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                ended = self._log_ends.get(timeout=left)
            except queue.Empty:
                return
            if ended is None or ended == request_id:
                return

    def write_log(self, line: str) -> None:
        """A line of this environment's log stream (also echoed to the runtime's log)."""
        with self._log_lock:
            self._log_events.append((int(time.time() * 1000), line))
        self._log(line)

    def take_log_events(self) -> list[tuple[int, str]]:
        with self._log_lock:
            events, self._log_events = self._log_events, []
        return events

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            message = self._messages.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            raise TimeoutError from None
        if message is None:
            raise WorkerDied(f"Runtime exited with error: exit status {self.process.wait()}")
        return message

    def wait_ready(self) -> None:
        """Block through the init phase; sets ``init_error`` if the handler could not be loaded."""
        try:
            message = self._next(INIT_TIMEOUT)
        except TimeoutError:
            self.kill()
            self.init_error = {"errorType": "Runtime.InitTimeout", "errorMessage": "INIT timed out"}
            return
        except WorkerDied as exc:
            self.init_error = {"errorType": "Runtime.ExitError", "errorMessage": str(exc)}
            return
        if message.get("type") == "init_error":
            self.init_error = message["error"]
            self.kill()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, request_id: str, event: Any, timeout: float) -> tuple[bool, Any]:
        """Run the handler once; ``(True, result)`` or ``(False, error in Lambda's shape)``."""
        deadline = time.time() + timeout
        request = {
            "request_id": request_id,
            "event": event,
            "deadline_ms": int(deadline * 1000),
            "invoked_function_arn": self.spec.arn,
        }
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            message = self._next(deadline - time.time() + 0.5)
        except TimeoutError:
            self.kill()
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
            text = f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds"
            return False, {"errorType": "Sandbox.Timedout", "errorMessage": text}
        except (WorkerDied, BrokenPipeError, OSError) as exc:
            self.kill()
            return False, {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {exc}"}
        self._drain_logs(request_id)
        if message.get("type") == "result":
            return True, message.get("result")
        return False, message.get("error") or {"errorType": "Runtime.Unknown", "errorMessage": str(message)}

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(OSError, ValueError):
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.close()  # type: ignore[union-attr]
