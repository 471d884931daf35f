"""Adapters of the promotion ports on SageMaker: the model registry and the endpoint's champion.

AWS error codes stop here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel import tags
from sm_lifecycle.kernel.clients import classify, is_not_found
from sm_lifecycle.kernel.registry import ModelApprovalStatus
from sm_lifecycle.promotion.service import Package

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient

__all__ = ["MODEL_PACKAGE_ARN_TAG", "EndpointChampionLocator", "SageMakerRegistry"]

# The deployer tags each endpoint config with the ARN of the model package it serves.
MODEL_PACKAGE_ARN_TAG = tags.MODEL_PACKAGE_ARN


class SageMakerRegistry:
    """The model registry, as the promotion service sees it."""

    def __init__(self, sagemaker: SageMakerClient) -> None:
        self.sagemaker = sagemaker

    def describe(self, arn: str) -> Package:
        try:
            response = self.sagemaker.describe_model_package(ModelPackageName=arn)
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what=f"DescribeModelPackage {arn}") from exc
        statistics = response.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
        return Package(
            arn=response["ModelPackageArn"],
            group=response.get("ModelPackageGroupName", ""),
            version=response.get("ModelPackageVersion"),
            status=response.get("ModelApprovalStatus", ""),
            metrics_uri=statistics.get("S3Uri"),
            approval_description=response.get("ApprovalDescription"),
        )

    def decide(self, arn: str, status: ModelApprovalStatus, description: str) -> None:
        try:
            self.sagemaker.update_model_package(
                ModelPackageArn=arn,
                ModelApprovalStatus=ModelApprovalStatus(status).value,
                ApprovalDescription=description,
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what=f"UpdateModelPackage {arn}") from exc

    def newest_approved(self, group: str) -> str | None:
        try:
            response = self.sagemaker.list_model_packages(
                ModelPackageGroupName=group,
                ModelApprovalStatus=ModelApprovalStatus.APPROVED.value,
                SortBy="CreationTime",
                SortOrder="Descending",
                MaxResults=1,
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what=f"ListModelPackages {group}") from exc
        summaries = response.get("ModelPackageSummaryList") or []
        return summaries[0]["ModelPackageArn"] if summaries else None


class EndpointChampionLocator:
    """The package the endpoint serves: its config's package tag, else its first variant's model's package."""

    def __init__(self, sagemaker: SageMakerClient, endpoint_name: str) -> None:
        self.sagemaker = sagemaker
        self.endpoint_name = endpoint_name

    def live_package_arn(self) -> str | None:
        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=self.endpoint_name)
            config = self.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
            config_tags = self.sagemaker.list_tags(ResourceArn=config["EndpointConfigArn"]).get("Tags", [])
            tagged = next((t["Value"] for t in config_tags if t.get("Key") == MODEL_PACKAGE_ARN_TAG), None)
            if tagged:
                return tagged
            variants = config.get("ProductionVariants") or []
            if not variants or not variants[0].get("ModelName"):
                return None
            model = self.sagemaker.describe_model(ModelName=variants[0]["ModelName"])
        except (ClientError, BotoCoreError) as exc:
            if is_not_found(exc):
                return None  # no endpoint yet (first model) or its config/model is gone
            raise classify(exc, what=f"locating the package endpoint {self.endpoint_name} runs") from exc
        containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
        return next((c["ModelPackageName"] for c in containers if c.get("ModelPackageName")), None)
