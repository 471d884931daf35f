"""The embedded AWS itself: server lifecycle, event emission through EventBridge, event builders."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from moto.sagemaker.models import SageMakerModelBackend

from local.aws import EmbeddedAWS, Timings, extensions
from local.aws.sagemaker.events import models as sagemaker_events

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-pipeline"
EXECUTION = f"{PIPELINE}/execution/p4jn9xou8a8s"


def test_server_answers_as_the_default_account_and_region(embedded_aws):
    # WHEN a client of the embedded AWS asks who it is
    identity = embedded_aws.client("sts").get_caller_identity()

    # THEN it is moto's default account in the configured region, on a local port
    assert identity["Account"] == embedded_aws.account_id == "123456789012"
    assert embedded_aws.region == "us-east-1"
    assert embedded_aws.endpoint_url.startswith("http://127.0.0.1:")
    assert embedded_aws.port > 0


def test_start_resets_every_service():
    # GIVEN state left by a previous embedded AWS
    with EmbeddedAWS(timings=Timings()) as first:
        first.client("sqs").create_queue(QueueName="left-over")
        first.emit("SageMaker Endpoint State Change", {"EndpointName": "x"}, [])
        assert first.emitted_events

    # WHEN a new one starts
    with EmbeddedAWS(timings=Timings()) as second:
        # THEN nothing is left
        assert second.client("sqs").list_queues().get("QueueUrls", []) == []
        assert second.emitted_events == []


def test_installing_the_extensions_twice_changes_nothing(embedded_aws):
    # GIVEN installed extensions
    before = dict(vars(SageMakerModelBackend))

    # WHEN installed again
    extensions.install()

    # THEN the backend is untouched (no double wrapping)
    assert extensions.installed()
    assert dict(vars(SageMakerModelBackend)) == before


def test_emit_goes_through_eventbridge_rules_to_their_targets(embedded_aws, event_queue):
    # GIVEN a rule for failed pipeline executions only
    read = event_queue({"source": ["aws.sagemaker"], "detail": {"currentPipelineExecutionStatus": ["Failed"]}})
    detail = sagemaker_events.pipeline_execution_detail(
        pipeline_arn=PIPELINE, pipeline_execution_arn=EXECUTION, current_status="Failed", previous_status="Executing"
    )

    # WHEN a failed and a succeeded execution are emitted
    failed = embedded_aws.emit(sagemaker_events.PIPELINE_EXECUTION_STATUS_CHANGE, detail, [PIPELINE, EXECUTION])
    embedded_aws.emit(
        sagemaker_events.PIPELINE_EXECUTION_STATUS_CHANGE,
        {**detail, "currentPipelineExecutionStatus": "Succeeded"},
        [PIPELINE, EXECUTION],
    )

    # THEN only the failed one reaches the queue, exactly as emitted
    assert read() == [failed]
    assert failed["source"] == "aws.sagemaker"
    assert [e["detail"]["currentPipelineExecutionStatus"] for e in embedded_aws.emitted_events] == [
        "Failed",
        "Succeeded",
    ]
    assert failed["id"] != embedded_aws.emitted_events[1]["id"]


def test_events_of_a_resource_arrive_in_the_order_they_happened(embedded_aws, sagemaker, event_queue):
    # GIVEN a version updated many times in a row
    read = event_queue({"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]})
    sagemaker.create_model_package_group(ModelPackageGroupName="g")
    arn = sagemaker.create_model_package(ModelPackageGroupName="g", ModelApprovalStatus="PendingManualApproval")[
        "ModelPackageArn"
    ]
    for i in range(10):
        sagemaker.update_model_package(ModelPackageArn=arn, ApprovalDescription=f"review {i}")

    # THEN the queue holds them in that order
    descriptions = [e["detail"].get("ApprovalDescription") for e in read()]
    assert descriptions == [None] + [f"review {i}" for i in range(10)]


def test_customer_put_events_still_work(embedded_aws, event_queue):
    # GIVEN a rule on a customer source
    read = event_queue({"source": ["my.app"]})

    # WHEN a customer puts an event through the API
    embedded_aws.client("events").put_events(
        Entries=[{"Source": "my.app", "DetailType": "Thing", "Detail": json.dumps({"a": 1})}]
    )

    # THEN the target receives the whole event, as EventBridge delivers it (account included, time in ISO 8601)
    (event,) = read()
    assert (event["source"], event["detail"]) == ("my.app", {"a": 1})
    assert event["account"] == embedded_aws.account_id
    assert event["region"] == embedded_aws.region
    assert datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")


def test_control_route_resets_and_reports_timings(embedded_aws, control_http):
    call = control_http
    embedded_aws.client("sqs").create_queue(QueueName="q")
    assert call({"action": "set_timings", "endpoint_update": 2.5})["result"]["endpoint_update"] == 2.5
    assert embedded_aws.timings.endpoint_update == 2.5
    call({"action": "reset"})
    assert embedded_aws.client("sqs").list_queues().get("QueueUrls", []) == []


# -- builders ------------------------------------------------------------------------------------------------------
def test_pipeline_step_detail_has_the_documented_shape():
    detail = sagemaker_events.pipeline_step_detail(
        pipeline_arn=PIPELINE,
        pipeline_execution_arn=EXECUTION,
        step_name="Training",
        step_type="Training",
        current_status="Failed",
        previous_status="Executing",
        step_start_time=datetime(2026, 3, 24, 16, 5, 14, tzinfo=UTC),
        step_end_time="2026-03-24T16:09:01Z",
        failure_reason="ClientError: Spot capacity not available",
        metadata={"TrainingJob": {"Arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/t"}},
    )
    assert detail == {
        "metadata": {"trainingJob": {"arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/t"}},
        "stepStartTime": "2026-03-24T16:05:14Z",
        "stepEndTime": "2026-03-24T16:09:01Z",
        "stepName": "Training",
        "stepType": "Training",
        "previousStepStatus": "Executing",
        "currentStepStatus": "Failed",
        "failureReason": "ClientError: Spot capacity not available",
        "pipelineArn": PIPELINE,
        "pipelineExecutionArn": EXECUTION,
    }


def test_training_job_detail_uses_epoch_millisecond_strings_and_a_tag_map():
    detail = sagemaker_events.training_job_detail(
        {
            "TrainingJobName": "t",
            "TrainingJobStatus": "Failed",
            "CreationTime": datetime(2026, 3, 24, 9, 0, tzinfo=UTC),
            "LastModifiedTime": 1774342800.0,
            "Tags": [{"Key": "env", "Value": "dev"}],
            "ResponseMetadata": {},
        }
    )
    assert detail["CreationTime"] == "1774342800000"
    assert detail["LastModifiedTime"] == "1774342800000"
    assert detail["Tags"] == {"env": "dev"}
    assert "ResponseMetadata" not in detail


@pytest.mark.parametrize(
    ("status", "event_status"),
    [("InService", "IN_SERVICE"), ("Creating", "CREATING"), ("UpdateRollbackFailed", "UPDATE_ROLLBACK_FAILED")],
)
def test_endpoint_statuses_are_upper_snake_in_events(status, event_status):
    assert sagemaker_events.upper_snake(status) == event_status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # event-ruler (EventBridge's matcher) records a field for each leaf value: an empty array or object has none
        ("missing", {"absent": True, "present": False, "listed": False}),
        ([], {"absent": True, "present": False, "listed": False}),
        ({}, {"absent": True, "present": False, "listed": False}),
        (["ModelApprovalStatus"], {"absent": False, "present": True, "listed": True}),
        (["CustomerMetadataProperties"], {"absent": False, "present": True, "listed": False}),
        (None, {"absent": False, "present": True, "listed": False}),  # null is a value
    ],
)
def test_event_patterns_see_empty_arrays_and_objects_as_absent_fields(embedded_aws, event_queue, value, expected):
    # GIVEN rules on a field's absence, its presence and one of its values
    fields = "UpdatedModelPackageFields"
    base = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]}
    reads = {
        name: event_queue({**base, "detail": {fields: [condition]}})
        for name, condition in (
            ("absent", {"exists": False}),
            ("present", {"exists": True}),
            ("listed", "ModelApprovalStatus"),
        )
    }

    # WHEN SageMaker emits an event whose field holds the value (or leaves it out)
    detail = {"ModelPackageGroupName": "g"} | ({} if value == "missing" else {fields: value})
    embedded_aws.control.emit("SageMaker Model Package State Change", detail, [])

    # THEN each rule matches as EventBridge would
    assert {name: len(read()) == 1 for name, read in reads.items()} == expected
