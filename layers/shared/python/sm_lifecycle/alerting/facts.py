"""The facts of a failure, from SageMaker: an event names what to look at (an execution, a step, a job) and the
status it claims; what the alert says comes from the API's answers, never from the event's times, statuses or text.

A failure SageMaker does not confirm (the resource does not exist, or its status is not the one the event claims)
raises :class:`~sm_lifecycle.alerting.model.Unconfirmed`. When SageMaker cannot be asked (e.g. ``AccessDenied``),
the failure is ``unconfirmed``: the alert goes out with the event's claim, saying SageMaker could not confirm it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from sm_lifecycle.alerting.model import (
    FAILED_STEPS_STATUSES,
    FailedStep,
    PipelineFailure,
    TrainingJobFailure,
    Unconfirmed,
)
from sm_lifecycle.kernel.events import (
    PipelineExecutionStatusChangeEvent,
    PipelineStepStatusChangeEvent,
    TrainingJobStateChangeEvent,
)
from sm_lifecycle.kernel.text import LOG_TEXT, clean

__all__ = ["Reads", "execution_failure", "step_failure", "training_job_failure"]


class Reads(Protocol):
    """What an alert asks SageMaker (``sm_lifecycle.alerting.sagemaker``): ``(answer, note)``; raises
    ``Unconfirmed`` when the resource does not exist, ``TransientError`` when worth a retry."""

    def execution(self, execution_arn: str) -> tuple[dict[str, Any], str | None]: ...

    def steps(self, execution_arn: str) -> tuple[list[dict[str, Any]], str | None]: ...

    def training_job(self, name: str) -> tuple[dict[str, Any], str | None]: ...

    def job_name(self, arn: str) -> tuple[str | None, str | None]: ...


def _confirm(what: str, claimed: str, actual: object) -> str:
    """``actual``, the API's status, if it is the event's; else Unconfirmed, naming both."""
    if actual != claimed:
        raise Unconfirmed(
            f"{clean(what, LOG_TEXT)}: the event says {clean(claimed, LOG_TEXT)}, "
            f"SageMaker says {clean(actual or 'nothing', LOG_TEXT)}"
        )
    return claimed


def _failed_steps(steps: list[dict[str, Any]]) -> list[FailedStep]:
    return [FailedStep.from_api(step) for step in steps if step.get("StepStatus") == "Failed"]


def with_job_names(failure: PipelineFailure, reads: Reads) -> PipelineFailure:
    """The failed steps' jobs by their real names (their ARNs lower-case them; best effort: else the ARN's)."""
    steps = []
    for step in failure.steps:
        name = reads.job_name(step.job[1])[0] if step.job else None
        steps.append(replace(step, job_name=name) if name else step)
    return replace(failure, steps=steps)


def execution_failure(event: PipelineExecutionStatusChangeEvent, reads: Reads) -> PipelineFailure:
    """DescribePipelineExecution confirms the status and says why; ListPipelineExecutionSteps names the failed steps."""
    detail = event.detail
    arn, claimed = detail.pipeline_execution_arn, detail.current_pipeline_execution_status
    described, note = reads.execution(arn)
    unconfirmed = note is not None
    status = claimed if unconfirmed else _confirm(f"execution {arn}", claimed, described.get("PipelineExecutionStatus"))
    reason = described.get("FailureReason") or None
    steps: list[FailedStep] = []
    if status in FAILED_STEPS_STATUSES or not reason:
        found, steps_note = reads.steps(arn)
        steps, note = _failed_steps(found), note or steps_note
    failure = PipelineFailure(
        pipeline=detail.pipeline_name,
        execution_arn=arn,
        execution_id=detail.execution_id,
        status=status,
        event_id=event.id,
        steps=steps,
        reason=reason,
        display_name=described.get("PipelineExecutionDisplayName") or None,
        description=described.get("PipelineExecutionDescription") or None,
        lookup_note=note,
        started=described.get("CreationTime"),
        ended=described.get("LastModifiedTime"),
        unconfirmed=unconfirmed,
    )
    return with_job_names(failure, reads)


def step_failure(event: PipelineStepStatusChangeEvent, reads: Reads) -> PipelineFailure:
    """ListPipelineExecutionSteps confirms that the step failed, and says why."""
    detail = event.detail
    arn = detail.pipeline_execution_arn
    found, note = reads.steps(arn)
    if note:  # SageMaker could not be asked: the event's step, nothing of what it says of it
        step = FailedStep(detail.step_name, None, None)
    else:
        # the step's latest run (a retried execution runs its failed steps again): stale if it did not fail
        match: dict[str, Any] = next((s for s in reversed(found) if s.get("StepName") == detail.step_name), {})
        _confirm(f"step {detail.step_name} of {arn}", detail.current_step_status, match.get("StepStatus"))
        step = FailedStep.from_api(match)
    failure = PipelineFailure(
        pipeline=detail.pipeline_name,
        execution_arn=arn,
        execution_id=detail.execution_id,
        status="Failed",
        event_id=event.id,
        steps=[step],
        lookup_note=note,
        started=step.started,
        ended=step.ended,
        unconfirmed=note is not None,
    )
    return with_job_names(failure, reads)


def training_job_failure(event: TrainingJobStateChangeEvent, reads: Reads) -> TrainingJobFailure:
    """DescribeTrainingJob confirms the status and gives every fact of the alert."""
    name, claimed = event.detail.training_job_name, event.detail.training_job_status
    described, note = reads.training_job(name)
    if note:
        return TrainingJobFailure(name=name, status=claimed, event_id=event.id, lookup_note=note, unconfirmed=True)
    status = _confirm(f"training job {name}", claimed, described.get("TrainingJobStatus"))
    return TrainingJobFailure(
        name=name,
        status=status,
        event_id=event.id,
        reason=described.get("FailureReason") or None,
        secondary=described.get("SecondaryStatus"),
        transitions=list(described.get("SecondaryStatusTransitions") or []),
        stopping=dict(described.get("StoppingCondition") or {}),
        resources=dict(described.get("ResourceConfig") or {}),
        spot_enabled=described.get("EnableManagedSpotTraining"),
        started=described.get("TrainingStartTime"),
        ended=described.get("TrainingEndTime"),
        role_arn=described.get("RoleArn"),
    )
