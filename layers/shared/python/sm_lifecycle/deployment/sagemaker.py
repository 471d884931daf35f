"""Adapter: the SageMaker calls of the deployer, with AWS errors mapped to the package's taxonomy.

SageMaker reports most request errors as ``ValidationException``; the few cases the deployer must tell apart
(already exists, in progress, not found) are recognised here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.deployment.model import (
    APPROVED,
    ObservedEndpoint,
    PackageDetails,
    PackageVersion,
    realtime_instance_types,
)
from sm_lifecycle.kernel.clients import classify, error_code, error_message, is_not_found
from sm_lifecycle.kernel.errors import ConflictError, InvalidEventError, RefusedError
from sm_lifecycle.kernel.registry import git_sha_of
from sm_lifecycle.kernel.stages import LifeCycle, Stage, eligible_for, move_version, stages_from
from sm_lifecycle.kernel.timestamps import optional_utc_datetime

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient
    from types_boto3_sagemaker.type_defs import (
        DataCaptureConfigTypeDef,
        DeploymentConfigTypeDef,
        ProductionVariantTypeDef,
        TagTypeDef,
    )

logger = Logger(child=True)


def _already_exists(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationException" and "already exist" in error_message(exc).lower()


def _invalid_request(exc: ClientError, what: str) -> Exception:
    """A request SageMaker refuses for good (retrying the same request cannot help)."""
    if error_code(exc) == "ValidationException" and "in-progress" not in error_message(exc).lower():
        return InvalidEventError(f"{what}: {error_message(exc)}")
    return classify(exc, what=what)


def tag_list(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def package_version_of(arn: str) -> int:
    """``arn:...:model-package/<group>/<version>`` → ``version``."""
    tail = arn.rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise InvalidEventError(f"{arn!r} is not the ARN of a versioned model package", field="ModelPackageArn")
    return int(tail)


def package_details(package: Mapping[str, Any]) -> PackageDetails:
    """A ``DescribeModelPackage`` response as :class:`PackageDetails`."""
    arn = str(package["ModelPackageArn"])
    inference = package.get("InferenceSpecification") or {}
    return PackageDetails(
        arn=arn,
        group=str(package.get("ModelPackageGroupName") or arn.rsplit("/", 2)[-2]),
        version=int(package.get("ModelPackageVersion") or package_version_of(arn)),
        approval_status=str(package.get("ModelApprovalStatus") or ""),
        has_inference_specification=bool(inference.get("Containers")),
        git_sha=git_sha_of(package.get("CustomerMetadataProperties")),
        realtime_instance_types=realtime_instance_types(inference),
        last_modified=optional_utc_datetime(package.get("LastModifiedTime")),
    )


class SageMakerGateway:
    """The registry and the endpoint, as the deployer sees them."""

    def __init__(self, sagemaker: SageMakerClient, *, mutations: SageMakerClient | None = None) -> None:
        self._sm = sagemaker
        self._mutations = mutations or sagemaker  # CreateEndpoint / UpdateEndpoint, tried once

    # ------------------------------------------------------------------ registry
    def newest_approved(self, group: str) -> PackageVersion | None:
        """The approved version with the highest version number (creation order is only the listing order)."""
        newest: PackageVersion | None = None
        kwargs: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": APPROVED,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 100,
        }
        try:
            while True:
                page = self._sm.list_model_packages(**kwargs)
                for summary in page.get("ModelPackageSummaryList", []):
                    arn = summary["ModelPackageArn"]
                    version = int(summary.get("ModelPackageVersion") or package_version_of(arn))
                    if newest is None or version > newest.version:
                        newest = PackageVersion(arn=arn, version=version, approval_status=APPROVED)
                if not page.get("NextToken"):
                    return newest
                kwargs["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and is_not_found(exc):
                raise InvalidEventError(f"model package group {group!r} does not exist") from exc
            raise classify(exc, what=f"ListModelPackages {group}") from exc

    def newest_eligible(self, group: str, stage: Stage) -> PackageVersion | None:
        """The approved version with the highest version number that is eligible for ``stage`` (see
        :func:`sm_lifecycle.kernel.stages.eligible_for`), from the summaries' ``ModelLifeCycle``.

        ``group`` is a name (the stack's own account) or another account's group ARN. Either way ``Search`` filters
        on the stage, so the calls grow with the versions that reached it, not with the group; another account's
        versions are searched across accounts (the group shared through RAM, see :meth:`_shared_summaries`).
        """
        if group.startswith("arn:"):
            summaries = self._shared_summaries(group, stage)
        else:
            summaries = self._staged_summaries(group, stage)
        newest: PackageVersion | None = None
        for summary in summaries:
            if not eligible_for(stage, LifeCycle.from_api(summary.get("ModelLifeCycle"))):
                continue
            arn = str(summary["ModelPackageArn"])
            version = int(summary.get("ModelPackageVersion") or package_version_of(arn))
            if newest is None or version > newest.version:
                # a Search record is the whole package (DescribeModelPackage's fields); a summary is not
                details = package_details(summary) if "InferenceSpecification" in summary else None
                newest = PackageVersion(arn=arn, version=version, approval_status=APPROVED, details=details)
        return newest

    def _approved_summaries(self, group: str) -> Iterator[Mapping[str, Any]]:
        kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "ModelApprovalStatus": APPROVED, "MaxResults": 100}
        try:
            while True:
                page = self._sm.list_model_packages(**kwargs)
                yield from page.get("ModelPackageSummaryList", [])
                if not page.get("NextToken"):
                    return
                kwargs["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and is_not_found(exc):
                raise InvalidEventError(f"model package group {group!r} does not exist") from exc
            raise classify(exc, what=f"ListModelPackages {group}") from exc

    def _shared_summaries(self, group_arn: str, stage: Stage) -> Iterator[Mapping[str, Any]]:
        """Another account's versions eligible for ``stage``: one cross-account ``Search`` keeping only the group
        owner's versions (another account may share a group of the same name). No hit is either "none yet" or "the
        group is not discoverable here" (its RAM share not promoted or not accepted): the shared groups tell them
        apart, and an undiscoverable group is read by ARN (its policy admits us), with a warning."""
        owner, name = group_arn.split(":")[4], group_arn.rsplit("/", 1)[-1]
        found = False
        for record in self._staged_summaries(name, stage, cross_account=True):
            if str(record.get("ModelPackageArn", "")).split(":")[4:5] == [owner]:
                found = True
                yield record
        if found or self._is_discoverable(group_arn, name):
            return
        logger.warning(
            "model package group not discoverable across accounts: listing its versions by ARN",
            extra={"model_package_group": group_arn, "fix": "make share-registry"},
        )
        yield from self._approved_summaries(group_arn)

    def _is_discoverable(self, group_arn: str, name: str) -> bool:
        """Whether the group is among those other accounts shared with this one (and it accepted)."""
        kwargs: dict[str, Any] = {"CrossAccountFilterOption": "CrossAccount", "NameContains": name, "MaxResults": 100}
        try:
            while True:
                page = self._sm.list_model_package_groups(**kwargs)
                if any(
                    g.get("ModelPackageGroupArn") == group_arn for g in page.get("ModelPackageGroupSummaryList", [])
                ):
                    return True
                if not page.get("NextToken"):
                    return False
                kwargs["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what=f"ListModelPackageGroups shared {name}") from exc

    def _staged_summaries(
        self, group: str, stage: Stage, *, cross_account: bool = False
    ) -> Iterator[Mapping[str, Any]]:
        filters: list[dict[str, str]] = [
            {"Name": "ModelPackageGroupName", "Operator": "Equals", "Value": group},
            {"Name": "ModelApprovalStatus", "Operator": "Equals", "Value": APPROVED},
        ]
        if stage is not Stage.DEVELOPMENT:  # Development: versions without a lifecycle are eligible too
            filters.append({"Name": "ModelLifeCycle.Stage", "Operator": "In", "Value": ",".join(stages_from(stage))})
        kwargs: dict[str, Any] = {
            "Resource": "ModelPackage",
            "SearchExpression": {"Filters": filters},
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 100,
        }
        if cross_account:
            kwargs["CrossAccountFilterOption"] = "CrossAccount"
        try:
            while True:
                page = self._sm.search(**kwargs)
                for result in page.get("Results", []):
                    yield result.get("ModelPackage") or {}
                if not page.get("NextToken"):
                    return
                kwargs["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what=f"Search ModelPackage {group} {stage}") from exc

    def move_to(self, arn: str, lifecycle: LifeCycle) -> bool:
        """Write ``lifecycle`` on the version (see :func:`sm_lifecycle.kernel.stages.move_version`)."""
        return move_version(self._sm, arn, lifecycle)

    def describe_package(self, arn: str) -> PackageDetails:
        try:
            return package_details(self._sm.describe_model_package(ModelPackageName=arn))
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and (is_not_found(exc) or "not found" in error_message(exc).lower()):
                raise InvalidEventError(f"model package {arn} does not exist", field="ModelPackageArn") from exc
            raise classify(exc, what=f"DescribeModelPackage {arn}") from exc

    # ------------------------------------------------------------------ endpoint
    def describe_endpoint(self, name: str) -> ObservedEndpoint | None:
        try:
            response = self._sm.describe_endpoint(EndpointName=name)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise classify(exc, what=f"DescribeEndpoint {name}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"DescribeEndpoint {name}") from exc
        modified = response.get("LastModifiedTime") or response.get("CreationTime")
        return ObservedEndpoint(
            name=response["EndpointName"],
            arn=response["EndpointArn"],
            status=response["EndpointStatus"],
            config_name=response.get("EndpointConfigName", ""),
            last_modified=modified.isoformat(timespec="microseconds") if modified is not None else "",
            failure_reason=response.get("FailureReason") or None,
        )

    def ensure_model(self, name: str, *, package_arn: str, role_arn: str, tags: Mapping[str, str]) -> None:
        """Create the model from the package, or find the one a previous attempt created under the same name."""
        try:
            self._sm.create_model(
                ModelName=name,
                ExecutionRoleArn=role_arn,
                Containers=[{"ModelPackageName": package_arn}],
                Tags=tag_list(tags),
            )
        except ClientError as exc:
            if not _already_exists(exc):
                raise _invalid_request(exc, f"CreateModel {name} from {package_arn}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"CreateModel {name}") from exc

    def ensure_endpoint_config(
        self,
        name: str,
        *,
        production_variants: list[ProductionVariantTypeDef],
        data_capture_config: DataCaptureConfigTypeDef,
        tags: Mapping[str, str],
    ) -> None:
        try:
            self._sm.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=production_variants,
                DataCaptureConfig=data_capture_config,
                Tags=tag_list(tags),
            )
        except ClientError as exc:
            if not _already_exists(exc):
                raise _invalid_request(exc, f"CreateEndpointConfig {name}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"CreateEndpointConfig {name}") from exc

    def create_endpoint(self, name: str, *, config_name: str, tags: Mapping[str, str]) -> None:
        try:
            self._mutations.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=tag_list(tags))
        except ClientError as exc:
            if _already_exists(exc):
                raise ConflictError(f"CreateEndpoint {name}: {error_message(exc)}") from exc
            raise _invalid_request(exc, f"CreateEndpoint {name}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"CreateEndpoint {name}") from exc

    def update_endpoint(self, name: str, *, config_name: str, deployment_config: DeploymentConfigTypeDef) -> None:
        try:
            self._mutations.update_endpoint(
                EndpointName=name, EndpointConfigName=config_name, DeploymentConfig=deployment_config
            )
        except ClientError as exc:
            if is_not_found(exc) and "endpoint-config" not in error_message(exc).lower():
                # Deleted since we described it (nothing was updated): the next attempt creates it.
                raise RefusedError(f"UpdateEndpoint {name}: {error_message(exc)}") from exc
            raise _invalid_request(exc, f"UpdateEndpoint {name} to {config_name}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"UpdateEndpoint {name}") from exc
