"""Deploy function: reconciles the environment's endpoint with the newest approved model package version.

Woken by approval changes of the group's packages and by state changes of the endpoint (rules, permissions and
rollout parameters: DeployFunction in template.yaml). Logic: ``sm_lifecycle.deployment``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sm_lifecycle.deployment import DeploySettings, deploy
from sm_lifecycle.handler import count_outcome, lifecycle_handler

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=("botocore",))

_METRIC = {
    "created": "EndpointsCreated",
    "updated": "EndpointUpdates",
    "rolled-back": "RolloutsRolledBack",
    "blocked": "DeploymentsBlocked",
    "invalid": "InvalidEvents",
}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return count_outcome(metrics, _handle(event, context), _METRIC)


@lifecycle_handler
def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = deploy(event, DeploySettings.from_env(), request_id=getattr(context, "aws_request_id", None)).as_dict()
    logger.info("reconciled", extra=outcome)
    return outcome
