"""Deployment of approved model packages to the environment's endpoint, as a reconcile loop.

    outcome = deploy(event, DeploySettings.from_env())    # Outcome; .as_dict() is the handler's result

Modules: ``config`` (settings, deterministic names, request shapes), ``model`` (value objects), ``triggers`` (events →
wake-ups), ``sagemaker`` and ``ledger`` (adapters), ``reconciler`` (the decisions).
"""

from __future__ import annotations

from typing import Any

from sm_lifecycle import clients
from sm_lifecycle.deployment.config import DeploySettings
from sm_lifecycle.deployment.ledger import DeploymentLedger
from sm_lifecycle.deployment.model import Outcome, Trigger
from sm_lifecycle.deployment.reconciler import Reconciler
from sm_lifecycle.deployment.sagemaker import SageMakerGateway
from sm_lifecycle.deployment.triggers import trigger_from_event
from sm_lifecycle.notify import publish_alert

__all__ = ["DeploySettings", "Outcome", "Reconciler", "Trigger", "deploy", "reconciler_for", "trigger_from_event"]


def reconciler_for(settings: DeploySettings) -> Reconciler:
    """A reconciler on the process's shared clients, alerting to the stack's topic."""

    def alert(subject: str, message: str, severity: str) -> None:
        publish_alert(settings.common, subject, message, severity, attributes={"kind": "deployment"})

    return Reconciler(
        settings,
        # CreateEndpoint/UpdateEndpoint are not retried by the SDK: the error reaches the handler, Lambda retries
        # the invocation, and the reconcile observes the endpoint again before acting.
        SageMakerGateway(clients.client("sagemaker"), mutations=clients.client("sagemaker", sdk_retries=False)),
        DeploymentLedger(clients.client("dynamodb"), settings.state_table_name),
        alert,
    )


def deploy(event: Any, settings: DeploySettings, *, request_id: str | None = None) -> Outcome:
    """Reconcile the endpoint once, woken by ``event`` (raises ``InvalidEventError`` for an event not ours)."""
    trigger = trigger_from_event(event, settings)
    return reconciler_for(settings).reconcile(trigger, request_id=request_id)
