"""Adapter: what the drift loop asks SageMaker (the served version's baseline, the check's execution, the training
pipeline's executions) and what it starts (a check, a retraining)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify, error_message, is_not_found

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient

RUNNING = ("Executing", "Stopping")


@dataclass(frozen=True)
class Baseline:
    """A version's training baseline: the folder of its ``constraints.json`` (and ``reference.csv``)."""

    package_arn: str
    version: int
    bucket: str
    folder: str


@dataclass(frozen=True)
class Execution:
    arn: str
    status: str
    created: datetime | None
    display_name: str = ""


class DriftPipelines:
    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sm = sagemaker

    def baseline(self, package_arn: str) -> Baseline | None:
        """The version's ``DriftCheckBaselines.ModelDataQuality``; None when it was registered without one, or is
        deleted."""
        try:
            package: dict[str, Any] = dict(self._sm.describe_model_package(ModelPackageName=package_arn))
        except ClientError as exc:
            if is_not_found(exc) or "not exist" in error_message(exc).lower():
                return None
            raise classify(exc, what=f"DescribeModelPackage {package_arn}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"DescribeModelPackage {package_arn}") from exc
        quality = (package.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
        uri = str((quality.get("Constraints") or {}).get("S3Uri") or "")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or "/" not in key:
            return None
        return Baseline(package_arn, int(package["ModelPackageVersion"]), bucket, key.rsplit("/", 1)[0])

    def start(self, pipeline: str, parameters: dict[str, str], *, token: str, display_name: str, why: str) -> str:
        """Start ``pipeline`` (idempotent on ``token``); the execution's ARN."""
        response = self._call(
            "StartPipelineExecution",
            self._sm.start_pipeline_execution,
            PipelineName=pipeline,
            PipelineExecutionDisplayName=display_name[:82],
            PipelineExecutionDescription=why[:3072],
            PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
            ClientRequestToken=token,
        )
        return str(response["PipelineExecutionArn"])

    def execution(self, arn: str) -> Execution:
        found = self._call("DescribePipelineExecution", self._sm.describe_pipeline_execution, PipelineExecutionArn=arn)
        status, name = str(found.get("PipelineExecutionStatus", "")), str(found.get("PipelineExecutionDisplayName", ""))
        return Execution(arn, status, found.get("CreationTime"), name)

    def parameters(self, arn: str) -> dict[str, str]:
        found = self._call(
            "ListPipelineParametersForExecution",
            self._sm.list_pipeline_parameters_for_execution,
            PipelineExecutionArn=arn,
        )
        return {str(p["Name"]): str(p["Value"]) for p in found.get("PipelineParameters", [])}

    def recent(self, pipeline: str, count: int = 10) -> list[Execution]:
        """The pipeline's newest executions, newest first."""
        found = self._call(
            "ListPipelineExecutions",
            self._sm.list_pipeline_executions,
            PipelineName=pipeline,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=count,
        )
        return [
            Execution(str(s["PipelineExecutionArn"]), str(s.get("PipelineExecutionStatus", "")), s.get("StartTime"))
            for s in found.get("PipelineExecutionSummaries", [])
        ]

    @staticmethod
    def _call(what: str, operation: Any, **request: Any) -> Any:
        try:
            return operation(**request)
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=what) from exc
