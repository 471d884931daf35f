"""Contract tests: ListPipelineExecutionSteps and pipeline execution status in the embedded AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

T0 = datetime(2026, 3, 24, 16, 3, 13, tzinfo=UTC)


@pytest.fixture
def execution_arn(sagemaker: Any) -> str:
    sagemaker.create_pipeline(
        PipelineName="fraud-pipeline",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/r",
    )
    return sagemaker.start_pipeline_execution(PipelineName="fraud-pipeline")["PipelineExecutionArn"]


def record_steps(store: Any, execution_arn: str, count: int) -> list[str]:
    names = [f"Step{i}" for i in range(count)]
    for i, name in enumerate(names):
        store.record_step(
            execution_arn,
            {"StepName": name, "StepStatus": "Executing", "StartTime": T0 + timedelta(minutes=i), "AttemptCount": 1},
        )
    return names


def test_steps_are_listed_newest_first_and_paginated(embedded_aws, sagemaker, execution_arn):
    # GIVEN five steps recorded by the executor
    names = record_steps(embedded_aws.sagemaker_store, execution_arn, 5)

    # WHEN listing them two at a time
    pages, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn, MaxResults=2, **kwargs)
        pages.append([s["StepName"] for s in page["PipelineExecutionSteps"]])
        token = page.get("NextToken")
        if not token:
            break

    # THEN every step comes once, newest first, in pages of two
    assert pages == [["Step4", "Step3"], ["Step2", "Step1"], ["Step0"]]
    ascending = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn, SortOrder="Ascending")
    assert [s["StepName"] for s in ascending["PipelineExecutionSteps"]] == names


def test_step_updates_show_in_the_api_shape(embedded_aws, sagemaker, execution_arn):
    # GIVEN a training step that failed and a condition step
    store = embedded_aws.sagemaker_store
    job = "arn:aws:sagemaker:us-east-1:123456789012:training-job/pipelines-x-training"
    store.record_step(
        execution_arn,
        {
            "StepName": "Training",
            "StepStatus": "Executing",
            "StartTime": T0,
            "Metadata": {"TrainingJob": {"Arn": job}},
            "AttemptCount": 1,
        },
    )
    store.update_step(
        execution_arn,
        "Training",
        StepStatus="Failed",
        EndTime="2026-03-24T16:09:01Z",
        FailureReason="AlgorithmError: see logs",
        AttemptCount=2,
    )
    store.record_step(
        execution_arn,
        {
            "StepName": "CheckAUC",
            "StepStatus": "Succeeded",
            "StartTime": T0 + timedelta(minutes=7),
            "Metadata": {"Condition": {"Outcome": "False"}},
        },
    )

    # WHEN listing the steps
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)["PipelineExecutionSteps"]

    # THEN they carry the API's fields
    condition, training = steps
    assert condition["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert training["StepStatus"] == "Failed"
    assert training["FailureReason"] == "AlgorithmError: see logs"
    assert training["Metadata"] == {"TrainingJob": {"Arn": job}}
    assert training["AttemptCount"] == 2
    assert training["EndTime"] == datetime(2026, 3, 24, 16, 9, 1, tzinfo=UTC)


def test_unknown_step_fields_are_refused_by_the_store(embedded_aws, execution_arn):
    with pytest.raises(ValueError, match="unknown PipelineExecutionStep fields"):
        embedded_aws.sagemaker_store.record_step(execution_arn, {"StepName": "A", "Status": "Succeeded"})
    with pytest.raises(KeyError):
        embedded_aws.sagemaker_store.update_step(execution_arn, "Nope", StepStatus="Failed")


def test_listing_steps_of_an_unknown_execution_is_an_error(embedded_aws, sagemaker, execution_arn):
    with pytest.raises(ClientError) as info:
        sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn.replace("execution/", "execution/x"))
    assert info.value.response["Error"]["Code"] == "ValidationException"
    # an execution without recorded steps has none
    assert sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)["PipelineExecutionSteps"] == []


def test_invalid_pagination_token_is_refused(embedded_aws, sagemaker, execution_arn):
    record_steps(embedded_aws.sagemaker_store, execution_arn, 1)
    with pytest.raises(ClientError) as info:
        sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn, NextToken="garbage")
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_execution_status_set_by_the_executor_is_described(embedded_aws, sagemaker, execution_arn):
    # WHEN the executor marks the execution failed
    embedded_aws.sagemaker_store.set_pipeline_execution_status(execution_arn, "Failed", "Step Training failed")

    # THEN DescribePipelineExecution reports it
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    assert (described["PipelineExecutionStatus"], described["FailureReason"]) == ("Failed", "Step Training failed")


def test_another_process_records_steps_through_the_control_route(embedded_aws, sagemaker, execution_arn, control_http):
    # WHEN an executor in another process records a step over HTTP (JSON: ISO times)
    step = {"StepName": "Evaluate", "StepStatus": "Succeeded", "StartTime": "2026-03-24T16:09:30Z"}
    answer = control_http({"action": "record_step", "execution_arn": execution_arn, "step": step})
    control_http(
        {
            "action": "update_step",
            "execution_arn": execution_arn,
            "step_name": "Evaluate",
            "fields": {"EndTime": "2026-03-24T16:10:00Z"},
        }
    )

    # THEN the API lists it
    assert answer["ok"] is True
    (listed,) = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)["PipelineExecutionSteps"]
    assert listed["StepName"] == "Evaluate"
    assert listed["EndTime"] == datetime(2026, 3, 24, 16, 10, tzinfo=UTC)


def test_executions_are_listed_newest_first_paginated_and_only_failures_have_a_reason(embedded_aws, sagemaker):
    # GIVEN three executions of a pipeline, the last of which failed
    sagemaker.create_pipeline(
        PipelineName="listed",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/r",
    )
    arns = [sagemaker.start_pipeline_execution(PipelineName="listed")["PipelineExecutionArn"] for _ in range(3)]
    embedded_aws.sagemaker_store.set_pipeline_execution_status(arns[-1], "Failed", "Step failure: Train failed.")

    # WHEN listed two at a time (default order), and in ascending order
    first = sagemaker.list_pipeline_executions(PipelineName="listed", MaxResults=2)
    rest = sagemaker.list_pipeline_executions(PipelineName="listed", MaxResults=2, NextToken=first["NextToken"])
    ascending = sagemaker.list_pipeline_executions(PipelineName="listed", SortOrder="Ascending")

    # THEN newest first across pages, oldest first when asked, and a failure reason only where one exists
    listed = [
        s["PipelineExecutionArn"] for s in first["PipelineExecutionSummaries"] + rest["PipelineExecutionSummaries"]
    ]
    assert listed == arns[::-1]
    assert "NextToken" not in rest
    assert [s["PipelineExecutionArn"] for s in ascending["PipelineExecutionSummaries"]] == arns
    reasons = {
        s["PipelineExecutionArn"]: s.get("PipelineExecutionFailureReason")
        for s in ascending["PipelineExecutionSummaries"]
    }
    assert reasons == {arns[0]: None, arns[1]: None, arns[2]: "Step failure: Train failed."}
