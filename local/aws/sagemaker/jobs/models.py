"""Jobs in the embedded SageMaker: a job keeps the case of its name, its ARN is lower-cased.

SageMaker lower-cases the names in job ARNs (``DescribeTrainingJob``'s ``TrainingJobArn``, the ``Metadata`` of
``ListPipelineExecutionSteps``, step events) while the job keeps its name (pipeline jobs are named
``pipelines-<execution id>-<StepName>-<suffix>`` in the step's case, and write their outputs under that name); moto
keeps the name's case in the ARN. Whether ``Describe*Job`` also finds a job by its lower-cased name is not
documented: moto's exact lookup (which refuses it) is kept, so that nothing here relies on it; an unknown training
job is "Requested resource not found.", as ``DescribeTrainingJob`` answers. A job's ARN finds it in any case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.utils import arn_formatter

JOB_TYPES = ("training-job", "processing-job", "transform-job")
NOT_FOUND = "Requested resource not found."


def lower_cased_arn(resource_type: str) -> Callable[[str, str, str], str]:
    """A job class's ``arn_formatter``, lower-casing the name as SageMaker does."""

    def formatter(name: str, account_id: str, region_name: str) -> str:
        return arn_formatter(resource_type, name.lower(), account_id, region_name)

    return formatter


def jobs_of(backend: SageMakerModelBackend, resource_type: str) -> Mapping[str, Any]:
    """moto's jobs of one type, by name."""
    by_type: dict[str, Mapping[str, Any]] = {
        "training-job": backend.training_jobs,
        "processing-job": backend.processing_jobs,
        "transform-job": backend.transform_jobs,
    }
    return by_type[resource_type]


def job_by_arn(backend: SageMakerModelBackend, resource_type: str, arn: str) -> Any:
    """The job an ARN designates, compared in lower case (``None`` if there is none)."""
    wanted = arn.lower()
    return next((job for job in jobs_of(backend, resource_type).values() if job.arn.lower() == wanted), None)


class JobBackend(SageMakerModelBackend):
    """Job operations of the embedded SageMaker (installed on ``SageMakerModelBackend``)."""

    def describe_training_job(self, training_job_name: str) -> dict[str, Any]:
        job = self.training_jobs.get(training_job_name)
        if job is None:
            raise ValidationError(message=NOT_FOUND)
        return job.response_object  # type: ignore[no-any-return]
