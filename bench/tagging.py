"""Tagging cost: AWS calls and wall time to tag one execution with N objects, on the embedded AWS.

For N = 10, 100, 1000 objects (one processing job writing N objects, plus a training job and a model package),
runs the tagging twice: first on untagged objects, then again (a re-delivery, everything already tagged). Prints the
calls split into discovery (steps, Describe*, parameters, listings), per-object reads and writes, and how the time
grows with N. Both are counted from outside the product code, with botocore's event hooks on the clients the tagging
runs with: API calls on ``before-call``, HTTP requests on the wire (``before-send``, retries included).

    .venv/bin/python bench/tagging.py
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from botocore.config import Config

from local.aws import EmbeddedAWS, Timings
from sm_lifecycle.tagging.policy import TaggingConfig
from sm_lifecycle.tagging.s3 import S3Tagger
from sm_lifecycle.tagging.sagemaker import SageMakerArtifacts
from sm_lifecycle.tagging.service import SucceededExecution, tag_succeeded_execution

ROOT = Path(__file__).resolve().parents[1]

SIZES = (10, 100, 1000)
BUCKET, PIPELINE, GROUP = "bench-artifacts", "bench-pipeline", "bench-models"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/img:1"
DISCOVERY = {
    "DescribePipelineExecution",
    "ListPipelineParametersForExecution",
    "ListPipelineExecutionSteps",
    "DescribeProcessingJob",
    "DescribeTrainingJob",
    "DescribeModelPackage",
    "ListTrainingJobs",  # the jobs' real names (the steps' ARNs lower-case them)
    "ListProcessingJobs",
    "ListObjectsV2",
}


class Calls:
    """AWS API calls (``before-call``) and HTTP requests (``before-send``) of the clients it watches."""

    def __init__(self, *clients: Any) -> None:
        self.api: Counter[str] = Counter()
        self.http = 0
        for client in clients:
            client.meta.events.register("before-call.*.*", self._call)
            client.meta.events.register("before-send.*.*", self._send)

    def _call(self, model: Any, **_: Any) -> None:
        self.api[model.name] += 1

    def _send(self, **_: Any) -> None:
        self.http += 1

    def clear(self) -> None:
        self.api.clear()
        self.http = 0


def setup(aws: EmbeddedAWS, sm, s3, n: int) -> str:
    """An execution whose artifacts are N S3 objects, two jobs and a model package; returns its ARN."""
    arn = sm.start_pipeline_execution(
        PipelineName=PIPELINE,
        PipelineParameters=[{"Name": "GitSha", "Value": "abc1234"}],
        ClientRequestToken=uuid.uuid4().hex,
    )["PipelineExecutionArn"]
    exec_id = arn.rsplit("/", 1)[-1]
    root = f"{PIPELINE}/{exec_id}"
    job = f"pipelines-{exec_id}-Preprocess-a1B2c3D4e5"  # as SageMaker Pipelines names a step's job
    sm.create_processing_job(
        ProcessingJobName=job,
        RoleArn=ROLE,
        AppSpecification={"ImageUri": IMAGE},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "data",
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/{root}/Preprocess/data",
                        "LocalPath": "/opt/ml/processing/data",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    )
    for i in range(n - 1):
        s3.put_object(Bucket=BUCKET, Key=f"{root}/Preprocess/data/part-{i:05d}.csv", Body=b"x")
    train = f"pipelines-{exec_id}-Train-f6G7h8I9j0"
    sm.create_training_job(
        TrainingJobName=train,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/{root}/Train"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    model = f"{root}/Train/{train}/output/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=model, Body=b"m")  # N objects in all
    package = sm.create_model_package(
        ModelPackageGroupName=GROUP,
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/{model}"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        CustomerMetadataProperties={"GitSha": "abc1234", "PipelineExecutionId": exec_id},  # as the pipeline records
    )["ModelPackageArn"]
    steps = {
        "Preprocess": {"ProcessingJob": {"Arn": sm.describe_processing_job(ProcessingJobName=job)["ProcessingJobArn"]}},
        "Train": {"TrainingJob": {"Arn": sm.describe_training_job(TrainingJobName=train)["TrainingJobArn"]}},
        "Register": {"RegisterModel": {"Arn": package}},
    }
    for name, metadata in steps.items():
        aws.sagemaker_store.record_step(arn, {"StepName": name, "StepStatus": "Succeeded", "Metadata": metadata})
    return arn


def run(sm, s3, arn: str, calls: Calls):
    calls.clear()
    event = SucceededExecution(
        pipeline_arn=arn.split("/execution/", maxsplit=1)[0],
        execution_arn=arn,
        status="Succeeded",
        start_time="2026-03-24T16:03:13Z",
    )
    started = time.perf_counter()
    report = tag_succeeded_execution(
        event,
        environment="dev",
        team="ml-platform",
        pipeline_name=PIPELINE,
        config=TaggingConfig(artifact_bucket=BUCKET, artifact_prefix=f"{PIPELINE}/", max_workers=8),
        sagemaker=SageMakerArtifacts(sm),
        s3=S3Tagger(s3),
    )
    elapsed = time.perf_counter() - started
    assert report.status == "tagged", report.to_dict()
    return elapsed, dict(calls.api), calls.http


def main() -> None:
    aws = EmbeddedAWS(timings=Timings()).start()
    try:
        config = Config(max_pool_connections=16, retries={"max_attempts": 5, "mode": "standard"})
        sm, s3 = aws.client("sagemaker", config=config), aws.client("s3", config=config)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        definition = '{"Version":"2020-12-01","Steps":[]}'
        sm.create_pipeline(PipelineName=PIPELINE, PipelineDefinition=definition, RoleArn=ROLE)
        sm.create_model_package_group(ModelPackageGroupName=GROUP)

        header = (
            f"{'N':>5} {'run':<9} {'calls':>6} {'http':>6} {'discovery':>9} {'reads/obj':>9} {'writes/obj':>10} "
            f"{'beyond disc./obj':>16} {'time s':>7} {'ms/obj':>7}"
        )
        print(header)
        print("-" * len(header))
        per_object_ms: dict[str, list[float]] = {"first": [], "re-run": []}
        watched = Calls(sm, s3)  # cleared as each run starts: only the tagging's own calls are counted
        for n in SIZES:
            arn = setup(aws, sm, s3, n)
            for label in ("first", "re-run"):
                elapsed, calls, http = run(sm, s3, arn, watched)
                total = sum(calls.values())
                discovery = sum(v for k, v in calls.items() if k in DISCOVERY)
                reads = calls.get("GetObjectTagging", 0) / n
                writes = calls.get("PutObjectTagging", 0) / n
                beyond = (total - discovery) / n
                per_object_ms[label].append(elapsed * 1000 / n)
                print(
                    f"{n:>5} {label:<9} {total:>6} {http:>6} {discovery:>9} {reads:>9.2f} {writes:>10.2f} "
                    f"{beyond:>16.2f} {elapsed:>7.2f} {elapsed * 1000 / n:>7.2f}"
                )
        print()
        for label, values in per_object_ms.items():
            ratios = ", ".join(f"{v / values[-1]:.2f}" for v in values)
            print(f"{label}: time per object at N={SIZES} relative to N={SIZES[-1]}: {ratios} (flat = linear)")
        print(
            "beyond discovery = per-object reads + writes + AddTags on the jobs and the package group (constant; a "
            "package version cannot be tagged: its metadata is read in discovery). "
            "A first run reads each object's tags before writing them (PutObjectTagging replaces the whole set, and "
            "no listing returns tags); a re-delivery only reads."
        )
    finally:
        aws.stop()


if __name__ == "__main__":
    main()
