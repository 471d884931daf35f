"""The deployed endpoint really serves on the embedded AWS: InvokeEndpoint runs the package's XGBoost model, and
data capture writes SageMaker's capture records at the configured sampling rate."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
import xgboost

from tests.worlds.deployment import World, model_tarball

pytestmark = pytest.mark.slow

ROWS = np.array([[0.9, 0.1, 0.2], [0.1, 0.5, 0.5], [0.7, 0.7, 0.1]])


def _model_tarball() -> tuple[bytes, Any]:
    rng = np.random.default_rng(7)
    features = rng.random((200, 3))
    labels = (features[:, 0] > 0.5).astype(int)
    booster = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(features, label=labels), 10)
    return model_tarball(booster), booster


def _serve(world: World) -> Any:
    """Register and approve a package whose model data is a real XGBoost model; the deployer creates the endpoint."""
    tarball, booster = _model_tarball()
    arn = world.register()
    url = world.sm.describe_model_package(ModelPackageName=arn)["InferenceSpecification"]["Containers"][0]
    bucket, key = url["ModelDataUrl"].removeprefix("s3://").split("/", 1)
    world.aws.client("s3").put_object(Bucket=bucket, Key=key, Body=tarball)
    world.approve(arn)
    world.idle()
    return booster


def _captures(world: World) -> list[tuple[str, dict[str, Any]]]:
    s3 = world.aws.client("s3")
    bucket = world.outputs["ArtifactBucketName"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="data-capture/").get("Contents", [])]
    return [
        (key, json.loads(line))
        for key in keys
        for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
    ]


def test_endpoint_answers_with_the_approved_model_and_captures_every_request(deploy_world) -> None:
    # GIVEN an environment capturing 100 % of requests, serving an approved XGBoost package
    world = deploy_world("dev", DataCaptureSamplingPercentage="100")
    booster = _serve(world)
    body = "\n".join(",".join(str(v) for v in row) for row in ROWS)

    # WHEN a client invokes the endpoint with CSV rows
    response = world.aws.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=world.endpoint, ContentType="text/csv", Body=body
    )

    # THEN the answer is the model's prediction for every row
    answer = [float(line) for line in response["Body"].read().decode().splitlines()]
    assert answer == pytest.approx(booster.predict(xgboost.DMatrix(ROWS)).tolist(), rel=1e-6)
    assert response["InvokedProductionVariant"] == "AllTraffic"
    # AND the request and the response were captured in SageMaker's format and key layout, below the folder of the
    # version that answered
    [(key, record)] = _captures(world)
    assert re.fullmatch(
        rf"data-capture/{world.endpoint}/v1/{world.endpoint}/AllTraffic/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/\d{{2}}-\d{{2}}-\d{{3}}-[0-9a-f-]{{36}}\.jsonl",
        key,
    )
    assert record["eventVersion"] == "0"
    assert set(record["eventMetadata"]) >= {"eventId", "inferenceTime"}
    assert record["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": body,
        "encoding": "CSV",
    }
    output = record["captureData"]["endpointOutput"]
    assert output["mode"] == "OUTPUT"
    assert output["encoding"] == "CSV"
    assert [float(v) for v in output["data"].splitlines()] == pytest.approx(answer)


def test_sampling_rate_zero_captures_nothing(deploy_world) -> None:
    world = deploy_world("dev", DataCaptureSamplingPercentage="0")
    _serve(world)
    runtime = world.aws.client("sagemaker-runtime")
    for _ in range(20):
        runtime.invoke_endpoint(EndpointName=world.endpoint, ContentType="text/csv", Body="0.5,0.5,0.5")
    assert _captures(world) == []


def test_unknown_endpoint_and_unreadable_payload_are_refused(deploy_world) -> None:
    world = deploy_world("dev")
    _serve(world)
    runtime = world.aws.client("sagemaker-runtime")
    with pytest.raises(runtime.exceptions.ValidationError):
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body="1,2,3")
    with pytest.raises(runtime.exceptions.ModelError):
        runtime.invoke_endpoint(EndpointName=world.endpoint, ContentType="text/csv", Body="not,a,number")
