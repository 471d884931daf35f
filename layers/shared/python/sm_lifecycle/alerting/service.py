"""Alerts on pipeline executions that failed, stopped or completed with failures, failed pipeline steps and failed or
stopped training jobs.

One SNS message per failure, whatever SageMaker and EventBridge deliver:

- Duplicates are suppressed on WHAT CHANGED, not on the event id (SageMaker may send several events, with different
  ids, for one change): the kernel's idempotency (Powertools, DynamoDB table ``IDEMPOTENCY_TABLE_NAME``) records the
  key (:func:`~sm_lifecycle.alerting.model.dedupe_key`) of each alert published, and a second alert with the same key
  within ``DEDUPE_WINDOW_SECONDS`` is not sent.
- The alert names the pipeline, the execution, the failing step and its ``FailureReason``: from the step event
  itself, or, for an execution event, from ``ListPipelineExecutionSteps`` (``DescribePipelineExecution`` as a last
  resort).
- A training job is its own resource: its alert (with Spot capacity and interruptions called out as such) is
  separate from the alert of the pipeline execution that launched it.

Looking up a missing reason is best effort: if SageMaker cannot tell, the alert still goes out, saying so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.alerting.message import PipelineFailure, TrainingJobFailure, pipeline_alert, training_job_alert
from sm_lifecycle.alerting.model import FAILED_STEPS_STATUSES, Alert, AlertEvent, FailedStep, dedupe_key, status_of
from sm_lifecycle.kernel.clients import error_code, error_message
from sm_lifecycle.kernel.errors import ForeignEventError, TransientError
from sm_lifecycle.kernel.events import (
    PipelineExecutionStatusChangeEvent,
    PipelineStepStatusChangeEvent,
    TrainingJobStateChangeEvent,
)
from sm_lifecycle.kernel.idempotency import Idempotent
from sm_lifecycle.kernel.notify import publish_alert
from sm_lifecycle.kernel.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["KEY_PREFIX", "Reads", "alert_on_event", "build_alert"]

logger = Logger(child=True)

KEY_PREFIX = "sm-lifecycle-alert"


class Reads(Protocol):
    """What an alert may need to ask SageMaker (``sm_lifecycle.alerting.sagemaker``); each answer has a note."""

    def failed_steps(self, execution_arn: str) -> tuple[list[FailedStep], str | None]: ...

    def execution_failure_reason(self, execution_arn: str) -> tuple[str | None, str | None]: ...

    def training_job(self, name: str) -> tuple[dict[str, Any], str | None]: ...

    def job_name(self, arn: str) -> tuple[str | None, str | None]: ...


def alert_on_event(
    event: AlertEvent, settings: Settings, reads: Reads, once: Idempotent, *, context: LambdaContext | None
) -> dict[str, Any]:
    """Publish the alert that ``event`` calls for, once per failure. Returns the outcome:

    ``{"status": "published", "key": ..., "message_id": ..., "subject": ...}``, ``{"status": "duplicate", ...}``
    (an alert for the same failure already went out) or ``{"status": "ignored", "reason": ...}`` (nothing failed).
    Raises ``ForeignEventError`` (ignored) for another pipeline's events; ``ConflictError`` while a concurrent
    invocation is publishing the alert of the same change (nothing left to do); ``TransientError`` when publishing
    fails or the idempotency table cannot be reached (Lambda retries).
    """
    _check_pipeline(event, settings)
    key = dedupe_key(event)
    if key is None:
        return {"status": "ignored", "reason": f"{status_of(event)} needs no alert"}

    def publish() -> dict[str, Any]:
        alert = build_alert(event, settings, reads)
        try:
            message_id = publish_alert(settings, alert.subject, alert.message, alert.severity, alert.attributes)
        except (BotoCoreError, ClientError) as exc:
            # Whatever the cause (throttling, a missing topic, permissions), retrying is the way not to lose the
            # alert: Lambda retries, then keeps the event in the dead-letter queue, whose alarm reaches a human.
            detail = f"{error_code(exc)}: " if error_code(exc) else ""
            raise TransientError(f"publish alert: {detail}{error_message(exc)}") from exc
        logger.info("alert published", extra={"key": key, "message_id": message_id, "subject": alert.subject})
        return {"status": "published", "key": key, "message_id": message_id, "subject": alert.subject}

    recorded = once.run(key, publish, context=context)
    if not recorded.duplicate:
        return recorded.result
    logger.info("duplicate of an alert already published: suppressed", extra={"key": key})
    return {**recorded.result, "status": "duplicate", "key": key}


def _check_pipeline(event: AlertEvent, settings: Settings) -> None:
    if isinstance(event, PipelineExecutionStatusChangeEvent | PipelineStepStatusChangeEvent):
        name = event.detail.pipeline_name
        if name.lower() != settings.pipeline_name.lower():
            raise ForeignEventError(
                f"detail.pipelineArn: event of pipeline {name!r}, this stack watches {settings.pipeline_name!r}",
                field="detail.pipelineArn",
            )


def build_alert(event: AlertEvent, settings: Settings, reads: Reads) -> Alert:
    """The alert for ``event``, asking SageMaker (``reads``) for whatever the event leaves out."""
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        return pipeline_alert(_with_job_names(_execution_failure(event, reads), reads), settings)
    if isinstance(event, PipelineStepStatusChangeEvent):
        return pipeline_alert(_with_job_names(_step_failure(event, reads), reads), settings)
    return training_job_alert(_training_job_failure(event, reads), settings)


def _with_job_names(failure: PipelineFailure, reads: Reads) -> PipelineFailure:
    """The failed steps' jobs by their real names (their ARNs lower-case them; best effort: else the ARN's)."""
    steps = []
    for step in failure.steps:
        name = reads.job_name(step.job[1])[0] if step.job else None
        steps.append(replace(step, job_name=name) if name else step)
    return replace(failure, steps=steps)


def _execution_failure(event: PipelineExecutionStatusChangeEvent, reads: Reads) -> PipelineFailure:
    detail = event.detail
    status = detail.current_pipeline_execution_status
    steps: list[FailedStep] = []
    note = None
    reason = detail.failure_reason
    if status in FAILED_STEPS_STATUSES or not reason:
        steps, note = reads.failed_steps(detail.pipeline_execution_arn)
    if not reason and not steps:
        reason, reason_note = reads.execution_failure_reason(detail.pipeline_execution_arn)
        note = note or reason_note
    return PipelineFailure(
        pipeline=detail.pipeline_name,
        execution_arn=detail.pipeline_execution_arn,
        execution_id=detail.execution_id,
        status=status,
        event_id=event.id,
        steps=steps,
        reason=reason,
        previous=detail.previous_pipeline_execution_status,
        display_name=detail.pipeline_execution_display_name,
        description=detail.pipeline_execution_description,
        lookup_note=note,
        started=detail.execution_start_time,
        ended=detail.execution_end_time,
    )


def _step_failure(event: PipelineStepStatusChangeEvent, reads: Reads) -> PipelineFailure:
    detail = event.detail
    step = FailedStep(detail.step_name, detail.step_type, detail.failure_reason, dict(detail.metadata or {}))
    note = None
    if not step.reason:
        found, note = reads.failed_steps(detail.pipeline_execution_arn)
        match = next((s for s in found if s.name == step.name), None)
        if match is not None:
            step = FailedStep(
                step.name, step.step_type or match.step_type, match.reason, step.metadata or match.metadata
            )
    return PipelineFailure(
        pipeline=detail.pipeline_name,
        execution_arn=detail.pipeline_execution_arn,
        execution_id=detail.execution_id,
        status="Failed",
        event_id=event.id,
        steps=[step],
        lookup_note=note,
        started=detail.step_start_time,
        ended=detail.step_end_time,
    )


def _training_job_failure(event: TrainingJobStateChangeEvent, reads: Reads) -> TrainingJobFailure:
    detail = event.detail
    failure = TrainingJobFailure(
        name=detail.training_job_name,
        status=detail.training_job_status,
        event_id=event.id,
        reason=detail.failure_reason,
        secondary=detail.secondary_status,
        transitions=list(detail.secondary_status_transitions),
        stopping=dict(detail.stopping_condition or {}),
        resources=dict(detail.resource_config or {}),
        spot_enabled=detail.enable_managed_spot_training,
        started=detail.training_start_time,
        ended=detail.training_end_time,
    )
    if failure.reason:
        return failure
    described, note = reads.training_job(failure.name)
    return replace(
        failure,
        reason=described.get("FailureReason"),
        secondary=failure.secondary or described.get("SecondaryStatus"),
        transitions=failure.transitions or list(described.get("SecondaryStatusTransitions") or []),
        stopping=failure.stopping or dict(described.get("StoppingCondition") or {}),
        spot_enabled=(
            failure.spot_enabled if failure.spot_enabled is not None else described.get("EnableManagedSpotTraining")
        ),
        lookup_note=note,
    )
