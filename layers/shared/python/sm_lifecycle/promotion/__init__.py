"""Promotion: judge a newly registered model package against the environment's policy and the live champion.

    promote(event, context)   # the promote function's entry point (functions/promote/app.py)

Modules: ``policy`` and ``metrics`` (the settings and the reports, pure), ``evaluation`` (checks and audit text,
pure), ``service`` (one decision through ports, at most once per package), and the adapters ``sagemaker`` (registry,
champion), ``s3`` (reports) and ``sns`` (notices).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.artifacts import ArtifactLocation
from sm_lifecycle.kernel.errors import ForeignEventError
from sm_lifecycle.kernel.events import ModelPackageStateChangeEvent
from sm_lifecycle.kernel.idempotency import idempotent
from sm_lifecycle.kernel.registry import ModelApprovalStatus
from sm_lifecycle.kernel.settings import Settings
from sm_lifecycle.promotion.policy import PromotionPolicy
from sm_lifecycle.promotion.s3 import S3ReportStore
from sm_lifecycle.promotion.sagemaker import EndpointChampionLocator, SageMakerRegistry
from sm_lifecycle.promotion.service import KEY_PREFIX, PromotionService, judge_once
from sm_lifecycle.promotion.sns import SnsNotifier

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["PROMOTE_EVENTS", "build_service", "promote"]

PROMOTE_EVENTS = (ModelPackageStateChangeEvent,)
"""The events the promote function receives (its rule in template.yaml: creations of pending packages)."""


def build_service(settings: Settings, policy: PromotionPolicy) -> PromotionService:
    """The promotion service wired to AWS through the shared clients; reports only from the pipeline's artifacts."""
    sagemaker = clients.client("sagemaker")
    location = ArtifactLocation.from_env(os.environ, pipeline_name=settings.pipeline_name)
    return PromotionService(
        policy=policy,
        group=settings.model_package_group_name,
        environment=settings.environment,
        registry=SageMakerRegistry(sagemaker),
        champions=EndpointChampionLocator(sagemaker, settings.endpoint_name),
        reports=S3ReportStore(clients.client("s3"), location),
        notifier=SnsNotifier(settings),
        console_url=settings.console_url,
    )


def promote(event: ModelPackageStateChangeEvent, context: LambdaContext) -> dict[str, Any]:
    """Judge the package a creation event names, once (a bad policy setting raises ``ConfigurationError``)."""
    settings = Settings.from_env()
    policy = PromotionPolicy.from_env()
    change = event.detail
    if change.model_package_group_name != settings.model_package_group_name:
        # Not this stack's group: nothing is read or judged (a package of this group is checked in the registry).
        raise ForeignEventError(
            f"model package {change.model_package_arn} is in group {change.model_package_group_name!r}, "
            f"not this stack's {settings.model_package_group_name!r}",
            field="detail.ModelPackageGroupName",
        )
    if not change.may_register or change.model_approval_status != ModelApprovalStatus.PENDING:
        # The rule delivers pending creation events; anything else (a replay by hand) is not a registration.
        return {"status": "skipped", "package_arn": change.model_package_arn, "reason": "not a new registration"}
    once = idempotent(settings.idempotency_table_name, key_prefix=KEY_PREFIX)
    return judge_once(build_service(settings, policy), change.model_package_arn, once, context=context)
