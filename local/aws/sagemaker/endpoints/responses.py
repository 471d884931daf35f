"""The wire of the embedded SageMaker's endpoints: request parameters in, results out, and the patches into moto.

moto's own actions serve the rest (DescribeEndpoint, DeleteEndpoint, the config and model actions): they call the
backend methods patched here.
"""

from __future__ import annotations

from typing import cast

from moto.core.responses import ActionResult
from moto.sagemaker.models import FakeEndpointConfig, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from local.aws.patches import Patch, methods
from local.aws.sagemaker.endpoints.models import EndpointBackend
from local.aws.sagemaker.endpoints.state import validate_instance_type


def _backend(response: SageMakerResponse) -> EndpointBackend:
    """moto\'s backend of the request, with the methods of :class:`EndpointBackend` installed on it."""
    return cast(EndpointBackend, response.sagemaker_backend)


class EndpointResponses(SageMakerResponse):
    """Endpoint actions of the SageMaker API (installed on ``SageMakerResponse``)."""

    def create_endpoint(self) -> ActionResult:
        endpoint = _backend(self).create_endpoint(
            endpoint_name=self._get_param("EndpointName"),
            endpoint_config_name=self._get_param("EndpointConfigName"),
            tags=self._get_param("Tags"),
            deployment_config=self._get_param("DeploymentConfig"),
        )
        return ActionResult({"EndpointArn": endpoint.arn})

    def update_endpoint(self) -> ActionResult:
        arn = _backend(self).update_endpoint(
            endpoint_name=self._get_param("EndpointName"),
            endpoint_config_name=self._get_param("EndpointConfigName"),
            retain_all_variant_properties=bool(self._get_param("RetainAllVariantProperties", False)),
            exclude_retained_variant_properties=self._get_param("ExcludeRetainedVariantProperties"),
            deployment_config=self._get_param("DeploymentConfig"),
            retain_deployment_config=bool(self._get_param("RetainDeploymentConfig", False)),
        )
        return ActionResult({"EndpointArn": arn})


PATCHES = (
    *methods(
        SageMakerModelBackend,
        EndpointBackend,
        {
            "create_model": "creating a model that exists, or naming a model package that does not, is refused",
            "create_endpoint_config": "a config that exists is refused; its `arn` is a string, not moto's 1-tuple",
            "create_endpoint": "the endpoint goes Creating -> InService (or Failed) over time, emitting its states",
            "update_endpoint": "moto has no UpdateEndpoint: a blue/green deployment over time, faults included",
            "describe_endpoint": "PendingDeploymentSummary, LastDeploymentConfig and the data capture summary",
            "delete_endpoint": "refused while in progress; Deleting -> gone over time",
        },
    ),
    *methods(
        SageMakerResponse,
        EndpointResponses,
        {
            "create_endpoint": "passes DeploymentConfig on to the backend",
            "update_endpoint": "moto has no UpdateEndpoint action",
        },
    ),
    Patch(
        FakeEndpointConfig,
        "validate_instance_type",
        validate_instance_type,
        "every instance type of the API's ProductionVariantInstanceType enum is valid (moto lists fewer)",
    ),
)
