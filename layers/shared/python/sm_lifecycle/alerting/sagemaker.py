"""Adapter: what the alert function reads from SageMaker when an event leaves the reason out (best effort).

Every read returns ``(value, note)``: ``note`` says why the value is missing when SageMaker could not be asked, so
the alert still goes out, saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.alerting.model import FailedStep
from sm_lifecycle.kernel.clients import error_code
from sm_lifecycle.kernel.jobs import JobNames

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient

__all__ = ["SageMakerReads"]

logger = Logger(child=True)


def _note(exc: BaseException) -> str:
    return f"lookup failed: {error_code(exc) or type(exc).__name__}"


class SageMakerReads:
    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sm = sagemaker
        self._names = JobNames(sagemaker)

    def failed_steps(self, execution_arn: str) -> tuple[list[FailedStep], str | None]:
        """Failed steps of an execution (ListPipelineExecutionSteps), oldest first."""
        steps: list[FailedStep] = []
        try:
            pages = self._sm.get_paginator("list_pipeline_execution_steps").paginate(
                PipelineExecutionArn=execution_arn, SortOrder="Ascending"
            )
            for page in pages:
                steps += [
                    FailedStep(
                        name=str(step.get("StepName", "?")),
                        step_type=None,  # ListPipelineExecutionSteps does not say (step events do)
                        reason=step.get("FailureReason"),
                        metadata=dict(step.get("Metadata") or {}),
                    )
                    for step in page.get("PipelineExecutionSteps", [])
                    if step.get("StepStatus") == "Failed"
                ]
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "could not list the execution's steps", extra={"execution": execution_arn, "error": str(exc)}
            )
            return steps, _note(exc)
        return steps, None

    def execution_failure_reason(self, execution_arn: str) -> tuple[str | None, str | None]:
        try:
            described = self._sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not describe the execution", extra={"execution": execution_arn, "error": str(exc)})
            return None, _note(exc)
        return described.get("FailureReason"), None

    def job_name(self, arn: str) -> tuple[str | None, str | None]:
        """The real name of a step's job (its ARN lower-cases it): :class:`~sm_lifecycle.kernel.jobs.JobNames`."""
        try:
            return self._names.name_of(arn), None
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not find the job's name", extra={"job": arn, "error": str(exc)})
            return None, _note(exc)

    def training_job(self, name: str) -> tuple[dict[str, Any], str | None]:
        try:
            return dict(self._sm.describe_training_job(TrainingJobName=name)), None
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not describe the training job", extra={"job": name, "error": str(exc)})
            return {}, _note(exc)
