"""Events → :class:`Trigger`: which wake-up this is. Only the names (group, package ARN, endpoint) are taken from an
event, to check that it is about this stack; nothing else of it is believed (the reconciler reads the registry)."""

from __future__ import annotations

from sm_lifecycle.deployment.config import DeploySettings
from sm_lifecycle.deployment.model import Trigger
from sm_lifecycle.kernel.errors import ForeignEventError
from sm_lifecycle.kernel.events import (
    EndpointDeploymentStateChangeEvent,
    EndpointStateChangeEvent,
    ModelPackageStateChangeEvent,
)

__all__ = ["DEPLOY_EVENTS", "DeployEvent", "trigger_from_event"]

DeployEvent = ModelPackageStateChangeEvent | EndpointStateChangeEvent | EndpointDeploymentStateChangeEvent
DEPLOY_EVENTS: tuple[type[DeployEvent], ...] = (
    ModelPackageStateChangeEvent,
    EndpointStateChangeEvent,
    EndpointDeploymentStateChangeEvent,
)
"""The events the deploy function receives (its rules in template.yaml)."""


def _package_trigger(event: ModelPackageStateChangeEvent, settings: DeploySettings) -> Trigger:
    detail = event.detail
    group = settings.common.model_package_group_name
    if detail.model_package_group_name != group:
        raise ForeignEventError(
            f"model package {detail.model_package_arn} belongs to group {detail.model_package_group_name!r}, "
            f"not to this environment's group {group!r}",
            field="detail.ModelPackageGroupName",
        )
    return Trigger(
        event_id=event.id,
        kind="model-package",
        package_arn=detail.model_package_arn,
        package_version=detail.model_package_version,
        approval_status=str(detail.model_approval_status),
        # A creation event (no UpdatedModelPackageFields) sets the status too.
        # (a lifecycle move is a wake-up too: the rule delivers it; it is no approval change)
        approval_changed=(
            "ModelApprovalStatus" in detail.updated_model_package_fields or not detail.updated_model_package_fields
        ),
    )


def trigger_from_event(event: DeployEvent, settings: DeploySettings) -> Trigger:
    """The wake-up ``event`` is; ``ForeignEventError`` (ignored) if it is about another group or endpoint."""
    if isinstance(event, ModelPackageStateChangeEvent):
        return _package_trigger(event, settings)
    if event.detail.endpoint_name != settings.endpoint_name:
        raise ForeignEventError(
            f"endpoint {event.detail.endpoint_name!r} is not this environment's endpoint {settings.endpoint_name!r}",
            field="detail.EndpointName",
        )
    return Trigger(event_id=event.id, kind="endpoint")
