"""Adapter: what the alert function reads from SageMaker, which has the facts of a failure (an event only says where
to look).

Every read returns ``(answer, note)``. What an error means is decided here and only here:

- the resource does not exist (``ResourceNotFound``, or SageMaker's ``ValidationException`` saying so):
  :class:`~sm_lifecycle.alerting.model.Unconfirmed`, the event called for no alert;
- throttling, 5xx, network: ``TransientError``, so that Lambda retries (the answer decides whether to alert);
- anything else (``AccessDenied``...): no answer, and ``note`` says why, so that the alert still goes out, saying so
  (a real failure SageMaker cannot tell us about must not go unnoticed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.alerting.model import Unconfirmed
from sm_lifecycle.kernel.clients import error_code, error_message, is_not_found, is_transient
from sm_lifecycle.kernel.errors import TransientError
from sm_lifecycle.kernel.jobs import JobNames
from sm_lifecycle.kernel.text import LOG_TEXT, clean

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient

__all__ = ["SageMakerReads"]

logger = Logger(child=True)


def _note(exc: BaseException) -> str:
    return f"lookup failed: {error_code(exc) or type(exc).__name__}"


def _missing(exc: BaseException) -> bool:
    """Not found, as SageMaker says it: DescribeTrainingJob answers "Requested resource not found."."""
    if is_not_found(exc):
        return True
    return error_code(exc) == "ValidationException" and "not found" in error_message(exc).lower()


def _unanswered(exc: BaseException, what: str, resource: str) -> str:
    """The note for a read that failed; raises when the failure is an answer (not found) or worth a retry."""
    detail = clean(f"{error_code(exc) or type(exc).__name__}: {error_message(exc)}", LOG_TEXT)
    if isinstance(exc, ClientError) and _missing(exc):
        raise Unconfirmed(f"{what}: SageMaker does not know {clean(resource, LOG_TEXT)} ({detail})") from exc
    if is_transient(exc):
        raise TransientError(f"{what}: {detail}") from exc
    logger.warning(f"could not {what}", extra={"resource": clean(resource, LOG_TEXT), "error": detail})
    return _note(exc)


class SageMakerReads:
    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sm = sagemaker
        self._names = JobNames(sagemaker)

    def execution(self, execution_arn: str) -> tuple[dict[str, Any], str | None]:
        """``DescribePipelineExecution``: status, FailureReason, display name, description, times."""
        try:
            return dict(self._sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)), None
        except (BotoCoreError, ClientError) as exc:
            return {}, _unanswered(exc, "describe the pipeline execution", execution_arn)

    def steps(self, execution_arn: str) -> tuple[list[dict[str, Any]], str | None]:
        """Every step of an execution (``ListPipelineExecutionSteps``), oldest first, in the API's shape."""
        steps: list[dict[str, Any]] = []
        try:
            pages = self._sm.get_paginator("list_pipeline_execution_steps").paginate(
                PipelineExecutionArn=execution_arn, SortOrder="Ascending"
            )
            for page in pages:
                steps += [dict(step) for step in page.get("PipelineExecutionSteps", [])]
        except (BotoCoreError, ClientError) as exc:
            return [], _unanswered(exc, "list the execution's steps", execution_arn)
        return steps, None

    def training_job(self, name: str) -> tuple[dict[str, Any], str | None]:
        """``DescribeTrainingJob``: status, FailureReason, secondary status and transitions, resources, Spot."""
        try:
            return dict(self._sm.describe_training_job(TrainingJobName=name)), None
        except (BotoCoreError, ClientError) as exc:
            return {}, _unanswered(exc, "describe the training job", name)

    def job_name(self, arn: str) -> tuple[str | None, str | None]:
        """The real name of a step's job (its ARN lower-cases it): :class:`~sm_lifecycle.kernel.jobs.JobNames`.

        Best effort (the ARN's name is shown otherwise): no error of this read stops the alert."""
        try:
            return self._names.name_of(arn), None
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not find the job's name", extra={"job": arn, "error": clean(exc, LOG_TEXT)})
            return None, _note(exc)
