"""A model registry scene on the embedded AWS: reports in the artifact bucket, packages registered in the group.

``Scene`` registers packages through the SageMaker API (so the embedded AWS emits the real creation events), writes
their model-quality reports to S3, and reads back what the stack did (package status, SNS notices).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def binary_report(auc: float, fpr: float, **extra: float) -> bytes:
    """A binary model-quality report as the evaluation step writes it."""
    metrics = {"auc": auc, "false_positive_rate": fpr, **extra}
    section: dict[str, Any] = {k: {"value": v, "standard_deviation": "NaN"} for k, v in metrics.items()}
    return json.dumps({"binary_classification_metrics": section}).encode()


@dataclass
class Scene:
    sagemaker: Any
    s3: Any
    bucket: str
    group: str
    inbox: Any  # tests.conftest.SnsInbox on the stack's alert topic
    pipeline: str = "pipeline"  # the pipeline writes its reports under s3://<bucket>/<pipeline>/<execution>/...

    @classmethod
    def on(cls, aws: Any, outputs: dict[str, Any], inbox: Any) -> Scene:
        return cls(
            aws.client("sagemaker"),
            aws.client("s3"),
            outputs["ArtifactBucketName"],
            outputs["ModelPackageGroupName"],
            inbox,
            outputs["PipelineName"],
        )

    def register(
        self,
        report: bytes | None,
        *,
        status: str = "PendingManualApproval",
        metrics: bool = True,
        location: tuple[str, str] | None = None,
    ) -> str:
        """Register a package whose model-quality report is ``report`` (None: declared but never written), where
        the pipeline's evaluation step writes it, or at ``location`` (bucket, key)."""
        bucket, key = location or (self.bucket, f"{self.pipeline}/{uuid.uuid4().hex[:12]}/Evaluate/evaluation.json")
        if report is not None:
            self.s3.put_object(Bucket=bucket, Key=key, Body=report)
        request: dict[str, Any] = {
            "ModelPackageGroupName": self.group,
            "ModelApprovalStatus": status,
            "InferenceSpecification": {
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{self.bucket}/models/{key}/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        }
        if metrics:
            request["ModelMetrics"] = {
                "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/{key}"}}
            }
        return self.sagemaker.create_model_package(**request)["ModelPackageArn"]

    def package(self, arn: str) -> dict[str, Any]:
        return self.sagemaker.describe_model_package(ModelPackageName=arn)

    def status(self, arn: str) -> str:
        return self.package(arn)["ModelApprovalStatus"]

    def notices(self) -> list[dict[str, Any]]:
        """Every SNS notice received so far: subject, message and the message attributes."""
        return [{"subject": m.subject or "", "message": m.message, **m.attributes} for m in self.inbox.messages()]

    def promotion_notices(self, arn: str | None = None) -> list[dict[str, Any]]:
        return [n for n in self.notices() if n.get("kind") == "promotion" and arn in (None, n.get("package"))]
