"""Alert function: one SNS alert per failed or stopped pipeline execution, failed step or failed/stopped training job.

Rules and permissions: AlertFunction in template.yaml. Logic: ``sm_lifecycle.alerting``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sm_lifecycle.alerting import alert_on_event
from sm_lifecycle.handler import count_outcome, lifecycle_handler
from sm_lifecycle.settings import Settings

logger = Logger()
metrics = Metrics()
# Only botocore is patched: patching every supported library costs cold-start time for modules we never use.
tracer = Tracer(patch_modules=("botocore",))

_METRIC = {"published": "AlertsPublished", "duplicate": "AlertsSuppressed", "invalid": "InvalidEvents"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return count_outcome(metrics, _handle(event, context), _METRIC)


@lifecycle_handler
def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return alert_on_event(event, Settings.from_env(), context)
