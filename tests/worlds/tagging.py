"""A pipeline execution and its artifacts, created through the AWS API of the embedded AWS.

What SageMaker would have produced for one succeeded execution of the stack's pipeline: a preprocessing job, a
training job (checkpointed), an evaluation job writing the evaluation report, a registered model package, and their
S3 objects under ``s3://<bucket>/<pipeline>/<execution id>/<step>/...``; the steps are recorded as
``ListPipelineExecutionSteps`` reports them.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1"
DEFINITION = json.dumps({"Version": "2020-12-01", "Parameters": [{"Name": "GitSha", "Type": "String"}], "Steps": []})

RecordStep = Callable[[str, dict[str, Any]], None]  # (execution ARN, step summary as the API returns it)


@dataclass
class Execution:
    arn: str
    execution_id: str
    pipeline_name: str
    bucket: str
    objects: list[str] = field(default_factory=list)  # keys
    jobs: list[str] = field(default_factory=list)  # ARNs
    package_arn: str | None = None
    group_arn: str | None = None
    report_key: str | None = None
    git_sha: str | None = None
    started: str = ""  # the execution's CreationTime (DescribePipelineExecution), ISO 8601

    @property
    def date(self) -> str:
        """The ``date`` tag of its artifacts: the day the execution started."""
        return self.started[:10]

    @property
    def root(self) -> str:
        return f"{self.pipeline_name}/{self.execution_id}"


class World:
    """Builds executions in one account; ``record_step`` is how the embedded AWS learns about steps."""

    def __init__(
        self,
        sagemaker: Any,
        s3: Any,
        record_step: RecordStep,
        *,
        bucket: str,
        pipeline: str,
        group: str | None = None,
    ) -> None:
        """Creates the pipeline, and the bucket and package group unless ``group`` names a deployed stack's."""
        self.sm, self.s3, self.record_step = sagemaker, s3, record_step
        self.bucket, self.pipeline = bucket, pipeline
        self.group = group or f"{pipeline}-models"
        if group is None:
            self.s3.create_bucket(Bucket=bucket)
            self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            self.sm.create_model_package_group(ModelPackageGroupName=self.group)
        known = [p["PipelineName"] for p in self.sm.list_pipelines(PipelineNamePrefix=pipeline)["PipelineSummaries"]]
        if pipeline not in known:
            self.sm.create_pipeline(PipelineName=pipeline, PipelineDefinition=DEFINITION, RoleArn=ROLE_ARN)

    def execution(
        self,
        *,
        git_sha: str | None = "3f2c1e9aa",
        description: str = "",
        display_name: str = "run",
        extra_objects: int = 0,
        steps: Iterable[str] = ("Preprocess", "Train", "Evaluate", "Register"),
    ) -> Execution:
        parameters = [{"Name": "GitSha", "Value": git_sha}] if git_sha is not None else []
        arn = self.sm.start_pipeline_execution(
            PipelineName=self.pipeline,
            PipelineExecutionDisplayName=display_name,
            PipelineExecutionDescription=description or "run",
            PipelineParameters=parameters,
            ClientRequestToken=uuid.uuid4().hex,
        )["PipelineExecutionArn"]
        run = Execution(arn, arn.rsplit("/", 1)[-1], self.pipeline, self.bucket, git_sha=git_sha)
        created = self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["CreationTime"]
        run.started = created.astimezone(UTC).isoformat().replace("+00:00", "Z")
        for step in steps:
            getattr(self, f"_{step.lower()}")(run, extra_objects if step == "Preprocess" else 0)
        return run

    # ------------------------------------------------------------------------------------------------ steps
    def _job_name(self, run: Execution, step: str) -> str:
        """As SageMaker Pipelines names a step's job: the step's case kept, a mixed-case suffix (the ARN is
        lower-cased)."""
        suffix = "".join(random.choices(string.ascii_letters + string.digits, k=10))
        return f"pipelines-{run.execution_id}-{step}-{suffix}"

    def _put(self, run: Execution, key: str, body: bytes = b"x") -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        run.objects.append(key)

    def _processing(self, run: Execution, step: str, outputs: dict[str, list[str]]) -> str:
        name = self._job_name(run, step)
        self.sm.create_processing_job(
            ProcessingJobName=name,
            RoleArn=ROLE_ARN,
            AppSpecification={"ImageUri": IMAGE},
            ProcessingResources={
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}
            },
            ProcessingOutputConfig={
                "Outputs": [
                    {
                        "OutputName": output,
                        "S3Output": {
                            "S3Uri": f"s3://{self.bucket}/{run.root}/{step}/output/{output}",
                            "LocalPath": f"/opt/ml/processing/{output}",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for output in outputs
                ]
            },
        )
        for output, files in outputs.items():
            for file in files:
                self._put(run, f"{run.root}/{step}/output/{output}/{file}")
        arn = self.sm.describe_processing_job(ProcessingJobName=name)["ProcessingJobArn"]
        run.jobs.append(arn)
        self.record_step(run.arn, _step(step, "Processing", {"ProcessingJob": {"Arn": arn}}))
        return arn

    def _preprocess(self, run: Execution, extra: int) -> None:
        files = ["train.csv", *(f"part-{i:05d}.csv" for i in range(extra))]
        self._processing(run, "Preprocess", {"train": files, "validation": ["validation.csv"]})

    def _evaluate(self, run: Execution, _: int) -> None:
        self._processing(run, "Evaluate", {"evaluation": ["evaluation.json"]})
        run.report_key = f"{run.root}/Evaluate/output/evaluation/evaluation.json"

    def _train(self, run: Execution, _: int) -> None:
        name = self._job_name(run, "Train")
        self.sm.create_training_job(
            TrainingJobName=name,
            RoleArn=ROLE_ARN,
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            OutputDataConfig={"S3OutputPath": f"s3://{self.bucket}/{run.root}/Train"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            CheckpointConfig={"S3Uri": f"s3://{self.bucket}/{run.root}/checkpoints"},
        )
        self._put(run, f"{run.root}/Train/{name}/output/model.tar.gz")
        self._put(run, f"{run.root}/checkpoints/xgboost-checkpoint.10")
        arn = self.sm.describe_training_job(TrainingJobName=name)["TrainingJobArn"]
        run.jobs.append(arn)
        self.record_step(run.arn, _step("Train", "Training", {"TrainingJob": {"Arn": arn}}))
        run.model_key = f"{run.root}/Train/{name}/output/model.tar.gz"  # type: ignore[attr-defined]

    def _register(self, run: Execution, _: int) -> None:
        model_key = getattr(run, "model_key", f"{run.root}/Train/model.tar.gz")
        report = run.report_key or f"{run.root}/Evaluate/output/evaluation/evaluation.json"
        arn = self.sm.create_model_package(
            ModelPackageGroupName=self.group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{self.bucket}/{model_key}"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{self.bucket}/{report}"}
                }
            },
            # as the pipeline's RegisterModel step records them (a version cannot be tagged)
            CustomerMetadataProperties={
                "GitSha": run.git_sha or "unknown",
                "PipelineExecutionId": run.execution_id,
                "PipelineExecutionStartTime": run.started,
            },
        )["ModelPackageArn"]
        run.package_arn = arn
        run.group_arn = self.sm.describe_model_package_group(ModelPackageGroupName=self.group)["ModelPackageGroupArn"]
        self.record_step(run.arn, _step("Register", "RegisterModel", {"RegisterModel": {"Arn": arn}}))

    # ------------------------------------------------------------------------------------------------ reading back
    def object_tags(self, key: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.s3.get_object_tagging(Bucket=self.bucket, Key=key)["TagSet"]}

    def resource_tags(self, arn: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.sm.list_tags(ResourceArn=arn)["Tags"]}

    def event(self, run: Execution, *, status: str = "Succeeded") -> dict[str, Any]:
        """The EventBridge event SageMaker sends when ``run`` changes status (AWS's shape)."""
        pipeline_arn = run.arn.split("/execution/", 1)[0]
        described = self.sm.describe_pipeline_execution(PipelineExecutionArn=run.arn)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
            "source": "aws.sagemaker",
            "account": run.arn.split(":")[4],
            "time": "2026-03-24T16:10:11Z",
            "region": run.arn.split(":")[3],
            "resources": [pipeline_arn, run.arn],
            "detail": {
                "pipelineExecutionDisplayName": described.get("PipelineExecutionDisplayName"),
                "currentPipelineExecutionStatus": status,
                "previousPipelineExecutionStatus": "Executing",
                "executionStartTime": run.started,
                "executionEndTime": "2026-03-24T16:10:10Z",
                "pipelineExecutionDescription": described.get("PipelineExecutionDescription"),
                "pipelineArn": pipeline_arn,
                "pipelineExecutionArn": run.arn,
            },
        }


def _step(name: str, _type: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "StepName": name,
        "StepDisplayName": name,
        "StepStatus": "Succeeded",
        "AttemptCount": 1,
        "Metadata": metadata,
    }
