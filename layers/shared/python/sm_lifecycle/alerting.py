"""Alerts on failed or stopped pipeline executions, failed pipeline steps and failed or stopped training jobs.

One SNS message per failure, whatever SageMaker and EventBridge deliver:

- Duplicates are suppressed on WHAT CHANGED, not on the event id (SageMaker may send several events, with different
  ids, for one change): the Powertools idempotency utility (DynamoDB table ``IDEMPOTENCY_TABLE_NAME``) records a key
  for each alert published, and a second alert with the same key within :data:`DEDUPE_WINDOW_SECONDS` is not sent.
- Keys: a pipeline execution's end, ``(execution ARN, status)``; a training job's end, ``(job name, status)``.
- Step vs execution: a failed step and the failure of its execution are ONE failure. A step ``Failed`` event uses the
  same key as its execution's ``Failed`` event, so whichever arrives first sends the alert and the other is suppressed.
  Either way the alert names the pipeline, the execution, the failing step and its ``FailureReason``: from the step
  event itself, or, for an execution event, from ``ListPipelineExecutionSteps`` (``DescribePipelineExecution`` as a
  last resort).
- A training job is its own resource: its alert (with Spot capacity and interruptions called out as such) is
  separate from the alert of the pipeline execution that launched it.

Looking up a missing reason is best effort: if SageMaker cannot tell, the alert still goes out, saying so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle import clients
from sm_lifecycle.errors import ConflictError, InvalidEventError, TransientError
from sm_lifecycle.events import (
    PipelineExecutionStatusChangeEvent,
    PipelineStepStatusChangeEvent,
    SageMakerEvent,
    TrainingJobStateChangeEvent,
    parse_any,
)
from sm_lifecycle.notify import Severity, publish_alert
from sm_lifecycle.settings import Settings

__all__ = ["DEDUPE_WINDOW_SECONDS", "Alert", "alert_on_event", "build_alert", "dedupe_key", "spot_cause"]

logger = Logger()

DEDUPE_WINDOW_SECONDS = 6 * 3600
"""How long an alert key is remembered: the function's MaximumEventAgeInSeconds (template.yaml), the longest an
event (or a retry of it) can still arrive. A retried execution failing again after this window alerts again."""

_KEY_PREFIX = "sm-lifecycle-alert"
_ALERTED_EXECUTION = {"Failed", "Stopped"}
_ALERTED_STEP = {"Failed"}
_ALERTED_JOB = {"Failed", "Stopped"}

AlertEvent = PipelineExecutionStatusChangeEvent | PipelineStepStatusChangeEvent | TrainingJobStateChangeEvent


@dataclass(frozen=True)
class Alert:
    """One alert, ready to publish."""

    subject: str
    message: str
    severity: Severity
    attributes: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- entry point


def alert_on_event(event: dict[str, Any], settings: Settings, context: Any = None) -> dict[str, Any]:
    """Publish the alert that ``event`` calls for, once per failure. Returns the outcome:

    ``{"status": "published", "key": ..., "message_id": ..., "subject": ...}``, ``{"status": "duplicate", ...}``
    (an alert for the same failure already went out) or ``{"status": "ignored", "reason": ...}`` (nothing failed).
    Raises ``InvalidEventError`` for malformed events, other detail-types or another pipeline's events;
    ``ConflictError`` while a concurrent invocation is publishing the alert of the same change (nothing left to do);
    ``TransientError`` when publishing fails or the idempotency table cannot be reached (Lambda retries).
    """
    parsed = parse_any(event)
    if not isinstance(parsed, AlertEvent):
        raise InvalidEventError(
            f"detail-type: the alert function does not handle {parsed.detail_type!r} events", field="detail-type"
        )
    _check_pipeline(parsed, settings)
    key = dedupe_key(parsed)
    if key is None:
        return {"status": "ignored", "reason": f"{_status_of(parsed)} needs no alert"}

    nonce = uuid.uuid4().hex
    config = IdempotencyConfig(expires_after_seconds=DEDUPE_WINDOW_SECONDS)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        config.register_lambda_context(context)
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=clients.client("dynamodb")
    )

    @idempotent_function(
        data_keyword_argument="change", persistence_store=persistence, config=config, key_prefix=_KEY_PREFIX
    )
    def publish_once(*, change: dict[str, str], build: Callable[[], Alert], nonce: str) -> dict[str, str]:
        alert = build()
        message_id = publish_alert(settings, alert.subject, alert.message, alert.severity, alert.attributes)
        logger.info("alert published", extra={"key": change, "message_id": message_id, "subject": alert.subject})
        return {"message_id": message_id, "subject": alert.subject, "nonce": nonce}

    try:
        result = publish_once(change=key, build=lambda: build_alert(parsed, settings), nonce=nonce)
    except IdempotencyAlreadyInProgressError as exc:
        # A concurrent delivery of the same change holds the record: it publishes (or fails and is retried by
        # Lambda), so this one has nothing left to do.
        raise ConflictError(f"an alert for {key} is being published by another invocation") from exc
    except IdempotencyPersistenceLayerError as exc:
        raise TransientError(f"idempotency table {settings.idempotency_table_name}: {exc}") from exc
    except (BotoCoreError, ClientError) as exc:
        # Whatever the cause (throttling, a missing topic, permissions), retrying is the way not to lose the alert:
        # Lambda retries, then keeps the event in the dead-letter queue, whose alarm reaches a human.
        detail = f"{clients.error_code(exc)}: " if clients.error_code(exc) else ""
        raise TransientError(f"publish alert: {detail}{clients.error_message(exc)}") from exc
    status = "published" if result.get("nonce") == nonce else "duplicate"
    if status == "duplicate":
        logger.info("duplicate of an alert already published: suppressed", extra={"key": key})
    return {"status": status, "key": key, "message_id": result.get("message_id"), "subject": result.get("subject")}


def _status_of(event: AlertEvent) -> str:
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        return f"pipeline execution status {event.detail.current_pipeline_execution_status}"
    if isinstance(event, PipelineStepStatusChangeEvent):
        return f"pipeline step status {event.detail.current_step_status}"
    return f"training job status {event.detail.training_job_status}"


def _check_pipeline(event: SageMakerEvent, settings: Settings) -> None:
    if isinstance(event, PipelineExecutionStatusChangeEvent | PipelineStepStatusChangeEvent):
        name = event.detail.pipeline_name
        if name.lower() != settings.pipeline_name.lower():
            raise InvalidEventError(
                f"detail.pipelineArn: event of pipeline {name!r}, this stack watches {settings.pipeline_name!r}",
                field="detail.pipelineArn",
            )


def dedupe_key(event: AlertEvent) -> dict[str, str] | None:
    """What changed, for deduplication; ``None`` when the change needs no alert."""
    detail = event.detail
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        status = event.detail.current_pipeline_execution_status
        if status not in _ALERTED_EXECUTION:
            return None
        return {"scope": "pipeline-execution", "execution": event.detail.pipeline_execution_arn, "status": status}
    if isinstance(event, PipelineStepStatusChangeEvent):
        if event.detail.current_step_status not in _ALERTED_STEP:
            return None
        # Same key as the execution's own Failed event: one failure, one alert.
        return {"scope": "pipeline-execution", "execution": event.detail.pipeline_execution_arn, "status": "Failed"}
    if detail.training_job_status not in _ALERTED_JOB:
        return None
    return {"scope": "training-job", "job": detail.training_job_name, "status": detail.training_job_status}


# ---------------------------------------------------------------------------------------------------- alert text


def build_alert(event: AlertEvent, settings: Settings) -> Alert:
    """The alert for ``event``, fetching from SageMaker whatever the event leaves out."""
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        return _execution_alert(event, settings)
    if isinstance(event, PipelineStepStatusChangeEvent):
        return _step_alert(event, settings)
    return _training_job_alert(event, settings)


@dataclass
class _FailedStep:
    name: str
    step_type: str | None
    reason: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


def _execution_alert(event: PipelineExecutionStatusChangeEvent, settings: Settings) -> Alert:
    detail = event.detail
    status = detail.current_pipeline_execution_status
    steps: list[_FailedStep] = []
    lookup_note = None
    reason = detail.failure_reason
    if status == "Failed" or not reason:
        steps, lookup_note = _failed_steps(detail.pipeline_execution_arn)
    if not reason and not steps:
        reason, note = _execution_failure_reason(detail.pipeline_execution_arn)
        lookup_note = lookup_note or note
    return _pipeline_alert(
        settings,
        pipeline=detail.pipeline_name,
        execution_arn=detail.pipeline_execution_arn,
        execution_id=detail.execution_id,
        display_name=detail.pipeline_execution_display_name,
        description=detail.pipeline_execution_description,
        status=status,
        previous=detail.previous_pipeline_execution_status,
        reason=reason,
        steps=steps,
        lookup_note=lookup_note,
        started=detail.execution_start_time,
        ended=detail.execution_end_time,
        event_id=event.id,
    )


def _step_alert(event: PipelineStepStatusChangeEvent, settings: Settings) -> Alert:
    detail = event.detail
    step = _FailedStep(detail.step_name, detail.step_type, detail.failure_reason, dict(detail.metadata or {}))
    lookup_note = None
    if not step.reason:
        found, lookup_note = _failed_steps(detail.pipeline_execution_arn)
        match = next((s for s in found if s.name == step.name), None)
        if match is not None:
            step = _FailedStep(
                step.name, step.step_type or match.step_type, match.reason, step.metadata or match.metadata
            )
    return _pipeline_alert(
        settings,
        pipeline=detail.pipeline_name,
        execution_arn=detail.pipeline_execution_arn,
        execution_id=detail.execution_id,
        display_name=None,
        description=None,
        status="Failed",
        previous=None,
        reason=None,
        steps=[step],
        lookup_note=lookup_note,
        started=detail.step_start_time,
        ended=detail.step_end_time,
        event_id=event.id,
    )


def _pipeline_alert(
    settings: Settings,
    *,
    pipeline: str,
    execution_arn: str,
    execution_id: str,
    display_name: str | None,
    description: str | None,
    status: str,
    previous: str | None,
    reason: str | None,
    steps: list[_FailedStep],
    lookup_note: str | None,
    started: Any,
    ended: Any,
    event_id: str,
) -> Alert:
    env = settings.environment
    first = steps[0] if steps else None
    main_reason = reason or (first.reason if first else None)
    spot = spot_cause(main_reason)
    at_step = f" at step {first.name}" if first else ""
    cause = " (Spot capacity)" if spot else ""
    subject = f"[{env}] Pipeline {pipeline} execution {execution_id} {status}{at_step}{cause}"
    lines = [
        f"SageMaker pipeline execution {status}{at_step} in environment {env}.",
        "",
        f"Pipeline:      {pipeline}",
        f"Execution:     {execution_id}" + (f" ({display_name})" if display_name else ""),
        f"Execution ARN: {execution_arn}",
        f"Status:        {f'{previous} -> ' if previous else ''}{status}",
    ]
    if description:
        lines.append(f"Description:   {description}")
    for step in steps:
        kind = f" ({step.step_type})" if step.step_type else ""
        lines.append(f"Failed step:   {step.name}{kind}")
        lines.append(f"  Reason:      {step.reason or 'not reported by SageMaker'}")
        if job_arn := _training_job_arn(step.metadata):
            lines.append(f"  Training job: {job_arn.rsplit('/', 1)[-1]}")
    if reason:
        lines.append(f"Reason:        {reason}")
    if not main_reason:
        lines.append("Reason:        not reported by SageMaker" + (f" ({lookup_note})" if lookup_note else ""))
    if spot:
        lines += ["", f"SPOT: {spot}"]
    if started or ended:
        lines.append(f"Started/ended: {_iso(started)} / {_iso(ended)}")
    lines += [
        "",
        f"Console: {settings.console_url(f'pipelines/{pipeline}/executions/{execution_id}')}",
        f"(event {event_id}; stack git {settings.git_sha})",
    ]
    attributes = {"kind": "pipeline-execution", "execution": execution_id}
    if first:
        attributes["step"] = first.name
    if spot:
        attributes["cause"] = "spot"
    severity = Severity.ERROR if status == "Failed" else Severity.WARNING
    return Alert(subject=subject, message="\n".join(lines), severity=severity, attributes=attributes)


def _training_job_alert(event: TrainingJobStateChangeEvent, settings: Settings) -> Alert:
    detail = event.detail
    name = detail.training_job_name
    status = detail.training_job_status
    reason = detail.failure_reason
    secondary = detail.secondary_status
    transitions = list(detail.secondary_status_transitions)
    stopping = dict(detail.stopping_condition or {})
    spot_enabled = detail.enable_managed_spot_training
    lookup_note = None
    if not reason:
        described, lookup_note = _describe_training_job(name)
        reason = described.get("FailureReason")
        secondary = secondary or described.get("SecondaryStatus")
        transitions = transitions or list(described.get("SecondaryStatusTransitions") or [])
        stopping = stopping or dict(described.get("StoppingCondition") or {})
        spot_enabled = spot_enabled if spot_enabled is not None else described.get("EnableManagedSpotTraining")
    spot = spot_cause(reason, secondary, transitions)
    env = settings.environment
    subject = f"[{env}] Training job {name} {status}" + (" (Spot capacity)" if spot else "")
    lines = [
        f"SageMaker training job {status} in environment {env}.",
        "",
        f"Training job:     {name}",
        f"Status:           {status}" + (f" / {secondary}" if secondary and secondary != status else ""),
        "Reason:           " + (reason or "not reported by SageMaker" + (f" ({lookup_note})" if lookup_note else "")),
    ]
    if name.startswith("pipelines-"):
        lines.append(f"Launched by:      pipeline execution {name.split('-')[1]} (pipeline {settings.pipeline_name})")
    resources = dict(detail.resource_config or {})
    if resources.get("InstanceType"):
        lines.append(f"Instances:        {resources.get('InstanceCount', 1)} x {resources['InstanceType']}")
    if spot_enabled or stopping.get("MaxWaitTimeInSeconds"):
        lines.append(
            f"Managed Spot:     MaxWaitTimeInSeconds={stopping.get('MaxWaitTimeInSeconds', '?')}, "
            f"MaxRuntimeInSeconds={stopping.get('MaxRuntimeInSeconds', '?')}"
        )
    if spot:
        lines += ["", f"SPOT: {spot}"]
    if detail.training_start_time or detail.training_end_time:
        lines.append(f"Started/ended:    {_iso(detail.training_start_time)} / {_iso(detail.training_end_time)}")
    lines += [
        "",
        f"Console: {settings.console_url(f'jobs/{name}')}",
        f"(event {event.id}; stack git {settings.git_sha})",
    ]
    attributes = {"kind": "training-job", "job": name}
    if spot:
        attributes["cause"] = "spot"
    severity = Severity.ERROR if status == "Failed" else Severity.WARNING
    return Alert(subject=subject, message="\n".join(lines), severity=severity, attributes=attributes)


def spot_cause(
    reason: str | None, secondary_status: str | None = None, transitions: list[dict[str, Any]] | None = None
) -> str | None:
    """A sentence explaining a Managed Spot capacity shortage or interruption, or ``None`` if nothing points to Spot."""
    text = (reason or "").lower()
    statuses = {secondary_status or ""} | {str(t.get("Status", "")) for t in transitions or []}
    messages = " ".join(str(t.get("StatusMessage", "")) for t in transitions or []).lower()
    if "Interrupted" in statuses or "interrupt" in text:
        return (
            "the job was interrupted because Spot capacity was reclaimed. This is a capacity event, not a bug in the "
            "training code: retry, use checkpointing, or train on demand."
        )
    if "MaxWaitTimeExceeded" in statuses or "maxwaittime" in text or "maxwaittime" in messages:
        return (
            "the job ran out of MaxWaitTimeInSeconds waiting for (or being interrupted on) Spot capacity. This is a "
            "capacity shortage, not a bug in the training code: retry later, raise MaxWaitTimeInSeconds, use "
            "another instance type, or train on demand."
        )
    if "spot" in text or "spot" in messages:
        return (
            "SageMaker reports a Managed Spot capacity problem. This is a capacity event, not a bug in the training "
            "code: retry later, raise MaxWaitTimeInSeconds, or train on demand."
        )
    return None


def _training_job_arn(metadata: dict[str, Any]) -> str | None:
    """The training job of a step: ``metadata.trainingJob.arn`` in events, ``Metadata.TrainingJob.Arn`` in the API."""
    job = metadata.get("trainingJob") or metadata.get("TrainingJob") or {}
    return job.get("arn") or job.get("Arn") if isinstance(job, dict) else None


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else "?"


# ---------------------------------------------------------------------------------------------------- SageMaker reads


def _aws_note(exc: BaseException) -> str:
    return f"lookup failed: {clients.error_code(exc) or type(exc).__name__}"


def _failed_steps(execution_arn: str) -> tuple[list[_FailedStep], str | None]:
    """Failed steps of an execution (ListPipelineExecutionSteps), oldest first; best effort."""
    sagemaker = clients.client("sagemaker")
    steps: list[_FailedStep] = []
    try:
        pages = sagemaker.get_paginator("list_pipeline_execution_steps").paginate(
            PipelineExecutionArn=execution_arn, SortOrder="Ascending"
        )
        for page in pages:
            for step in page.get("PipelineExecutionSteps", []):
                if step.get("StepStatus") == "Failed":
                    steps.append(
                        _FailedStep(
                            name=str(step.get("StepName", "?")),
                            step_type=step.get("StepType"),
                            reason=step.get("FailureReason"),
                            metadata=dict(step.get("Metadata") or {}),
                        )
                    )
    except (BotoCoreError, ClientError) as exc:
        logger.warning("could not list the execution's steps", extra={"execution": execution_arn, "error": str(exc)})
        return steps, _aws_note(exc)
    return steps, None


def _execution_failure_reason(execution_arn: str) -> tuple[str | None, str | None]:
    try:
        described = clients.client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("could not describe the execution", extra={"execution": execution_arn, "error": str(exc)})
        return None, _aws_note(exc)
    return described.get("FailureReason"), None


def _describe_training_job(name: str) -> tuple[dict[str, Any], str | None]:
    try:
        return clients.client("sagemaker").describe_training_job(TrainingJobName=name), None
    except (BotoCoreError, ClientError) as exc:
        logger.warning("could not describe the training job", extra={"job": name, "error": str(exc)})
        return {}, _aws_note(exc)
