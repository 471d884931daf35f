"""What an alert is about and what it says: the events alerted on, the deduplication keys, Spot causes (pure).

- Keys: a pipeline execution's end, ``(execution ARN, status)``; a training job's end, ``(job name, status)``.
- Step vs execution: a failed step and the end of its execution with failed steps (``Failed`` or
  ``CompletedWithFailures``) are ONE failure: they share the key ``(execution ARN, "Failed")``, so whichever event
  arrives first sends the alert and the others are suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Alert:
    """One alert, ready to publish."""

    subject: str
    message: str
    severity: Severity
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class FailedStep:
    """A failed pipeline step, from its event or from ``ListPipelineExecutionSteps``."""

    name: str
    step_type: str | None
    reason: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    job_name: str | None = None  # the real name of the step's job (its ARN lower-cases it), once looked up

    @property
    def training_job_arn(self) -> str | None:
        """``metadata.trainingJob.arn`` in events, ``Metadata.TrainingJob.Arn`` in the API."""
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


def status_of(event: AlertEvent) -> str:
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        return f"pipeline execution status {event.detail.current_pipeline_execution_status}"
    if isinstance(event, PipelineStepStatusChangeEvent):
        return f"pipeline step status {event.detail.current_step_status}"
    return f"training job status {event.detail.training_job_status}"


def dedupe_key(event: AlertEvent) -> dict[str, str] | None:
    """What changed, for deduplication; ``None`` when the change needs no alert."""
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        status = event.detail.current_pipeline_execution_status
        if status not in _ALERTED_EXECUTION:
            return None
        key_status = "Failed" if status in FAILED_STEPS_STATUSES else status
        return {"scope": "pipeline-execution", "execution": event.detail.pipeline_execution_arn, "status": key_status}
    if isinstance(event, PipelineStepStatusChangeEvent):
        if event.detail.current_step_status not in _ALERTED_STEP:
            return None
        # Same key as the execution's own Failed event: one failure, one alert.
        return {"scope": "pipeline-execution", "execution": event.detail.pipeline_execution_arn, "status": "Failed"}
    detail = event.detail
    if detail.training_job_status not in _ALERTED_JOB:
        return None
    return {"scope": "training-job", "job": detail.training_job_name, "status": detail.training_job_status}


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
