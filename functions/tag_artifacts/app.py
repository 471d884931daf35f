"""Tag every artifact of a succeeded pipeline execution (S3 objects, jobs, model package) for cost and governance."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sm_lifecycle import clients
from sm_lifecycle.events import PipelineExecutionStatusChangeEvent, parse_event
from sm_lifecycle.handler import count_outcome, lifecycle_handler
from sm_lifecycle.notify import Severity, publish_alert
from sm_lifecycle.settings import Settings
from sm_lifecycle.tagging import SucceededExecution, TaggingConfig, raise_for_retry, tag_succeeded_execution

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=("botocore",))

_METRIC = {"tagged": "ExecutionsTagged", "partial": "ExecutionsPartlyTagged", "invalid": "InvalidEvents"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return count_outcome(metrics, _handle(event, context), _METRIC)


@lifecycle_handler
def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env()
    config = TaggingConfig.from_env(os.environ, pipeline_name=settings.pipeline_name)
    change = parse_event(event, PipelineExecutionStatusChangeEvent)
    report = tag_succeeded_execution(
        SucceededExecution.from_detail(change.detail),
        environment=settings.environment,
        team=settings.team,
        pipeline_name=settings.pipeline_name,
        config=config,
        sagemaker=clients.client("sagemaker"),
        s3=clients.client("s3"),
        deadline=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    result = report.to_dict()
    logger.info("tagged the artifacts of a pipeline execution", extra={"result": result})
    raise_for_retry(report)  # TransientError: Lambda retries; what is tagged already is skipped then
    if report.needs_alert:
        publish_alert(
            settings,
            subject=f"[{settings.environment}] artifacts of {change.detail.execution_id} not fully tagged",
            message=report.summary(),
            severity=Severity.WARNING,
            attributes={"kind": "artifact-tagging", "execution": change.detail.pipeline_execution_arn},
        )
    return result
