"""Adapter: the registry (a version, its lifecycle) and the endpoint (which version it serves), as the gate reads
them; AWS errors mapped to the kernel's taxonomy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel import tags
from sm_lifecycle.kernel.clients import classify, error_message, is_not_found
from sm_lifecycle.kernel.errors import InvalidEventError
from sm_lifecycle.kernel.stages import LifeCycle, move_version
from sm_lifecycle.kernel.timestamps import optional_utc_datetime
from sm_lifecycle.stage_gate.model import LiveEndpoint, Version

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
        """The endpoint and the package its current config serves (the deployer's tag on the config); None when
        there is no endpoint."""
        try:
            described = self._sm.describe_endpoint(EndpointName=endpoint)
            config = str(described.get("EndpointConfigName") or "")
            # the config's ARN is the endpoint's with the config's name (both in SageMaker's lower case)
            prefix = str(described["EndpointArn"]).split(":endpoint/", 1)[0]
            config_tags = self._sm.list_tags(ResourceArn=f"{prefix}:endpoint-config/{config.lower()}")["Tags"]
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise classify(exc, what=f"DescribeEndpoint {endpoint}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"DescribeEndpoint {endpoint}") from exc
        by_key = {t["Key"]: t["Value"] for t in config_tags}
        since = optional_utc_datetime(described.get("LastModifiedTime")) or datetime.now(UTC)
        return LiveEndpoint(
            name=endpoint,
            status=str(described["EndpointStatus"]),
            config_name=config,
            package_arn=by_key.get(tags.MODEL_PACKAGE_ARN),
            since=since,
        )
