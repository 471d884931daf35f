"""Adapter: the registry (a version, its lifecycle) and the endpoint (which version it serves), as the gate reads
them; AWS errors mapped to the kernel's taxonomy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify, error_message, is_not_found
from sm_lifecycle.kernel.endpoints import Endpoints, LiveEndpoint
from sm_lifecycle.kernel.errors import InvalidEventError
from sm_lifecycle.kernel.stages import LifeCycle, move_version
from sm_lifecycle.stage_gate.model import Version

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient


class RegistryAndEndpoint:
    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sm = sagemaker

    def version(self, arn: str) -> Version:
        try:
            package = self._sm.describe_model_package(ModelPackageName=arn)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and (is_not_found(exc) or "not exist" in error_message(exc).lower()):
                raise InvalidEventError(f"model package {arn} does not exist", field="ModelPackageArn") from exc
            raise classify(exc, what=f"DescribeModelPackage {arn}") from exc
        return Version(
            arn=str(package["ModelPackageArn"]),
            number=int(package.get("ModelPackageVersion", 0)),
            approval_status=str(package.get("ModelApprovalStatus", "")),
            lifecycle=LifeCycle.from_api(package.get("ModelLifeCycle")),
        )

    def move(self, arn: str, lifecycle: LifeCycle) -> bool:
        """Write a move of the state machine (False: there already); see ``kernel.stages.move_version``."""
        return move_version(self._sm, arn, lifecycle)

    def describe(self, arn: str, lifecycle: LifeCycle) -> None:
        """Rewrite the description of the state the version is in (no move: e.g. Production's bake passed)."""
        try:
            self._sm.update_model_package(ModelPackageArn=arn, ModelLifeCycle=lifecycle.to_api())
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what=f"UpdateModelPackage {arn}") from exc

    def live(self, endpoint: str) -> LiveEndpoint | None:
        return Endpoints(self._sm).live(endpoint)
