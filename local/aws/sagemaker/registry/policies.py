"""Model package group resource policies: ``PutModelPackageGroupPolicy`` / ``Get...`` / ``Delete...`` (moto has none).

A group holds at most one policy (a put replaces it). A policy is
a JSON object of at most 20,480 characters with a ``Statement`` (an object or a list of them); anything else is
refused with ``ValidationException`` and nothing changes. Getting or deleting the policy of a group that has none
is refused too (AWS does not document the message). :func:`group_policy` is what the IAM engine's
``model_package_group_provider`` reads: ``group_policy(account, region, group name) -> policy JSON | None``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from local.aws.ram.models import SHARES
from local.aws.runtime import RUNTIME
from local.aws.sagemaker.registry.lifecycle import ENTITY_NAME, constraint_error, raise_validation

POLICY_MAX = 20480
_POLICY = "_local_resource_policy"  # where a group keeps its policy (on moto's ModelPackageGroup)


def _group(backend: SageMakerModelBackend, name: str) -> Any:
    """moto's group of this name (ValidationException as DescribeModelPackageGroup words it, if none)."""
    return backend.describe_model_package_group(name)


def _check_policy(policy: Any) -> None:
    if policy is None or not str(policy):
        raise_validation([constraint_error(None, "resourcePolicy", "Member must not be null")])
    if len(str(policy)) > POLICY_MAX:
        raise_validation(
            [constraint_error(policy, "resourcePolicy", f"Member must have length less than or equal to {POLICY_MAX}")]
        )
    try:
        document = json.loads(policy)
    except ValueError as exc:
        raise ValidationError(f"The resource policy is not valid JSON: {exc}") from exc
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not statements or not all(isinstance(s, dict) for s in _as_list(statements)):
        raise ValidationError("The resource policy must be a JSON object with a Statement.")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_name(name: Any) -> None:
    if name is None or not re.fullmatch(ENTITY_NAME, str(name)):
        pattern = f"Member must satisfy regular expression pattern: {ENTITY_NAME}"
        raise_validation([constraint_error(name, "modelPackageGroupName", pattern)])


class GroupPolicyBackend(SageMakerModelBackend):
    """The group policy operations (installed on ``SageMakerModelBackend``)."""

    def put_model_package_group_policy(self, model_package_group_name: str, resource_policy: str) -> str:
        _check_name(model_package_group_name)
        with RUNTIME.lock:
            group = _group(self, model_package_group_name)
            _check_policy(resource_policy)
            SHARES.policy_put(self.account_id, self.region_name, str(group.arn), resource_policy)  # RAM's share
            group.__dict__[_POLICY] = resource_policy
            return str(group.arn)

    def get_model_package_group_policy(self, model_package_group_name: str) -> str:
        _check_name(model_package_group_name)
        with RUNTIME.lock:
            group = _group(self, model_package_group_name)
            policy = group.__dict__.get(_POLICY)
            if policy is None:
                raise ValidationError(f"Model package group {group.arn} does not have a resource policy.")
            return str(policy)

    def delete_model_package_group_policy(self, model_package_group_name: str) -> None:
        _check_name(model_package_group_name)
        with RUNTIME.lock:
            group = _group(self, model_package_group_name)
            if group.__dict__.pop(_POLICY, None) is None:
                raise ValidationError(f"Model package group {group.arn} does not have a resource policy.")
            SHARES.policy_deleted(str(group.arn))


def group_policy(account: str, region: str, group_name: str) -> str | None:
    """The policy of a group (None: no such group, or no policy); never creates a backend."""
    if account not in sagemaker_backends or region not in sagemaker_backends[account]:
        return None
    group = sagemaker_backends[account][region].model_package_groups.get(group_name)
    return group.__dict__.get(_POLICY) if group is not None else None
