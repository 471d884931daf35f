"""What the embedded SageMaker keeps about endpoints besides moto's objects, and how it reads them.

The extra state of an endpoint (:class:`EndpointExtras`: a generation that changes when it is deleted, the update in
progress, the last deployment config) lives on moto's ``FakeEndpoint`` itself, so moto's reset forgets it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend

from local.aws.runtime import RUNTIME
from local.aws.sagemaker.events.models import drop_none
from local.aws.sagemaker.registry.accounts import container_package

IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
_EXTRAS = "_local_ext"


@dataclass
class EndpointExtras:
    """An endpoint's state that moto does not keep."""

    generation: int = 0  # changes when the endpoint is deleted: transitions scheduled before then do not run
    pending: dict[str, Any] | None = None  # PendingDeploymentSummary of the update in progress
    deployment_config: dict[str, Any] | None = None  # what DescribeEndpoint reports as LastDeploymentConfig


def extras(endpoint: FakeEndpoint) -> EndpointExtras:
    state = endpoint.__dict__.get(_EXTRAS)
    if state is None:
        state = endpoint.__dict__[_EXTRAS] = EndpointExtras()
    return state


# -- lookups ------------------------------------------------------------------------------------------------------
def endpoint_arn(backend: SageMakerModelBackend, name: str) -> str:
    return FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)


def config_arn(backend: SageMakerModelBackend, name: str) -> str:
    return FakeEndpointConfig.arn_formatter(name, backend.account_id, backend.region_name)


def endpoint_or_error(backend: SageMakerModelBackend, endpoint_name: str) -> FakeEndpoint:
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        raise ValidationError(f'Could not find endpoint "{endpoint_arn(backend, endpoint_name)}".')
    return endpoint


def config_or_error(backend: SageMakerModelBackend, endpoint_config_name: str) -> FakeEndpointConfig:
    config = backend.endpoint_configs.get(endpoint_config_name)
    if config is None:
        raise ValidationError(f'Could not find endpoint configuration "{config_arn(backend, endpoint_config_name)}".')
    return config


# -- instance types -----------------------------------------------------------------------------------------------
_INSTANCE_TYPES: set[str] = set()


def validate_instance_type(self: FakeEndpointConfig, instance_type: str) -> None:
    """Every instance type of the API's ``ProductionVariantInstanceType`` enum is accepted (moto knows fewer)."""
    if not _INSTANCE_TYPES:
        model = botocore.session.get_session().get_service_model("sagemaker")
        _INSTANCE_TYPES.update(model.shape_for("ProductionVariantInstanceType").enum)  # type: ignore[attr-defined]  # a StringShape
    if instance_type not in _INSTANCE_TYPES:
        raise ValidationError(
            f"Value '{instance_type}' at 'productionVariants.1.member.instanceType' failed to satisfy constraint: "
            "Member must satisfy enum value set"
        )


# -- what an endpoint runs ----------------------------------------------------------------------------------------
def image_of_model(backend: SageMakerModelBackend, model_name: str | None) -> str | None:
    """The image a model's (first) container runs: its own, or that of the model package it names."""
    model = backend._models.get(model_name or "")
    if model is None:
        return None
    container = model.primary_container or (model.containers[0] if model.containers else {})
    if container.get("Image"):
        return str(container["Image"])
    package_name = container.get("ModelPackageName")
    if package_name:
        try:
            package = container_package(backend, package_name)
        except ValidationError:
            return None
        if package.inference_specification:
            containers = package.inference_specification.get("Containers") or [{}]
            image = containers[0].get("Image")
            return str(image) if image else None
    return None


def variant_summaries(
    backend: SageMakerModelBackend, config: FakeEndpointConfig, current: bool = True
) -> list[dict[str, Any]]:
    """ProductionVariantSummary list of an endpoint running ``config`` (``current``: capacity already there)."""
    return [_variant_summary(backend, pv, current) for pv in config.production_variants]


def _variant_summary(backend: SageMakerModelBackend, pv: dict[str, Any], current: bool) -> dict[str, Any]:
    count = pv.get("InitialInstanceCount")
    weight = float(pv.get("InitialVariantWeight", 1.0))
    summary: dict[str, Any] = {"VariantName": pv["VariantName"]}
    image = image_of_model(backend, pv.get("ModelName"))
    if image:
        summary["DeployedImages"] = [{"SpecifiedImage": image, "ResolvedImage": image, "ResolutionTime": utcnow()}]
    summary["CurrentWeight"] = weight if current else 0.0
    summary["DesiredWeight"] = weight
    if count is not None:
        summary["CurrentInstanceCount"] = count if current else 0
        summary["DesiredInstanceCount"] = count
    if pv.get("InstanceType"):
        summary["InstanceType"] = pv["InstanceType"]
    if pv.get("ServerlessConfig"):
        summary["CurrentServerlessConfig"] = pv["ServerlessConfig"]
        summary["DesiredServerlessConfig"] = pv["ServerlessConfig"]
    return summary


def data_capture_summary(config: FakeEndpointConfig) -> dict[str, Any] | None:
    """DescribeEndpoint's DataCaptureConfig summary of an endpoint config's DataCaptureConfig."""
    dcc = config.data_capture_config or {}
    if not dcc:
        return None
    enabled = bool(dcc.get("EnableCapture", True))
    return drop_none(
        {
            "EnableCapture": enabled,
            "CaptureStatus": "Started" if enabled else "Stopped",
            "CurrentSamplingPercentage": dcc.get("InitialSamplingPercentage"),
            "DestinationS3Uri": dcc.get("DestinationS3Uri"),
            "KmsKeyId": dcc.get("KmsKeyId"),
        }
    )


# -- transitions later --------------------------------------------------------------------------------------------
def schedule(
    backend: SageMakerModelBackend,
    endpoint: FakeEndpoint,
    delay: float,
    step: Callable[[FakeEndpoint], None],
    label: str,
) -> None:
    """Run ``step`` later unless the endpoint has been deleted or re-created meanwhile."""
    name, generation = endpoint.endpoint_name, extras(endpoint).generation

    def run() -> None:
        with RUNTIME.lock:
            current = backend.endpoints.get(name)
            if current is None or current is not endpoint or extras(current).generation != generation:
                return
            step(current)

    RUNTIME.scheduler.submit(delay, run, label=f"{label} {name}")
