"""Contract tests: SageMaker jobs keep the case of their names, while their ARNs are lower-cased.

Real pipeline jobs are named ``pipelines-<execution id>-<StepName>-<suffix>`` in the step's case (the AWS event
samples show ``.../pipelines-4r83jejmhorv-TrainAbaloneModel-xw869y8C4a/output/model.tar.gz``) and their ARNs in
lower case (step metadata, ``DescribeTrainingJob``'s ``TrainingJobArn``). Whether ``Describe*Job`` accepts the
lower-cased name is not documented: the embedded AWS refuses it, so that nothing relies on it.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import create_training_job

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1"
NAME = "pipelines-4r83jejmhorv-TrainAbaloneModel-xw869y8C4a"


def create_processing_job(sm: Any, name: str) -> str:
    return sm.create_processing_job(
        ProcessingJobName=name,
        RoleArn=ROLE,
        AppSpecification={"ImageUri": IMAGE},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
    )["ProcessingJobArn"]


@pytest.mark.parametrize("kind", ["training", "processing"])
def test_a_job_keeps_its_name_and_gets_a_lower_cased_arn(sagemaker: Any, kind: str) -> None:
    # WHEN a job is created with a mixed-case name
    create = create_training_job if kind == "training" else create_processing_job
    arn = create(sagemaker, NAME)

    # THEN its ARN is lower case, its name is as given, and listing names it so
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:{kind}-job/{NAME.lower()}"
    key = "TrainingJob" if kind == "training" else "ProcessingJob"
    described = getattr(sagemaker, f"describe_{kind}_job")(**{f"{key}Name": NAME})
    assert (described[f"{key}Name"], described[f"{key}Arn"]) == (NAME, arn)
    [summary] = getattr(sagemaker, f"list_{kind}_jobs")(NameContains="4r83jejmhorv")[f"{key}Summaries"]
    assert (summary[f"{key}Name"], summary[f"{key}Arn"]) == (NAME, arn)


def test_describe_training_job_needs_the_real_name(sagemaker: Any) -> None:
    # GIVEN a job with a mixed-case name
    create_training_job(sagemaker, NAME)

    # WHEN it is described by the lower-cased name its ARN ends with
    with pytest.raises(ClientError) as error:
        sagemaker.describe_training_job(TrainingJobName=NAME.lower())

    # THEN it is not found, as DescribeTrainingJob says of an unknown job
    assert error.value.response["Error"] == {"Code": "ValidationException", "Message": "Requested resource not found."}


def test_tags_of_a_job_are_read_and_written_by_its_arn(sagemaker: Any) -> None:
    # GIVEN a mixed-case job, known by its (lower-case) ARN
    arn = create_training_job(sagemaker, NAME)

    # WHEN it is tagged through that ARN
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "execution", "Value": "4r83jejmhorv"}])

    # THEN the job carries the tag
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "execution", "Value": "4r83jejmhorv"}]
