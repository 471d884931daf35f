"""The drift loop on a served stack (IAM enforced): the recurring schedule fires, the starter stages the served
version's baseline and starts the drift-check pipeline (the real job, in its own environment), and when the check
succeeds the monitor acts by the dev policy, ``retrain``: an alert with the top features and the report, and one
retraining, whatever is delivered twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from local.aws.scheduler.models import FIRINGS
from local.pipelines import PipelineRunner
from pipeline.data import default_dataset
from tests.worlds.deployment import World
from tests.worlds.drift import (
    FEATURES,
    create_training_pipeline,
    monitor_records,
    preprocess,
    send,
    serve_with_baseline,
    shifted,
    starter_records,
    upsert_drift_pipeline,
)
from tools import monitor
from tools.stackinfo import StackInfo

pytestmark = pytest.mark.slow

SUCCEEDED = "SageMaker Model Building Pipeline Execution Status Change"


@pytest.fixture
def loop(deploy_world: Any, tmp_path: Path) -> tuple[World, pd.DataFrame]:
    world = deploy_world(
        "dev",
        DataCaptureSamplingPercentage="100",
        DriftWindowHours="1",
        DriftPolicy="retrain",
    )
    data = preprocess.transform(default_dataset())
    serve_with_baseline(world, data, tmp_path)
    upsert_drift_pipeline(world)
    create_training_pipeline(world)
    return world, data[FEATURES]


def check_now(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """The schedule fires now; the starter's and the monitor's outcomes once the check has run."""
    before = len(monitor_records(world))
    with PipelineRunner(world.aws) as runner:
        FIRINGS.fire_now(world.outputs["DriftCheckScheduleArn"])
        world.idle()
        started = starter_records(world)[-1]["result"]
        if started.get("status") == "started":
            runner.wait(started["execution_arn"], timeout=120)
            world.idle()
    after = monitor_records(world)
    return started, (after[-1]["result"] if len(after) > before else {})


def metric(world: World, name: str, **dimensions: str) -> list[float]:
    """The check's metric as CloudWatch has it from the monitor's EMF log lines (GetMetricData, last hour)."""
    dims = {"service": "sagemaker-lifecycle", "EndpointName": world.endpoint, **dimensions}
    now = datetime.now(UTC)
    found = world.aws.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "SageMakerLifecycle",
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    },
                    "Period": 3600,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
    )
    return [float(v) for v in found["MetricDataResults"][0]["Values"]]


def training_executions(world: World) -> list[dict[str, Any]]:
    found = world.sm.list_pipeline_executions(PipelineName=world.outputs["PipelineName"])
    return found["PipelineExecutionSummaries"]


def test_traffic_like_the_training_data_is_no_drift_and_no_alert(loop: tuple[World, pd.DataFrame]) -> None:
    world, features = loop
    send(world, features.sample(n=300, random_state=11))
    started, monitored = check_now(world)
    assert (started["status"], started["version"]) == ("started", 1)
    assert (monitored["status"], monitored["records"]) == ("no-drift", 300), monitored
    assert world.alerts(kind="drift") == []
    assert training_executions(world) == []
    assert metric(world, "DriftRecordsChecked") == [300.0] and metric(world, "DriftShare") == [0.0]
    assert world.aws.iam.log.counts["denied"] == 0


def test_drift_alerts_with_the_features_and_the_report_then_retrains_once(loop: tuple[World, pd.DataFrame]) -> None:
    world, features = loop
    send(world, shifted(features.sample(n=300, random_state=11)))
    started, monitored = check_now(world)
    assert monitored["status"] == "retrain-started", monitored
    (alert,) = world.alerts(kind="drift")
    assert "balance" in alert["Subject"] and "student" in alert["Subject"]
    assert "balance: " in alert["Message"] and f"Retraining started: {monitored['retraining']}" in alert["Message"]
    report = monitored["report"]
    assert report.endswith(f"/{started['window']}/result/report.html") and f"Report: {report}" in alert["Message"]
    bucket, key = report.removeprefix("s3://").split("/", 1)
    assert world.aws.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 10_000
    assert metric(world, "DriftFeatureScore", Feature="balance") and metric(world, "DriftDetected") == [1.0]
    (retraining,) = training_executions(world)
    assert retraining["PipelineExecutionDisplayName"].startswith("drift-retrain-")
    parameters = world.sm.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=retraining["PipelineExecutionArn"]
    )
    assert {"Name": "GitSha", "Value": "unknown"} in parameters["PipelineParameters"]

    # the check's Succeeded event again (EventBridge delivers at least once): one alert, one retraining
    (event,) = [
        e
        for e in world.events(SUCCEEDED)
        if e["detail"]["pipelineExecutionArn"] == started["execution_arn"]
        and e["detail"]["currentPipelineExecutionStatus"] == "Succeeded"
    ]
    world.stack.replay([event])
    assert monitor_records(world)[-1]["result"]["status"] == "duplicate"

    # the next check finds drift again: the retraining is in flight or in its cooldown, none is started
    _, again = check_now(world)
    assert again["status"] in {"retrain-in-flight", "retrain-cooldown"}, again
    assert len(training_executions(world)) == 1
    assert len(world.alerts(kind="drift")) == 2

    # AND make monitor shows the newest check beside the endpoint
    text = monitor.report(StackInfo("dev", world.aws.region, world.outputs, world.aws.endpoint_url))
    assert f"drift of {world.endpoint}, window " in text and "<-- DRIFT" in text
    assert "  balance " in text and "/result/report.html" in text
    assert world.aws.iam.log.counts["denied"] == 0


def test_a_window_across_a_deployment_compares_each_version_s_requests_with_its_own_baseline(
    loop: tuple[World, pd.DataFrame], tmp_path: Path
) -> None:
    # GIVEN v1 served traffic like its training data; then v2, trained on customers with tripled balances and the
    # student flag flipped, was approved, rolled out, and served traffic like its own training data
    world, features = loop
    send(world, features.sample(n=300, random_state=11))
    data = preprocess.transform(default_dataset())
    v2 = serve_with_baseline(world, shifted(data), tmp_path, execution="exec-2")
    assert world.describe()["EndpointConfigName"].startswith(f"{world.endpoint}-v2-")
    send(world, shifted(features).sample(n=300, random_state=12))

    # WHEN the check of the window runs
    started, monitored = check_now(world)

    # THEN each version's requests were compared with its own baseline: no drift, no alert, no retraining
    assert (started["status"], started["version"]) == ("started", 2)
    assert (monitored["status"], monitored["records"]) == ("no-drift", 300), monitored
    execution = world.sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=started["execution_arn"])
    output = next(p["Value"] for p in execution["PipelineParameters"] if p["Name"] == "OutputUri")
    bucket, _, prefix = output.removeprefix("s3://").partition("/")
    summary = json.loads(world.aws.client("s3").get_object(Bucket=bucket, Key=f"{prefix}/summary.json")["Body"].read())
    assert [(s["version"], s["records"], s["drift_detected"]) for s in summary["segments"]] == [
        (1, 300, False),
        (2, 300, False),
    ]
    assert summary["lines"]["unserved"] == 0
    assert world.alerts(kind="drift") == [] and training_executions(world) == []
    assert v2.endswith("/2") and world.aws.iam.log.counts["denied"] == 0


def test_a_served_version_without_baseline_alerts_once(deploy_world: Any) -> None:
    world = deploy_world("dev")
    arn = world.register()
    world.approve(arn)
    world.idle()
    for _ in range(2):
        started, monitored = check_now(world)
        assert started["status"] == "no-baseline" and monitored == {}
    (alert,) = world.alerts(kind="drift")
    assert arn in alert["Message"] and "no baseline" in alert["Subject"]
    assert world.aws.iam.log.counts["denied"] == 0


def test_a_failed_drift_check_alerts_like_a_failed_pipeline(loop: tuple[World, pd.DataFrame]) -> None:
    world, features = loop
    s3, bucket = world.aws.client("s3"), world.outputs["ArtifactBucketName"]
    constraints = f"{world.outputs['PipelineName']}/exec-1/Preprocess/baseline/constraints.json"
    s3.put_object(Bucket=bucket, Key=constraints, Body=b"not json")
    send(world, features.sample(n=150, random_state=3))
    started, monitored = check_now(world)
    assert started["status"] == "started" and monitored == {}
    failures = world.alerts(kind="pipeline-execution")
    assert failures and started["execution_arn"].rsplit("/", 1)[-1] in json.dumps(failures)
    assert world.alerts(kind="drift") == []
