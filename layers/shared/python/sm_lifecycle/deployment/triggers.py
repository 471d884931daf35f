"""Events → :class:`Trigger`: which wake-up this is, and the facts of the event that can save an API call."""

from __future__ import annotations

from typing import Any

from sm_lifecycle.deployment.config import DeploySettings
from sm_lifecycle.deployment.model import PackageDetails, Trigger
from sm_lifecycle.deployment.sagemaker import git_sha_of
from sm_lifecycle.errors import InvalidEventError
from sm_lifecycle.events import (
    EndpointDeploymentStateChangeEvent,
    EndpointStateChangeEvent,
    ModelPackageStateChangeEvent,
    parse_any,
)


def trigger_from_event(event: Any, settings: DeploySettings) -> Trigger:
    """Parse ``event``; ``InvalidEventError`` if it is malformed or about another group or endpoint."""
    parsed = parse_any(event)
    if isinstance(parsed, ModelPackageStateChangeEvent):
        detail = parsed.detail
        group = settings.common.model_package_group_name
        if detail.model_package_group_name != group:
            raise InvalidEventError(
                f"model package {detail.model_package_arn} belongs to group {detail.model_package_group_name!r}, "
                f"not to this environment's group {group!r}",
                field="detail.ModelPackageGroupName",
            )
        package = PackageDetails(
            arn=detail.model_package_arn,
            group=detail.model_package_group_name,
            version=detail.model_package_version,
            approval_status=str(detail.model_approval_status),
            has_inference_specification=bool((detail.inference_specification or {}).get("Containers")),
            git_sha=git_sha_of(
                {
                    "CustomerMetadataProperties": detail.customer_metadata_properties,
                    "MetadataProperties": detail.metadata_properties,
                }
            ),
        )
        return Trigger(
            event_id=parsed.id,
            kind="model-package",
            package_arn=package.arn,
            package_version=package.version,
            approval_status=package.approval_status,
            # A creation event (no UpdatedModelPackageFields) sets the status too.
            approval_changed=(
                "ModelApprovalStatus" in detail.updated_model_package_fields or not detail.updated_model_package_fields
            ),
            changed_at=detail.last_modified_time or parsed.time,
            package=package,
        )
    if isinstance(parsed, EndpointStateChangeEvent | EndpointDeploymentStateChangeEvent):
        if parsed.detail.endpoint_name != settings.endpoint_name:
            raise InvalidEventError(
                f"endpoint {parsed.detail.endpoint_name!r} is not this environment's endpoint "
                f"{settings.endpoint_name!r}",
                field="detail.EndpointName",
            )
        return Trigger(event_id=parsed.id, kind="endpoint", endpoint_status=parsed.detail.api_status)
    raise InvalidEventError(f"the deploy function does not handle {type(parsed).__name__} events", field="detail-type")
