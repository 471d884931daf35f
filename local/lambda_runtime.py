"""Lambda's asynchronous invocation, locally: warm worker subprocesses, retries, event age, dead-letter queues.

Semantics follow the Lambda developer guide ("Asynchronous invocation", "Dead-letter queues", "Event invoke config"):
an event is queued, the function runs; on a function error Lambda retries up to ``MaximumRetryAttempts`` times
(default 2), waiting about one minute then two; an event older than ``MaximumEventAgeInSeconds`` is discarded; a
discarded event goes to the function's dead-letter queue (SQS message or SNS notification whose body is the event and
whose message attributes are ``RequestID``, ``ErrorCode`` (200) and ``ErrorMessage``) and to the ``OnFailure``
destination if one is configured. Retries of one event keep its request id.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import site
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
function_logger = logging.getLogger("local.lambda")

WORKER_SCRIPT = Path(__file__).resolve().parent / "lambda_worker.py"
LAMBDA_RETRY_DELAYS = (60.0, 120.0)  # what Lambda waits before the 2nd and the 3rd attempt
ERROR_MESSAGE_LIMIT = 1024  # Lambda puts the first 1 KB of the error message in the DLQ message attribute
INIT_TIMEOUT = 10.0  # Lambda's init phase limit for on-demand functions


@dataclass
class FunctionSpec:
    """A deployed function as the local runtime needs it (from the translated template, resolved)."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout: float = 3.0
    memory_size: int = 128
    max_concurrency: int = 4
    max_retries: int = 2
    max_event_age: float = 21600.0
    dead_letter_arn: str | None = None
    on_failure_arn: str | None = None
    on_success_arn: str | None = None
    log_group: str = ""
    queue_url: str = ""
    queue_arn: str = ""


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
            self.write_log(line.rstrip("\n"))

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

    def _ship_logs(self, worker: Worker) -> None:
        events = worker.take_log_events()
        if events and self._on_logs is not None:
            try:
                self._on_logs(self.spec, worker.log_stream, events)
            except Exception:
                logger.debug("%s: logs not shipped", self.spec.logical_id, exc_info=True)

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
        self._ship_logs(worker)
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
            self._ship_logs(worker)
        self._executor.shutdown(wait=False, cancel_futures=True)


def worker_environment(
    spec_env: dict[str, str],
    *,
    function_name: str,
    handler: str,
    memory_size: int,
    code_dir: Path,
    layer_dirs: list[Path],
    log_group: str,
    region: str,
    endpoint_url: str,
) -> dict[str, str]:
    """The process environment of a function: Lambda's reserved variables, then the template's variables."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        # the code folder, the layers, then the interpreter's third-party packages (Lambda's /var/runtime)
        "PYTHONPATH": os.pathsep.join(str(path) for path in [code_dir, *layer_dirs, *site.getsitepackages()]),
        "PYTHONUNBUFFERED": "1",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "_HANDLER": handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": endpoint_url,
        # no shared config or credentials files in Lambda: keep the developer's ~/.aws out of the function
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # there is no X-Ray daemon locally
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    reserved = {key for key in env if key.startswith(("AWS_LAMBDA_", "LAMBDA_", "_"))} | {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    }
    clash = reserved & set(spec_env)
    if clash:  # Lambda rejects the function at deployment
        raise ValueError(f"{function_name}: reserved environment variables set in the template: {sorted(clash)}")
    env.update(spec_env)
    return env
