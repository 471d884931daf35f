"""Endpoints, endpoint configs and models in the embedded SageMaker: moto's backend, corrected and made to take time.

``CreateEndpoint`` -> ``Creating`` -> ``InService`` (or ``Failed`` when a fault is injected); ``UpdateEndpoint``
(new, see :mod:`local.aws.sagemaker.endpoints.deployment`); ``DeleteEndpoint`` -> ``Deleting`` -> gone. While
updating, ``DescribeEndpoint`` reports the current config and the new one under ``PendingDeploymentSummary``.
Operations on an endpoint that is not ``InService`` are refused as AWS refuses them; creating a model, endpoint
config or endpoint that already exists is refused; a model whose container names a model package needs that
package to exist (another account's, by its ARN). The methods of :class:`EndpointBackend` replace or join moto's
``SageMakerModelBackend``'s.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend
from moto.sagemaker.utils import arn_formatter

from local.aws.runtime import RUNTIME
from local.aws.sagemaker.endpoints.deployment import DEFAULT_FAILURE_REASON, EndpointUpdate, capacity, validate_rollout
from local.aws.sagemaker.endpoints.events import emit_endpoint_state, set_status
from local.aws.sagemaker.endpoints.state import (
    IN_PROGRESS,
    config_arn,
    config_or_error,
    data_capture_summary,
    endpoint_arn,
    endpoint_or_error,
    extras,
    schedule,
    variant_summaries,
)
from local.aws.sagemaker.registry.accounts import container_package

_moto_create_model = SageMakerModelBackend.create_model
_moto_create_endpoint_config = SageMakerModelBackend.create_endpoint_config


class EndpointBackend(SageMakerModelBackend):
    """The endpoint operations of the embedded SageMaker (installed on ``SageMakerModelBackend``)."""

    def create_model(self, model_name: str, **kwargs: Any) -> Any:  # type: ignore[override]
        with RUNTIME.lock:
            if model_name in self._models:
                arn = arn_formatter("model", model_name, self.account_id, self.region_name)
                raise ValidationError(f'Cannot create already existing model "{arn}".')
            for container in [kwargs.get("primary_container") or {}, *(kwargs.get("containers") or [])]:
                package = container.get("ModelPackageName")
                if package:
                    container_package(self, package)
            return _moto_create_model(self, model_name=model_name, **kwargs)

    def create_endpoint_config(  # type: ignore[override]
        self, endpoint_config_name: str, **kwargs: Any
    ) -> FakeEndpointConfig:
        with RUNTIME.lock:
            if endpoint_config_name in self.endpoint_configs:
                arn = config_arn(self, endpoint_config_name)
                raise ValidationError(f'Cannot create already existing endpoint configuration "{arn}".')
            config = _moto_create_endpoint_config(self, endpoint_config_name=endpoint_config_name, **kwargs)
            config.arn = config.endpoint_config_arn  # type: ignore[assignment]  # moto's 1-tuple breaks tagging
            return config

    def create_endpoint(  # type: ignore[override]
        self,
        endpoint_name: str,
        endpoint_config_name: str,
        tags: list[dict[str, str]] | None,
        deployment_config: dict[str, Any] | None = None,
    ) -> FakeEndpoint:
        with RUNTIME.lock:
            if endpoint_name in self.endpoints:
                raise ValidationError(f'Cannot create already existing endpoint "{endpoint_arn(self, endpoint_name)}".')
            config = config_or_error(self, endpoint_config_name)
            endpoint = FakeEndpoint(  # type: ignore[abstract]  # as moto creates it
                account_id=self.account_id,
                region_name=self.region_name,
                endpoint_name=endpoint_name,
                endpoint_config_name=endpoint_config_name,
                production_variants=[],
                data_capture_config=config.data_capture_config,
                tags=list(tags or []),
            )
            endpoint.production_variants = variant_summaries(self, config, current=False)
            endpoint.endpoint_status = "Creating"
            extras(endpoint).deployment_config = deployment_config
            self.endpoints[endpoint_name] = endpoint
            emit_endpoint_state(self, endpoint)
            fault = RUNTIME.faults.take(endpoint_name, "create", kinds=("fail",))

            def finish(ep: FakeEndpoint) -> None:
                if fault is not None:
                    variant = config.production_variants[0]["VariantName"] if config.production_variants else ""
                    set_status(self, ep, "Failed", fault.reason or DEFAULT_FAILURE_REASON.format(variant=variant))
                    return
                ep.production_variants = variant_summaries(self, config, current=True)
                set_status(self, ep, "InService")

            schedule(self, endpoint, RUNTIME.timings.endpoint_create, finish, "create")
            return endpoint

    def update_endpoint(
        self,
        endpoint_name: str,
        endpoint_config_name: str,
        *,
        retain_all_variant_properties: bool = False,
        exclude_retained_variant_properties: list[dict[str, str]] | None = None,
        deployment_config: dict[str, Any] | None = None,
        retain_deployment_config: bool = False,
    ) -> str:
        with RUNTIME.lock:
            endpoint = endpoint_or_error(self, endpoint_name)
            new_config = config_or_error(self, endpoint_config_name)
            if endpoint.endpoint_status == "Failed":
                raise ValidationError(f'Cannot update failed endpoint "{endpoint.arn}".')
            if endpoint.endpoint_status != "InService":
                raise ValidationError(f'Cannot update in-progress endpoint "{endpoint.arn}".')
            state = extras(endpoint)
            if deployment_config is None and retain_deployment_config:
                deployment_config = state.deployment_config
            validate_rollout(
                deployment_config, [capacity(v) for v in variant_summaries(self, new_config, current=True)]
            )
            state.deployment_config = deployment_config
            update = EndpointUpdate.of(
                self,
                endpoint,
                new_config,
                retain_all_variant_properties=retain_all_variant_properties,
                excluded={p.get("VariantPropertyType", "") for p in exclude_retained_variant_properties or []},
                deployment_config=deployment_config,
            )
            update.start(endpoint)
            return str(endpoint.arn)

    def describe_endpoint(self, endpoint_name: str) -> dict[str, Any]:  # type: ignore[override]
        with RUNTIME.lock:
            endpoint = endpoint_or_error(self, endpoint_name)
            state = extras(endpoint)
            config = self.endpoint_configs.get(endpoint.endpoint_config_name)
            response: dict[str, Any] = {
                "EndpointName": endpoint.endpoint_name,
                "EndpointArn": endpoint.arn,
                "EndpointConfigName": endpoint.endpoint_config_name,
                "ProductionVariants": copy.deepcopy(endpoint.production_variants),
                "EndpointStatus": endpoint.endpoint_status,
                "FailureReason": endpoint.failure_reason,
                "CreationTime": endpoint.creation_time,
                "LastModifiedTime": endpoint.last_modified_time,
                "LastDeploymentConfig": copy.deepcopy(state.deployment_config),
            }
            if config is not None:
                response["DataCaptureConfig"] = data_capture_summary(config)
                response["AsyncInferenceConfig"] = config.async_inference_config
            if state.pending:
                response["PendingDeploymentSummary"] = copy.deepcopy(state.pending)
            return {k: v for k, v in response.items() if v is not None}

    def delete_endpoint(self, endpoint_name: str) -> None:
        with RUNTIME.lock:
            endpoint = endpoint_or_error(self, endpoint_name)
            if endpoint.endpoint_status in IN_PROGRESS:
                raise ValidationError(f'Cannot update in-progress endpoint "{endpoint.arn}".')
            state = extras(endpoint)
            state.generation += 1
            state.pending = None
            set_status(self, endpoint, "Deleting")

            def gone(ep: FakeEndpoint) -> None:
                self.endpoints.pop(ep.endpoint_name, None)

            schedule(self, endpoint, RUNTIME.timings.endpoint_delete, gone, "delete")
