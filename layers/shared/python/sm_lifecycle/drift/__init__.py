"""The drift loop: scheduled checks of the endpoint's captured requests against the served version's training
baseline, and the environment's policy on what they find.

    start_drift_check(event, context)   # functions/drift_check/app.py: the recurring schedule's firing
    monitor_drift(event, context)       # functions/drift_monitor/app.py: a drift-check execution succeeded

- the schedule fires → the version the endpoint serves, its baseline staged, the drift-check pipeline started on
  the last window (:mod:`.starter`); a served version without a baseline → one alert;
- the check's execution succeeded → its summary's metrics (EMF), then ``off`` (metrics only), ``alert`` (SNS: the
  version, the window, the top drifted features, the report) or ``retrain`` (the alert, and the training pipeline
  started, at most one in flight and not within the cooldown) (:mod:`.monitor`). A failed check alerts through the
  alert function, like any failed pipeline execution.

Each firing and each check is acted on once, whatever is delivered twice (the kernel's idempotency: the schedule's
execution id, the check's execution ARN).

Modules: ``config`` (settings), ``model`` (window, schedule event, the check's result), ``starter`` and ``monitor``
(the decisions), ``message`` (the alert), ``metrics`` (EMF), and the adapters ``sagemaker`` and ``s3``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_lifecycle.drift import metrics
from sm_lifecycle.drift.config import DriftSettings
from sm_lifecycle.drift.message import DriftAlert
from sm_lifecycle.drift.model import DriftCheckDueEvent
from sm_lifecycle.drift.monitor import DriftMonitor
from sm_lifecycle.drift.s3 import CapturedRequests, DriftObjects
from sm_lifecycle.drift.sagemaker import DriftPipelines
from sm_lifecycle.drift.starter import CheckStaging, DriftCheckStarter
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.endpoints import Endpoints
from sm_lifecycle.kernel.errors import ForeignEventError
from sm_lifecycle.kernel.events import PipelineExecutionStatusChangeEvent
from sm_lifecycle.kernel.idempotency import idempotent
from sm_lifecycle.kernel.notify import publish_alert

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["DRIFT_CHECK_EVENTS", "DRIFT_MONITOR_EVENTS", "monitor_drift", "start_drift_check"]

DRIFT_CHECK_EVENTS = (DriftCheckDueEvent,)
"""The drift-check starter's input: its recurring schedule's (template.yaml: DriftCheckSchedule)."""
DRIFT_MONITOR_EVENTS = (PipelineExecutionStatusChangeEvent,)
"""The monitor's: the drift-check pipeline's executions that succeeded (template.yaml: DriftMonitorFunction)."""
KEY_PREFIX = "drift"


def start_drift_check(event: DriftCheckDueEvent, context: LambdaContext) -> dict[str, Any]:
    settings = DriftSettings.from_env()
    if event.detail.endpoint_name != settings.endpoint_name:
        raise ForeignEventError(
            f"endpoint {event.detail.endpoint_name!r} is not this stack's", field="detail.EndpointName"
        )
    sm = clients.client("sagemaker")
    alerts = idempotent(settings.common.idempotency_table_name, key_prefix=f"{KEY_PREFIX}-alert")

    def alert(subject: str, message: str, key: dict[str, str]) -> None:
        def send() -> dict[str, Any]:
            return {"message_id": publish_alert(settings.common, subject, message, "error", {"kind": "drift"})}

        alerts.run(key, send, context=context)

    s3, pipelines = clients.client("s3"), DriftPipelines(sm)
    captures = CapturedRequests(s3, settings.required_capture_uri())
    staging = CheckStaging(pipelines, DriftObjects(s3, settings.bucket), captures)
    starter = DriftCheckStarter(settings, Endpoints(sm), pipelines, staging, alert)
    once = idempotent(settings.common.idempotency_table_name, key_prefix=f"{KEY_PREFIX}-start")
    recorded = once.run({"firing": event.id}, lambda: starter.start(event.id), context=context)
    return {**recorded.result, "duplicate": True} if recorded.duplicate else recorded.result


def monitor_drift(event: PipelineExecutionStatusChangeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = DriftSettings.from_env()
    if event.detail.pipeline_name.lower() != settings.drift_pipeline_name.lower():
        raise ForeignEventError(
            f"pipeline {event.detail.pipeline_name!r} is not this stack's drift check", field="detail.pipelineArn"
        )

    def publish(alert: DriftAlert) -> str:
        return publish_alert(settings.common, alert.subject, alert.message, alert.severity, alert.attributes)

    pipelines = DriftPipelines(clients.client("sagemaker"))

    def training() -> DriftPipelines:
        if settings.retrain_role_arn is None:
            return pipelines
        session = f"drift-retrain-{settings.endpoint_name}"
        return DriftPipelines(clients.as_role("sagemaker", settings.retrain_role_arn, session_name=session))

    objects = DriftObjects(clients.client("s3"), settings.bucket)
    monitor = DriftMonitor(settings, pipelines, objects, publish, metrics.record, training=training)
    arn = event.detail.pipeline_execution_arn
    once = idempotent(settings.common.idempotency_table_name, key_prefix=f"{KEY_PREFIX}-check")
    recorded = once.run({"check": arn}, lambda: monitor.on_finished(arn), context=context)
    if recorded.duplicate:
        return {**recorded.result, "status": "duplicate", "first": recorded.result.get("status")}
    return recorded.result
