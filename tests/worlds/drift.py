"""The drift world: a served version trained on the pipeline's data and registered with its training baseline, its
endpoint capturing every request, and the drift-check pipeline upserted as ``make deploy`` leaves it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import xgboost

from pipeline import PACKAGE_DIR
from tests.worlds.deployment import IMAGE, World, model_tarball
from tools.stackinfo import StackInfo

sys.path.insert(0, str(PACKAGE_DIR / "steps"))
import preprocess

FEATURES = list(preprocess.FEATURES)


def serve_with_baseline(world: World, data: pd.DataFrame, tmp_path: Path, execution: str = "exec-1") -> str:
    """A version trained on ``data`` (by the pipeline's ``execution``), registered with its baseline (as the pipeline
    registers it), approved."""
    s3, bucket = world.aws.client("s3"), world.outputs["ArtifactBucketName"]
    features = data[FEATURES]
    preprocess.write_baseline(features, str(tmp_path / execution / "baseline"), reference_rows=2000, seed=42)
    prefix = f"{world.outputs['PipelineName']}/{execution}/Preprocess/baseline"
    for file in (tmp_path / execution / "baseline").iterdir():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{file.name}", Body=file.read_bytes())
    model_key = f"{world.outputs['PipelineName']}/{execution}/Train/model.tar.gz"
    booster = xgboost.train(
        {"objective": "binary:logistic"},
        xgboost.DMatrix(features.to_numpy(), label=data[preprocess.LABEL].to_numpy()),
        5,
    )
    s3.put_object(Bucket=bucket, Key=model_key, Body=model_tarball(booster))
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
    send_to(world.aws.client("sagemaker-runtime"), world.endpoint, rows, batch)


def send_to(runtime: Any, endpoint: str, rows: pd.DataFrame, batch: int = 100) -> None:
    """``rows`` as CSV requests to ``endpoint``, ``batch`` rows each."""
    for start in range(0, len(rows), batch):
        body = rows.iloc[start : start + batch].to_csv(header=False, index=False)
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)


def shifted(features: pd.DataFrame) -> pd.DataFrame:
    """Balances tripled and the student flag flipped: the drift the checks must name."""
    return features.assign(balance=lambda f: f["balance"] * 3, student=lambda f: 1 - f["student"])


def upsert_drift_pipeline(world: World) -> str:
    """The drift-check pipeline, as deploying the stack leaves it (the SDK's definition, uploaded)."""
    return upsert_drift_pipeline_in(world.aws, world.outputs, world.aws.account_id)


def upsert_drift_pipeline_in(aws: Any, outputs: dict[str, Any], account_id: str) -> str:
    """The drift-check pipeline of the stack with ``outputs`` in ``account_id``, as ``make deploy`` leaves it
    (``python -m pipeline upsert-drift-check``: the SDK's definition, uploaded, by the account's administrator)."""
    from pipeline import commands  # noqa: PLC0415 - the SageMaker SDK

    credentials = aws.account_credentials(account_id)
    keys = (credentials.access_key_id, credentials.secret_access_key)
    env = str(outputs.get("Environment", "dev"))
    StackInfo(env, aws.region, outputs, aws.endpoint_url, keys).apply_to_environ()  # the SDK reaches the embedded AWS
    session = boto3.session.Session(region_name=aws.region, aws_access_key_id=keys[0], aws_secret_access_key=keys[1])
    return commands.upsert_drift_check(outputs, aws.region, session)


def create_training_pipeline(world: World, role_arn: str | None = None) -> None:
    """A stand-in for the training pipeline (no steps): what retraining starts and counts."""
    world.sm.create_pipeline(
        PipelineName=world.outputs["PipelineName"],
        PipelineDefinition=json.dumps(
            {"Version": "2020-12-01", "Parameters": [{"Name": "GitSha", "Type": "String"}], "Steps": []}
        ),
        RoleArn=role_arn or world.outputs["SageMakerPipelineRoleArn"],
    )


def monitor_records(world: World) -> list[dict[str, Any]]:
    return [r for r in world.stack.invocations if r["function"] == "DriftMonitorFunction"]


def starter_records(world: World) -> list[dict[str, Any]]:
    return [r for r in world.stack.invocations if r["function"] == "DriftCheckFunction"]
