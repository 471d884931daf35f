"""boto3 adapters of the promotion ports (SageMaker registry and endpoint, S3 reports). AWS error codes stop here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle import clients, tags
from sm_lifecycle.errors import ConflictError
from sm_lifecycle.notify import Severity, publish_alert
from sm_lifecycle.promotion import APPROVED, Package, PromotionService
from sm_lifecycle.promotion_metrics import MAX_REPORT_BYTES, MetricsReportError
from sm_lifecycle.promotion_policy import PromotionPolicy
from sm_lifecycle.settings import Settings

# The deployer tags each endpoint config with the ARN of the model package it serves.
MODEL_PACKAGE_ARN_TAG = tags.MODEL_PACKAGE_ARN
# Duplicate deliveries and Lambda retries fall within the event's maximum age (EventInvokeConfig: 6 hours).
IDEMPOTENCY_EXPIRY_SECONDS = 6 * 3600
_UNREADABLE = {"NoSuchKey", "NoSuchBucket", "AccessDenied", "404", "403", "InvalidObjectState", "NotFound"}


@dataclass
class SageMakerRegistry:
    sagemaker: Any

    def describe(self, arn: str) -> Package:
        try:
            response = self.sagemaker.describe_model_package(ModelPackageName=arn)
        except (ClientError, BotoCoreError) as exc:
            raise clients.classify(exc, what=f"DescribeModelPackage {arn}") from exc
        statistics = ((response.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
        return Package(
            arn=response["ModelPackageArn"],
            group=response.get("ModelPackageGroupName", ""),
            version=response.get("ModelPackageVersion"),
            status=response.get("ModelApprovalStatus", ""),
            metrics_uri=statistics.get("S3Uri"),
            approval_description=response.get("ApprovalDescription"),
        )

    def decide(self, arn: str, status: str, description: str) -> None:
        try:
            self.sagemaker.update_model_package(
                ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription=description
            )
        except (ClientError, BotoCoreError) as exc:
            raise clients.classify(exc, what=f"UpdateModelPackage {arn}") from exc

    def newest_approved(self, group: str) -> str | None:
        try:
            response = self.sagemaker.list_model_packages(
                ModelPackageGroupName=group,
                ModelApprovalStatus=APPROVED,
                SortBy="CreationTime",
                SortOrder="Descending",
                MaxResults=1,
            )
        except (ClientError, BotoCoreError) as exc:
            raise clients.classify(exc, what=f"ListModelPackages {group}") from exc
        summaries = response.get("ModelPackageSummaryList") or []
        return summaries[0]["ModelPackageArn"] if summaries else None


@dataclass
class EndpointChampionLocator:
    """The package the endpoint serves: its config's package tag, else its first variant's model's package."""

    sagemaker: Any
    endpoint_name: str

    def live_package_arn(self) -> str | None:
        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=self.endpoint_name)
            config = self.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
            tags = self.sagemaker.list_tags(ResourceArn=config["EndpointConfigArn"]).get("Tags", [])
            tagged = next((t["Value"] for t in tags if t.get("Key") == MODEL_PACKAGE_ARN_TAG), None)
            if tagged:
                return tagged
            variants = config.get("ProductionVariants") or []
            if not variants or not variants[0].get("ModelName"):
                return None
            model = self.sagemaker.describe_model(ModelName=variants[0]["ModelName"])
        except (ClientError, BotoCoreError) as exc:
            if clients.is_not_found(exc):
                return None  # no endpoint yet (first model) or its config/model is gone
            raise clients.classify(exc, what=f"locating the package endpoint {self.endpoint_name} runs") from exc
        containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
        return next((c["ModelPackageName"] for c in containers if c.get("ModelPackageName")), None)


@dataclass
class S3ReportStore:
    s3: Any
    max_bytes: int = MAX_REPORT_BYTES

    def read(self, uri: str) -> bytes:
        parsed = urlparse(uri)
        bucket, key = parsed.netloc, unquote(parsed.path.lstrip("/"))
        if parsed.scheme != "s3" or not bucket or not key:
            raise MetricsReportError(f"report location {uri!r} is not an s3://bucket/key URI")
        try:
            response = self.s3.get_object(Bucket=bucket, Key=key)
            size = int(response.get("ContentLength") or 0)
            if size > self.max_bytes:
                response["Body"].close()
                raise MetricsReportError(f"report {uri} is {size} bytes, more than the {self.max_bytes} allowed")
            body = response["Body"].read(self.max_bytes + 1)  # never more, whatever the header said
        except (ClientError, BotoCoreError) as exc:
            code = clients.error_code(exc)
            if code in _UNREADABLE:
                raise MetricsReportError(f"report {uri} cannot be read: {code}: {clients.error_message(exc)}") from None
            raise clients.classify(exc, what=f"GetObject {uri}") from exc
        return body


@dataclass
class SnsNotifier:
    """Sends promotion notices to the stack's alert topic (approvers subscribe with a ``kind`` filter policy)."""

    settings: Settings

    def notify(self, subject: str, message: str, severity: str, attributes: dict[str, str]) -> None:
        publish_alert(
            self.settings,
            subject=f"[{self.settings.environment}] {subject}",
            message=message,
            severity=Severity(severity),
            attributes=attributes,
        )


def build_service(settings: Settings, policy: PromotionPolicy) -> PromotionService:
    """The promotion service wired to AWS through the shared clients."""
    sagemaker = clients.client("sagemaker")
    return PromotionService(
        policy=policy,
        group=settings.model_package_group_name,
        environment=settings.environment,
        registry=SageMakerRegistry(sagemaker),
        champions=EndpointChampionLocator(sagemaker, settings.endpoint_name),
        reports=S3ReportStore(clients.client("s3")),
        notifier=SnsNotifier(settings),
        console_url=settings.console_url,
    )


def judge_once(
    service: PromotionService,
    package_arn: str,
    *,
    table_name: str,
    context: Any = None,
    expires_after_seconds: int = IDEMPOTENCY_EXPIRY_SECONDS,
) -> dict[str, Any]:
    """``service.judge(package_arn)`` at most once per package ARN (Powertools idempotency on DynamoDB).

    A duplicate delivery gets the stored result back without any AWS call or notification; a duplicate that arrives
    while the first is still running is a ``ConflictError`` (normal outcome). A failed judgement stores nothing, so
    Lambda's retry judges again.
    """
    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=clients.client("dynamodb"))
    config = IdempotencyConfig(expires_after_seconds=expires_after_seconds)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        config.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="package_arn", persistence_store=persistence, config=config, key_prefix="promote"
    )
    def judge(*, package_arn: str) -> dict[str, Any]:
        return service.judge(package_arn).to_dict()

    try:
        return judge(package_arn=package_arn)
    except IdempotencyAlreadyInProgressError:
        raise ConflictError(f"{package_arn} is being judged by another invocation") from None
