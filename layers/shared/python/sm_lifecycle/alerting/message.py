"""The text of an alert, from the facts of one failure (pure): subject, readable body, severity, SNS attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sm_lifecycle.alerting.model import FAILED_STEPS_STATUSES, Alert, FailedStep, spot_cause
from sm_lifecycle.kernel.notify import Severity
from sm_lifecycle.kernel.settings import Settings

__all__ = ["PipelineFailure", "TrainingJobFailure", "pipeline_alert", "training_job_alert"]


@dataclass(frozen=True)
class PipelineFailure:
    """A pipeline execution that failed, stopped or completed with failures (or one of its steps failed), with what
    SageMaker told of it."""

    pipeline: str
    execution_arn: str
    execution_id: str
    status: str
    event_id: str
    steps: list[FailedStep] = field(default_factory=list)
    reason: str | None = None
    previous: str | None = None
    display_name: str | None = None
    description: str | None = None
    lookup_note: str | None = None
    started: datetime | None = None
    ended: datetime | None = None


@dataclass(frozen=True)
class TrainingJobFailure:
    """A training job that failed or stopped, its event's fields completed by ``DescribeTrainingJob``."""

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


_STATUS_WORDS = {"CompletedWithFailures": "completed with failures"}  # statuses the subject spells out


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "?"


def _not_reported(note: str | None) -> str:
    return "not reported by SageMaker" + (f" ({note})" if note else "")


def pipeline_alert(failure: PipelineFailure, settings: Settings) -> Alert:
    env, first = settings.environment, (failure.steps[0] if failure.steps else None)
    main_reason = failure.reason or (first.reason if first else None)
    spot = spot_cause(main_reason)
    at_step = f" at step {first.name}" if first else ""
    ended = _STATUS_WORDS.get(failure.status, failure.status)
    subject = f"[{env}] Pipeline {failure.pipeline} execution {failure.execution_id} {ended}{at_step}" + (
        " (Spot capacity)" if spot else ""
    )
    lines = [
        f"SageMaker pipeline execution {ended}{at_step} in environment {env}.",
        "",
        f"Pipeline:      {failure.pipeline}",
        f"Execution:     {failure.execution_id}" + (f" ({failure.display_name})" if failure.display_name else ""),
        f"Execution ARN: {failure.execution_arn}",
        f"Status:        {f'{failure.previous} -> ' if failure.previous else ''}{failure.status}",
    ]
    if failure.description:
        lines.append(f"Description:   {failure.description}")
    for step in failure.steps:
        kind = f" ({step.step_type})" if step.step_type else ""
        lines += [f"Failed step:   {step.name}{kind}", f"  Reason:      {step.reason or 'not reported by SageMaker'}"]
        if step.job:
            label, arn = step.job
            lines.append(f"  {label}: {step.job_name or arn.rsplit('/', 1)[-1]}")
    if failure.reason:
        lines.append(f"Reason:        {failure.reason}")
    if not main_reason:
        lines.append(f"Reason:        {_not_reported(failure.lookup_note)}")
    if spot:
        lines += ["", f"SPOT: {spot}"]
    if failure.started or failure.ended:
        lines.append(f"Started/ended: {_iso(failure.started)} / {_iso(failure.ended)}")
    path = f"pipelines/{failure.pipeline}/executions/{failure.execution_id}"
    lines += ["", f"Console: {settings.console_url(path)}", f"(event {failure.event_id}; stack git {settings.git_sha})"]
    attributes = {"kind": "pipeline-execution", "execution": failure.execution_id}
    if first:
        attributes["step"] = first.name
    if spot:
        attributes["cause"] = "spot"
    severity = Severity.ERROR if failure.status in FAILED_STEPS_STATUSES else Severity.WARNING
    return Alert(subject=subject, message="\n".join(lines), severity=severity, attributes=attributes)


def training_job_alert(failure: TrainingJobFailure, settings: Settings) -> Alert:
    env, name, status = settings.environment, failure.name, failure.status
    spot = spot_cause(failure.reason, failure.secondary, failure.transitions)
    subject = f"[{env}] Training job {name} {status}" + (" (Spot capacity)" if spot else "")
    secondary = f" / {failure.secondary}" if failure.secondary and failure.secondary != status else ""
    lines = [
        f"SageMaker training job {status} in environment {env}.",
        "",
        f"Training job:     {name}",
        f"Status:           {status}{secondary}",
        f"Reason:           {failure.reason or _not_reported(failure.lookup_note)}",
    ]
    if name.startswith("pipelines-"):
        lines.append(f"Launched by:      pipeline execution {name.split('-')[1]} (pipeline {settings.pipeline_name})")
    if failure.resources.get("InstanceType"):
        count, instance = failure.resources.get("InstanceCount", 1), failure.resources["InstanceType"]
        lines.append(f"Instances:        {count} x {instance}")
    stopping = failure.stopping
    if failure.spot_enabled or stopping.get("MaxWaitTimeInSeconds"):
        lines.append(
            f"Managed Spot:     MaxWaitTimeInSeconds={stopping.get('MaxWaitTimeInSeconds', '?')}, "
            f"MaxRuntimeInSeconds={stopping.get('MaxRuntimeInSeconds', '?')}"
        )
    if spot:
        lines += ["", f"SPOT: {spot}"]
    if failure.started or failure.ended:
        lines.append(f"Started/ended:    {_iso(failure.started)} / {_iso(failure.ended)}")
    lines += [
        "",
        f"Console: {settings.console_url(f'jobs/{name}')}",
        f"(event {failure.event_id}; stack git {settings.git_sha})",
    ]
    attributes = {"kind": "training-job", "job": name}
    if spot:
        attributes["cause"] = "spot"
    severity = Severity.ERROR if status == "Failed" else Severity.WARNING
    return Alert(subject=subject, message="\n".join(lines), severity=severity, attributes=attributes)
