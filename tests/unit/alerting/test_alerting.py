"""Alert content and deduplication keys, with SageMaker's answers stubbed (botocore Stubber, exact requests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from sm_lifecycle.alerting.model import AlertEvent, dedupe_key, spot_cause
from sm_lifecycle.alerting.sagemaker import SageMakerReads
from sm_lifecycle.alerting.service import build_alert as build
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.events import parse_any
from sm_lifecycle.kernel.notify import Severity
from sm_lifecycle.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = Settings(
    environment="dev",
    team="ml-platform",
    git_sha="3f2c1e9",
    pipeline_name="fraud-pipeline-dev",
    model_package_group_name="fraud-detector-dev",
    endpoint_name="fraud-detector-dev",
    alert_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts",
    idempotency_table_name="idempotency",
    dead_letter_queue_url=None,
    region="us-east-1",
)


def build_alert(event: Any, settings: Settings) -> Any:
    """The alert for ``event``, its lookups made through the (stubbed) shared SageMaker client."""
    assert isinstance(event, AlertEvent)
    return build(event, settings, SageMakerReads(clients.client("sagemaker")))


def sample(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The shared SageMaker client, stubbed: every call must be expected, with its exact parameters."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    clients.reset()
    with Stubber(clients.client("sagemaker")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    clients.reset()


def step(name: str, status: str, reason: str | None = None, job: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"StepName": name, "StepStatus": status, "StartTime": datetime(2025, 11, 20, tzinfo=UTC)}
    if reason:
        out["FailureReason"] = reason
    if job:
        out["Metadata"] = {"TrainingJob": {"Arn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}"}}
    return out


# ---------------------------------------------------------------------------------------------------- keys


def test_step_failure_and_execution_failure_share_one_key() -> None:
    # GIVEN the failed-step event and the failed-execution event of the same execution
    execution = parse_any(sample("pipeline-execution-failed"))
    step_event = parse_any(sample("pipeline-step-failed"))
    # THEN they deduplicate to one alert
    assert dedupe_key(execution) == dedupe_key(step_event)
    assert dedupe_key(execution)["execution"] == execution.detail.pipeline_execution_arn


def test_a_failed_step_and_its_execution_completing_with_failures_share_one_key() -> None:
    # GIVEN the failed-step event of an execution, and that execution's end as CompletedWithFailures
    step_event = parse_any(sample("pipeline-step-failed"))
    raw = sample("pipeline-execution-completed-with-failures")
    raw["detail"]["pipelineExecutionArn"] = step_event.detail.pipeline_execution_arn
    # THEN they are one failure, one alert
    assert dedupe_key(parse_any(raw)) == dedupe_key(step_event)


def test_key_ignores_the_event_id_and_time_but_not_the_status() -> None:
    failed = sample("pipeline-execution-failed")
    redelivered = {**failed, "id": "another-id", "time": "2025-11-20T10:41:09Z"}
    stopped = sample("pipeline-execution-stopped")
    assert dedupe_key(parse_any(failed)) == dedupe_key(parse_any(redelivered))
    assert dedupe_key(parse_any(failed)) != dedupe_key(parse_any(stopped))


def test_training_job_key_is_the_job_and_its_status() -> None:
    failed = parse_any(sample("training-job-failed"))
    assert dedupe_key(failed) == {
        "scope": "training-job",
        "job": "pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a",
        "status": "Failed",
    }
    assert dedupe_key(parse_any(sample("training-job-stopped-spot")))["status"] == "Stopped"


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("pipeline-execution-failed", "currentPipelineExecutionStatus", "Succeeded"),
        ("pipeline-execution-failed", "currentPipelineExecutionStatus", "Executing"),
        ("pipeline-step-failed", "currentStepStatus", "Succeeded"),
        ("training-job-failed", "TrainingJobStatus", "Completed"),
        ("training-job-failed", "TrainingJobStatus", "InProgress"),
    ],
)
def test_changes_that_are_not_failures_need_no_alert(name: str, path: str, value: str) -> None:
    raw = sample(name)
    raw["detail"][path] = value
    assert dedupe_key(parse_any(raw)) is None


# ---------------------------------------------------------------------------------------------------- spot


@pytest.mark.parametrize(
    ("reason", "secondary", "transitions"),
    [
        ("ClientError: Spot capacity not available after MaxWaitTimeInSeconds", None, []),
        (None, "MaxWaitTimeExceeded", []),
        (None, "Stopped", [{"Status": "Interrupted", "StatusMessage": "Spot instance reclaimed"}]),
        ("Training job was interrupted", "Failed", []),
        ("InsufficientCapacityError: Spot", None, []),
    ],
)
def test_spot_capacity_and_interruptions_are_recognised(
    reason: str | None, secondary: str | None, transitions: list[dict[str, str]]
) -> None:
    cause = spot_cause(reason, secondary, transitions)
    assert cause is not None
    assert "not a bug in the training code" in cause


@pytest.mark.parametrize(
    ("reason", "secondary"),
    [("AlgorithmError: label must be in [0,1]", "Failed"), (None, "MaxRuntimeExceeded"), (None, None)],
)
def test_other_failures_are_not_called_spot(reason: str | None, secondary: str | None) -> None:
    assert spot_cause(reason, secondary, [{"Status": "Training", "StatusMessage": "Training in progress"}]) is None


# ---------------------------------------------------------------------------------------------------- content


def test_execution_alert_names_the_failed_step_and_its_reason_from_list_pipeline_execution_steps(
    sagemaker: Stubber,
) -> None:
    # GIVEN a failed-execution event (which carries no reason) and SageMaker's record of its steps
    event = parse_any(sample("pipeline-execution-failed"))
    arn = event.detail.pipeline_execution_arn
    sagemaker.add_response(
        "list_pipeline_execution_steps",
        {
            "PipelineExecutionSteps": [
                step("Prepare", "Succeeded"),
                step("Training", "Failed", "AlgorithmError: label must be in [0,1]", job="pipelines-x-training-1"),
            ]
        },
        {"PipelineExecutionArn": arn, "SortOrder": "Ascending"},
    )
    # WHEN the alert is built
    alert = build_alert(event, SETTINGS)
    # THEN it says what failed, where, why, and links the console
    assert alert.subject == "[dev] Pipeline fraud-pipeline-dev execution 7k2m9q4x1b3c Failed at step Training"
    assert "Failed step:   Training" in alert.message
    assert "AlgorithmError: label must be in [0,1]" in alert.message
    assert "Training job: pipelines-x-training-1" in alert.message
    assert arn in alert.message
    assert "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/pipelines/" in alert.message
    assert "SPOT" not in alert.message
    assert alert.severity is Severity.ERROR
    assert alert.attributes == {"kind": "pipeline-execution", "execution": "7k2m9q4x1b3c", "step": "Training"}


def test_execution_alert_falls_back_to_describe_pipeline_execution(sagemaker: Stubber) -> None:
    # GIVEN an execution with no failed step recorded, whose description has a FailureReason
    event = parse_any(sample("pipeline-execution-failed"))
    arn = event.detail.pipeline_execution_arn
    sagemaker.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": [step("Prepare", "Succeeded")]},
        {"PipelineExecutionArn": arn, "SortOrder": "Ascending"},
    )
    sagemaker.add_response(
        "describe_pipeline_execution",
        {"PipelineExecutionArn": arn, "FailureReason": "Pipeline definition could not be resolved"},
        {"PipelineExecutionArn": arn},
    )
    # WHEN built  THEN the execution's own reason is given
    alert = build_alert(event, SETTINGS)
    assert "Reason:        Pipeline definition could not be resolved" in alert.message
    assert "at step" not in alert.subject


def test_execution_alert_goes_out_even_when_sagemaker_cannot_say_why(sagemaker: Stubber) -> None:
    # GIVEN SageMaker refusing both look-ups
    event = parse_any(sample("pipeline-execution-failed"))
    sagemaker.add_client_error("list_pipeline_execution_steps", "AccessDeniedException", "not allowed")
    sagemaker.add_client_error("describe_pipeline_execution", "AccessDeniedException", "not allowed")
    # WHEN built  THEN the alert still names the execution and says the reason is unknown, and why
    alert = build_alert(event, SETTINGS)
    assert "7k2m9q4x1b3c" in alert.subject
    assert "not reported by SageMaker (lookup failed: AccessDeniedException)" in alert.message


def test_stopped_execution_is_a_warning(sagemaker: Stubber) -> None:
    event = parse_any(sample("pipeline-execution-stopped"))
    arn = event.detail.pipeline_execution_arn
    sagemaker.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": []},
        {"PipelineExecutionArn": arn, "SortOrder": "Ascending"},
    )
    sagemaker.add_response("describe_pipeline_execution", {"PipelineExecutionArn": arn}, {"PipelineExecutionArn": arn})
    alert = build_alert(event, SETTINGS)
    assert alert.severity is Severity.WARNING
    assert "Stopped" in alert.subject
    assert "Stopping -> Stopped" in alert.message


def test_step_alert_uses_the_reason_of_the_event_without_calling_sagemaker(sagemaker: Stubber) -> None:
    # GIVEN a failed-step event with its reason (the stub expects no call)
    alert = build_alert(parse_any(sample("pipeline-step-failed")), SETTINGS)
    # THEN the reason and the step's training job are in the alert
    assert "Failed at step Training" in alert.subject
    assert "XGBoostError: label must be in [0,1]" in alert.message
    assert "Training job: pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a" in alert.message


def test_step_alert_without_reason_reads_it_from_list_pipeline_execution_steps(sagemaker: Stubber) -> None:
    raw = sample("pipeline-step-failed")
    del raw["detail"]["failureReason"]
    event = parse_any(raw)
    sagemaker.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": [step("Training", "Failed", "ClientError: Spot capacity not available")]},
        {"PipelineExecutionArn": event.detail.pipeline_execution_arn, "SortOrder": "Ascending"},
    )
    alert = build_alert(event, SETTINGS)
    assert "ClientError: Spot capacity not available" in alert.message
    # AND a Spot capacity failure is called out as such
    assert alert.subject.endswith("(Spot capacity)")
    assert "SPOT:" in alert.message
    assert alert.attributes["cause"] == "spot"


def test_training_job_alert_with_reason_in_the_event(sagemaker: Stubber) -> None:
    alert = build_alert(parse_any(sample("training-job-failed")), SETTINGS)
    assert alert.subject == "[dev] Training job pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a Failed"
    assert "AlgorithmError: XGBoostError" in alert.message
    assert "#/jobs/pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a" in alert.message
    assert "pipeline execution 7k2m9q4x1b3c" in alert.message
    assert "SPOT" not in alert.message
    assert alert.severity is Severity.ERROR
    assert alert.attributes == {"kind": "training-job", "job": "pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a"}


def test_training_job_without_reason_is_described_and_spot_called_out(sagemaker: Stubber) -> None:
    # GIVEN a stopped training job event without FailureReason nor secondary detail
    raw = sample("training-job-stopped-spot")
    for key in ("SecondaryStatus", "SecondaryStatusTransitions", "FailureReason"):
        raw["detail"].pop(key, None)
    event = parse_any(raw)
    name = event.detail.training_job_name
    # AND DescribeTrainingJob reporting the Spot wait
    sagemaker.add_response(
        "describe_training_job",
        {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
            "ModelArtifacts": {"S3ModelArtifacts": ""},
            "TrainingJobStatus": "Stopped",
            "SecondaryStatus": "MaxWaitTimeExceeded",
            "FailureReason": "Training job exceeded MaxWaitTimeInSeconds while waiting for Spot capacity",
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
            "CreationTime": datetime(2025, 11, 20, tzinfo=UTC),
        },
        {"TrainingJobName": name},
    )
    # WHEN built
    alert = build_alert(event, SETTINGS)
    # THEN the reason comes from the description, and Spot is called out
    assert "exceeded MaxWaitTimeInSeconds while waiting for Spot capacity" in alert.message
    assert alert.subject.endswith("Stopped (Spot capacity)")
    assert "SPOT: the job ran out of MaxWaitTimeInSeconds" in alert.message
    assert "MaxWaitTimeInSeconds=7200" in alert.message
    assert alert.severity is Severity.WARNING
    assert alert.attributes["cause"] == "spot"


def test_spot_sample_is_called_out_from_the_event_alone(sagemaker: Stubber) -> None:
    # GIVEN the spot sample (no FailureReason, SecondaryStatus MaxWaitTimeExceeded) and a job SageMaker forgot
    event = parse_any(sample("training-job-stopped-spot"))
    sagemaker.add_client_error(
        "describe_training_job", "ValidationException", "Could not find training job", expected_params=None
    )
    alert = build_alert(event, SETTINGS)
    assert "(Spot capacity)" in alert.subject
    assert "lookup failed: ValidationException" in alert.message
    assert "Stopped / MaxWaitTimeExceeded" in alert.message
