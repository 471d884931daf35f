"""``make drift-check`` on a served stack: the endpoint serves a version registered with its training baseline,
clients send it requests (captured), and the drift-check pipeline runs on the embedded AWS with the real job script
in its own environment, as the stack's drift-check job role (IAM enforced)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xgboost

from local.pipelines import PipelineRunner
from pipeline import PACKAGE_DIR
from pipeline.data import default_dataset
from tests.worlds.deployment import IMAGE, World, model_tarball
from tools import drift_check
from tools.stackinfo import StackInfo

sys.path.insert(0, str(PACKAGE_DIR / "steps"))
import preprocess

pytestmark = pytest.mark.slow


def serve_with_baseline(world: World, data: pd.DataFrame, tmp_path: Path) -> str:
    """A version trained on ``data``, registered with its baseline (as the pipeline registers it), approved."""
    s3, bucket = world.aws.client("s3"), world.outputs["ArtifactBucketName"]
    features = data[list(preprocess.FEATURES)]
    preprocess.write_baseline(features, str(tmp_path / "baseline"), reference_rows=2000, seed=42)
    prefix = f"{world.outputs['PipelineName']}/exec-1/Preprocess/baseline"
    for file in (tmp_path / "baseline").iterdir():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{file.name}", Body=file.read_bytes())
    model_key = f"{world.outputs['PipelineName']}/exec-1/Train/model.tar.gz"
    s3.put_object(
        Bucket=bucket,
        Key=model_key,
        Body=model_tarball(
            xgboost.train(
                {"objective": "binary:logistic"},
                xgboost.DMatrix(features.to_numpy(), label=data[preprocess.LABEL].to_numpy()),
                5,
            )
        ),
    )
    arn = world.sm.create_model_package(
        ModelPackageGroupName=world.group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{bucket}/{model_key}"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        DriftCheckBaselines={
            "ModelDataQuality": {
                kind: {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/{prefix}/{name}"}
                for kind, name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json"))
            }
        },
    )["ModelPackageArn"]
    world.approve(arn)
    world.idle()
    return str(arn)


def send(world: World, rows: pd.DataFrame, batch: int = 100) -> None:
    runtime = world.aws.client("sagemaker-runtime")
    for start in range(0, len(rows), batch):
        body = rows.iloc[start : start + batch].to_csv(header=False, index=False)
        runtime.invoke_endpoint(EndpointName=world.endpoint, ContentType="text/csv", Body=body)


def stack_info(world: World) -> StackInfo:
    return StackInfo("dev", world.aws.region, world.outputs, world.aws.endpoint_url)


@pytest.fixture
def served(deploy_world: Any, tmp_path: Path) -> tuple[World, pd.DataFrame]:
    world = deploy_world("dev", DataCaptureSamplingPercentage="100")
    data = preprocess.transform(default_dataset())
    serve_with_baseline(world, data, tmp_path)
    return world, data[list(preprocess.FEATURES)]


def test_a_drift_check_of_traffic_like_the_training_data_finds_no_drift(served: tuple[World, pd.DataFrame]) -> None:
    world, features = served
    send(world, features.sample(n=300, random_state=11))
    with PipelineRunner(world.aws):
        summary = drift_check.run(stack_info(world), hours=1)
    assert (summary["status"], summary["version"], summary["records"]) == ("ok", 1, 300)
    assert summary["drift_detected"] is False
    assert summary["report_uri"].endswith("/result/report.html")
    assert world.aws.iam.log.counts["denied"] == 0


def test_a_drift_check_of_shifted_traffic_names_the_drifted_features(served: tuple[World, pd.DataFrame]) -> None:
    world, features = served
    shifted = features.sample(n=300, random_state=11).assign(
        balance=lambda f: f["balance"] * 3, student=lambda f: 1 - f["student"]
    )
    send(world, shifted)
    with PipelineRunner(world.aws):
        summary = drift_check.run(stack_info(world), hours=1)
    assert summary["drift_detected"] is True, summary
    assert {name for name, f in summary["features"].items() if f["drifted"]} == {"balance", "student"}
    line = drift_check.one_line(summary)
    assert '"drift_detected": true' in line and '"balance"' in line
