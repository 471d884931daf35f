"""The real name of a job from its lower-cased ARN (moto with the project's SageMaker extensions, in process)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from sm_lifecycle.kernel.jobs import JobNames, job_kind
from tests.support import REGION, create_training_job


class CountingClient:
    """A SageMaker client that counts its paginated listings."""

    def __init__(self, sm: Any) -> None:
        self.sm, self.listings = sm, 0

    def get_paginator(self, name: str) -> Any:
        self.listings += 1
        return self.sm.get_paginator(name)


def test_a_job_is_found_by_its_lower_cased_arn_with_one_listing_per_execution(aws: None) -> None:
    # GIVEN two jobs of one execution and one of another, named in their steps' case
    sm = boto3.client("sagemaker", region_name=REGION)
    train = create_training_job(sm, "pipelines-4r83jejmhorv-Train-xw869y8C4a")
    tune = create_training_job(sm, "pipelines-4r83jejmhorv-Tune-Qb2fL0kT9z")
    other = create_training_job(sm, "pipelines-9a8b7c6d5e4f-Train-AbCdEfGh12")
    client = CountingClient(sm)
    names = JobNames(client)  # type: ignore[arg-type]

    # WHEN their ARNs (lower case) are resolved
    found = [names.name_of(arn) for arn in (train, tune, other)]

    # THEN each real name is found, with one listing per execution
    assert train == train.lower()
    assert found == [
        "pipelines-4r83jejmhorv-Train-xw869y8C4a",
        "pipelines-4r83jejmhorv-Tune-Qb2fL0kT9z",
        "pipelines-9a8b7c6d5e4f-Train-AbCdEfGh12",
    ]
    assert client.listings == 2


def test_an_unknown_job_has_no_name_and_a_non_job_arn_is_refused(aws: None) -> None:
    names = JobNames(boto3.client("sagemaker", region_name=REGION))
    assert names.name_of("arn:aws:sagemaker:us-east-1:123456789012:training-job/pipelines-x1-train-gone") is None
    assert job_kind("arn:aws:sagemaker:us-east-1:123456789012:processing-job/p") == "ProcessingJob"
    with pytest.raises(ValueError, match="not the ARN of a training"):
        names.name_of("arn:aws:sagemaker:us-east-1:123456789012:model/m")
