"""Whose model registry serves a request: the account that owns the ARN the request names, not the caller's.

On AWS a deployment account calls ``DescribeModelPackageGroup``, ``DescribeModelPackage``, ``ListModelPackages``
and ``UpdateModelPackage`` with the registry account's ARNs (``ModelPackageGroupName`` may be the group's ARN), as
the group's resource policy allows; ``CreateModel`` in the deployment account names the registry account's
package in a container's ``ModelPackageName``. moto serves every request from the caller's account (the one of its
access key), so :func:`request_backend` serves these operations from the backend of the ARN's account instead. The
IAM engine has decided before moto runs (identity and resource policy, across accounts); the administrator's
requests, never evaluated, are served the same way.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.models import ModelPackage, SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from local.aws.sagemaker.registry.models import model_package_or_error
from local.iam.moto_state import Arn, existing_backend

# operation -> the parameter that may be an ARN of another account's group or package
CROSS_ACCOUNT_PARAMETER = {
    "DescribeModelPackageGroup": "ModelPackageGroupName",
    "DescribeModelPackage": "ModelPackageName",
    "ListModelPackages": "ModelPackageGroupName",
    "UpdateModelPackage": "ModelPackageArn",
}


def owner_account(name_or_arn: Any, caller: str) -> str:
    """The account of a SageMaker ARN (``caller`` for a plain name)."""
    arn = Arn.parse(name_or_arn) if isinstance(name_or_arn, str) else None
    return arn.account if arn is not None and arn.service == "sagemaker" and arn.account else caller


def backend_of(account: str, region: str) -> SageMakerModelBackend | None:
    """The SageMaker backend of an account and region if moto has one (a lookup never creates one)."""
    backend: SageMakerModelBackend | None = existing_backend(sagemaker_backends, account, region)
    return backend


def request_backend(self: SageMakerResponse) -> SageMakerModelBackend:
    """``SageMakerResponse.sagemaker_backend``: the caller's backend, or the owner's for the operations above."""
    account = self.current_account
    parameter = CROSS_ACCOUNT_PARAMETER.get(self._get_action())
    if parameter is not None:
        owner = owner_account(self._get_param(parameter), account)
        if owner != account and backend_of(owner, self.region) is not None:
            account = owner
    return sagemaker_backends[account][self.region]


def package_owner_backend(backend: SageMakerModelBackend, name_or_arn: str) -> SageMakerModelBackend:
    """The backend holding the package a model's container names: another account's for its ARN, if it exists."""
    owner = owner_account(name_or_arn, backend.account_id)
    if owner == backend.account_id:
        return backend
    return backend_of(owner, backend.region_name) or backend


def container_package(backend: SageMakerModelBackend, name_or_arn: str) -> ModelPackage:
    """The package a model's container names (``ModelPackageName``), in the account of its ARN: the model is the
    caller's, the package may be the registry account's. ValidationException if there is no such package."""
    return model_package_or_error(package_owner_backend(backend, name_or_arn), name_or_arn)
