"""Alerting: one SNS alert per failed or stopped pipeline execution, failed step or failed/stopped training job.

    alert(event, context)   # the alert function's entry point (functions/alert/app.py)

Modules: ``model`` (what an alert is about: failures, keys, Spot causes), ``facts`` (a failure as SageMaker confirms
it, from what an event points at), ``message`` (what it says), ``service`` (publishing once), ``sagemaker`` (the
reads, adapter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_lifecycle.alerting.model import ALERT_EVENTS, AlertEvent
from sm_lifecycle.alerting.sagemaker import SageMakerReads
from sm_lifecycle.alerting.service import KEY_PREFIX, alert_on_event
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.idempotency import idempotent
from sm_lifecycle.kernel.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["ALERT_EVENTS", "alert"]


def alert(event: AlertEvent, context: LambdaContext) -> dict[str, Any]:
    """Alert on ``event`` once per failure, with the stack's settings and the process's shared clients."""
    settings = Settings.from_env()
    once = idempotent(settings.idempotency_table_name, key_prefix=KEY_PREFIX)
    return alert_on_event(event, settings, SageMakerReads(clients.client("sagemaker")), once, context=context)
