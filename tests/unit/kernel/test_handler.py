"""The handler factory: typed parsing, the error policy (invalid events and bad settings dead-lettered and alerted,
conflicts normal, the rest retried), one outcome log line and one metric per outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sm_lifecycle.kernel.errors import (
    ConfigurationError,
    ConflictError,
    ForeignEventError,
    InvalidEventError,
    TransientError,
)
from sm_lifecycle.kernel.events import (
    ModelPackageStateChangeEvent,
    PipelineExecutionStatusChangeEvent,
    TrainingJobStateChangeEvent,
)
from sm_lifecycle.kernel.handler import count_outcome, make_handler, with_error_policy
from sm_lifecycle.kernel.handler import logger as handler_logger
from sm_lifecycle.kernel.settings import Settings
from tests.support import LambdaContext, emitted_metrics

EVENT = {"id": "0b5e1a9f-0000-4000-8000-000000000001", "detail-type": "SageMaker Training Job State Change"}


def raising(error: Exception) -> Any:
    @with_error_policy
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise error

    return handler


def test_result_of_a_successful_handler_is_returned_unchanged(stack: Settings, inbox: Any, dead_letters: Any) -> None:
    @with_error_policy
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"status": "ok", "id": event["id"]}

    assert handler(EVENT, LambdaContext()) == {"status": "ok", "id": EVENT["id"]}
    assert inbox.read() == []
    assert dead_letters() == []


def test_invalid_event_is_dead_lettered_alerted_and_not_retried(stack: Settings, inbox: Any, dead_letters: Any) -> None:
    # GIVEN a handler that finds the event invalid
    handler = raising(InvalidEventError("detail.TrainingJobName: field required", field="detail.TrainingJobName"))
    # WHEN invoked
    result = handler(EVENT, LambdaContext(aws_request_id="request-7"))
    # THEN it returns (Lambda does not retry) and says why
    assert result["status"] == "invalid"
    assert result["field"] == "detail.TrainingJobName"
    assert "field required" in result["error"]
    # AND the event is in the dead-letter queue with Lambda's attributes
    [message] = dead_letters()
    assert json.loads(message["Body"]) == EVENT
    assert message["MessageId"] == result["dead_letter_message_id"]
    assert message["MessageAttributes"]["RequestID"]["StringValue"] == "request-7"
    assert message["MessageAttributes"]["ErrorCode"]["DataType"] == "Number"
    assert "field required" in message["MessageAttributes"]["ErrorMessage"]["StringValue"]
    # AND one alert names the function, the field and the reason
    [alert] = inbox.read()
    assert alert["attributes"]["kind"] == "invalid-event"
    assert alert["attributes"]["severity"] == "error"
    assert alert["attributes"]["function"] == "AlertFunction"
    assert "AlertFunction" in alert["Subject"]
    assert "Field: detail.TrainingJobName" in alert["Message"]
    assert EVENT["id"] in alert["Message"]
    assert stack.dead_letter_queue_url in alert["Message"]


def test_invalid_event_is_still_dead_lettered_when_the_alert_fails(
    stack: Settings, dead_letters: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a topic that does not exist
    monkeypatch.setenv("ALERT_TOPIC_ARN", stack.alert_topic_arn + "-gone")
    # WHEN an invalid event is handled
    result = raising(InvalidEventError("bad", field="detail"))(EVENT, LambdaContext())
    # THEN the event is dead-lettered and the invocation is not retried
    assert result["status"] == "invalid"
    assert len(dead_letters()) == 1


def test_invalid_event_is_retried_when_it_cannot_be_dead_lettered(
    stack: Settings, inbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a dead-letter queue that does not exist
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", stack.dead_letter_queue_url + "-gone")
    # WHEN an invalid event is handled  THEN the failure propagates (Lambda retries, then its own DLQ keeps the event)
    with pytest.raises(ClientError, match=r"NonExistentQueue|does not exist"):
        raising(InvalidEventError("bad", field="detail"))(EVENT, LambdaContext())
    assert inbox.read() == []


def test_conflict_is_a_normal_outcome(stack: Settings, inbox: Any, dead_letters: Any) -> None:
    result = raising(ConflictError("endpoint fraud-detector-dev is Updating"))(EVENT, LambdaContext())
    assert result == {"status": "conflict", "reason": "endpoint fraud-detector-dev is Updating"}
    assert inbox.read() == []
    assert dead_letters() == []


def test_a_foreign_event_is_ignored_without_alert_or_dead_letter(
    stack: Settings, inbox: Any, dead_letters: Any
) -> None:
    result = raising(ForeignEventError("pipeline 'other' is not this stack's", field="detail.pipelineArn"))(
        EVENT, LambdaContext()
    )
    assert result == {
        "status": "foreign",
        "reason": "pipeline 'other' is not this stack's",
        "field": "detail.pipelineArn",
    }
    assert inbox.read() == []
    assert dead_letters() == []


@pytest.mark.parametrize("error", [TransientError("throttled"), RuntimeError("bug")], ids=type)
def test_transient_and_unexpected_errors_are_raised_for_lambda_to_retry(
    error: Exception, stack: Settings, inbox: Any, dead_letters: Any
) -> None:
    with pytest.raises(type(error)):
        raising(error)(EVENT, LambdaContext())
    assert inbox.read() == []
    assert dead_letters() == []


def test_count_outcome_counts_only_the_statuses_it_names() -> None:
    # GIVEN a metrics sink and the names a function gives its outcomes
    added: list[dict] = []

    class Metrics:
        def add_metric(self, **metric) -> None:
            added.append(metric)

    names = {"published": "AlertsPublished"}

    # WHEN a named outcome and an unnamed one pass through
    first = count_outcome(Metrics(), {"status": "published", "id": 1}, names)
    second = count_outcome(Metrics(), {"status": "ignored"}, names)

    # THEN one Count is added, for the named one, and both outcomes come back unchanged
    assert [(m["name"], m["value"], str(m["unit"])) for m in added] == [("AlertsPublished", 1, "MetricUnit.Count")]
    assert (first, second) == ({"status": "published", "id": 1}, {"status": "ignored"})


# ---------------------------------------------------------------------------------------------------- the factory
SAMPLE = json.loads((Path(__file__).resolve().parents[3] / "events" / "training-job-failed.json").read_text())


@pytest.fixture
def powertools(stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "sagemaker-lifecycle")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SageMakerLifecycle")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


def test_the_entry_point_gets_the_typed_event_and_its_outcome_is_logged_and_counted(
    powertools: None,
    inbox: Any,
    dead_letters: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a function made by the factory
    seen: list[Any] = []

    def entry(event: TrainingJobStateChangeEvent, context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"status": "published", "job": event.detail.training_job_name}

    handler = make_handler(entry, events=(TrainingJobStateChangeEvent,), metrics={"published": "AlertsPublished"})
    # WHEN Lambda invokes it with a raw event
    result = handler(SAMPLE, LambdaContext())
    # THEN the entry point got the parsed model, the outcome is returned, logged with the event id, and counted
    [event] = seen
    assert isinstance(event, TrainingJobStateChangeEvent)
    assert result == {"status": "published", "job": event.detail.training_job_name}
    [record] = [r for r in caplog.records if r.getMessage() == "handled: published"]
    assert record.outcome == result  # type: ignore[attr-defined]  # Powertools puts ``extra`` on the record
    assert handler_logger.get_correlation_id() == SAMPLE["id"]
    assert emitted_metrics(capfd.readouterr().out) == ["AlertsPublished"]
    assert inbox.read() == [] and dead_letters() == []


def test_an_event_of_another_kind_is_invalid_dead_lettered_alerted_and_counted(
    powertools: None, inbox: Any, dead_letters: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    def entry(event: TrainingJobStateChangeEvent, context: Any) -> dict[str, Any]:
        raise AssertionError("never reached")

    handler = make_handler(entry, events=(TrainingJobStateChangeEvent,), metrics={})
    other = {**SAMPLE, "detail-type": "SageMaker Model Package State Change"}
    result = handler(other, LambdaContext())
    assert (result["status"], result["field"]) == ("invalid", "detail-type")
    [message] = dead_letters()
    assert json.loads(message["Body"]) == other
    [alert] = inbox.read()
    assert alert["attributes"]["kind"] == "invalid-event"
    assert emitted_metrics(capfd.readouterr().out) == ["InvalidEvents"]


def test_an_event_of_another_account_is_ignored_unread_and_counted(
    powertools: None, inbox: Any, dead_letters: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    def entry(event: TrainingJobStateChangeEvent, context: Any) -> dict[str, Any]:
        raise AssertionError("never reached")

    handler = make_handler(entry, events=(TrainingJobStateChangeEvent,), metrics={})
    # the function runs in 123456789012 (its invoked_function_arn); the event comes from another account
    result = handler({**SAMPLE, "account": "210987654321"}, LambdaContext())
    assert (result["status"], result["field"]) == ("foreign", "account")
    assert "210987654321" in result["reason"]
    assert inbox.read() == [] and dead_letters() == []
    assert emitted_metrics(capfd.readouterr().out) == ["ForeignEventsIgnored"]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:us-east-1:210987654321:training-job/pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a",
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:training-job/pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a",
        "arn:aws-us-gov:sagemaker:us-east-1:123456789012:training-job/pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a",
        "arn:aws:sagemaker:eu-west-1:123456789012:training-job/pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a",
        "ARN:AWS:SAGEMAKER:US-EAST-1:123456789012:TRAINING-JOB/PIPELINES-7K2M9Q4X1B3C-TRAINING-GX7Q2RTZ1A",
    ],
    ids=["account", "partition-cn", "partition-gov", "region", "upper-cased"],
)
def test_an_event_naming_its_resource_by_an_arn_of_another_account_partition_or_region_is_ignored_unread(
    powertools: None, inbox: Any, dead_letters: Any, capfd: pytest.CaptureFixture[str], arn: str
) -> None:
    def entry(event: TrainingJobStateChangeEvent, context: Any) -> dict[str, Any]:
        raise AssertionError("never reached: reading that ARN would only be denied, and retried")

    handler = make_handler(entry, events=(TrainingJobStateChangeEvent,), metrics={})
    # the envelope is the function's account; the job's ARN is not of its partition, region and account
    event = {**SAMPLE, "detail": {**SAMPLE["detail"], "TrainingJobArn": arn}}
    result = handler(event, LambdaContext())
    assert (result["status"], result["field"]) == ("foreign", "detail.TrainingJobArn")
    assert inbox.read() == [] and dead_letters() == []
    assert emitted_metrics(capfd.readouterr().out) == ["ForeignEventsIgnored"]


def test_an_event_naming_its_resource_by_the_functions_own_arns_reaches_the_entry_point(
    powertools: None, inbox: Any, dead_letters: Any
) -> None:
    handler = make_handler(lambda event, context: {"status": "ok"}, events=(TrainingJobStateChangeEvent,), metrics={})
    assert SAMPLE["detail"]["TrainingJobArn"].startswith("arn:aws:sagemaker:us-east-1:123456789012:")
    assert handler(SAMPLE, LambdaContext())["status"] == "ok"
    # AND without an invoked_function_arn (a test's context) nothing is checked
    foreign = {**SAMPLE, "detail": {**SAMPLE["detail"], "TrainingJobArn": "arn:aws:sagemaker:x:1:training-job/j"}}
    assert handler(foreign, LambdaContext(invoked_function_arn=""))["status"] == "ok"


def test_a_pipeline_event_naming_an_execution_of_another_pipeline_is_ignored_unread(
    powertools: None, inbox: Any, dead_letters: Any
) -> None:
    def entry(event: PipelineExecutionStatusChangeEvent, context: Any) -> dict[str, Any]:
        return {"status": "read"}

    handler = make_handler(entry, events=(PipelineExecutionStatusChangeEvent,), metrics={})
    ours = json.loads((Path(__file__).resolve().parents[3] / "events" / "pipeline-execution-failed.json").read_text())
    other = ours["detail"]["pipelineExecutionArn"].replace("pipeline/fraud-pipeline-dev/", "pipeline/other/")
    result = handler({**ours, "detail": {**ours["detail"], "pipelineExecutionArn": other}}, LambdaContext())
    assert (result["status"], result["field"]) == ("foreign", "detail.pipelineExecutionArn")
    assert inbox.read() == [] and dead_letters() == []
    # AND the execution of the event's own pipeline, in whatever case SageMaker spells its resource part, is read
    upper = ours["detail"]["pipelineExecutionArn"].replace("fraud-pipeline-dev", "Fraud-Pipeline-Dev")
    assert handler({**ours, "detail": {**ours["detail"], "pipelineExecutionArn": upper}}, LambdaContext()) == {
        "status": "read"
    }


def test_the_dead_letter_error_message_names_the_field_the_error_text_does_not(
    stack: Settings, inbox: Any, dead_letters: Any
) -> None:
    # GIVEN errors found after parsing: one whose text names no field, one whose text does
    raising(InvalidEventError("reading pipeline execution arn:x: not found", field="detail.pipelineExecutionArn"))(
        EVENT, LambdaContext()
    )
    raising(InvalidEventError("detail.stepName: field required", field="detail.stepName"))(EVENT, LambdaContext())
    # THEN each ErrorMessage names its field once, first when the text did not
    first, second = (m["MessageAttributes"]["ErrorMessage"]["StringValue"] for m in dead_letters())
    assert first == "InvalidEventError: detail.pipelineExecutionArn: reading pipeline execution arn:x: not found"
    assert second == "InvalidEventError: detail.stepName: field required"


def test_a_configuration_error_is_dead_lettered_alerted_and_not_retried(
    powertools: None, inbox: Any, dead_letters: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    def entry(event: TrainingJobStateChangeEvent, context: Any) -> dict[str, Any]:
        raise ConfigurationError("PROMOTION_THRESHOLDS: unknown metric 'gini'")

    handler = make_handler(
        entry, events=(TrainingJobStateChangeEvent,), metrics={"misconfigured": "PolicyMisconfigured"}
    )
    result = handler(SAMPLE, LambdaContext(aws_request_id="request-9"))
    assert result["status"] == "misconfigured"
    assert "gini" in result["error"]
    [message] = dead_letters()
    assert message["MessageAttributes"]["RequestID"]["StringValue"] == "request-9"
    assert message["MessageAttributes"]["ErrorType"]["StringValue"] == "ConfigurationError"
    [alert] = inbox.read()
    assert alert["attributes"]["kind"] == "misconfigured"
    assert "misconfigured" in alert["Subject"]
    assert "PROMOTION_THRESHOLDS" in alert["Message"]
    assert emitted_metrics(capfd.readouterr().out) == ["PolicyMisconfigured"]


@pytest.mark.parametrize("error", [TransientError("throttled"), RuntimeError("bug")], ids=type)
def test_the_factory_re_raises_what_lambda_must_retry(
    error: Exception, powertools: None, inbox: Any, dead_letters: Any
) -> None:
    def entry(event: TrainingJobStateChangeEvent, context: Any) -> dict[str, Any]:
        raise error

    handler = make_handler(entry, events=(TrainingJobStateChangeEvent,), metrics={})
    with pytest.raises(type(error)):
        handler(SAMPLE, LambdaContext())
    assert inbox.read() == [] and dead_letters() == []


PACKAGE_SAMPLE = json.loads(
    (Path(__file__).resolve().parents[3] / "events" / "model-package-approved.json").read_text()
)
REGISTRY = "210987654321"


def _registry_event(account: str = REGISTRY) -> dict[str, Any]:
    """The registry's package event as a deployment account's bus receives it (forwarded: the registry's account)."""
    arn = PACKAGE_SAMPLE["detail"]["ModelPackageArn"].replace(":123456789012:", f":{account}:")
    return {**PACKAGE_SAMPLE, "account": account, "detail": {**PACKAGE_SAMPLE["detail"], "ModelPackageArn": arn}}


def test_a_deployment_stack_takes_the_registry_accounts_package_events_and_nothing_else_of_it(
    powertools: None, inbox: Any, dead_letters: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = make_handler(
        lambda event, context: {"status": "read"},
        events=(ModelPackageStateChangeEvent, TrainingJobStateChangeEvent),
        metrics={},
    )
    # without a registry account, the registry's package event is another account's
    assert handler(_registry_event(), LambdaContext())["status"] == "foreign"
    monkeypatch.setenv("REGISTRY_ACCOUNT_ID", REGISTRY)
    assert handler(_registry_event(), LambdaContext())["status"] == "read"
    # a third account's package event, or the registry account's event of another kind, stays foreign
    third = handler(_registry_event("333333333333"), LambdaContext())
    assert (third["status"], third["field"]) == ("foreign", "account")
    job = handler({**SAMPLE, "account": REGISTRY}, LambdaContext())
    assert (job["status"], job["field"]) == ("foreign", "account")
    # the envelope says the registry, the package ARN another account: foreign, unread
    forged = _registry_event()
    forged["detail"]["ModelPackageArn"] = forged["detail"]["ModelPackageArn"].replace(REGISTRY, "333333333333")
    result = handler(forged, LambdaContext())
    assert (result["status"], result["field"]) == ("foreign", "detail.ModelPackageArn")
    assert inbox.read() == [] and dead_letters() == []
