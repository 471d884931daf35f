"""Adapter: what tagging reads from and writes to SageMaker. AWS error codes stop here.

Reads (:class:`SageMakerArtifacts`): the execution and its parameters, its steps, the jobs (found by their real
names: :mod:`sm_lifecycle.kernel.jobs`) and packages they name (``None`` for one that no longer exists). Writes:
``AddTags``, which adds or overwrites the given keys, leaves the resource's other tags alone and changes no resource
field, so it emits no state change event (unlike ``UpdateModelPackage``, never called here: it would wake the
deployer).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify, error_code, error_message, is_not_found, is_transient
from sm_lifecycle.kernel.errors import InvalidEventError
from sm_lifecycle.kernel.jobs import JobNames
from sm_lifecycle.kernel.registry import parameter_values
from sm_lifecycle.tagging.report import Problem, TaggingReport
from sm_lifecycle.tagging.service import DescribedExecution

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient

__all__ = ["SageMakerArtifacts"]


def problem_of(exc: BaseException) -> Problem:
    """How the report files an error of one SageMaker resource."""
    if isinstance(exc, ClientError) and is_not_found(exc):
        return Problem.MISSING
    return Problem.RETRYABLE if is_transient(exc) else Problem.FAILED


class SageMakerArtifacts:
    """The SageMaker side of one tagging run (also the governance report's reader)."""

    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sm = sagemaker
        self._names = JobNames(sagemaker)

    # ------------------------------------------------------------------ the execution
    def execution(self, arn: str) -> DescribedExecution:
        """``DescribePipelineExecution`` and the execution's parameter values (``InvalidEventError`` if unknown)."""
        what = f"reading pipeline execution {arn}"
        try:
            described = dict(self._sm.describe_pipeline_execution(PipelineExecutionArn=arn))
            parameters: list[dict[str, Any]] = []
            paginator = self._sm.get_paginator("list_pipeline_parameters_for_execution")
            for page in paginator.paginate(PipelineExecutionArn=arn):
                parameters += [dict(p) for p in page.get("PipelineParameters", [])]
        except (ClientError, BotoCoreError) as exc:
            if is_not_found(exc):
                raise InvalidEventError(f"{what}: not found", field="detail.pipelineExecutionArn") from exc
            raise classify(exc, what=what) from exc
        return described, parameter_values(parameters)

    def steps(self, execution_arn: str) -> Iterator[dict[str, Any]]:
        try:
            paginator = self._sm.get_paginator("list_pipeline_execution_steps")
            for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
                yield from (dict(step) for step in page.get("PipelineExecutionSteps", []))
        except (ClientError, BotoCoreError) as exc:
            if is_not_found(exc):
                raise InvalidEventError(
                    f"pipeline execution {execution_arn} not found: {exc}", field="detail.pipelineExecutionArn"
                ) from exc
            raise classify(exc, what=f"listing the steps of {execution_arn}") from exc

    # ------------------------------------------------------------------ what the steps name
    def training_job(self, arn: str) -> dict[str, Any] | None:
        name = self._job_name(arn)
        if name is None:
            return None
        return self._describe(lambda: self._sm.describe_training_job(TrainingJobName=name), f"training job {name}")

    def processing_job(self, arn: str) -> dict[str, Any] | None:
        name = self._job_name(arn)
        if name is None:
            return None
        return self._describe(
            lambda: self._sm.describe_processing_job(ProcessingJobName=name), f"processing job {name}"
        )

    def transform_job(self, arn: str) -> dict[str, Any] | None:
        name = self._job_name(arn)
        if name is None:
            return None
        return self._describe(lambda: self._sm.describe_transform_job(TransformJobName=name), f"transform job {name}")

    def _job_name(self, arn: str) -> str | None:
        """The job's real name (its ARN lower-cases it), ``None`` if no such job exists."""
        try:
            return self._names.name_of(arn)
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what=f"listing the jobs of {arn}") from exc

    def model_package(self, arn: str) -> dict[str, Any] | None:
        return self._describe(lambda: self._sm.describe_model_package(ModelPackageName=arn), f"model package {arn}")

    @staticmethod
    def _describe(call: Any, what: str) -> dict[str, Any] | None:
        try:
            return dict(call())
        except (ClientError, BotoCoreError) as exc:
            if is_not_found(exc):
                return None
            raise classify(exc, what=f"describing {what}") from exc

    # ------------------------------------------------------------------ tags
    def list_tags(self, arn: str) -> dict[str, str] | None:
        """The resource's tags, ``None`` if it no longer exists."""
        found: dict[str, str] = {}
        try:
            for page in self._sm.get_paginator("list_tags").paginate(ResourceArn=arn):
                found.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
        except (ClientError, BotoCoreError) as exc:
            if is_not_found(exc):
                return None
            raise classify(exc, what=f"ListTags {arn}") from exc
        return found

    def add_tags(self, arn: str, tags: Sequence[tuple[str, str]], report: TaggingReport) -> None:
        """``AddTags`` (idempotent); the outcome is recorded in ``report``, AWS errors are never raised."""
        try:
            self._sm.add_tags(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags])
        except (ClientError, BotoCoreError) as exc:
            problem = problem_of(exc)
            code = error_code(exc)
            why = f"{code}: {error_message(exc)}" if code else str(exc)
            report.record(problem, arn, "not found (deleted?)" if problem is Problem.MISSING else why)
            return
        report.record_tagged(arn)
