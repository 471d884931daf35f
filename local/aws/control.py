"""Controls of the embedded AWS that real AWS does not offer: failure injection, timings, pausing transitions.

Usable in-process (``aws.control``) and from another process through ``POST {endpoint_url}/_local/control`` with a
JSON body ``{"action": "<method name>", ...keyword arguments}``; the answer is JSON ``{"ok": true, "result": ...}``
or ``{"ok": false, "error": "..."}`` with status 400.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from local.aws.runtime import RUNTIME, Fault, Timings

if TYPE_CHECKING:
    from local.aws.server import EmbeddedAWS

logger = logging.getLogger(__name__)

CONTROL_PATH = "/_local/control"


class Control:
    """Failure injection and time control for the SageMaker extensions."""

    def __init__(self, aws: EmbeddedAWS) -> None:
        self._aws = aws

    # -- faults ---------------------------------------------------------------------------------------------------
    def inject_endpoint_failure(self, endpoint_name: str, reason: str | None = None, operation: str = "any") -> None:
        """The next create or update (``operation``: "create" | "update" | "any") of the endpoint fails.

        A failed creation leaves the endpoint ``Failed``; a failed update returns it to ``InService`` on its old
        config; both set ``FailureReason`` (``reason`` or SageMaker's health-check message).
        """
        if operation not in ("create", "update", "any"):
            raise ValueError("operation must be 'create', 'update' or 'any'")
        RUNTIME.add_fault(endpoint_name, Fault(kind="fail", operation=operation, reason=reason))

    def inject_guardrail_rollback(
        self, endpoint_name: str, reason: str | None = None, alarm_name: str | None = None
    ) -> None:
        """An auto-rollback alarm trips while the next update of the endpoint bakes.

        The endpoint stays ``Updating`` while traffic goes back to the old fleet, then returns to ``InService`` on
        its old config with a ``FailureReason`` naming the alarm (``alarm_name``, else the update's first
        AutoRollbackConfiguration alarm).
        """
        RUNTIME.add_fault(
            endpoint_name, Fault(kind="rollback", operation="update", reason=reason, alarm_name=alarm_name)
        )

    def clear_faults(self, endpoint_name: str | None = None) -> None:
        RUNTIME.clear_faults(endpoint_name)

    def pending_faults(self) -> dict[str, list[dict[str, Any]]]:
        return RUNTIME.pending_faults()

    # -- time -----------------------------------------------------------------------------------------------------
    def set_timings(self, timings: Timings | None = None, **changes: float) -> Timings:
        """Replace the timings (or some of them: ``set_timings(endpoint_update=5)``); applies to later operations."""
        RUNTIME.timings = (timings or RUNTIME.timings).replace(**changes)
        return RUNTIME.timings

    def timings(self) -> Timings:
        return RUNTIME.timings

    def pause_transitions(self) -> None:
        """Hold every status transition (endpoints stay ``Creating``/``Updating``/``Deleting``) until resumed."""
        RUNTIME.scheduler.pause()

    def resume_transitions(self) -> None:
        RUNTIME.scheduler.resume()

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until due transitions have run and queued events are delivered (held transitions do not count)."""
        RUNTIME.wait_idle(timeout)

    # -- events and pipeline records (for other processes) --------------------------------------------------------
    def emit(
        self, detail_type: str, detail: dict[str, Any], resources: Iterable[str], time: str | None = None
    ) -> dict[str, Any]:
        return self._aws.emit(detail_type, detail, resources, time=time)

    def emitted_events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in list(RUNTIME.emitted_events) if detail_type is None or e["detail-type"] == detail_type]

    def record_step(self, execution_arn: str, step: dict[str, Any]) -> dict[str, Any]:
        return self._aws.sagemaker_store.record_step(execution_arn, step)

    def update_step(self, execution_arn: str, step_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self._aws.sagemaker_store.update_step(execution_arn, step_name, **fields)

    def set_pipeline_execution_status(self, execution_arn: str, status: str, failure_reason: str | None = None) -> None:
        self._aws.sagemaker_store.set_pipeline_execution_status(execution_arn, status, failure_reason)

    def reset(self) -> None:
        """Forget all AWS state, faults, scheduled transitions and the event log."""
        self._aws.reset()

    # -- pipelines (the local pipeline runner, when one is installed) ---------------------------------------------
    @staticmethod
    def _runner() -> Any:
        from local.pipelines import active_runner  # noqa: PLC0415 - the runner is optional and imports the SDK

        runner = active_runner()
        if runner is None:
            raise ValueError("no pipeline runner is installed on this embedded AWS")
        return runner

    def interrupt_training(self, after_checkpoints: int = 1, step_name: str | None = None) -> dict[str, Any]:
        """Arm a Spot interruption of the next training job: it stops, restarts and resumes from its checkpoints."""
        self._runner().interrupt_training(after_checkpoints=after_checkpoints, step_name=step_name)
        return {"armed": True}

    def fail_capacity(self, step_name: str, times: int = 1) -> dict[str, Any]:
        """Make the next ``times`` jobs of ``step_name`` fail with a Spot capacity error (exercises retry policies)."""
        self._runner().fail_capacity(step_name, times)
        return {"armed": True}

    # -- HTTP -----------------------------------------------------------------------------------------------------
    HTTP_ACTIONS = (
        "inject_endpoint_failure",
        "inject_guardrail_rollback",
        "clear_faults",
        "pending_faults",
        "set_timings",
        "timings",
        "pause_transitions",
        "resume_transitions",
        "wait_idle",
        "emit",
        "emitted_events",
        "record_step",
        "update_step",
        "set_pipeline_execution_status",
        "reset",
        "interrupt_training",
        "fail_capacity",
    )

    def handle(self, payload: dict[str, Any]) -> Any:
        """Run one control action from a JSON payload."""
        payload = dict(payload)
        action = payload.pop("action", None)
        if action not in self.HTTP_ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(self.HTTP_ACTIONS)}")
        method: Callable[..., Any] = getattr(self, action)
        result = method(**payload)
        if isinstance(result, Timings):
            return {
                "endpoint_create": result.endpoint_create,
                "endpoint_update": result.endpoint_update,
                "endpoint_delete": result.endpoint_delete,
            }
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
            result = control.handle(payload)
        except Exception as exc:
            logger.warning("control request failed: %s", exc)
            return _json(start_response, 400, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return _json(start_response, 200, {"ok": True, "result": result})

    return wsgi


def _json(start_response: Callable[..., Any], status: int, body: Any) -> list[bytes]:
    data = json.dumps(body, default=str).encode()
    reason = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
