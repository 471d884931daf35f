"""The real name of a SageMaker job from its ARN.

SageMaker lower-cases a job's name in its ARN, and the ARN is all that ``ListPipelineExecutionSteps`` (and the step
events) give of a step's job; the job keeps its name, in the step's case
(``pipelines-<execution id>-Train-xw869y8C4a``), and writes its outputs under it. Whether ``Describe*Job`` accepts
the lower-cased name is not documented, so the name is read from where the API gives it: ``List*Jobs`` (filtered on
the execution id the name holds, which is lower case already), matched on the ARN. One listing per kind and
execution is kept for the life of a :class:`JobNames`.

    names = JobNames(sagemaker)
    names.name_of("arn:aws:sagemaker:us-east-1:123456789012:training-job/pipelines-4r83jejmhorv-train-xw869y8c4a")
    # -> "pipelines-4r83jejmhorv-Train-xw869y8C4a", or None when no such job exists

AWS errors are the caller's to interpret (``botocore`` exceptions are raised as they come).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient

__all__ = ["JOB_KINDS", "JobNames", "job_kind"]

JOB_KINDS = {"training-job": "TrainingJob", "processing-job": "ProcessingJob", "transform-job": "TransformJob"}
"""ARN resource type -> the API's noun (``ListTrainingJobs`` → ``TrainingJobSummaries[].TrainingJobName``)."""
_OPERATIONS = {
    "TrainingJob": "list_training_jobs",
    "ProcessingJob": "list_processing_jobs",
    "TransformJob": "list_transform_jobs",
}


def job_kind(arn: str) -> str | None:
    """``TrainingJob`` / ``ProcessingJob`` / ``TransformJob`` for a job ARN, else ``None``."""
    resource = arn.split(":", 5)[-1]
    return JOB_KINDS.get(resource.split("/", 1)[0]) if "/" in resource else None


def _name_filter(arn_name: str) -> str:
    """What job names of the same execution contain: ``pipelines-<execution id>-...`` gives the id."""
    parts = arn_name.split("-")
    return parts[1] if parts[0] == "pipelines" and len(parts) > 2 else arn_name


class JobNames:
    """Real job names by ARN, through one SageMaker client."""

    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sm = sagemaker
        self._known: dict[tuple[str, str], dict[str, str]] = {}  # (kind, name filter) -> lower-cased ARN -> name

    def name_of(self, arn: str) -> str | None:
        """The name of the job ``arn`` designates, or ``None`` if there is no such job."""
        kind = job_kind(arn)
        if kind is None:
            raise ValueError(f"{arn!r} is not the ARN of a training, processing or transform job")
        contains = _name_filter(arn.rsplit("/", 1)[-1])
        if (kind, contains) not in self._known:
            self._known[kind, contains] = self._list(kind, contains)
        return self._known[kind, contains].get(arn.lower())

    def _list(self, kind: str, contains: str) -> dict[str, str]:
        paginator: Any = self._sm.get_paginator(_OPERATIONS[kind])  # type: ignore[call-overload]  # one of three
        names: dict[str, str] = {}
        for page in paginator.paginate(NameContains=contains):
            for summary in page.get(f"{kind}Summaries", []):
                names[str(summary[f"{kind}Arn"]).lower()] = str(summary[f"{kind}Name"])
        return names
