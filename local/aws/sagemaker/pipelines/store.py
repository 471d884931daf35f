"""The steps of pipeline executions, as a pipeline executor records them for ``ListPipelineExecutionSteps``.

Steps are kept on moto's backend (so its reset forgets them), in the API's shape (``PipelineExecutionStep``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from local.aws.runtime import RUNTIME
from local.aws.timestamps import as_naive_utc

STEP_FIELDS = (
    "StepName",
    "StepDisplayName",
    "StepDescription",
    "StartTime",
    "EndTime",
    "StepStatus",
    "CacheHitResult",
    "FailureReason",
    "Metadata",
    "AttemptCount",
    "SelectiveExecutionResult",
)
STEP_STATUSES = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")
EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures")
_EXECUTION_ARN = re.compile(r"^arn:[^:]+:sagemaker:[^:]+:\d+:pipeline/([^/]+)/execution/[^/]+$")


def backend_for_arn(arn: str) -> SageMakerModelBackend:
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "sagemaker":
        raise ValidationError(f"Invalid ARN: {arn}")
    return sagemaker_backends[parts[4]][parts[3]]


def recorded_steps(backend: SageMakerModelBackend) -> dict[str, list[dict[str, Any]]]:
    """Execution ARN -> its recorded steps, in recording order."""
    steps = backend.__dict__.get("_local_pipeline_steps")
    if steps is None:
        steps = backend.__dict__["_local_pipeline_steps"] = {}
    return steps


def pipeline_execution(backend: SageMakerModelBackend, pipeline_execution_arn: str) -> Any:
    """moto's execution object of an ARN, or ``None``."""
    match = _EXECUTION_ARN.match(pipeline_execution_arn)
    pipeline = backend.pipelines.get(match.group(1)) if match else None
    return pipeline.pipeline_executions.get(pipeline_execution_arn) if pipeline else None


def normalize_step(step: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``step`` with its times as moto keeps them; ValueError for what is not a PipelineExecutionStep."""
    unknown = set(step) - set(STEP_FIELDS)
    if unknown:
        raise ValueError(f"unknown PipelineExecutionStep fields: {sorted(unknown)}")
    if not step.get("StepName"):
        raise ValueError("a step needs a StepName")
    if step.get("StepStatus") is not None and step["StepStatus"] not in STEP_STATUSES:
        raise ValueError(f"StepStatus must be one of {STEP_STATUSES}, not {step['StepStatus']!r}")
    out = copy.deepcopy(step)
    for key in ("StartTime", "EndTime"):
        if out.get(key) is not None:
            out[key] = as_naive_utc(out[key])
    return out


class SageMakerStore:
    """What a local pipeline executor records for SageMaker to report (``ListPipelineExecutionSteps`` etc.).

    Steps use the API's shape (``PipelineExecutionStep``): StepName, StepDisplayName, StepDescription, StepStatus,
    StartTime, EndTime, FailureReason, Metadata (``{"TrainingJob": {"Arn": ...}}``, ``{"Condition": {"Outcome":
    "True"}}``, ``{"Fail": {"ErrorMessage": ...}}``...), AttemptCount, CacheHitResult. Times may be datetimes, ISO
    strings or epoch numbers. Nothing is emitted here: events are the executor's to send (see
    :mod:`local.aws.sagemaker.events.models` builders), as each is a separate decision.
    """

    def record_step(self, execution_arn: str, step: dict[str, Any]) -> dict[str, Any]:
        """Add ``step`` to the execution, or replace the step of the same StepName. Returns the stored step."""
        normalized = normalize_step(step)
        backend = backend_for_arn(execution_arn)
        with RUNTIME.lock:
            steps = recorded_steps(backend).setdefault(execution_arn, [])
            for i, existing in enumerate(steps):
                if existing["StepName"] == normalized["StepName"]:
                    steps[i] = normalized
                    break
            else:
                steps.append(normalized)
            return copy.deepcopy(normalized)

    def update_step(self, execution_arn: str, step_name: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a recorded step (``StepStatus="Succeeded", EndTime=...``). Returns the stored step."""
        backend = backend_for_arn(execution_arn)
        with RUNTIME.lock:
            steps = recorded_steps(backend).get(execution_arn, [])
            for i, existing in enumerate(steps):
                if existing["StepName"] == step_name:
                    steps[i] = normalize_step({**existing, **fields, "StepName": step_name})
                    return copy.deepcopy(steps[i])
        raise KeyError(f"no step {step_name!r} recorded for {execution_arn}")

    def list_steps(self, execution_arn: str) -> list[dict[str, Any]]:
        """Recorded steps in recording order."""
        backend = backend_for_arn(execution_arn)
        with RUNTIME.lock:
            return copy.deepcopy(recorded_steps(backend).get(execution_arn, []))

    def set_pipeline_execution_status(self, execution_arn: str, status: str, failure_reason: str | None = None) -> None:
        """Set what DescribePipelineExecution / ListPipelineExecutions report for an execution moto knows."""
        if status not in EXECUTION_STATUSES:
            raise ValueError(f"status must be one of {EXECUTION_STATUSES}, not {status!r}")
        backend = backend_for_arn(execution_arn)
        with RUNTIME.lock:
            execution = pipeline_execution(backend, execution_arn)
            if execution is None:
                raise KeyError(f"no pipeline execution {execution_arn}")
            execution.pipeline_execution_status = status
            execution.pipeline_execution_failure_reason = failure_reason
            execution.last_modified_time = utcnow()
