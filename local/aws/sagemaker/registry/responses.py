"""The wire of the embedded SageMaker's model registry: request parameters in, results out, and the patches."""

from __future__ import annotations

from typing import cast

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.models import ModelPackage, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from local.aws.patches import Patch, methods
from local.aws.sagemaker.registry.models import ModelPackageBackend, package_response


def _backend(response: SageMakerResponse) -> ModelPackageBackend:
    """moto\'s backend of the request, with the methods of :class:`ModelPackageBackend` installed on it."""
    return cast(ModelPackageBackend, response.sagemaker_backend)


class ModelPackageResponses(SageMakerResponse):
    """Model registry actions of the SageMaker API (installed on ``SageMakerResponse``)."""

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


PATCHES = (
    *methods(
        SageMakerModelBackend,
        ModelPackageBackend,
        {
            "describe_model_package": "finds a package by name or ARN in any case, versioned or not",
            "create_model_package": "version numbers are never reused; registering emits the package's state",
            "delete_model_package": "moto has no DeleteModelPackage",
            "update_model_package": "changes only the given fields, validates first, emits the changed fields",
        },
    ),
    *methods(
        SageMakerResponse,
        ModelPackageResponses,
        {
            "update_model_package": "passes InferenceSpecification, SourceUri, ModelCard, ModelLifeCycle on too",
            "delete_model_package": "moto has no DeleteModelPackage action",
        },
    ),
    Patch(
        ModelPackage,
        "gen_response_object",
        package_response,
        "DescribeModelPackage always names the package, and reports SourceUri, ModelCard and ModelLifeCycle",
    ),
)
