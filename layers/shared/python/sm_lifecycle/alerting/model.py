"""What an alert is about: the events alerted on, the failures SageMaker confirms, the deduplication keys, Spot
causes (pure).

- An event only says what to look at (:func:`claimed_status`); the facts of a failure (:class:`PipelineFailure`,
  :class:`TrainingJobFailure`) are what SageMaker answers. A failure SageMaker does not confirm is
  :class:`Unconfirmed`: no alert.
- Keys, from the confirmed facts: a pipeline execution's end, ``(execution ARN, status)``; a training job's end,
  ``(job name, status)``.
- Step vs execution: a failed step and the end of its execution with failed steps (``Failed`` or
  ``CompletedWithFailures``) are ONE failure: they share the key ``(execution ARN, "Failed")``, so whichever event
  arrives first sends the alert and the others are suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sm_lifecycle.kernel.events import (
    PipelineExecutionStatusChangeEvent,
    PipelineStepStatusChangeEvent,
    TrainingJobStateChangeEvent,
)
from sm_lifecycle.kernel.notify import Severity

__all__ = [
    "ALERT_EVENTS",
    "FAILED_STEPS_STATUSES",
    "Alert",
    "AlertEvent",
    "FailedStep",
    "PipelineFailure",
    "TrainingJobFailure",
    "Unconfirmed",
    "claimed_status",
    "dedupe_key",
    "spot_cause",
    "status_of",
]

AlertEvent = PipelineExecutionStatusChangeEvent | PipelineStepStatusChangeEvent | TrainingJobStateChangeEvent
ALERT_EVENTS: tuple[type[AlertEvent], ...] = (
    PipelineExecutionStatusChangeEvent,
    PipelineStepStatusChangeEvent,
    TrainingJobStateChangeEvent,
)
"""The events the alert function receives (its rules in template.yaml)."""

_ALERTED_EXECUTION = frozenset({"Failed", "Stopped", "CompletedWithFailures"})
FAILED_STEPS_STATUSES = frozenset({"Failed", "CompletedWithFailures"})
"""Execution statuses that mean steps failed (the execution stopped on them, or completed without them)."""
_ALERTED_STEP = frozenset({"Failed"})
_ALERTED_JOB = frozenset({"Failed", "Stopped"})


class Unconfirmed(Exception):
    """SageMaker does not confirm the failure an event reports (no such resource, or another status): a forged or
    stale event, which calls for no alert."""


@dataclass(frozen=True)
class Alert:
    """One alert, ready to publish."""

    subject: str
    message: str
    severity: Severity
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class FailedStep:
    """A failed pipeline step, as ``ListPipelineExecutionSteps`` reports it."""

    name: str
    step_type: str | None
    reason: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    job_name: str | None = None  # the real name of the step's job (its ARN lower-cases it), once looked up
    started: datetime | None = None
    ended: datetime | None = None

    @classmethod
    def from_api(cls, step: dict[str, Any]) -> FailedStep:
        """A ``PipelineExecutionStep`` of ``ListPipelineExecutionSteps`` (which does not say the step's type)."""
        return cls(
            name=str(step.get("StepName", "?")),
            step_type=None,
            reason=step.get("FailureReason") or None,
            metadata=dict(step.get("Metadata") or {}),
            started=step.get("StartTime"),
            ended=step.get("EndTime"),
        )

    @property
    def training_job_arn(self) -> str | None:
        """``Metadata.TrainingJob.Arn`` of the API (``metadata.trainingJob.arn`` in events)."""
        return self._job_arn("TrainingJob")

    @property
    def job(self) -> tuple[str, str] | None:
        """``("Training job" | "Processing job", ARN)`` of the step's job, if it ran one."""
        for kind, label in (("TrainingJob", "Training job"), ("ProcessingJob", "Processing job")):
            if arn := self._job_arn(kind):
                return label, arn
        return None

    def _job_arn(self, kind: str) -> str | None:
        job = self.metadata.get(kind[:1].lower() + kind[1:]) or self.metadata.get(kind) or {}
        return (job.get("arn") or job.get("Arn")) if isinstance(job, dict) else None


@dataclass(frozen=True)
class PipelineFailure:
    """A pipeline execution that failed, stopped or completed with failures (or one of its steps failed), with what
    SageMaker told of it. ``unconfirmed``: SageMaker could not be asked (``lookup_note`` says why), ``status`` is
    the event's claim."""

    pipeline: str
    execution_arn: str
    execution_id: str
    status: str
    event_id: str
    steps: list[FailedStep] = field(default_factory=list)
    reason: str | None = None
    display_name: str | None = None
    description: str | None = None
    lookup_note: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    unconfirmed: bool = False


@dataclass(frozen=True)
class TrainingJobFailure:
    """A training job that failed or stopped, as ``DescribeTrainingJob`` reports it (``unconfirmed``: as above)."""

    name: str
    status: str
    event_id: str
    reason: str | None = None
    secondary: str | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)
    stopping: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    spot_enabled: bool | None = None
    lookup_note: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    unconfirmed: bool = False
    role_arn: str | None = None  # the role the job runs as (DescribeTrainingJob)


def status_of(event: AlertEvent) -> str:
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        return f"pipeline execution status {event.detail.current_pipeline_execution_status}"
    if isinstance(event, PipelineStepStatusChangeEvent):
        return f"pipeline step status {event.detail.current_step_status}"
    return f"training job status {event.detail.training_job_status}"


def claimed_status(event: AlertEvent) -> str | None:
    """The status ``event`` claims, if it is one to alert on (SageMaker must then confirm it); else ``None``."""
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        status: str = event.detail.current_pipeline_execution_status
        return status if status in _ALERTED_EXECUTION else None
    if isinstance(event, PipelineStepStatusChangeEvent):
        status = event.detail.current_step_status
        return status if status in _ALERTED_STEP else None
    status = event.detail.training_job_status
    return status if status in _ALERTED_JOB else None


def dedupe_key(failure: PipelineFailure | TrainingJobFailure) -> dict[str, str]:
    """What changed, for deduplication: the resource and its status (a failed step's is its execution's Failed)."""
    if isinstance(failure, PipelineFailure):
        status = "Failed" if failure.status in FAILED_STEPS_STATUSES else failure.status
        return {"scope": "pipeline-execution", "execution": failure.execution_arn, "status": status}
    return {"scope": "training-job", "job": failure.name, "status": failure.status}


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
