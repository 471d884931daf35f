"""Test helpers shared by every test folder: a fake Lambda context and moto in process with fake credentials."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from local.aws import extensions
from sm_lifecycle.kernel import clients
from tools import stackinfo

REGION = "us-east-1"

# The drift check's schedule in a stack under test: it fires when the test says (``FIRINGS.fire_now``). At dev's rate
# (an hour: seconds of the embedded scheduler's scaled time) it would check, and alert, in the middle of every test.
DRIFT_CHECKS_ON_DEMAND = {"DriftCheckRate": "rate(30 days)"}


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools and our handlers read."""

    function_name: str = "AlertFunction"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:AlertFunction"
    aws_request_id: str = "5b7c1f0e-0000-4000-8000-000000000001"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@contextlib.contextmanager
def moto_in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every service (with the project's SageMaker extensions), fake credentials, fresh shared clients."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # operator commands under test must not find a stack a developer is serving on this machine
    monkeypatch.setattr(stackinfo, "LOCAL_STATE", stackinfo.LOCAL_STATE / "not-in-tests")
    with mock_aws():
        extensions.install()
        clients.reset()
        try:
            yield
        finally:
            clients.reset()


def create_training_job(sagemaker: Any, name: str, role_arn: str = "arn:aws:iam::123456789012:role/sagemaker") -> str:
    """A training job named ``name`` (a minimal valid request); its ARN."""
    return str(
        sagemaker.create_training_job(
            TrainingJobName=name,
            RoleArn=role_arn,
            AlgorithmSpecification={
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1",
                "TrainingInputMode": "File",
            },
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
        )["TrainingJobArn"]
    )


def emitted_metrics(output: str) -> list[str]:
    """Names of the metrics of the EMF documents Powertools printed."""
    names: list[str] = []
    for line in output.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            names += [metric["Name"] for metric in directive["Metrics"]]
    return names
