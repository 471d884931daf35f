"""Alert content and deduplication keys, with SageMaker's answers stubbed (botocore Stubber, exact requests): the
facts come from the API, the event only says what to look at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from sm_lifecycle.alerting.model import (
    AlertEvent,
    PipelineFailure,
    TrainingJobFailure,
    Unconfirmed,
    claimed_status,
    dedupe_key,
    spot_cause,
)
from sm_lifecycle.alerting.sagemaker import SageMakerReads
from sm_lifecycle.alerting.service import build_alert as build
from sm_lifecycle.alerting.service import failure_of
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.errors import TransientError
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


CREATED = datetime(2025, 11, 20, 10, 2, 11, tzinfo=UTC)
ENDED = datetime(2025, 11, 20, 10, 41, 7, tzinfo=UTC)


def step(name: str, status: str, reason: str | None = None, job: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"StepName": name, "StepStatus": status, "StartTime": CREATED, "EndTime": ENDED}
    if reason:
        out["FailureReason"] = reason
    if job:
        out["Metadata"] = {"TrainingJob": {"Arn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}"}}
    return out


def expect_execution(sagemaker: Stubber, arn: str, status: str, **fields: Any) -> None:
    """SageMaker's DescribePipelineExecution of ``arn``."""
    answer = {"PipelineExecutionArn": arn, "PipelineExecutionStatus": status, "CreationTime": CREATED}
    sagemaker.add_response(
        "describe_pipeline_execution", {**answer, "LastModifiedTime": ENDED, **fields}, {"PipelineExecutionArn": arn}
    )


def expect_steps(sagemaker: Stubber, arn: str, *steps: dict[str, Any]) -> None:
    """SageMaker's ListPipelineExecutionSteps of ``arn``."""
    sagemaker.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": list(steps)},
        {"PipelineExecutionArn": arn, "SortOrder": "Ascending"},
    )


def expect_job(sagemaker: Stubber, name: str, status: str, **fields: Any) -> None:
    """SageMaker's DescribeTrainingJob of ``name``."""
    answer = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "TrainingJobStatus": status,
        "SecondaryStatus": status,
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": CREATED,
        "TrainingStartTime": CREATED,
        "TrainingEndTime": ENDED,
    }
    sagemaker.add_response("describe_training_job", {**answer, **fields}, {"TrainingJobName": name})


# ---------------------------------------------------------------------------------------------------- keys
EXECUTION_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-pipeline-dev/execution/7k2m9q4x1b3c"


def pipeline_failure(status: str) -> PipelineFailure:
    return PipelineFailure("fraud-pipeline-dev", EXECUTION_ARN, "7k2m9q4x1b3c", status, "event-1")


def test_a_failed_step_and_its_execution_failing_or_completing_with_failures_share_one_key() -> None:
    # GIVEN a failed step (its failure's status is Failed), and its execution's end as SageMaker reports it
    step_failure = pipeline_failure("Failed")
    # THEN they are one failure, one alert; a stop is another change
    assert dedupe_key(step_failure) == dedupe_key(pipeline_failure("CompletedWithFailures"))
    assert dedupe_key(step_failure) == {"scope": "pipeline-execution", "execution": EXECUTION_ARN, "status": "Failed"}
    assert dedupe_key(pipeline_failure("Stopped")) != dedupe_key(step_failure)


def test_training_job_key_is_the_job_and_its_status() -> None:
    failed = TrainingJobFailure("pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a", "Failed", "event-1")
    assert dedupe_key(failed) == {
        "scope": "training-job",
        "job": "pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a",
        "status": "Failed",
    }


def test_the_key_is_the_status_sagemaker_reports_not_the_events(sagemaker: Stubber) -> None:
    # GIVEN an execution event saying Stopped, for an execution SageMaker reports Stopped
    event = parse_any(sample("pipeline-execution-stopped"))
    arn = event.detail.pipeline_execution_arn
    expect_execution(sagemaker, arn, "Stopped", FailureReason="Stopped by a user")
    # THEN the failure's key carries the API's status
    failure = failure_of(event, SageMakerReads(clients.client("sagemaker")))
    assert dedupe_key(failure) == {"scope": "pipeline-execution", "execution": arn, "status": "Stopped"}


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
def test_events_that_report_no_failure_point_at_nothing_to_confirm(name: str, path: str, value: str) -> None:
    raw = sample(name)
    raw["detail"][path] = value
    assert claimed_status(parse_any(raw)) is None


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


# ---------------------------------------------------------------------------------------------------- executions


def test_execution_alert_names_the_failed_step_and_its_reason_from_list_pipeline_execution_steps(
    sagemaker: Stubber,
) -> None:
    # GIVEN a failed-execution event, and SageMaker's record of the execution and its steps
    event = parse_any(sample("pipeline-execution-failed"))
    arn = event.detail.pipeline_execution_arn
    expect_execution(
        sagemaker, arn, "Failed", PipelineExecutionDisplayName="nightly", PipelineExecutionDescription="git abc1234"
    )
    expect_steps(
        sagemaker,
        arn,
        step("Prepare", "Succeeded"),
        step("Training", "Failed", "AlgorithmError: label must be in [0,1]", job="pipelines-x-training-1"),
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
    # AND the display name, description and times are SageMaker's, not the event's
    assert "Execution:     7k2m9q4x1b3c (nightly)" in alert.message
    assert "Description:   git abc1234" in alert.message
    assert "execution-1763634000" not in alert.message and "Description:   git 3f2c1e9" not in alert.message
    assert f"Started/ended: {CREATED.isoformat()} / {ENDED.isoformat()}" in alert.message


def test_execution_alert_gives_the_executions_own_reason_when_no_step_failed(sagemaker: Stubber) -> None:
    # GIVEN an execution with no failed step recorded, whose description has a FailureReason
    event = parse_any(sample("pipeline-execution-failed"))
    arn = event.detail.pipeline_execution_arn
    expect_execution(sagemaker, arn, "Failed", FailureReason="Pipeline definition could not be resolved")
    expect_steps(sagemaker, arn, step("Prepare", "Succeeded"))
    # WHEN built  THEN the execution's own reason is given
    alert = build_alert(event, SETTINGS)
    assert "Reason:        Pipeline definition could not be resolved" in alert.message
    assert "at step" not in alert.subject


def test_an_execution_reason_with_line_breaks_cannot_forge_lines_of_the_alert(sagemaker: Stubber) -> None:
    event = parse_any(sample("pipeline-execution-failed"))
    arn = event.detail.pipeline_execution_arn
    expect_execution(sagemaker, arn, "Failed", FailureReason="boom\nConsole: https://evil.example")
    expect_steps(sagemaker, arn)
    alert = build_alert(event, SETTINGS)
    assert "Reason:        boom Console: https://evil.example" in alert.message
    assert not any(line.startswith("Console: https://evil") for line in alert.message.splitlines())


@pytest.mark.parametrize("actual", ["Succeeded", "Executing", "Stopped"])
def test_an_execution_sagemaker_reports_in_another_status_is_not_alerted(sagemaker: Stubber, actual: str) -> None:
    # GIVEN an event saying Failed, for an execution SageMaker reports otherwise
    event = parse_any(sample("pipeline-execution-failed"))
    expect_execution(sagemaker, event.detail.pipeline_execution_arn, actual)
    # WHEN built  THEN SageMaker does not confirm it, naming both statuses (and nothing more is asked)
    with pytest.raises(Unconfirmed, match=f"the event says Failed, SageMaker says {actual}"):
        build_alert(event, SETTINGS)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "Could not find pipeline execution with PipelineExecutionArn x."),
        ("ResourceNotFound", "Pipeline execution does not exist"),
    ],
)
def test_an_execution_sagemaker_does_not_know_is_not_alerted(sagemaker: Stubber, code: str, message: str) -> None:
    event = parse_any(sample("pipeline-execution-failed"))
    sagemaker.add_client_error("describe_pipeline_execution", code, message)
    with pytest.raises(Unconfirmed, match="SageMaker does not know"):
        build_alert(event, SETTINGS)


def test_execution_alert_goes_out_even_when_sagemaker_cannot_say_why(sagemaker: Stubber) -> None:
    # GIVEN SageMaker refusing both look-ups
    event = parse_any(sample("pipeline-execution-failed"))
    sagemaker.add_client_error("describe_pipeline_execution", "AccessDeniedException", "not allowed")
    sagemaker.add_client_error("list_pipeline_execution_steps", "AccessDeniedException", "not allowed")
    # WHEN built  THEN the alert still names the execution, says SageMaker could not confirm it, and why
    alert = build_alert(event, SETTINGS)
    assert "7k2m9q4x1b3c Failed" in alert.subject
    assert "SageMaker could not confirm it, lookup failed: AccessDeniedException" in alert.message
    assert "not reported by SageMaker (lookup failed: AccessDeniedException)" in alert.message
    # AND nothing else the event says is given as a fact
    assert "execution-1763634000" not in alert.message and "Started/ended" not in alert.message


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("InternalFailure", 500)])
def test_a_throttled_or_failing_sagemaker_is_retried(sagemaker: Stubber, code: str, status: int) -> None:
    event = parse_any(sample("pipeline-execution-failed"))
    sagemaker.add_client_error("describe_pipeline_execution", code, "slow down", http_status_code=status)
    with pytest.raises(TransientError, match=code):
        build_alert(event, SETTINGS)


def test_stopped_execution_is_a_warning(sagemaker: Stubber) -> None:
    event = parse_any(sample("pipeline-execution-stopped"))
    arn = event.detail.pipeline_execution_arn
    expect_execution(sagemaker, arn, "Stopped")
    expect_steps(sagemaker, arn)
    alert = build_alert(event, SETTINGS)
    assert alert.severity is Severity.WARNING
    assert "Stopped" in alert.subject
    assert "Status:        Stopped" in alert.message


# ---------------------------------------------------------------------------------------------------- steps


def test_step_alert_quotes_sagemakers_reason_not_the_events(sagemaker: Stubber) -> None:
    # GIVEN a failed-step event whose failure reason was forged, and SageMaker's record of the step
    raw = sample("pipeline-step-failed")
    raw["detail"]["failureReason"] = "Forged: click https://evil.example"
    event = parse_any(raw)
    expect_steps(
        sagemaker,
        event.detail.pipeline_execution_arn,
        step("Prepare", "Succeeded"),
        step("Training", "Failed", "ClientError: Spot capacity not available", job="pipelines-7k2m9q4x1b3c-t-1"),
    )
    # WHEN built
    alert = build_alert(event, SETTINGS)
    # THEN the reason and the job are SageMaker's
    assert "Failed at step Training" in alert.subject
    assert "ClientError: Spot capacity not available" in alert.message
    assert "Forged" not in alert.message and "evil" not in alert.message
    assert "Training job: pipelines-7k2m9q4x1b3c-t-1" in alert.message
    assert "gx7q2rtz1a" not in alert.message  # the event's metadata names another job
    # AND a Spot capacity failure is called out as such
    assert alert.subject.endswith("(Spot capacity)")
    assert "SPOT:" in alert.message
    assert alert.attributes["cause"] == "spot"


@pytest.mark.parametrize(
    ("steps", "actual"),
    [([step("Training", "Executing")], "Executing"), ([step("Training", "Succeeded")], "Succeeded"), ([], "nothing")],
)
def test_a_step_sagemaker_does_not_report_failed_is_not_alerted(
    sagemaker: Stubber, steps: list[dict[str, Any]], actual: str
) -> None:
    event = parse_any(sample("pipeline-step-failed"))
    expect_steps(sagemaker, event.detail.pipeline_execution_arn, step("Prepare", "Failed", "other"), *steps)
    with pytest.raises(Unconfirmed, match=f"the event says Failed, SageMaker says {actual}"):
        build_alert(event, SETTINGS)


def test_a_failed_step_run_again_since_is_not_alerted(sagemaker: Stubber) -> None:
    # GIVEN a step whose first run failed, and which runs again (the execution was retried)
    event = parse_any(sample("pipeline-step-failed"))
    retried = [step("Training", "Failed", "AlgorithmError: boom"), step("Training", "Executing")]
    expect_steps(sagemaker, event.detail.pipeline_execution_arn, *retried)
    # THEN the event is stale: its step's latest run did not fail
    with pytest.raises(Unconfirmed, match="the event says Failed, SageMaker says Executing"):
        build_alert(event, SETTINGS)


def test_a_step_of_an_execution_sagemaker_does_not_know_is_not_alerted(sagemaker: Stubber) -> None:
    event = parse_any(sample("pipeline-step-failed"))
    sagemaker.add_client_error(
        "list_pipeline_execution_steps", "ValidationException", "Could not find pipeline execution with ARN x."
    )
    with pytest.raises(Unconfirmed):
        build_alert(event, SETTINGS)


def test_step_alert_goes_out_when_sagemaker_cannot_be_asked(sagemaker: Stubber) -> None:
    event = parse_any(sample("pipeline-step-failed"))
    sagemaker.add_client_error("list_pipeline_execution_steps", "AccessDeniedException", "not allowed")
    alert = build_alert(event, SETTINGS)
    assert "Failed at step Training" in alert.subject
    assert "SageMaker could not confirm it" in alert.message
    assert "XGBoostError" not in alert.message  # the event's reason is not a fact


# ---------------------------------------------------------------------------------------------------- training jobs


def test_training_job_alert_is_what_describe_training_job_says(sagemaker: Stubber) -> None:
    # GIVEN a training job event whose reason and instance type were forged
    raw = sample("training-job-failed")
    raw["detail"]["FailureReason"] = "Forged: the event's reason"
    raw["detail"]["ResourceConfig"]["InstanceType"] = "ml.forged.large"
    event = parse_any(raw)
    name = event.detail.training_job_name
    expect_job(sagemaker, name, "Failed", FailureReason="AlgorithmError: XGBoostError: label must be in [0,1]")
    # WHEN built
    alert = build_alert(event, SETTINGS)
    # THEN SageMaker's facts are in the alert, the event's are not
    assert alert.subject == "[dev] Training job pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a Failed"
    assert "AlgorithmError: XGBoostError" in alert.message
    assert "Forged" not in alert.message and "ml.forged.large" not in alert.message
    assert "Instances:        1 x ml.m5.xlarge" in alert.message
    assert "#/jobs/pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a" in alert.message
    assert "pipeline execution 7k2m9q4x1b3c" in alert.message
    assert "SPOT" not in alert.message
    assert alert.severity is Severity.ERROR
    assert alert.attributes == {"kind": "training-job", "job": "pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a"}


def test_training_job_spot_wait_is_called_out_from_describe_training_job(sagemaker: Stubber) -> None:
    # GIVEN a stopped training job event without FailureReason nor secondary detail
    raw = sample("training-job-stopped-spot")
    for key in ("SecondaryStatus", "SecondaryStatusTransitions", "FailureReason"):
        raw["detail"].pop(key, None)
    event = parse_any(raw)
    # AND DescribeTrainingJob reporting the Spot wait
    expect_job(
        sagemaker,
        event.detail.training_job_name,
        "Stopped",
        SecondaryStatus="MaxWaitTimeExceeded",
        FailureReason="Training job exceeded MaxWaitTimeInSeconds while waiting for Spot capacity",
        StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
        EnableManagedSpotTraining=True,
    )
    # WHEN built
    alert = build_alert(event, SETTINGS)
    # THEN the reason comes from the description, and Spot is called out
    assert "exceeded MaxWaitTimeInSeconds while waiting for Spot capacity" in alert.message
    assert alert.subject.endswith("Stopped (Spot capacity)")
    assert "Stopped / MaxWaitTimeExceeded" in alert.message
    assert "SPOT: the job ran out of MaxWaitTimeInSeconds" in alert.message
    assert "MaxWaitTimeInSeconds=7200" in alert.message
    assert alert.severity is Severity.WARNING
    assert alert.attributes["cause"] == "spot"


@pytest.mark.parametrize(
    ("claimed", "actual"), [("Failed", "Completed"), ("Failed", "Stopped"), ("Stopped", "InProgress")]
)
def test_a_training_job_status_sagemaker_does_not_report_is_not_alerted(
    sagemaker: Stubber, claimed: str, actual: str
) -> None:
    raw = sample("training-job-failed")
    raw["detail"]["TrainingJobStatus"] = claimed
    event = parse_any(raw)
    expect_job(sagemaker, event.detail.training_job_name, actual)
    with pytest.raises(Unconfirmed, match=f"the event says {claimed}, SageMaker says {actual}"):
        build_alert(event, SETTINGS)


def test_a_training_job_sagemaker_does_not_know_is_not_alerted(sagemaker: Stubber) -> None:
    event = parse_any(sample("training-job-stopped-spot"))
    sagemaker.add_client_error("describe_training_job", "ValidationException", "Requested resource not found.")
    with pytest.raises(Unconfirmed, match="SageMaker does not know pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a"):
        build_alert(event, SETTINGS)


def test_training_job_alert_goes_out_when_sagemaker_cannot_be_asked(sagemaker: Stubber) -> None:
    event = parse_any(sample("training-job-stopped-spot"))
    sagemaker.add_client_error("describe_training_job", "AccessDeniedException", "not allowed")
    alert = build_alert(event, SETTINGS)
    assert alert.subject == "[dev] Training job pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a Stopped"
    assert "SageMaker could not confirm it, lookup failed: AccessDeniedException" in alert.message
    assert "MaxWaitTimeExceeded" not in alert.message  # the event's secondary status is not a fact
