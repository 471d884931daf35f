"""The pipeline's world: an embedded AWS with the pipeline upserted from the SDK definition and a runner installed.

The stack of template.yaml is deployed (not started): the pipeline runs as its pipeline role, the jobs as its job
role, in its artifact bucket and model package group, with IAM enforced.

Building the definition imports the SageMaker SDK and uploads the step code (seconds), so a test package opens one
world for all its tests (``world`` fixtures of package scope); each test starts its own execution (executions are
isolated by their execution id prefix).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.aws import EmbeddedAWS, Timings
from local.pipelines import PipelineRunner
from local.stack import LocalStack
from pipeline import commands
from pipeline.config import Target

ENV = "dev"
GROUP = "fraud-detector-dev"


class PipelineWorld:
    """The embedded AWS with the pipeline upserted, a runner installed and helpers to read what a run left."""

    def __init__(self, aws: EmbeddedAWS, target: Target, definition: dict[str, Any], runner: PipelineRunner) -> None:
        self.aws = aws
        self.target = target
        self.definition = definition
        self.runner = runner
        self.sagemaker = aws.client("sagemaker")
        self.s3 = aws.client("s3")

    def step(self, name: str) -> dict[str, Any]:
        """The definition's step ``name`` (also inside condition branches)."""
        steps = list(self.definition["Steps"])
        while steps:
            step = steps.pop()
            if step["Name"] == name:
                return step
            steps += step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get("ElseSteps", [])
        raise KeyError(name)

    def upload(self, key: str, body: bytes) -> str:
        self.s3.put_object(Bucket=self.target.bucket, Key=key, Body=body)
        return f"s3://{self.target.bucket}/{key}"

    def read_text(self, uri: str) -> str:
        bucket, _, key = uri[5:].partition("/")
        return str(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())

    def read_json(self, uri: str) -> Any:
        return json.loads(self.read_text(uri))

    def run(self, timeout: float = 180.0, **parameters: Any) -> tuple[str, dict[str, Any]]:
        """Start an execution (tagged with a test SHA) and wait for it; returns its ARN and description."""
        arn = commands.start(self.target, sha="abc1234", parameters=parameters, boto_session=self.session)
        return arn, self.runner.wait(arn, timeout)

    def steps(self, arn: str) -> dict[str, dict[str, Any]]:
        listed = self.sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        return {s["StepName"]: s for s in listed}

    def packages(self) -> list[dict[str, Any]]:
        return self.sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]

    def events(self, detail_type: str, execution_arn: str | None = None) -> list[dict[str, Any]]:
        self.aws.wait_idle()
        found = [e for e in self.aws.emitted_events if e["detail-type"] == detail_type]
        if execution_arn:
            found = [e for e in found if execution_arn in e["resources"]]
        return found

    @property
    def session(self) -> boto3.session.Session:
        return boto3.session.Session(region_name=self.aws.region)


@contextlib.contextmanager
def pipeline_world() -> Iterator[PipelineWorld]:
    aws = EmbeddedAWS(timings=Timings(endpoint_create=0.0, endpoint_update=0.0, endpoint_delete=0.0)).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in aws.env().items():
                patch.setenv(name, value)  # the SDK's own clients find the embedded AWS this way
            target = Target.from_outputs(LocalStack(aws, env=ENV).deploy(), aws.region)
            assert target.model_package_group_name == GROUP
            session = boto3.session.Session(region_name=aws.region)
            commands.upload_data(target, boto_session=session)
            commands.upsert(target, ENV, boto_session=session)
            definition = json.loads(
                aws.client("sagemaker").describe_pipeline(PipelineName=target.pipeline_name)["PipelineDefinition"]
            )
            with PipelineRunner(aws) as runner:
                yield PipelineWorld(aws, target, definition, runner)
    finally:
        aws.stop()
