"""Value objects of the deployment domain (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sm_lifecycle.kernel.arns import canonical_arn
from sm_lifecycle.kernel.registry import ModelApprovalStatus

APPROVED = ModelApprovalStatus.APPROVED
# Endpoint statuses (API spelling) during which SageMaker is already changing the endpoint: its next state change
# event wakes the deployer again.
BUSY_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})
# Statuses a person must resolve; the deployer alerts and never deletes or recreates on its own.
BROKEN_STATUSES = frozenset({"Failed", "UpdateRollbackFailed", "OutOfService"})


@dataclass(frozen=True)
class PackageVersion:
    """One version of the model package group, as the registry lists it."""

    arn: str
    version: int
    approval_status: str
    # the whole package when the registry returned it with the listing (a Search record): no second read needed
    details: PackageDetails | None = None


def realtime_instance_types(inference: Mapping[str, Any] | None) -> tuple[str, ...]:
    """``InferenceSpecification.SupportedRealtimeInferenceInstanceTypes`` (empty when absent)."""
    return tuple(str(t) for t in (inference or {}).get("SupportedRealtimeInferenceInstanceTypes") or [])


@dataclass(frozen=True)
class PackageDetails:
    """What deployment needs to know about the package it is about to deploy."""

    arn: str
    group: str
    version: int
    approval_status: str
    has_inference_specification: bool
    git_sha: str
    # InferenceSpecification.SupportedRealtimeInferenceInstanceTypes; empty when the package does not say
    realtime_instance_types: tuple[str, ...] = ()
    last_modified: datetime | None = None  # the registry's LastModifiedTime (an approval sets it)

    def refuses_instance_type(self, instance_type: str) -> bool:
        """The package names the instance types it may be served on, and ``instance_type`` is not one of them."""
        return bool(self.realtime_instance_types) and instance_type not in self.realtime_instance_types


@dataclass(frozen=True)
class ObservedEndpoint:
    name: str
    arn: str
    status: str
    config_name: str
    last_modified: str  # ISO-8601 with microseconds: compared as text, written to the ledger as is
    failure_reason: str | None


@dataclass(frozen=True)
class Trigger:
    """Why the deployer woke up. Only a hint: the decision is always made from the registry and the endpoint (no
    time, status or description of an event is ever used for one)."""

    event_id: str
    kind: str  # "model-package" | "endpoint"
    package_arn: str | None = None
    package_version: int | None = None
    approval_status: str | None = None
    approval_changed: bool = False

    def approves(self, package_arn: str) -> bool:
        """The event says ``package_arn`` was (re-)approved: a hint, which the registry must confirm."""
        same = self.package_arn is not None and canonical_arn(self.package_arn) == canonical_arn(package_arn)
        return self.kind == "model-package" and same and self.approval_status == APPROVED


@dataclass(frozen=True)
class Outcome:
    """What one reconcile pass decided and did (returned by the handler, logged)."""

    # created | updated | in-sync | busy | in-progress | conflict | blocked | rolled-back | nothing-approved
    action: str
    endpoint_name: str
    desired_version: int | None = None
    desired_package_arn: str | None = None
    endpoint_config_name: str | None = None
    endpoint_status: str | None = None
    detail: str = ""

    @property
    def mutated(self) -> bool:
        return self.action in {"created", "updated"}

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.action,
            "endpoint": self.endpoint_name,
            "desired_version": self.desired_version,
            "desired_package_arn": self.desired_package_arn,
            "endpoint_config": self.endpoint_config_name,
            "endpoint_status": self.endpoint_status,
            "detail": self.detail,
        }
