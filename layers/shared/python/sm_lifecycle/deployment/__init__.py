"""Deployment of approved model packages to the environment's endpoint, as a reconcile loop.

    deploy(event, context)   # the deploy function's entry point (functions/deploy/app.py)

Modules: ``config`` (settings, deterministic names, request shapes), ``model`` (value objects), ``triggers`` (events →
wake-ups), ``reconciler`` (the decisions), and the adapters ``sagemaker`` (registry and endpoint) and ``dynamodb``
(the deployment ledger).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sm_lifecycle.deployment.config import DeploySettings
from sm_lifecycle.deployment.dynamodb import DeploymentLedger
from sm_lifecycle.deployment.reconciler import Reconciler
from sm_lifecycle.deployment.sagemaker import SageMakerGateway
from sm_lifecycle.deployment.triggers import DEPLOY_EVENTS, DeployEvent, trigger_from_event
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.notify import publish_alert

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["DEPLOY_EVENTS", "DeploySettings", "Reconciler", "deploy", "reconciler_for", "trigger_from_event"]


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


def deploy(event: DeployEvent, context: LambdaContext) -> dict[str, Any]:
    """Reconcile the endpoint once, woken by ``event`` (``ForeignEventError`` for another group's or endpoint's).

    The invocation's request id is the claim token: Lambda keeps it across the retries of one invocation.
    """
    settings = DeploySettings.from_env()
    trigger = trigger_from_event(event, settings)
    return reconciler_for(settings).reconcile(trigger, request_id=context.aws_request_id).as_dict()
