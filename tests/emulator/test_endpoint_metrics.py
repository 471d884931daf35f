"""Contract tests: every InvokeEndpoint publishes the endpoint's AWS/SageMaker invocation metrics, and a 5xx burst
can be injected into its model, as a bake check reads them (GetMetricStatistics, GetMetricData)."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import xgboost
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
DIMENSIONS = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}]


def model_tarball() -> bytes:
    rng = np.random.default_rng(7)
    features = rng.random((50, 3))
    booster = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(features, label=features[:, 0] > 0.5), 3)
    raw = bytes(booster.save_raw(raw_format="json"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("xgboost-model")
        member.size = len(raw)
        archive.addfile(member, io.BytesIO(raw))
    return buffer.getvalue()


@pytest.fixture
def serving_endpoint(embedded_aws: Any, sagemaker: Any) -> str:
    """Endpoint ``ep`` in service, its variant ``AllTraffic`` serving a real XGBoost model."""
    s3 = embedded_aws.client("s3")
    s3.create_bucket(Bucket="models")
    s3.put_object(Bucket="models", Key="v1/model.tar.gz", Body=model_tarball())
    container = {"Image": "xgboost:1", "ModelDataUrl": "s3://models/v1/model.tar.gz"}
    sagemaker.create_model(ModelName="m-v1", PrimaryContainer=container, ExecutionRoleArn=ROLE)
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "m-v1",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sagemaker.create_endpoint_config(EndpointConfigName="cfg-v1", ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-v1")
    embedded_aws.wait_idle()
    return "ep"


def statistic(cloudwatch: Any, metric: str, stat: str) -> float:
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=DIMENSIONS,
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=[stat],
    )["Datapoints"]
    return float(points[0][stat]) if points else 0.0


def test_invocations_and_an_injected_5xx_burst_are_in_the_endpoint_metrics(
    embedded_aws, serving_endpoint, control_http
):
    runtime, cloudwatch = embedded_aws.client("sagemaker-runtime"), embedded_aws.client("cloudwatch")
    for _ in range(3):
        runtime.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body="0.9,0.1,0.2")

    # WHEN the model answers the next two invocations with a 500 (asked over the control route)
    answer = control_http({"action": "inject_invocation_errors", "endpoint_name": "ep", "status": 500, "times": 2})
    assert answer["ok"]
    errors = []
    for _ in range(2):
        with pytest.raises(ClientError) as failed:
            runtime.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body="0.9,0.1,0.2")
        errors.append(failed.value.response)
    runtime.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body="0.9,0.1,0.2")  # the burst is over

    # THEN they fail as SageMaker reports a model's 5xx
    assert {e["Error"]["Code"] for e in errors} == {"ModelError"}
    assert {e["OriginalStatusCode"] for e in errors} == {500}
    assert "Received server error (500) from primary" in errors[0]["Error"]["Message"]
    # AND the metrics by endpoint and variant count every invocation and the two 5xx
    assert statistic(cloudwatch, "Invocations", "Sum") == 6
    assert statistic(cloudwatch, "Invocation5XXErrors", "Sum") == 2
    assert statistic(cloudwatch, "Invocation4XXErrors", "Sum") == 0
    assert statistic(cloudwatch, "ModelLatency", "Maximum") > 0
    assert statistic(cloudwatch, "ModelLatency", "SampleCount") == 6


def test_unreadable_input_is_a_4xx_and_get_metric_data_reads_the_window(embedded_aws, serving_endpoint):
    runtime, cloudwatch = embedded_aws.client("sagemaker-runtime"), embedded_aws.client("cloudwatch")
    with pytest.raises(ClientError):
        runtime.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body="not,a,number")
    runtime.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body="0.1,0.5,0.5")

    now = datetime.now(UTC)
    queries = [
        {
            "Id": metric.lower(),
            "MetricStat": {
                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": DIMENSIONS},
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for metric in ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors")
    ]
    results = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1)
    )["MetricDataResults"]
    sums = {result["Id"]: sum(result["Values"]) for result in results}
    assert sums == {"invocations": 2, "invocation4xxerrors": 1, "invocation5xxerrors": 0}


def test_an_invocation_refused_before_a_variant_publishes_nothing(embedded_aws, serving_endpoint):
    with pytest.raises(ClientError):
        embedded_aws.client("sagemaker-runtime").invoke_endpoint(EndpointName="nope", ContentType="text/csv", Body="1")
    listed = embedded_aws.client("cloudwatch").list_metrics(Namespace="AWS/SageMaker")["Metrics"]
    assert listed == []
