"""The wire of the embedded SageMaker's model registry: request parameters in, results out, and the patches."""

from __future__ import annotations

from typing import cast

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import camelcase_to_underscores
from moto.sagemaker.models import ModelPackage, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from local.aws.patches import Patch, methods
from local.aws.sagemaker.paging import check_enum
from local.aws.sagemaker.registry.accounts import request_backend
from local.aws.sagemaker.registry.models import ModelPackageBackend, package_response, shared_group_summaries
from local.aws.sagemaker.registry.policies import GroupPolicyBackend


def _backend(response: SageMakerResponse) -> ModelPackageBackend:
    """moto\'s backend of the request, with the methods of :class:`ModelPackageBackend` installed on it."""
    return cast(ModelPackageBackend, response.sagemaker_backend)


def _policies(response: SageMakerResponse) -> GroupPolicyBackend:
    return cast(GroupPolicyBackend, response.sagemaker_backend)


CREATE_PACKAGE_PARAMETERS = (
    # what moto's CreateModelPackage reads, and the fields it drops (SourceUri, ModelCard, ModelLifeCycle)
    "ModelPackageName",
    "ModelPackageGroupName",
    "ModelPackageDescription",
    "InferenceSpecification",
    "ValidationSpecification",
    "SourceAlgorithmSpecification",
    "Tags",
    "ModelApprovalStatus",
    "MetadataProperties",
    "ModelMetrics",
    "ClientToken",
    "CustomerMetadataProperties",
    "DriftCheckBaselines",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "AdditionalInferenceSpecifications",
    "SourceUri",
    "ModelCard",
    "ModelLifeCycle",
)


SEARCH_PARAMETERS = ("SearchExpression", "SortBy", "SortOrder", "MaxResults", "NextToken", "CrossAccountFilterOption")
_moto_search = SageMakerResponse.search
_moto_list_groups = SageMakerResponse.list_model_package_groups


class ModelPackageResponses(SageMakerResponse):
    """Model registry actions of the SageMaker API (installed on ``SageMakerResponse``)."""

    def create_model_package(self) -> ActionResult:
        given = {camelcase_to_underscores(name): self._get_param(name) for name in CREATE_PACKAGE_PARAMETERS}
        arn = _backend(self).create_model_package(
            certify_for_marketplace=self._get_param("CertifyForMarketplace", False), **given
        )
        return ActionResult({"ModelPackageArn": arn})

    def update_model_package(self) -> ActionResult:
        arn = _backend(self).update_model_package(
            model_package_arn=self._get_param("ModelPackageArn"),
            model_approval_status=self._get_param("ModelApprovalStatus"),
            approval_description=self._get_param("ApprovalDescription"),
            customer_metadata_properties=self._get_param("CustomerMetadataProperties"),
            customer_metadata_properties_to_remove=self._get_param("CustomerMetadataPropertiesToRemove"),
            additional_inference_specifications_to_add=self._get_param("AdditionalInferenceSpecificationsToAdd"),
            inference_specification=self._get_param("InferenceSpecification"),
            source_uri=self._get_param("SourceUri"),
            model_card=self._get_param("ModelCard"),
            model_life_cycle=self._get_param("ModelLifeCycle"),
        )
        return ActionResult({"ModelPackageArn": arn})

    def delete_model_package(self) -> ActionResult:
        _backend(self).delete_model_package(self._get_param("ModelPackageName"))
        return EmptyResult()

    def put_model_package_group_policy(self) -> ActionResult:
        arn = _policies(self).put_model_package_group_policy(
            self._get_param("ModelPackageGroupName"), self._get_param("ResourcePolicy")
        )
        return ActionResult({"ModelPackageGroupArn": arn})

    def get_model_package_group_policy(self) -> ActionResult:
        policy = _policies(self).get_model_package_group_policy(self._get_param("ModelPackageGroupName"))
        return ActionResult({"ResourcePolicy": policy})

    def delete_model_package_group_policy(self) -> ActionResult:
        _policies(self).delete_model_package_group_policy(self._get_param("ModelPackageGroupName"))
        return EmptyResult()

    def list_model_package_groups(self) -> ActionResult:
        option = self._get_param("CrossAccountFilterOption")
        check_enum(option, ("SameAccount", "CrossAccount"), "crossAccountFilterOption")
        if option != "CrossAccount":
            return _moto_list_groups(self)
        names = ("NameContains", "MaxResults", "NextToken")
        return ActionResult(shared_group_summaries(self.sagemaker_backend, {n: self._get_param(n) for n in names}))

    def search(self) -> ActionResult:
        if self._get_param("Resource") != "ModelPackage":
            return _moto_search(self)
        request = {name: self._get_param(name) for name in SEARCH_PARAMETERS}
        return ActionResult(_backend(self).search_model_packages(request))


PATCHES = (
    *methods(
        SageMakerModelBackend,
        ModelPackageBackend,
        {
            "describe_model_package": "finds a package by name or ARN in any case, versioned or not",
            "describe_model_package_group": "ModelPackageGroupName may be the group's ARN (moto wants the name)",
            "create_model_package": "version numbers are never reused; registering emits the package's state",
            "delete_model_package": "moto has no DeleteModelPackage",
            "update_model_package": "changes only the given fields, validates first, emits the changed fields",
            "search_model_packages": "moto's Search ignores nested properties and neither sorts nor pages",
        },
    ),
    *methods(
        SageMakerModelBackend,
        GroupPolicyBackend,
        {
            "put_model_package_group_policy": "moto keeps no model package group policies",
            "get_model_package_group_policy": "moto keeps no model package group policies",
            "delete_model_package_group_policy": "moto keeps no model package group policies",
        },
    ),
    *methods(
        SageMakerResponse,
        ModelPackageResponses,
        {
            "create_model_package": "passes SourceUri, ModelCard and ModelLifeCycle on too",
            "update_model_package": "passes InferenceSpecification, SourceUri, ModelCard, ModelLifeCycle on too",
            "delete_model_package": "moto has no DeleteModelPackage action",
            "put_model_package_group_policy": "moto has no PutModelPackageGroupPolicy action",
            "get_model_package_group_policy": "moto has no GetModelPackageGroupPolicy action",
            "delete_model_package_group_policy": "moto has no DeleteModelPackageGroupPolicy action",
            "search": "Search for ModelPackage resources as the API reference describes it (registry.search)",
            "list_model_package_groups": "moto ignores CrossAccountFilterOption (the groups shared with the account)",
        },
    ),
    Patch(
        SageMakerResponse,
        "sagemaker_backend",
        property(request_backend),
        "the registry's reads and UpdateModelPackage by another account's ARN are served by that account (moto:"
        " the caller's)",
    ),
    Patch(
        ModelPackage,
        "gen_response_object",
        package_response,
        "DescribeModelPackage always names the package, and reports SourceUri, ModelCard and ModelLifeCycle",
    ),
)
