"""The HTTP route of the control API: ``POST {endpoint_url}/_local/control`` in front of moto's server.

The body is JSON ``{"action": "<Control method name>", ...keyword arguments}``; the answer is JSON
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` with status 400.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

from local.aws.control import Control
from local.aws.timings import Timings

logger = logging.getLogger(__name__)

CONTROL_PATH = "/_local/control"
HTTP_ACTIONS = (
    "inject_endpoint_failure",
    "inject_guardrail_rollback",
    "duplicate_schedule_firings",
    "inject_invocation_errors",
    "schedule_firings",
    "clear_faults",
    "inject_service_fault",
    "service_faults",
    "service_fault_log",
    "clear_service_faults",
    "pending_faults",
    "set_timings",
    "timings",
    "pause_transitions",
    "resume_transitions",
    "wait_idle",
    "emit",
    "put_service_events",
    "emitted_events",
    "set_package_creation_fields",
    "record_step",
    "update_step",
    "set_pipeline_execution_status",
    "reset",
    "interrupt_training",
    "fail_capacity",
    "iam_decisions",
)
_REASONS = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed"}


def handle(control: Control, payload: dict[str, Any]) -> Any:
    """Run one control action from a JSON payload; its result, as JSON can carry it."""
    payload = dict(payload)
    action = payload.pop("action", None)
    if action not in HTTP_ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(HTTP_ACTIONS)}")
    method: Callable[..., Any] = getattr(control, action)
    result = method(**payload)
    if isinstance(result, Timings):
        return dataclasses.asdict(result)
    return result


def control_middleware(app: Callable[..., Any], control: Control) -> Callable[..., Any]:
    """WSGI middleware answering ``POST /_local/control`` and passing everything else to moto."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, 405, {"ok": False, "error": "use POST"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            payload = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            result = handle(control, payload)
        except Exception as exc:
            logger.warning("control request failed: %s", exc)
            return _json(start_response, 400, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return _json(start_response, 200, {"ok": True, "result": result})

    return wsgi


def _json(start_response: Callable[..., Any], status: int, body: Any) -> list[bytes]:
    data = json.dumps(body, default=str).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(f"{status} {_REASONS[status]}", headers)
    return [data]
