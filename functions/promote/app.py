"""Judge a newly registered model package against the environment's promotion policy and the live champion."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sm_lifecycle.errors import ConfigurationError
from sm_lifecycle.events import ModelPackageStateChangeEvent, parse_event
from sm_lifecycle.handler import count_outcome, lifecycle_handler
from sm_lifecycle.notify import Severity, dead_letter, publish_alert
from sm_lifecycle.promotion import PENDING
from sm_lifecycle.promotion_aws import build_service, judge_once
from sm_lifecycle.promotion_policy import PromotionPolicy
from sm_lifecycle.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=("botocore",))

_METRIC = {
    "approved": "PackagesApproved",
    "rejected": "PackagesRejected",
    "recommended": "PackagesRecommended",
    "undecided": "PackagesUndecided",
    "misconfigured": "PolicyMisconfigured",
    "invalid": "InvalidEvents",
}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return count_outcome(metrics, _handle(event, context), _METRIC)


@lifecycle_handler
def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env()
    try:
        policy = PromotionPolicy.from_env()
    except ConfigurationError as exc:
        return _misconfigured(settings, event, context, exc)
    change = parse_event(event, ModelPackageStateChangeEvent).detail
    if change.updated_model_package_fields or change.model_approval_status != PENDING:
        # The rule delivers creation events only; anything else (a replay by hand) is not a registration.
        return {"status": "skipped", "package_arn": change.model_package_arn, "reason": "not a new registration"}
    result = judge_once(
        build_service(settings, policy),
        change.model_package_arn,
        table_name=settings.idempotency_table_name,
        context=context,
    )
    logger.info("promotion judged", extra={"result": result})
    return result


def _misconfigured(settings: Settings, event: dict[str, Any], context: Any, error: ConfigurationError) -> dict:
    """A bad policy setting cannot be fixed by retrying: keep the event for a redrive, alert once, decide nothing."""
    logger.error("promotion policy misconfigured", extra={"error": str(error)})
    message_id = dead_letter(settings, event, error, request_id=getattr(context, "aws_request_id", None))
    publish_alert(
        settings,
        subject=f"[{settings.environment}] promotion policy misconfigured: package left pending",
        message=f"{error}\n\nNo package was approved or rejected. Fix the stack parameter, redeploy, then redrive "
        f"the event from {settings.dead_letter_queue_url}.",
        severity=Severity.ERROR,
        attributes={"kind": "promotion", "decision": "undecided"},
    )
    return {"status": "misconfigured", "error": str(error), "dead_letter_message_id": message_id}
