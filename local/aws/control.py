"""Controls of the embedded AWS that real AWS does not offer: failure injection, timings, pausing transitions.

Usable in-process (``aws.control``) and from another process through the HTTP route of
:mod:`local.aws.control_route`. The pipeline actions reach the pipeline executor attached to the embedded SageMaker
(:mod:`local.aws.sagemaker.pipelines.executors`), if there is one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_api._internal.models import moto_api_backend

from local.aws.eventbridge.service_events import put_service_events
from local.aws.faults import FAULT_OPERATIONS, Fault
from local.aws.runtime import RUNTIME, Timings
from local.aws.sagemaker.events import models as events
from local.aws.sagemaker.pipelines import executors
from local.aws.sagemaker.pipelines.executors import PipelineExecutor
from local.aws.sagemaker.pipelines.store import SageMakerStore
from local.aws.sagemaker.registry.models import PACKAGE_CREATION_FIELDS
from local.aws.sagemaker.serving.invocation_faults import INVOCATION_FAULTS
from local.aws.scheduler.models import FIRINGS
from local.iam import Enforcer


class Control:
    """Failure injection and time control for the SageMaker extensions of one account and region."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.store = SageMakerStore()
        self.iam: Enforcer | None = None  # the IAM enforcement of the embedded AWS, once it is started
        # what wait_idle waits for besides the embedded AWS: a served stack's functions (set by `python -m local serve`)
        self.idle_waiter: Callable[[float], None] | None = None

    # -- IAM ------------------------------------------------------------------------------------------------------
    def iam_decisions(self, clear: bool = False) -> dict[str, Any]:
        """IAM's counts (allowed, denied, unevaluated, unmapped) and every denial so far; ``clear`` resets them."""
        if self.iam is None:
            return {"enforced": False, "counts": {}, "denials": []}
        answer = {
            "enforced": True,
            "counts": dict(self.iam.log.counts),
            "denials": [dataclasses.asdict(denial) for denial in self.iam.log.denials],
        }
        if clear:
            self.iam.log.reset()
        return answer

    # -- faults ---------------------------------------------------------------------------------------------------
    def inject_endpoint_failure(self, endpoint_name: str, reason: str | None = None, operation: str = "any") -> None:
        """The next create or update (``operation``: "create" | "update" | "any") of the endpoint fails.

        A failed creation leaves the endpoint ``Failed``; a failed update returns it to ``InService`` on its old
        config; both set ``FailureReason`` (``reason`` or SageMaker's health-check message).
        """
        if operation not in FAULT_OPERATIONS:
            raise ValueError("operation must be 'create', 'update' or 'any'")
        RUNTIME.faults.add(endpoint_name, Fault(kind="fail", operation=operation, reason=reason))

    def inject_guardrail_rollback(
        self, endpoint_name: str, reason: str | None = None, alarm_name: str | None = None
    ) -> None:
        """An auto-rollback alarm trips while the next update of the endpoint bakes.

        The endpoint stays ``Updating`` while traffic goes back to the old fleet, then returns to ``InService`` on
        its old config with a ``FailureReason`` naming the alarm (``alarm_name``, else the update's first
        AutoRollbackConfiguration alarm).
        """
        RUNTIME.faults.add(
            endpoint_name, Fault(kind="rollback", operation="update", reason=reason, alarm_name=alarm_name)
        )

    def inject_invocation_errors(
        self, endpoint_name: str, status: int = 500, times: int = 1, message: str = "injected failure"
    ) -> None:
        """The endpoint's next ``times`` invocations fail as if its model answered ``status`` (a 5xx burst counts in
        ``Invocation5XXErrors``; see :mod:`local.aws.sagemaker.serving.invocation_faults`)."""
        INVOCATION_FAULTS.inject(endpoint_name, status, times, message)

    def duplicate_schedule_firings(self, schedule_arn: str, times: int = 1) -> None:
        """The schedule's next ``times`` firings reach its target twice (EventBridge Scheduler is at-least-once)."""
        FIRINGS.duplicate(schedule_arn, times)

    def schedule_firings(self, schedule_arn: str | None = None) -> list[dict[str, Any]]:
        """Every firing of EventBridge Scheduler schedules so far (of one schedule if given), oldest first."""
        return [dataclasses.asdict(f) for f in list(FIRINGS.fired) if schedule_arn in (None, f.schedule_arn)]

    def inject_service_fault(self, service: str, operation: str = "*", kind: str = "throttle", **options: Any) -> dict:
        """Calls of ``service`` (boto3's name) to ``operation`` (``"*"``: all) meet ``kind``: ``"throttle"``,
        ``"internal"`` (500), ``"unavailable"`` (503), ``"latency"`` (``latency=`` seconds, then through) or
        ``"error"`` (``code=``, ``status=``). Options: ``times`` (calls), ``seconds`` (a window), ``after`` (calls let
        through first), ``latency``, ``code``, ``status``, ``message``. The fault, described
        (:mod:`local.aws.service_faults`)."""
        fault = RUNTIME.service_faults.add(service, kind, operation=operation, **options)
        return fault.describe(time.monotonic())

    def service_faults(self) -> list[dict[str, Any]]:
        """The faults still waiting, each with the calls it answered (``applied``) and what remains of it."""
        return RUNTIME.service_faults.pending()

    def service_fault_log(self) -> list[dict[str, Any]]:
        """Every call a fault answered, oldest first: the fault's id, the service and operation, the error."""
        return [dataclasses.asdict(hit) for hit in list(RUNTIME.service_faults.hits)]

    def clear_service_faults(self, fault_id: str | None = None, service: str | None = None) -> int:
        """Remove one fault, a service's, or all of them (the log stays); how many were removed."""
        return RUNTIME.service_faults.clear(fault_id, service)

    def clear_faults(self, endpoint_name: str | None = None) -> None:
        RUNTIME.faults.clear(endpoint_name)

    def pending_faults(self) -> dict[str, list[dict[str, Any]]]:
        return RUNTIME.faults.pending()

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
        """Until due transitions have run and queued events are delivered (held transitions do not count); with an
        ``idle_waiter`` (a served stack's ``wait_idle``, which waits for the embedded AWS too), until the stack's
        functions are idle as well: no event queued for one, none running, no retry pending."""
        if self.idle_waiter is not None:
            self.idle_waiter(timeout)
        else:
            RUNTIME.wait_idle(timeout)

    # -- events and pipeline records (for other processes) --------------------------------------------------------
    def emit(
        self, detail_type: str, detail: dict[str, Any], resources: Iterable[str], time: str | None = None
    ) -> dict[str, Any]:
        """Put an ``aws.sagemaker`` event on the default bus (as SageMaker would); returns it once delivered."""
        return events.emit(
            detail_type, detail, resources, account=self.account_id, region=self.region, time=time, wait=True
        )

    def put_service_events(self, events: list[dict[str, Any]]) -> list[str]:
        """Put events as the AWS services named by their ``source`` send them (``aws.sagemaker``, ``aws.s3``...),
        which ``PutEvents`` refuses from customers; their ids, once delivered (:mod:`local.aws.eventbridge`)."""
        return put_service_events(events, account=self.account_id, region=self.region)

    def emitted_events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in list(RUNTIME.emitted_events) if detail_type is None or e["detail-type"] == detail_type]

    def set_package_creation_fields(self, shape: str) -> None:
        """How the creation event of a model package carries ``UpdatedModelPackageFields`` (AWS does not say):
        ``"absent"`` (as in the documented samples; the default), ``"empty"`` (``[]``) or ``"given"`` (the fields
        the CreateModelPackage request set, e.g. ``["ModelApprovalStatus", "InferenceSpecification"]``)."""
        if shape not in PACKAGE_CREATION_FIELDS:
            raise ValueError(f"shape must be one of {', '.join(PACKAGE_CREATION_FIELDS)}, not {shape!r}")
        RUNTIME.package_creation_fields = shape

    def record_step(self, execution_arn: str, step: dict[str, Any]) -> dict[str, Any]:
        return self.store.record_step(execution_arn, step)

    def update_step(self, execution_arn: str, step_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.store.update_step(execution_arn, step_name, **fields)

    def set_pipeline_execution_status(self, execution_arn: str, status: str, failure_reason: str | None = None) -> None:
        self.store.set_pipeline_execution_status(execution_arn, status, failure_reason)

    def reset(self) -> None:
        """Forget all AWS state, faults, scheduled transitions and the event log."""
        with RUNTIME.lock:
            RUNTIME.reset()
            moto_api_backend.reset()

    # -- pipelines (the attached pipeline executor) ---------------------------------------------------------------
    @staticmethod
    def _executor() -> PipelineExecutor:
        executor = executors.attached()
        if executor is None:
            raise ValueError("no pipeline runner is installed on this embedded AWS")
        return executor

    def interrupt_training(self, after_checkpoints: int = 1, step_name: str | None = None) -> dict[str, Any]:
        """Arm a Spot interruption of the next training job: it stops, restarts and resumes from its checkpoints."""
        self._executor().interrupt_training(after_checkpoints=after_checkpoints, step_name=step_name)
        return {"armed": True}

    def fail_capacity(self, step_name: str, times: int = 1) -> dict[str, Any]:
        """Make the next ``times`` jobs of ``step_name`` fail with a Spot capacity error (exercises retry policies)."""
        self._executor().fail_capacity(step_name, times)
        return {"armed": True}
