"""The drift monitor's decisions on a succeeded check: what it reads, which calls it makes, and the policy's
outcomes (off, alert, retrain with one in flight and a cooldown), on fakes of its two adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sm_lifecycle.drift.config import DriftSettings
from sm_lifecycle.drift.message import DriftAlert
from sm_lifecycle.drift.model import DriftResult
from sm_lifecycle.drift.monitor import DriftMonitor
from sm_lifecycle.drift.sagemaker import Execution
from sm_lifecycle.kernel.errors import ConfigurationError, InvalidEventError, TransientError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BUCKET = "artifacts"
CHECK = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-detector-dev-drift-check/execution/abc123"
WINDOW = "20261207T110000Z-20261207T120000Z"
OUTPUT = f"s3://{BUCKET}/drift/fraud-detector-dev/{WINDOW}/result"


def settings(**env: str) -> DriftSettings:
    base = {
        "ENVIRONMENT": "dev",
        "TEAM": "ml",
        "GIT_SHA": "0a1b2c3",
        "PIPELINE_NAME": "fraud-pipeline-dev",
        "MODEL_PACKAGE_GROUP_NAME": "fraud-detector-dev",
        "ENDPOINT_NAME": "fraud-detector-dev",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
        "DRIFT_CHECK_PIPELINE_NAME": "fraud-detector-dev-drift-check",
        "ARTIFACT_BUCKET": BUCKET,
        "DRIFT_POLICY": "retrain",
        "DRIFT_RETRAIN_COOLDOWN_HOURS": "24",
    }
    return DriftSettings.from_env({**base, **env})


def summary(drift: bool = True, **changes: Any) -> dict[str, Any]:
    features = {
        "balance": {"score": 0.61, "method": "K-S p_value", "threshold": 0.05, "drifted": drift},
        "student": {"score": 0.32, "method": "Z-test p_value", "threshold": 0.05, "drifted": drift},
        "income": {"score": 0.01, "method": "K-S p_value", "threshold": 0.05, "drifted": False},
    }
    found = {
        "status": "ok",
        "records": 300,
        "version": 3,
        "drift_detected": drift,
        "drift_share": 2 / 3 if drift else 0.0,
        "features": features,
        "report": "report.html",
    }
    return {**found, **changes}


@dataclass
class FakePipelines:
    status: str = "Succeeded"
    output_uri: str = OUTPUT
    display_name: str = f"drift-{WINDOW}"  # as the starters name a check
    training: list[Execution] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    starts: list[dict[str, Any]] = field(default_factory=list)

    def execution(self, arn: str) -> Execution:
        self.calls.append("DescribePipelineExecution")
        return Execution(arn, self.status, NOW, self.display_name)

    def parameters(self, arn: str) -> dict[str, str]:
        self.calls.append("ListPipelineParametersForExecution")
        return {
            "OutputUri": self.output_uri,
            "WindowStart": "2026-12-07T11:00:00Z",
            "WindowEnd": "2026-12-07T12:00:00Z",
        }

    def recent(self, pipeline: str, count: int = 10) -> list[Execution]:
        self.calls.append("ListPipelineExecutions")
        return list(self.training)

    def start(self, pipeline: str, parameters: dict[str, str], *, token: str, display_name: str, why: str) -> str:
        self.calls.append("StartPipelineExecution")
        self.starts.append({"pipeline": pipeline, "parameters": parameters, "token": token, "name": display_name})
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{pipeline}/execution/r{len(self.starts)}"
        self.training.insert(0, Execution(arn, "Executing", NOW))
        return arn


@dataclass
class FakeObjects:
    body: Any
    calls: list[str]
    keys: list[str] = field(default_factory=list)

    def summary(self, key: str) -> Any:
        self.calls.append("GetObject")
        self.keys.append(key)
        if isinstance(self.body, Exception):
            raise self.body
        return self.body


@dataclass
class World:
    settings: DriftSettings
    pipelines: FakePipelines
    objects: FakeObjects
    alerts: list[DriftAlert] = field(default_factory=list)
    metrics: list[DriftResult] = field(default_factory=list)

    def monitor(self) -> DriftMonitor:
        def publish(alert: DriftAlert) -> str:
            self.pipelines.calls.append("Publish")
            self.alerts.append(alert)
            return f"m-{len(self.alerts)}"

        return DriftMonitor(
            self.settings, self.pipelines, self.objects, publish, lambda result, _: self.metrics.append(result)
        )  # type: ignore[arg-type]

    def run(self) -> dict[str, Any]:
        return self.monitor().on_finished(CHECK, now=NOW)


def world(body: Any = None, *, pipelines: FakePipelines | None = None, **env: str) -> World:
    pipes = pipelines or FakePipelines()
    return World(settings(**env), pipes, FakeObjects(summary() if body is None else body, pipes.calls))


def test_no_drift_is_two_calls_metrics_and_no_alert() -> None:
    w = world(summary(drift=False))
    outcome = w.run()
    assert outcome["status"] == "no-drift"
    assert w.pipelines.calls == ["DescribePipelineExecution", "GetObject"]
    assert w.objects.keys == [f"{OUTPUT.removeprefix(f's3://{BUCKET}/')}/summary.json"]
    assert [m.records for m in w.metrics] == [300] and w.alerts == []


def test_drift_with_policy_alert_is_three_calls_and_names_the_top_features_and_the_report() -> None:
    w = world(DRIFT_POLICY="alert")
    outcome = w.run()
    assert outcome["status"] == "alerted" and len(w.pipelines.calls) == 3
    (alert,) = w.alerts
    assert "v3" in alert.subject and "balance, student" in alert.subject
    lines = alert.message.splitlines()
    assert "  balance: K-S p_value score 0.61 (threshold 0.05)" in lines
    assert lines.index("  balance: K-S p_value score 0.61 (threshold 0.05)") < lines.index(
        "  student: Z-test p_value score 0.32 (threshold 0.05)"
    )
    assert f"Report: {OUTPUT}/report.html" in lines and "income" not in alert.message
    assert "Window: 2026-12-07T11:00:00Z to 2026-12-07T12:00:00Z (300 records)." in lines


def test_policy_off_records_the_drift_without_alert() -> None:
    w = world(DRIFT_POLICY="off")
    assert w.run()["status"] == "drift-recorded"
    assert w.alerts == [] and len(w.metrics) == 1


def test_insufficient_data_is_a_result_not_an_alert() -> None:
    w = world(summary(status="insufficient-data", records=12, drift_detected=False, features={}))
    assert w.run()["status"] == "insufficient-data" and w.alerts == []


def test_retrain_starts_the_training_pipeline_with_the_git_sha_and_alerts_after() -> None:
    w = world(DRIFT_RETRAIN_DATA_URI="s3://data/fraud/latest.csv")
    outcome = w.run()
    assert outcome["status"] == "retrain-started"
    assert w.pipelines.calls[-3:] == ["ListPipelineExecutions", "StartPipelineExecution", "Publish"]
    (start,) = w.pipelines.starts
    assert start["pipeline"] == "fraud-pipeline-dev" and start["name"] == "drift-retrain-abc123"
    assert start["parameters"] == {"GitSha": "0a1b2c3", "InputDataUri": "s3://data/fraud/latest.csv"}
    assert f"Retraining started: {outcome['retraining']}" in w.alerts[0].message


@pytest.mark.parametrize(
    ("hours_ago", "status", "starts"),
    [(2, "retrain-cooldown", 0), (23.9, "retrain-cooldown", 0), (24.1, "retrain-started", 1)],
)
def test_the_cooldown_holds_from_the_newest_training(hours_ago: float, status: str, starts: int) -> None:
    last = Execution(
        "arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/old", "Succeeded", NOW - timedelta(hours=hours_ago)
    )
    w = world(pipelines=FakePipelines(training=[last]))
    assert w.run()["status"] == status
    assert len(w.pipelines.starts) == starts
    if not starts:
        assert "cooldown after" in w.alerts[0].message


def test_one_retraining_in_flight_at_most() -> None:
    running = Execution("arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/r0", "Executing", NOW - timedelta(days=3))
    w = world(pipelines=FakePipelines(training=[running]))
    assert w.run()["status"] == "retrain-in-flight" and w.pipelines.starts == []
    assert "still running" in w.alerts[0].message


def test_two_checks_racing_to_retrain_ask_for_the_same_execution() -> None:
    last = Execution("arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/old", "Succeeded", NOW - timedelta(days=2))
    first, second = world(pipelines=FakePipelines(training=[last])), world(pipelines=FakePipelines(training=[last]))
    first.run(), second.run()
    assert first.pipelines.starts[0]["token"] == second.pipelines.starts[0]["token"]
    assert 32 <= len(first.pipelines.starts[0]["token"]) <= 128


def test_an_execution_sagemaker_does_not_say_succeeded_is_ignored_unread() -> None:
    w = world(pipelines=FakePipelines(status="Failed"))
    assert w.run()["status"] == "ignored"
    assert w.pipelines.calls == ["DescribePipelineExecution"]


@pytest.mark.parametrize(
    "uri",
    [
        f"s3://{BUCKET}/drift/another-endpoint/w/result",
        "s3://elsewhere/drift/fraud-detector-dev/w/result",
        f"s3://{BUCKET}/drift/fraud-detector-dev/../../fraud-pipeline-dev/x",
        "",
    ],
)
def test_a_summary_outside_the_endpoints_drift_prefix_is_refused(uri: str) -> None:
    w = world(pipelines=FakePipelines(output_uri=uri, display_name="started in the console"))
    with pytest.raises(InvalidEventError, match="OutputUri"):
        w.run()
    assert "GetObject" not in w.pipelines.calls and w.metrics == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "not a JSON object"),
        (summary(status="done"), "summary.status"),
        (summary(records=-1), "summary.records"),
        (summary(drift_share=float("nan")), "summary.drift_share"),
        (summary(features={"x": {"score": "high", "threshold": 0.1}}), "features.x.score"),
        (summary(features=["balance"]), "summary.features"),
    ],
)
def test_a_malformed_summary_is_an_invalid_check_with_nothing_done(body: Any, field: str) -> None:
    w = world(body)
    with pytest.raises(InvalidEventError, match=field):
        w.run()
    assert w.metrics == [] and w.alerts == [] and w.pipelines.starts == []


def test_hostile_feature_names_are_cleaned_in_the_alert() -> None:
    hostile = "bal\u202eance\x1b[31m" + "x" * 500
    body = summary(features={hostile: {"score": 0.9, "method": "psi\n", "threshold": 0.1, "drifted": True}})
    w = world(body, DRIFT_POLICY="alert")
    w.run()
    (alert,) = w.alerts
    assert "\u202e" not in alert.message and "\x1b" not in alert.message
    assert max(len(line) for line in alert.message.splitlines()) < 400


ROLE = "arn:aws:iam::123456789012:role/sagemaker-lifecycle-dev-drift-retrain"


def test_a_deployment_stack_retrains_through_the_registrys_pipelines_made_only_when_needed() -> None:
    # GIVEN a prod monitor whose training pipeline is the registry's (another account, through the registry's role)
    registry = FakePipelines()
    made: list[str] = []

    def training() -> FakePipelines:
        made.append("AssumeRole")
        return registry

    w = world(summary(drift=False), DRIFT_RETRAIN_ROLE_ARN=ROLE, ENVIRONMENT="prod")
    assert w.settings.retrain_role_arn == ROLE
    monitor = DriftMonitor(w.settings, w.pipelines, w.objects, lambda _: "m", lambda *_: None, training=training)  # type: ignore[arg-type]
    # WHEN a check finds no drift THEN the registry is not asked anything (no role assumed)
    assert monitor.on_finished(CHECK, now=NOW)["status"] == "no-drift" and made == []
    # WHEN a check finds drift THEN the registry's executions decide, and the registry's pipeline is started
    w.objects.body = summary()
    outcome = monitor.on_finished(CHECK, now=NOW)
    assert outcome["status"] == "retrain-started" and made == ["AssumeRole"]
    assert registry.calls == ["ListPipelineExecutions", "StartPipelineExecution"]
    assert "StartPipelineExecution" not in w.pipelines.calls and w.pipelines.starts == []
    (start,) = registry.starts
    assert start["pipeline"] == "fraud-pipeline-dev" and start["parameters"] == {"GitSha": "0a1b2c3"}
    assert outcome["retraining"] == registry.training[0].arn


@pytest.mark.parametrize("value", ["sagemaker-lifecycle-dev-drift-retrain", "arn:aws:iam::123456789012:user/someone"])
def test_a_retrain_role_that_is_not_a_role_arn_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigurationError, match="DRIFT_RETRAIN_ROLE_ARN must be an IAM role ARN"):
        settings(DRIFT_RETRAIN_ROLE_ARN=value)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "nightly-check",
        "drift-20261207T120000Z-20261207T110000Z",  # reversed
        "drift-20261307T110000Z-20261307T120000Z",  # no 13th month
        f"drift-{WINDOW}/../../fraud-pipeline-dev",
        f"{WINDOW}",  # a window, without the starters' prefix
    ],
)
def test_a_check_named_otherwise_is_found_through_its_output_uri(name: str) -> None:
    # GIVEN a check whose display name is not a starter's drift-<window> (started by hand, or hostile)
    w = world(summary(drift=False), pipelines=FakePipelines(display_name=name))
    # WHEN it succeeded THEN its summary is read where its OutputUri parameter says (one more call)
    assert w.run()["status"] == "no-drift"
    assert w.pipelines.calls == ["DescribePipelineExecution", "ListPipelineParametersForExecution", "GetObject"]
    assert w.objects.keys == [f"{OUTPUT.removeprefix(f's3://{BUCKET}/')}/summary.json"]


def test_the_window_of_a_starters_check_is_its_display_names() -> None:
    w = world(DRIFT_POLICY="alert", pipelines=FakePipelines(display_name="drift-20261206T000000Z-20261207T000000Z"))
    w.run()
    assert w.objects.keys == ["drift/fraud-detector-dev/20261206T000000Z-20261207T000000Z/result/summary.json"]
    assert "Window: 2026-12-06T00:00:00Z to 2026-12-07T00:00:00Z (300 records)." in w.alerts[0].message.splitlines()


@pytest.mark.parametrize(
    "error",
    [
        TransientError("ListPipelineExecutions: AccessDenied: not authorized to perform: sts:AssumeRole\x1b[31m"),
        InvalidEventError("ListPipelineExecutions: not found: Pipeline 'fraud-pipeline-dev' does not exist"),
    ],
    ids=["role refused", "no training pipeline"],
)
def test_a_retraining_that_cannot_start_is_told_in_the_drift_alert_not_lost(error: Exception) -> None:
    # GIVEN a retrain policy whose training pipeline cannot be started
    class Refusing(FakePipelines):
        def recent(self, pipeline: str, count: int = 10) -> list[Execution]:
            raise error

    w = world(pipelines=Refusing())
    # WHEN a check finds drift THEN the outcome says so, and the drift alert still goes out, with the reason
    outcome = w.run()
    assert outcome["status"] == "retrain-failed" and outcome["retraining"] is None
    (alert,) = w.alerts
    assert alert.severity == "error" and "balance" in alert.subject
    (line,) = [line for line in alert.message.splitlines() if line.startswith("Retraining NOT started: ")]
    assert str(error).split(":")[1].strip() in line and "\x1b" not in line
    assert line.endswith("The next check that finds drift tries again.")
    assert w.pipelines.starts == []


def test_a_bug_while_retraining_is_not_hidden_in_an_alert() -> None:
    class Broken(FakePipelines):
        def recent(self, pipeline: str, count: int = 10) -> list[Execution]:
            raise KeyError("PipelineExecutionSummaries")

    w = world(pipelines=Broken())
    with pytest.raises(KeyError):
        w.run()
    assert w.alerts == []
