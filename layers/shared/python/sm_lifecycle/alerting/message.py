"""The text of an alert, from the facts of one failure (pure): subject, readable body, severity, SNS attributes."""

from __future__ import annotations

from datetime import datetime

from sm_lifecycle.alerting.model import FAILED_STEPS_STATUSES, Alert, PipelineFailure, TrainingJobFailure, spot_cause
from sm_lifecycle.kernel.notify import Severity
from sm_lifecycle.kernel.settings import Settings
from sm_lifecycle.kernel.text import FieldLimit, clean

__all__ = ["pipeline_alert", "training_job_alert"]

_STATUS_WORDS = {"CompletedWithFailures": "completed with failures"}  # statuses the subject spells out
_LINE = FieldLimit("alert line", 4096)  # one line of the body: a reason's line breaks cannot forge other lines


def _one(value: object) -> str:
    return clean(value, _LINE)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "?"


def _not_reported(note: str | None) -> str:
    return "not reported by SageMaker" + (f" ({note})" if note else "")


def _status(status: str, unconfirmed: bool, note: str | None) -> str:
    if not unconfirmed:
        return status
    return f"{status} (as the event reports it: SageMaker could not confirm it, {note or 'lookup failed'})"


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
        f"Execution:     {failure.execution_id}" + (f" ({_one(failure.display_name)})" if failure.display_name else ""),
        f"Execution ARN: {failure.execution_arn}",
        f"Status:        {_status(failure.status, failure.unconfirmed, failure.lookup_note)}",
    ]
    if failure.description:
        lines.append(f"Description:   {_one(failure.description)}")
    for step in failure.steps:
        kind = f" ({step.step_type})" if step.step_type else ""
        reason = _one(step.reason) if step.reason else "not reported by SageMaker"
        lines += [f"Failed step:   {_one(step.name)}{kind}", f"  Reason:      {reason}"]
        if step.job:
            label, arn = step.job
            lines.append(f"  {label}: {_one(step.job_name or arn.rsplit('/', 1)[-1])}")
    if failure.reason:
        lines.append(f"Reason:        {_one(failure.reason)}")
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
        f"Status:           {_status(status, failure.unconfirmed, failure.lookup_note)}{_one(secondary)}",
        f"Reason:           {_one(failure.reason) if failure.reason else _not_reported(failure.lookup_note)}",
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
