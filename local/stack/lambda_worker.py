"""A warm Lambda execution environment for one function: a subprocess that imports the handler once and serves invokes.

Started by the local stack as ``python -S -P local/stack/lambda_worker.py MODULE.FUNCTION`` with the function's
environment (``PYTHONPATH`` = the function's code folder, its layers, then the interpreter's site-packages; cwd = the
code folder; no ``.pth`` file runs, so the development install of this repository is invisible), so that nothing of this
repository but the function and its layers is importable, as in Lambda. Standard library only.

Protocol (JSON lines): the worker writes ``{"type": "ready"}`` or ``{"type": "init_error", "error": {...}}`` after
importing the handler, then answers each request ``{"request_id", "event", "deadline_ms", "invoked_function_arn"}``
read from stdin with ``{"type": "result", "request_id", "result"}`` or ``{"type": "error", "request_id", "error"}``,
``error`` in Lambda's shape (``errorMessage``, ``errorType``, ``stackTrace``). Protocol messages go to a private copy
of the original stdout; the handler's own stdout and stderr both go to stderr, which the runtime forwards as logs.
Before answering a request the worker ends its log lines with ``LOG_BARRIER`` + the request id on stderr: the runtime
reads the two pipes apart, and waits for the barrier so that every line of an invocation is shipped with it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

LOG_BARRIER = "\x1eend-of-logs "  # + request id: not a log line; every line of the invocation precedes it


class LambdaContext:
    """The context object of the Python runtime (same attribute names and types)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames),
    }


def _load(handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _InitError(f"Unable to import module '{module_name}': {exc}", "Runtime.ImportModuleError") from exc
    except SyntaxError as exc:
        raise _InitError(f"Syntax error in module '{module_name}': {exc}", "Runtime.UserCodeSyntaxError") from exc
    try:
        return getattr(module, function_name)
    except AttributeError as exc:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise _InitError(message, "Runtime.HandlerNotFound") from exc


class _InitError(Exception):
    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _end_logs(request_id: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"{LOG_BARRIER}{request_id}\n")
    sys.stderr.flush()


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # the handler's prints and loggers writing to stdout end up in the log stream
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    def send(message: dict[str, Any]) -> None:
        if "request_id" in message:  # an answer: the invocation's log lines are all out first
            _end_logs(message["request_id"])
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    try:
        handler = _load(sys.argv[1])
    except _InitError as exc:
        traceback.print_exc()
        send({"type": "init_error", "error": _error(exc, exc.error_type)})
        return 1
    except Exception as exc:  # the module raised while importing: Lambda reports the exception itself
        traceback.print_exc()
        send({"type": "init_error", "error": _error(exc)})
        return 1
    send({"type": "ready"})

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        request_id = request["request_id"]
        os.environ["_X_AMZN_REQUEST_ID"] = request_id
        context = LambdaContext(request_id, request["deadline_ms"], request["invoked_function_arn"])
        try:
            result = handler(request["event"], context)
        except Exception as exc:
            error = _error(exc)
            error["requestId"] = request_id
            print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", file=sys.stderr)
            traceback.print_exc()
            send({"type": "error", "request_id": request_id, "error": error})
            continue
        try:
            payload = json.dumps({"type": "result", "request_id": request_id, "result": result})
        except (TypeError, ValueError) as exc:
            message = f"Unable to marshal response: {exc}"
            error = {"errorMessage": message, "errorType": "Runtime.MarshalError", "requestId": request_id}
            send({"type": "error", "request_id": request_id, "error": {**error, "stackTrace": []}})
            continue
        _end_logs(request_id)
        protocol.write(payload + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
