"""The SageMaker event models: every sample event parses, times in every shape, malformed events named precisely."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sm_lifecycle.kernel.errors import InvalidEventError
from sm_lifecycle.kernel.events import (
    DETAIL_TYPES,
    EndpointDeploymentStateChangeEvent,
    EndpointStateChangeEvent,
    ModelPackageStateChangeEvent,
    PipelineExecutionStatusChangeEvent,
    PipelineStepStatusChangeEvent,
    TrainingJobStateChangeEvent,
    parse_any,
    parse_event,
    to_utc_datetime,
)

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "events").glob("*.json"))
AWS_SAMPLES = sorted((ROOT / "tests" / "fixtures" / "events" / "aws-docs").glob("*.json"))  # documented shapes
BAD = ROOT / "tests" / "fixtures" / "events" / "bad"

# detail-type → (python attribute, AWS key) of the field identifying the resource
IDENTIFIER = {
    ModelPackageStateChangeEvent: ("model_package_arn", "ModelPackageArn"),
    PipelineExecutionStatusChangeEvent: ("pipeline_execution_arn", "pipelineExecutionArn"),
    PipelineStepStatusChangeEvent: ("step_name", "stepName"),
    TrainingJobStateChangeEvent: ("training_job_name", "TrainingJobName"),
    EndpointStateChangeEvent: ("endpoint_name", "EndpointName"),
    EndpointDeploymentStateChangeEvent: ("endpoint_name", "EndpointName"),
}
STATUS = {
    ModelPackageStateChangeEvent: ("model_approval_status", "ModelApprovalStatus"),
    PipelineExecutionStatusChangeEvent: ("current_pipeline_execution_status", "currentPipelineExecutionStatus"),
    PipelineStepStatusChangeEvent: ("current_step_status", "currentStepStatus"),
    TrainingJobStateChangeEvent: ("training_job_status", "TrainingJobStatus"),
    EndpointStateChangeEvent: ("endpoint_status", "EndpointStatus"),
    EndpointDeploymentStateChangeEvent: ("endpoint_status", "EndpointStatus"),
}


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def sample(name: str) -> dict[str, Any]:
    return load(ROOT / "events" / f"{name}.json")


# ---------------------------------------------------------------------------------------------------- samples


def test_every_model_has_a_sample_event() -> None:
    # GIVEN the sample events of the project
    detail_types = {load(path)["detail-type"] for path in SAMPLES}
    # THEN each of the six models is exercised by at least one of them
    assert detail_types == set(DETAIL_TYPES)


@pytest.mark.parametrize("path", SAMPLES + AWS_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_event_parses_into_the_model_of_its_detail_type(path: Path) -> None:
    # GIVEN a sample event in AWS's shape
    raw = load(path)
    # WHEN it is parsed by detail-type
    event = parse_any(raw)
    # THEN the model is the one of its detail-type, with the identifying fields and status read from AWS's casing
    model = DETAIL_TYPES[raw["detail-type"]]
    assert type(event) is model
    assert event == parse_event(raw, model)
    assert event.id == raw["id"]
    assert event.resources == raw["resources"]
    for attribute, key in (IDENTIFIER[model], STATUS[model]):
        assert getattr(event.detail, attribute) == raw["detail"][key]
    assert event.time.tzinfo is UTC


@pytest.mark.parametrize("path", SAMPLES + AWS_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_time_field_of_a_sample_is_an_aware_utc_datetime(path: Path) -> None:
    # GIVEN a sample event  WHEN parsed
    event = parse_any(load(path))
    # THEN every *_time attribute that is set is an aware UTC datetime
    times = {name: value for name, value in event.detail if name.endswith("_time") and value is not None}
    assert times, "every sample carries at least one time field"
    for name, value in times.items():
        assert isinstance(value, datetime), name
        assert value.utcoffset() == timedelta(0), name


def test_sample_from_aws_documentation_keeps_unknown_fields() -> None:
    # GIVEN the documented approved-package event, with fields the model does not declare
    raw = load(ROOT / "tests" / "fixtures" / "events" / "aws-docs" / "model-package-approved.json")
    raw["detail"]["SomeFutureField"] = {"x": 1}
    # WHEN parsed
    event = parse_event(raw, ModelPackageStateChangeEvent)
    # THEN the unknown fields are kept, not rejected
    assert event.detail.model_extra["SomeFutureField"] == {"x": 1}
    assert event.detail.updated_model_package_fields == ["ModelApprovalStatus", "ApprovalDescription"]
    assert event.detail.is_new is False


def test_model_package_creation_event_is_new() -> None:
    event = parse_event(sample("model-package-pending"), ModelPackageStateChangeEvent)
    assert event.detail.is_new is True
    assert event.detail.model_package_group_name == "fraud-detector-dev"
    assert event.detail.model_package_version == 3
    assert event.detail.model_metrics["ModelQuality"]["Statistics"]["S3Uri"].endswith("evaluation.json")


def test_pipeline_events_expose_pipeline_name_and_execution_id() -> None:
    execution = parse_event(sample("pipeline-execution-failed"), PipelineExecutionStatusChangeEvent)
    step = parse_event(sample("pipeline-step-failed"), PipelineStepStatusChangeEvent)
    for detail in (execution.detail, step.detail):
        assert detail.pipeline_name == "fraud-pipeline-dev"
        assert detail.execution_id == detail.pipeline_execution_arn.rsplit("/", 1)[1]
    assert step.detail.metadata["trainingJob"]["arn"].endswith("training-gx7q2rtz1a")


def test_endpoint_status_maps_to_the_api_spelling() -> None:
    event = parse_event(sample("endpoint-update-rollback-failed"), EndpointStateChangeEvent)
    assert event.detail.endpoint_status == "UPDATE_ROLLBACK_FAILED"
    assert event.detail.api_status == "UpdateRollbackFailed"
    assert parse_any(sample("endpoint-in-service")).detail.api_status == "InService"


def test_endpoint_deployment_event_reads_the_pending_deployment() -> None:
    event = parse_event(sample("endpoint-deployment-baking"), EndpointDeploymentStateChangeEvent)
    pending = event.detail.pending_deployment_summary
    assert pending is not None
    assert pending.endpoint_config_name == "fraud-detector-dev-v3"
    assert pending.start_time == datetime(2025, 11, 20, 10, 43, tzinfo=UTC)
    assert pending.production_variants[0]["VariantStatus"][0]["Status"] == "Baking"


# ---------------------------------------------------------------------------------------------------- times

INSTANT = datetime(2026, 3, 24, 16, 10, 11, tzinfo=UTC)
MS = int(INSTANT.timestamp() * 1000)


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-24T16:10:11Z",
        "2026-03-24T16:10:11+00:00",
        "2026-03-24T18:10:11+02:00",
        "2026-03-24T16:10:11",  # no offset: UTC
        "2026-03-24T16:10:11.000000000Z",  # nanoseconds, as some SageMaker events send
        str(MS),
        f" {MS} ",
        f"{MS}.0",
        MS,
        float(MS),
        MS / 1000,  # epoch seconds (below 1e11) are read as seconds
        str(MS // 1000),
        datetime(2026, 3, 24, 18, 10, 11, tzinfo=timezone(timedelta(hours=2))),
    ],
    ids=repr,
)
def test_time_in_every_shape_becomes_the_same_aware_utc_instant(value: Any) -> None:
    # GIVEN an event whose envelope time and detail times carry the value
    raw = sample("training-job-failed")
    raw["time"] = value
    raw["detail"]["CreationTime"] = value
    # WHEN parsed
    event = parse_event(raw, TrainingJobStateChangeEvent)
    # THEN both are the same UTC instant
    assert event.time == INSTANT
    assert event.detail.creation_time == INSTANT
    assert event.detail.creation_time.tzinfo is UTC


def test_epoch_milliseconds_keep_their_fraction() -> None:
    assert to_utc_datetime(1774342992203.0) == datetime(2026, 3, 24, 9, 3, 12, 203000, tzinfo=UTC)
    assert to_utc_datetime("1774342992203") == datetime(2026, 3, 24, 9, 3, 12, 203000, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-01T00:00:00Z", True, {"at": 1}, [1], "nan", 1e300])
def test_time_that_is_not_a_time_is_an_invalid_event_naming_the_field(value: Any) -> None:
    # GIVEN an event whose detail time is not a time
    raw = sample("pipeline-step-failed")
    raw["detail"]["stepStartTime"] = value
    # WHEN parsed  THEN InvalidEventError names the field as AWS spells it
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw, PipelineStepStatusChangeEvent)
    assert caught.value.field == "detail.stepStartTime"
    assert "stepStartTime" in str(caught.value)


# ---------------------------------------------------------------------------------------------------- malformed

BAD_FIELDS = {
    "endpoint-detail-not-object": "detail",
    "endpoint-status-api-casing": "detail.EndpointStatus",
    "model-package-missing-arn": "detail.ModelPackageArn",
    "model-package-unknown-approval-status": "detail.ModelApprovalStatus",
    "model-package-version-not-int": "detail.ModelPackageVersion",
    "pipeline-execution-bad-time": "time",
    "pipeline-execution-missing-execution-arn": "detail.pipelineExecutionArn",
    "pipeline-execution-wrong-source": "source",
    "pipeline-step-time-object": "detail.stepEndTime",
    "training-job-status-number": "detail.TrainingJobStatus",
    "unknown-detail-type": "detail-type",
}


def test_every_malformed_fixture_has_an_expected_field() -> None:
    assert {path.stem for path in BAD.glob("*.json")} == set(BAD_FIELDS)


@pytest.mark.parametrize(("name", "field"), sorted(BAD_FIELDS.items()))
def test_malformed_event_raises_invalid_event_error_naming_the_field(name: str, field: str) -> None:
    # GIVEN a malformed variant of a sample event
    raw = load(BAD / f"{name}.json")
    # WHEN parsed by detail-type
    with pytest.raises(InvalidEventError) as caught:
        parse_any(raw)
    # THEN the error names the offending field, in the message too
    assert caught.value.field == field
    assert field in str(caught.value)


def test_missing_field_message_says_it_is_required() -> None:
    with pytest.raises(InvalidEventError, match=r"detail\.ModelPackageArn: field required"):
        parse_any(load(BAD / "model-package-missing-arn.json"))


def test_event_of_another_detail_type_names_only_the_detail_type() -> None:
    # GIVEN a valid training-job event parsed as a model-package event
    with pytest.raises(InvalidEventError) as caught:
        parse_event(sample("training-job-failed"), ModelPackageStateChangeEvent)
    # THEN the detail-type is the field named, not the detail fields that follow from it
    assert caught.value.field == "detail-type"
    assert "ModelPackageArn" not in str(caught.value)


@pytest.mark.parametrize("event", [None, "text", [], 42])
def test_event_that_is_not_an_object_is_invalid(event: Any) -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event, EndpointStateChangeEvent)
    assert caught.value.field == "(event)"
    with pytest.raises(InvalidEventError) as caught:
        parse_any(event)
    assert caught.value.field == "detail-type"


def test_missing_detail_type_is_invalid() -> None:
    raw = sample("endpoint-failed")
    del raw["detail-type"]
    with pytest.raises(InvalidEventError) as caught:
        parse_any(raw)
    assert caught.value.field == "detail-type"


def test_missing_detail_is_invalid() -> None:
    raw = sample("endpoint-failed")
    del raw["detail"]
    with pytest.raises(InvalidEventError) as caught:
        parse_any(raw)
    assert caught.value.field == "detail"


def test_list_item_errors_are_dotted_with_the_index() -> None:
    raw = sample("training-job-failed")
    raw["detail"]["SecondaryStatusTransitions"] = [{"Status": "Starting"}, "not an object"]
    with pytest.raises(InvalidEventError) as caught:
        parse_any(raw)
    assert caught.value.field == "detail.SecondaryStatusTransitions.1"


def test_parsing_does_not_modify_the_event() -> None:
    raw = sample("model-package-approved")
    before = copy.deepcopy(raw)
    parse_any(raw)
    assert raw == before


# ---------------------------------------------------------------------------------------------------- embedded AWS


def test_events_the_embedded_aws_emits_parse_with_the_models() -> None:
    # GIVEN events built by the embedded SageMaker the way it emits them
    from local.aws.sagemaker.events import models as emitted  # noqa: PLC0415 - the emulator is only needed here

    pipeline = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-pipeline-dev"
    execution = f"{pipeline}/execution/abc123"
    built = [
        (
            emitted.PIPELINE_EXECUTION_STATUS_CHANGE,
            emitted.pipeline_execution_detail(
                pipeline_arn=pipeline,
                pipeline_execution_arn=execution,
                current_status="Failed",
                previous_status="Executing",
                execution_start_time=1763633370000,
                execution_end_time="2025-11-20T10:41:07Z",
            ),
        ),
        (
            emitted.PIPELINE_STEP_STATUS_CHANGE,
            emitted.pipeline_step_detail(
                pipeline_arn=pipeline,
                pipeline_execution_arn=execution,
                step_name="Training",
                current_status="Failed",
                failure_reason="AlgorithmError",
                metadata={"TrainingJob": {"Arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/j"}},
            ),
        ),
        (
            emitted.TRAINING_JOB_STATE_CHANGE,
            emitted.training_job_detail(
                {
                    "TrainingJobName": "j",
                    "TrainingJobStatus": "Stopped",
                    "SecondaryStatus": "MaxWaitTimeExceeded",
                    "CreationTime": datetime(2025, 11, 20, tzinfo=UTC),
                    "SecondaryStatusTransitions": [{"Status": "Interrupted", "StartTime": 1763633370.0}],
                    "Tags": [{"Key": "team", "Value": "ml"}],
                }
            ),
        ),
        (
            emitted.ENDPOINT_STATE_CHANGE,
            emitted.endpoint_detail(
                endpoint_name="fraud-detector-dev",
                endpoint_arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-detector-dev",
                endpoint_config_name="fraud-detector-dev-v3",
                endpoint_status="InService",
                production_variants=[{"VariantName": "AllTraffic", "DesiredWeight": 1, "DesiredInstanceCount": 1}],
                creation_time=datetime(2025, 11, 20, tzinfo=UTC),
                last_modified_time="2025-11-20T10:53:00Z",
            ),
        ),
    ]
    for detail_type, detail in built:
        raw = emitted.envelope(detail_type, detail, [pipeline], account="123456789012", region="us-east-1")
        # WHEN parsed  THEN each is its model, times in UTC
        event = parse_any(raw)
        assert type(event) is DETAIL_TYPES[detail_type]
        assert event.time.tzinfo is UTC
    assert event.detail.api_status == "InService"


def test_envelope_has_the_fields_and_aliases_of_powertools_eventbridge_model() -> None:
    # GIVEN Powertools' EventBridge envelope (not imported by the functions: it loads the whole parser package)
    from aws_lambda_powertools.utilities.parser.models.event_bridge import EventBridgeModel  # noqa: PLC0415

    from sm_lifecycle.kernel.events import SageMakerEvent  # noqa: PLC0415

    # WHEN both are compared field by field
    ours = {name: field.alias for name, field in SageMakerEvent.model_fields.items()}
    theirs = {name: field.alias for name, field in EventBridgeModel.model_fields.items()}

    # THEN our envelope accepts exactly what Powertools' does
    assert ours == theirs
