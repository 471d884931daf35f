"""SageMaker behaviour that moto 5.2.5 lacks or gets wrong, added to moto's SageMaker backend and responses.

Follows moto's split: *backend* methods hold state and logic and raise moto's typed errors
(``ValidationError`` -> ``ValidationException``), *response* methods read parameters and format results.

What is added or corrected (each has a boto3-level contract test in ``tests/local/test_embedded_*.py``):

* endpoints go through their statuses over time: ``CreateEndpoint`` -> ``Creating`` -> ``InService`` (or
  ``Failed``); ``UpdateEndpoint`` (new) -> ``Updating`` -> ``InService`` on the new config; ``DeleteEndpoint`` ->
  ``Deleting`` -> gone. While updating, ``DescribeEndpoint`` reports the current config and the new one under
  ``PendingDeploymentSummary``. An update that fails, or that a guardrail alarm rolls back, returns the endpoint to
  ``InService`` on its old config with ``FailureReason`` set (DescribeEndpoint: "the status is InService but update
  operation fails"). Operations on an endpoint that is not ``InService`` are refused as AWS refuses them;
* every status change emits "SageMaker Endpoint State Change", and updates emit "SageMaker Endpoint Deployment
  State Change" for their phases (Creating, ActivatingTraffic, Baking);
* ``CreateModelPackage`` and every ``UpdateModelPackage`` emit "SageMaker Model Package State Change"
  (updates name the fields they changed in ``UpdatedModelPackageFields``); ``UpdateModelPackage`` changes only the
  fields it is given (moto wipes the others) and merges ``CustomerMetadataProperties``;
* ``ListPipelineExecutionSteps`` (new), fed by a local pipeline executor through :class:`SageMakerStore`;
* tags on model package ARNs (versioned ``.../model-package/group/3`` crashes moto) and AddTags overwriting keys;
* creating a model, endpoint config or endpoint that already exists is refused; a model whose container names a
  model package needs that package to exist; endpoint configs accept every instance type of the API.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import botocore.session
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import (
    FakeEndpoint,
    FakeEndpointConfig,
    ModelPackage,
    SageMakerModelBackend,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

from local.aws import sagemaker_events as ev
from local.aws.runtime import RUNTIME, Fault

IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")

DEFAULT_FAILURE_REASON = (
    "The primary container for production variant {variant} did not pass the ping health check. "
    "Please check CloudWatch logs for this endpoint."
)
DEFAULT_ROLLBACK_REASON = (
    "Deployment rolled back to endpoint configuration {old_config}: auto-rollback alarm(s) {alarms} "
    "went into ALARM state during the deployment of {new_config}."
)

MAX_TAGS = 50


# =================================================================================================================
# helpers
# =================================================================================================================
def _backend_for_arn(arn: str) -> SageMakerModelBackend:
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "sagemaker":
        raise ValidationError(f"Invalid ARN: {arn}")
    return sagemaker_backends[parts[4]][parts[3]]


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return ev.as_datetime(value).replace(tzinfo=None)


def _endpoint_arn(backend: SageMakerModelBackend, name: str) -> str:
    return FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)


def _config_arn(backend: SageMakerModelBackend, name: str) -> str:
    return FakeEndpointConfig.arn_formatter(name, backend.account_id, backend.region_name)


def _valid_instance_types() -> set[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return set(model.shape_for("ProductionVariantInstanceType").enum)


_INSTANCE_TYPES: set[str] | None = None


def _validate_instance_type(self: FakeEndpointConfig, instance_type: str) -> None:
    global _INSTANCE_TYPES  # noqa: PLW0603
    if _INSTANCE_TYPES is None:
        _INSTANCE_TYPES = _valid_instance_types()
    if instance_type not in _INSTANCE_TYPES:
        raise ValidationError(
            f"Value '{instance_type}' at 'productionVariants.1.member.instanceType' failed to satisfy constraint: "
            "Member must satisfy enum value set"
        )


# =================================================================================================================
# endpoints: models of the extra state kept on moto's FakeEndpoint
# =================================================================================================================
def _image_of_model(backend: SageMakerModelBackend, model_name: str | None) -> str | None:
    model = backend._models.get(model_name or "")
    if model is None:
        return None
    container = model.primary_container or (model.containers[0] if model.containers else {})
    if container.get("Image"):
        return container["Image"]
    package_name = container.get("ModelPackageName")
    if package_name:
        mapped = backend.model_package_name_mapping.get(package_name, package_name)
        package = backend.model_packages.get(mapped)
        if package and package.inference_specification:
            containers = package.inference_specification.get("Containers") or [{}]
            return containers[0].get("Image")
    return None


def _variant_summaries(
    backend: SageMakerModelBackend, config: FakeEndpointConfig, current: bool = True
) -> list[dict[str, Any]]:
    """ProductionVariantSummary list of an endpoint running ``config`` (``current``: capacity already there)."""
    out = []
    for pv in config.production_variants:
        count = pv.get("InitialInstanceCount")
        weight = float(pv.get("InitialVariantWeight", 1.0))
        summary: dict[str, Any] = {"VariantName": pv["VariantName"]}
        image = _image_of_model(backend, pv.get("ModelName"))
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
        out.append(summary)
    return out


def _data_capture_summary(config: FakeEndpointConfig) -> dict[str, Any] | None:
    dcc = config.data_capture_config or {}
    if not dcc:
        return None
    enabled = bool(dcc.get("EnableCapture", True))
    return ev.drop_none(
        {
            "EnableCapture": enabled,
            "CaptureStatus": "Started" if enabled else "Stopped",
            "CurrentSamplingPercentage": dcc.get("InitialSamplingPercentage"),
            "DestinationS3Uri": dcc.get("DestinationS3Uri"),
            "KmsKeyId": dcc.get("KmsKeyId"),
        }
    )


def _ext(endpoint: FakeEndpoint) -> dict[str, Any]:
    """Extension state of an endpoint (kept on the moto object, so moto's reset forgets it too)."""
    state = endpoint.__dict__.get("_local_ext")
    if state is None:
        state = {"generation": 0, "pending": None, "deployment_config": None}
        endpoint.__dict__["_local_ext"] = state
    return state


def _endpoint_event_detail(
    endpoint: FakeEndpoint, *, pending: dict[str, Any] | None = None, variants: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return ev.endpoint_detail(
        endpoint_name=endpoint.endpoint_name,
        endpoint_arn=endpoint.arn,
        endpoint_config_name=endpoint.endpoint_config_name,
        endpoint_status=endpoint.endpoint_status,
        production_variants=[
            {k: v for k, v in pv.items() if k not in ("DeployedImages", "InstanceType")}
            for pv in (variants if variants is not None else endpoint.production_variants)
        ],
        creation_time=endpoint.creation_time,
        last_modified_time=endpoint.last_modified_time,
        tags=endpoint.tags,
        failure_reason=endpoint.failure_reason,
        pending_deployment_summary=pending,
    )


def _emit_endpoint_state(backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
    detail = _endpoint_event_detail(endpoint)
    ev.publish(
        ev.envelope(
            ev.ENDPOINT_STATE_CHANGE,
            detail,
            [endpoint.arn],
            account=backend.account_id,
            region=backend.region_name,
            time=ev.epoch_ms_str(),
        )
    )


def _pending_for_event(pending: dict[str, Any]) -> dict[str, Any]:
    return {
        "EndpointConfigName": pending["EndpointConfigName"],
        "StartTime": ev.epoch_ms(pending["StartTime"]),
        "ProductionVariants": [
            {k: v for k, v in pv.items() if k not in ("DeployedImages", "InstanceType")}
            | {
                "CurrentWeight": float(pv.get("CurrentWeight", 0.0)),
                "DesiredWeight": float(pv.get("DesiredWeight", 1.0)),
                "VariantStatus": [
                    ev.drop_none({**s, "StartTime": ev.epoch_ms(s.get("StartTime"))}) for s in pv["VariantStatus"]
                ],
            }
            for pv in pending["ProductionVariants"]
        ],
    }


def _emit_deployment_state(backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
    pending = _ext(endpoint)["pending"]
    detail = _endpoint_event_detail(endpoint, pending=_pending_for_event(pending) if pending else None)
    ev.publish(
        ev.envelope(
            ev.ENDPOINT_DEPLOYMENT_STATE_CHANGE,
            detail,
            [endpoint.arn],
            account=backend.account_id,
            region=backend.region_name,
        )
    )


def _set_status(
    backend: SageMakerModelBackend, endpoint: FakeEndpoint, status: str, failure_reason: str | None = None
) -> None:
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure_reason
    endpoint.last_modified_time = utcnow()
    _emit_endpoint_state(backend, endpoint)


def _schedule(
    backend: SageMakerModelBackend,
    endpoint: FakeEndpoint,
    delay: float,
    step: Callable[[FakeEndpoint], None],
    label: str,
) -> None:
    """Run ``step`` later unless the endpoint has been deleted or re-created meanwhile."""
    name, generation = endpoint.endpoint_name, _ext(endpoint)["generation"]

    def run() -> None:
        with RUNTIME.lock:
            current = backend.endpoints.get(name)
            if current is None or current is not endpoint or _ext(current)["generation"] != generation:
                return
            step(current)

    RUNTIME.scheduler.submit(delay, run, label=f"{label} {name}")


def _capacity(variant: dict[str, Any]) -> int:
    return int(variant.get("DesiredInstanceCount") or 1)


def _canary_instances(deployment_config: dict[str, Any] | None, total: int) -> int | None:
    routing = ((deployment_config or {}).get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration") or {}
    size = routing.get("CanarySize") if routing.get("Type") == "CANARY" else None
    if not size:
        return None
    if size.get("Type") == "INSTANCE_COUNT":
        return max(1, min(total, int(size.get("Value", 1))))
    return max(1, math.ceil(total * float(size.get("Value", 10)) / 100))


def _bake_seconds(deployment_config: dict[str, Any] | None) -> int:
    policy = (deployment_config or {}).get("BlueGreenUpdatePolicy") or {}
    return int(policy.get("TerminationWaitInSeconds", 0))


def _alarm_names(deployment_config: dict[str, Any] | None) -> list[str]:
    alarms = ((deployment_config or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    return [a["AlarmName"] for a in alarms if a.get("AlarmName")]


# =================================================================================================================
# backend: endpoints
# =================================================================================================================
class EndpointExtension:
    """Methods installed on ``SageMakerModelBackend`` for endpoints and their configs."""

    def create_model(self: Any, model_name: str, **kwargs: Any) -> Any:
        with RUNTIME.lock:
            if model_name in self._models:
                arn = arn_formatter("model", model_name, self.account_id, self.region_name)
                raise ValidationError(f'Cannot create already existing model "{arn}".')
            for container in [kwargs.get("primary_container") or {}, *(kwargs.get("containers") or [])]:
                package = container.get("ModelPackageName")
                if package:
                    self.describe_model_package(package)
            return _ORIGINALS["create_model"](self, model_name=model_name, **kwargs)

    def create_endpoint_config(self: Any, endpoint_config_name: str, **kwargs: Any) -> FakeEndpointConfig:
        with RUNTIME.lock:
            if endpoint_config_name in self.endpoint_configs:
                arn = _config_arn(self, endpoint_config_name)
                raise ValidationError(f'Cannot create already existing endpoint configuration "{arn}".')
            config = _ORIGINALS["create_endpoint_config"](self, endpoint_config_name=endpoint_config_name, **kwargs)
            config.arn = config.endpoint_config_arn  # moto stores a 1-tuple, which breaks the tagging API
            return config

    def _endpoint_config_or_error(self: Any, endpoint_config_name: str) -> FakeEndpointConfig:
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            raise ValidationError(f'Could not find endpoint configuration "{_config_arn(self, endpoint_config_name)}".')
        return config

    def _endpoint_or_error(self: Any, endpoint_name: str) -> FakeEndpoint:
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            raise ValidationError(f'Could not find endpoint "{_endpoint_arn(self, endpoint_name)}".')
        return endpoint

    def create_endpoint(
        self: Any,
        endpoint_name: str,
        endpoint_config_name: str,
        tags: list[dict[str, str]] | None,
        deployment_config: dict[str, Any] | None = None,
    ) -> FakeEndpoint:
        with RUNTIME.lock:
            if endpoint_name in self.endpoints:
                raise ValidationError(
                    f'Cannot create already existing endpoint "{_endpoint_arn(self, endpoint_name)}".'
                )
            config = self._endpoint_config_or_error(endpoint_config_name)
            endpoint = FakeEndpoint(
                account_id=self.account_id,
                region_name=self.region_name,
                endpoint_name=endpoint_name,
                endpoint_config_name=endpoint_config_name,
                production_variants=[],
                data_capture_config=config.data_capture_config,
                tags=list(tags or []),
            )
            endpoint.production_variants = _variant_summaries(self, config, current=False)
            endpoint.endpoint_status = "Creating"
            _ext(endpoint)["deployment_config"] = deployment_config
            self.endpoints[endpoint_name] = endpoint
            _emit_endpoint_state(self, endpoint)
            fault = RUNTIME.take_fault(endpoint_name, "create", kinds=("fail",))
            backend = self

            def finish(ep: FakeEndpoint) -> None:
                if fault is not None:
                    variant = config.production_variants[0]["VariantName"] if config.production_variants else ""
                    _set_status(backend, ep, "Failed", fault.reason or DEFAULT_FAILURE_REASON.format(variant=variant))
                    return
                ep.production_variants = _variant_summaries(backend, config, current=True)
                _set_status(backend, ep, "InService")

            _schedule(self, endpoint, RUNTIME.timings.endpoint_create, finish, "create")
            return endpoint

    def update_endpoint(
        self: Any,
        endpoint_name: str,
        endpoint_config_name: str,
        *,
        retain_all_variant_properties: bool = False,
        exclude_retained_variant_properties: list[dict[str, str]] | None = None,
        deployment_config: dict[str, Any] | None = None,
        retain_deployment_config: bool = False,
    ) -> str:
        with RUNTIME.lock:
            endpoint = self._endpoint_or_error(endpoint_name)
            new_config = self._endpoint_config_or_error(endpoint_config_name)
            if endpoint.endpoint_status == "Failed":
                raise ValidationError(f'Cannot update failed endpoint "{endpoint.arn}".')
            if endpoint.endpoint_status != "InService":
                raise ValidationError(f'Cannot update in-progress endpoint "{endpoint.arn}".')

            state = _ext(endpoint)
            if deployment_config is None and retain_deployment_config:
                deployment_config = state["deployment_config"]
            state["deployment_config"] = deployment_config
            old_config_name = endpoint.endpoint_config_name
            old_variants = copy.deepcopy(endpoint.production_variants)
            excluded = {p.get("VariantPropertyType") for p in exclude_retained_variant_properties or []}

            target_variants = _variant_summaries(self, new_config, current=True)
            if retain_all_variant_properties:
                previous = {v["VariantName"]: v for v in old_variants}
                for variant in target_variants:
                    before = previous.get(variant["VariantName"])
                    if not before:
                        continue
                    if "DesiredInstanceCount" not in excluded and "DesiredInstanceCount" in before:
                        variant["DesiredInstanceCount"] = variant["CurrentInstanceCount"] = before[
                            "DesiredInstanceCount"
                        ]
                    if "DesiredWeight" not in excluded and "DesiredWeight" in before:
                        variant["DesiredWeight"] = variant["CurrentWeight"] = before["DesiredWeight"]
            retained_capture = (
                retain_all_variant_properties and "DataCaptureConfig" not in excluded and endpoint.data_capture_config
            )
            start = utcnow()
            pending_variants = []
            for variant in target_variants:
                pending_variant = copy.deepcopy(variant)
                pending_variant["CurrentWeight"] = 0.0
                if "CurrentInstanceCount" in pending_variant:
                    pending_variant["CurrentInstanceCount"] = 0
                pending_variant["VariantStatus"] = [
                    {
                        "Status": "Creating",
                        "StatusMessage": f"Launching {_capacity(variant)} instance(s).",
                        "StartTime": start,
                    }
                ]
                pending_variants.append(pending_variant)
            state["pending"] = {
                "EndpointConfigName": endpoint_config_name,
                "StartTime": start,
                "ProductionVariants": pending_variants,
            }
            fault = RUNTIME.take_fault(endpoint_name, "update")
            endpoint.endpoint_status = "Updating"
            endpoint.failure_reason = None
            endpoint.last_modified_time = start
            _emit_endpoint_state(self, endpoint)
            _emit_deployment_state(self, endpoint)
            backend = self
            duration = RUNTIME.timings.endpoint_update

            def variant_phase(status: str, message: Callable[[dict[str, Any]], str]) -> Callable[[FakeEndpoint], None]:
                def step(ep: FakeEndpoint) -> None:
                    pending = _ext(ep)["pending"]
                    if not pending:
                        return
                    now = utcnow()
                    for pv in pending["ProductionVariants"]:
                        pv["CurrentInstanceCount"] = pv.get("DesiredInstanceCount", pv.get("CurrentInstanceCount"))
                        if status != "Creating":
                            pv["CurrentWeight"] = pv["DesiredWeight"]
                        pv["VariantStatus"] = [{"Status": status, "StatusMessage": message(pv), "StartTime": now}]
                    _emit_deployment_state(backend, ep)

                return step

            def traffic_scope(pv: dict[str, Any]) -> str:
                total = _capacity(pv)
                canary = _canary_instances(deployment_config, total)
                return f"canary capacity of {canary}" if canary else f"full capacity of {total}"

            _schedule(
                self,
                endpoint,
                duration * 0.4,
                variant_phase(
                    "ActivatingTraffic", lambda pv: f"Activating traffic on {traffic_scope(pv)} instance(s)."
                ),
                "activate",
            )
            _schedule(
                self,
                endpoint,
                duration * 0.6,
                variant_phase(
                    "Baking",
                    lambda pv: (
                        f"Baking for {_bake_seconds(deployment_config)} seconds (TerminationWaitInSeconds) "
                        f"with traffic enabled on {traffic_scope(pv)} instance(s)."
                    ),
                ),
                "bake",
            )

            def finish(ep: FakeEndpoint) -> None:
                _ext(ep)["pending"] = None
                if fault is None:
                    ep.endpoint_config_name = endpoint_config_name
                    ep.production_variants = target_variants
                    if not retained_capture:
                        ep.data_capture_config = new_config.data_capture_config
                    _set_status(backend, ep, "InService")
                    return
                ep.endpoint_config_name = old_config_name
                ep.production_variants = old_variants
                if fault.kind == "rollback":
                    alarms = [fault.alarm_name] if fault.alarm_name else _alarm_names(deployment_config)
                    reason = fault.reason or DEFAULT_ROLLBACK_REASON.format(
                        old_config=old_config_name,
                        new_config=endpoint_config_name,
                        alarms=", ".join(alarms) if alarms else "(none configured)",
                    )
                else:
                    variant = target_variants[0]["VariantName"] if target_variants else ""
                    reason = fault.reason or DEFAULT_FAILURE_REASON.format(variant=variant)
                _set_status(backend, ep, "InService", reason)

            _schedule(self, endpoint, duration, finish, "update")
            return endpoint.arn

    def describe_endpoint(self: Any, endpoint_name: str) -> dict[str, Any]:
        with RUNTIME.lock:
            endpoint = self._endpoint_or_error(endpoint_name)
            state = _ext(endpoint)
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
                "LastDeploymentConfig": copy.deepcopy(state["deployment_config"]),
            }
            if config is not None:
                response["DataCaptureConfig"] = _data_capture_summary(config)
                response["AsyncInferenceConfig"] = config.async_inference_config
            if state["pending"]:
                response["PendingDeploymentSummary"] = copy.deepcopy(state["pending"])
            return {k: v for k, v in response.items() if v is not None}

    def delete_endpoint(self: Any, endpoint_name: str) -> None:
        with RUNTIME.lock:
            endpoint = self._endpoint_or_error(endpoint_name)
            if endpoint.endpoint_status in IN_PROGRESS:
                raise ValidationError(f'Cannot update in-progress endpoint "{endpoint.arn}".')
            state = _ext(endpoint)
            state["generation"] += 1
            state["pending"] = None
            _set_status(self, endpoint, "Deleting")
            backend = self

            def gone(ep: FakeEndpoint) -> None:
                backend.endpoints.pop(ep.endpoint_name, None)

            _schedule(self, endpoint, RUNTIME.timings.endpoint_delete, gone, "delete")


# =================================================================================================================
# backend: model packages
# =================================================================================================================
UPDATABLE_PACKAGE_FIELDS = (
    # (request parameter, field named in UpdatedModelPackageFields)
    ("ModelApprovalStatus", "ModelApprovalStatus"),
    ("ApprovalDescription", "ApprovalDescription"),
    ("CustomerMetadataProperties", "CustomerMetadataProperties"),
    ("CustomerMetadataPropertiesToRemove", "CustomerMetadataProperties"),
    ("AdditionalInferenceSpecificationsToAdd", "AdditionalInferenceSpecifications"),
    ("InferenceSpecification", "InferenceSpecification"),
    ("SourceUri", "SourceUri"),
    ("ModelCard", "ModelCard"),
    ("ModelLifeCycle", "ModelLifeCycle"),
)


def _package_description(package: ModelPackage) -> dict[str, Any]:
    description = package.gen_response_object()
    return description


def _emit_package_state(backend: Any, package: ModelPackage, updated_fields: list[str] | None) -> None:
    detail = ev.model_package_detail(_package_description(package), updated_fields)
    ev.publish(
        ev.envelope(
            ev.MODEL_PACKAGE_STATE_CHANGE,
            detail,
            [package.arn],
            account=backend.account_id,
            region=backend.region_name,
            time=ev.iso(package.last_modified_time or package.creation_time),
        )
    )


def _package_response_object(self: ModelPackage) -> dict[str, Any]:
    response = _ORIGINALS["ModelPackage.gen_response_object"](self)
    # DescribeModelPackage always returns ModelPackageName (a versioned package is named after its group)
    response.setdefault("ModelPackageName", self.model_package_name)
    for key in ("SourceUri", "ModelCard", "ModelLifeCycle"):
        value = self.__dict__.get(f"_local_{key}")
        if value is not None:
            response[key] = value
    return response


class ModelPackageExtension:
    """Methods installed on ``SageMakerModelBackend`` for the model registry."""

    def _model_package_or_error(self: Any, name_or_arn: str) -> ModelPackage:
        mapped = self.model_package_name_mapping.get(name_or_arn, name_or_arn)
        package = self.model_packages.get(mapped) or self.model_packages.get(mapped.lower())
        if package is None and re.match(r"^arn:aws[a-z\-]*:sagemaker:", name_or_arn):
            lowered = name_or_arn.lower()
            package = next((p for p in self.model_packages.values() if p.arn.lower() == lowered), None)
        if package is None:
            raise ValidationError(f"ModelPackage {name_or_arn} does not exist.")
        return package

    def describe_model_package(self: Any, model_package_name: str) -> ModelPackage:
        with RUNTIME.lock:
            return self._model_package_or_error(model_package_name)

    def _highest_versions(self: Any) -> dict[str, int]:
        highest = self.__dict__.get("_local_highest_versions")
        if highest is None:
            highest = self.__dict__["_local_highest_versions"] = {}
        return highest

    def create_model_package(self: Any, **kwargs: Any) -> str:
        with RUNTIME.lock:
            arn = _ORIGINALS["create_model_package"](self, **kwargs)
            package = self.model_packages[arn]
            group = package.model_package_group_name
            if package.model_package_version is not None and group:
                # versions are never reused, even after a version is deleted (moto counts the live ones)
                highest = self._highest_versions()
                version = max(highest.get(group, 0) + 1, package.model_package_version)
                highest[group] = version
                if version != package.model_package_version:
                    arn = self._renumber_model_package(package, version)
            package.last_modified_time = package.creation_time
            if package.tags is None:
                package.tags = []
            _emit_package_state(self, package, None)
            return arn

    def _renumber_model_package(self: Any, package: ModelPackage, version: int) -> str:
        old_arn = package.arn
        new_arn = arn_formatter(
            "model-package", f"{package.model_package_name.lower()}/{version}", self.account_id, self.region_name
        )
        self.model_packages.pop(old_arn, None)
        for key, value in list(self.model_package_name_mapping.items()):
            if value == old_arn:
                self.model_package_name_mapping[key] = new_arn
        self.model_package_name_mapping.pop(old_arn, None)
        package.model_package_version = version
        package.arn = new_arn
        for statuses in package.model_package_status_details.values():
            for status in statuses:
                if status.get("Name") == old_arn:
                    status["Name"] = new_arn
        self.model_packages[new_arn] = package
        self.model_package_name_mapping[new_arn] = new_arn
        return new_arn

    def delete_model_package(self: Any, model_package_name: str) -> None:
        with RUNTIME.lock:
            package = self._model_package_or_error(model_package_name)
            self.model_packages.pop(package.arn, None)
            for key, value in list(self.model_package_name_mapping.items()):
                if value == package.arn:
                    del self.model_package_name_mapping[key]
            # a versioned package's group name maps to its latest version in moto: point it at a remaining one
            remaining = [p for p in self.model_packages.values() if p.model_package_name == package.model_package_name]
            if remaining:
                self.model_package_name_mapping[package.model_package_name] = remaining[-1].arn
            package.model_package_status = "Deleting"
            package.last_modified_time = utcnow()
            _emit_package_state(self, package, None)

    def update_model_package(
        self: Any,
        model_package_arn: str,
        *,
        model_approval_status: str | None = None,
        approval_description: str | None = None,
        customer_metadata_properties: dict[str, str] | None = None,
        customer_metadata_properties_to_remove: list[str] | None = None,
        additional_inference_specifications_to_add: list[Any] | None = None,
        inference_specification: dict[str, Any] | None = None,
        source_uri: str | None = None,
        model_card: dict[str, Any] | None = None,
        model_life_cycle: dict[str, Any] | None = None,
        **_: Any,
    ) -> str:
        with RUNTIME.lock:
            package = self._model_package_or_error(model_package_arn)
            given = {
                "ModelApprovalStatus": model_approval_status,
                "ApprovalDescription": approval_description,
                "CustomerMetadataProperties": customer_metadata_properties,
                "CustomerMetadataPropertiesToRemove": customer_metadata_properties_to_remove,
                "AdditionalInferenceSpecificationsToAdd": additional_inference_specifications_to_add,
                "InferenceSpecification": inference_specification,
                "SourceUri": source_uri,
                "ModelCard": model_card,
                "ModelLifeCycle": model_life_cycle,
            }
            if customer_metadata_properties and customer_metadata_properties_to_remove:
                overlap = set(customer_metadata_properties) & set(customer_metadata_properties_to_remove)
                if overlap:
                    raise ValidationError(
                        f"Customer metadata properties {sorted(overlap)} cannot be both added and removed."
                    )
            # validate everything before changing anything
            if model_approval_status is not None:
                sm_models.validate_model_approval_status(model_approval_status)
            if additional_inference_specifications_to_add:
                package.validate_additional_inference_specifications(additional_inference_specifications_to_add)

            if model_approval_status is not None:
                package.set_model_approval_status(model_approval_status)
            if approval_description is not None:
                package.approval_description = approval_description
            if customer_metadata_properties is not None:
                merged = dict(package.customer_metadata_properties or {})
                merged.update(customer_metadata_properties)
                package.customer_metadata_properties = merged
            if customer_metadata_properties_to_remove:
                remaining = {
                    k: v
                    for k, v in (package.customer_metadata_properties or {}).items()
                    if k not in customer_metadata_properties_to_remove
                }
                package.customer_metadata_properties = remaining or None
            if additional_inference_specifications_to_add:
                package.add_additional_inference_specifications(additional_inference_specifications_to_add)
            if inference_specification is not None:
                package.inference_specification = inference_specification
            for key, value in (
                ("SourceUri", source_uri),
                ("ModelCard", model_card),
                ("ModelLifeCycle", model_life_cycle),
            ):
                if value is not None:
                    package.__dict__[f"_local_{key}"] = value
            package.modifications_done()

            updated: list[str] = []
            for parameter, field_name in UPDATABLE_PACKAGE_FIELDS:
                if given[parameter] not in (None, [], {}) and field_name not in updated:
                    updated.append(field_name)
            _emit_package_state(self, package, updated)
            return package.arn


# =================================================================================================================
# backend: tags
# =================================================================================================================
class TagExtension:
    """Tag operations that resolve every ARN moto stores, model package versions included."""

    def _get_resource_from_arn(self: Any, arn: str) -> Any:
        parts = arn.split(":", 5)
        resource_part = parts[5] if len(parts) == 6 else ""
        resource_type, _, resource_id = resource_part.partition("/")
        resource: Any = None
        if resource_type == "model-package":
            try:
                resource = self._model_package_or_error(arn)
            except ValidationError:
                resource = None
        elif resource_type == "pipeline" and "/execution/" in resource_id:
            pipeline = self.pipelines.get(resource_id.split("/", 1)[0])
            resource = pipeline.pipeline_executions.get(arn) if pipeline else None
        else:
            try:
                resource = _ORIGINALS["_get_resource_from_arn"](
                    self, f"{':'.join(parts[:5])}:{resource_type}/{resource_id}"
                )
            except (ValidationError, ValueError, AttributeError):
                resource = None
        if resource is None:
            raise ValidationError(f"Resource {arn} does not exist.")
        if getattr(resource, "tags", None) is None:
            resource.tags = []
        return resource

    def add_tags(self: Any, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
        with RUNTIME.lock:
            resource = self._get_resource_from_arn(arn)
            merged = {t["Key"]: t for t in resource.tags}
            for tag in tags or []:
                merged[tag["Key"]] = {"Key": tag["Key"], "Value": tag.get("Value", "")}
            if len(merged) > MAX_TAGS:
                raise ValidationError(f"Resource {arn} cannot have more than {MAX_TAGS} tags.")
            resource.tags = list(merged.values())
            return list(tags or [])

    def delete_tags(self: Any, arn: str, tag_keys: list[str]) -> None:
        with RUNTIME.lock:
            resource = self._get_resource_from_arn(arn)
            resource.tags = [t for t in resource.tags if t["Key"] not in set(tag_keys or [])]


# =================================================================================================================
# backend: pipeline execution steps
# =================================================================================================================
STEP_FIELDS = (
    "StepName",
    "StepDisplayName",
    "StepDescription",
    "StartTime",
    "EndTime",
    "StepStatus",
    "CacheHitResult",
    "FailureReason",
    "Metadata",
    "AttemptCount",
    "SelectiveExecutionResult",
)
STEP_STATUSES = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")
EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded")


def _normalize_step(step: dict[str, Any]) -> dict[str, Any]:
    unknown = set(step) - set(STEP_FIELDS)
    if unknown:
        raise ValueError(f"unknown PipelineExecutionStep fields: {sorted(unknown)}")
    if not step.get("StepName"):
        raise ValueError("a step needs a StepName")
    if step.get("StepStatus") is not None and step["StepStatus"] not in STEP_STATUSES:
        raise ValueError(f"StepStatus must be one of {STEP_STATUSES}, not {step['StepStatus']!r}")
    out = copy.deepcopy(step)
    for key in ("StartTime", "EndTime"):
        if out.get(key) is not None:
            out[key] = _as_datetime(out[key])
    return out


class PipelineExtension:
    """ListPipelineExecutionSteps and execution statuses set by a local pipeline executor."""

    def _pipeline_steps(self: Any) -> dict[str, list[dict[str, Any]]]:
        steps = self.__dict__.get("_local_pipeline_steps")
        if steps is None:
            steps = self.__dict__["_local_pipeline_steps"] = {}
        return steps

    def _pipeline_execution(self: Any, pipeline_execution_arn: str) -> Any:
        match = re.match(r"^arn:[^:]+:sagemaker:[^:]+:\d+:pipeline/([^/]+)/execution/[^/]+$", pipeline_execution_arn)
        pipeline = self.pipelines.get(match.group(1)) if match else None
        return pipeline.pipeline_executions.get(pipeline_execution_arn) if pipeline else None

    def list_pipeline_execution_steps(
        self: Any,
        pipeline_execution_arn: str,
        next_token: str | None = None,
        max_results: int | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        with RUNTIME.lock:
            recorded = self._pipeline_steps().get(pipeline_execution_arn)
            if recorded is None and self._pipeline_execution(pipeline_execution_arn) is None:
                raise ValidationError(
                    f"Could not find pipeline execution with PipelineExecutionArn {pipeline_execution_arn}."
                )
            if sort_order not in (None, "Ascending", "Descending"):
                raise ValidationError(
                    f"Value '{sort_order}' at 'sortOrder' failed to satisfy constraint: "
                    "Member must satisfy enum value set: [Ascending, Descending]"
                )
            limit = 50 if max_results is None else int(max_results)
            if not 1 <= limit <= 100:
                raise ValidationError(
                    f"Value '{limit}' at 'maxResults' failed to satisfy constraint: "
                    "Member must have value between 1 and 100"
                )
            indexed = list(enumerate(recorded or []))
            # newest first unless asked otherwise; steps recorded together keep their recording order
            indexed.sort(key=lambda item: (item[1].get("StartTime") or datetime.min, item[0]))
            if sort_order != "Ascending":
                indexed.reverse()
            ordered = [copy.deepcopy(step) for _, step in indexed]
            start = 0
            if next_token:
                if not re.fullmatch(r"\d+", next_token) or int(next_token) > len(ordered):
                    raise ValidationError("Invalid pagination token because of an invalid NextToken.")
                start = int(next_token)
            page = ordered[start : start + limit]
            following = start + limit
            return page, (str(following) if following < len(ordered) else None)

    def list_pipeline_executions(
        self: Any,
        pipeline_name: str,
        sort_by: str | None = None,
        sort_order: str | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        """ListPipelineExecutions as the API reference describes it: sorted (CreationTime, newest first, by default),
        paginated, and without a failure reason for executions that did not fail."""
        pipeline = self.pipelines.get(pipeline_name)
        if pipeline is None:
            raise ValidationError(f"Pipeline '{pipeline_name}' does not exist.")
        if sort_by not in (None, "CreationTime", "PipelineExecutionArn"):
            raise ValidationError(
                f"Value '{sort_by}' at 'sortBy' failed to satisfy constraint: "
                "Member must satisfy enum value set: [CreationTime, PipelineExecutionArn]"
            )
        if sort_order not in (None, "Ascending", "Descending"):
            raise ValidationError(
                f"Value '{sort_order}' at 'sortOrder' failed to satisfy constraint: "
                "Member must satisfy enum value set: [Ascending, Descending]"
            )
        summaries = []
        for arn, execution in pipeline.pipeline_executions.items():
            summary = {
                "PipelineExecutionArn": arn,
                "StartTime": execution.start_time,
                "PipelineExecutionStatus": execution.pipeline_execution_status,
                "PipelineExecutionDescription": execution.pipeline_execution_description,
                "PipelineExecutionDisplayName": execution.pipeline_execution_display_name,
            }
            if getattr(execution, "pipeline_execution_failure_reason", None):
                summary["PipelineExecutionFailureReason"] = execution.pipeline_execution_failure_reason
            summaries.append(summary)
        key = "PipelineExecutionArn" if sort_by == "PipelineExecutionArn" else "StartTime"
        summaries.sort(key=lambda item: str(item[key]), reverse=sort_order != "Ascending")
        limit = 50 if max_results is None else int(max_results)
        start = int(next_token) if next_token and next_token.isdigit() else 0
        page = summaries[start : start + limit]
        response: dict[str, Any] = {"PipelineExecutionSummaries": page}
        if start + limit < len(summaries):
            response["NextToken"] = str(start + limit)
        return response

    def describe_pipeline_execution(self: Any, pipeline_execution_arn: str) -> dict[str, Any]:
        with RUNTIME.lock:
            response = _ORIGINALS["describe_pipeline_execution"](self, pipeline_execution_arn)
            execution = self._pipeline_execution(pipeline_execution_arn)
            reason = getattr(execution, "pipeline_execution_failure_reason", None)
            if reason:
                response["FailureReason"] = reason
            else:
                response.pop("FailureReason", None)
            return response


class SageMakerStore:
    """What a local pipeline executor records for SageMaker to report (``ListPipelineExecutionSteps`` etc.).

    Steps use the API's shape (``PipelineExecutionStep``): StepName, StepDisplayName, StepDescription, StepStatus,
    StartTime, EndTime, FailureReason, Metadata (``{"TrainingJob": {"Arn": ...}}``, ``{"Condition": {"Outcome":
    "True"}}``, ``{"Fail": {"ErrorMessage": ...}}``...), AttemptCount, CacheHitResult. Times may be datetimes, ISO
    strings or epoch numbers. Nothing is emitted here: events are the executor's to send (see
    :mod:`local.aws.sagemaker_events` builders), as each is a separate decision.
    """

    def record_step(self, execution_arn: str, step: dict[str, Any]) -> dict[str, Any]:
        """Add ``step`` to the execution, or replace the step of the same StepName. Returns the stored step."""
        normalized = _normalize_step(step)
        backend = _backend_for_arn(execution_arn)
        with RUNTIME.lock:
            steps = backend._pipeline_steps().setdefault(execution_arn, [])
            for i, existing in enumerate(steps):
                if existing["StepName"] == normalized["StepName"]:
                    steps[i] = normalized
                    break
            else:
                steps.append(normalized)
            return copy.deepcopy(normalized)

    def update_step(self, execution_arn: str, step_name: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a recorded step (``StepStatus="Succeeded", EndTime=...``). Returns the stored step."""
        backend = _backend_for_arn(execution_arn)
        with RUNTIME.lock:
            steps = backend._pipeline_steps().get(execution_arn, [])
            for i, existing in enumerate(steps):
                if existing["StepName"] == step_name:
                    steps[i] = _normalize_step({**existing, **fields, "StepName": step_name})
                    return copy.deepcopy(steps[i])
        raise KeyError(f"no step {step_name!r} recorded for {execution_arn}")

    def list_steps(self, execution_arn: str) -> list[dict[str, Any]]:
        """Recorded steps in recording order."""
        backend = _backend_for_arn(execution_arn)
        with RUNTIME.lock:
            return copy.deepcopy(backend._pipeline_steps().get(execution_arn, []))

    def set_pipeline_execution_status(self, execution_arn: str, status: str, failure_reason: str | None = None) -> None:
        """Set what DescribePipelineExecution / ListPipelineExecutions report for an execution moto knows."""
        if status not in EXECUTION_STATUSES:
            raise ValueError(f"status must be one of {EXECUTION_STATUSES}, not {status!r}")
        backend = _backend_for_arn(execution_arn)
        with RUNTIME.lock:
            execution = backend._pipeline_execution(execution_arn)
            if execution is None:
                raise KeyError(f"no pipeline execution {execution_arn}")
            execution.pipeline_execution_status = status
            execution.pipeline_execution_failure_reason = failure_reason
            execution.last_modified_time = utcnow()

    def endpoint(self, name: str, account_id: str, region: str) -> FakeEndpoint | None:
        """moto's endpoint object (read-only use: tests and the demo)."""
        return sagemaker_backends[account_id][region].endpoints.get(name)


# =================================================================================================================
# responses
# =================================================================================================================
class ResponseExtension:
    """Methods installed on ``SageMakerResponse``."""

    def create_endpoint(self: Any) -> ActionResult:
        endpoint = self.sagemaker_backend.create_endpoint(
            endpoint_name=self._get_param("EndpointName"),
            endpoint_config_name=self._get_param("EndpointConfigName"),
            tags=self._get_param("Tags"),
            deployment_config=self._get_param("DeploymentConfig"),
        )
        return ActionResult({"EndpointArn": endpoint.arn})

    def update_endpoint(self: Any) -> ActionResult:
        arn = self.sagemaker_backend.update_endpoint(
            endpoint_name=self._get_param("EndpointName"),
            endpoint_config_name=self._get_param("EndpointConfigName"),
            retain_all_variant_properties=bool(self._get_param("RetainAllVariantProperties", False)),
            exclude_retained_variant_properties=self._get_param("ExcludeRetainedVariantProperties"),
            deployment_config=self._get_param("DeploymentConfig"),
            retain_deployment_config=bool(self._get_param("RetainDeploymentConfig", False)),
        )
        return ActionResult({"EndpointArn": arn})

    def delete_model_package(self: Any) -> ActionResult:
        self.sagemaker_backend.delete_model_package(self._get_param("ModelPackageName"))
        return EmptyResult()

    def delete_endpoint(self: Any) -> ActionResult:
        self.sagemaker_backend.delete_endpoint(self._get_param("EndpointName"))
        return EmptyResult()

    def update_model_package(self: Any) -> ActionResult:
        arn = self.sagemaker_backend.update_model_package(
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

    def list_pipeline_executions(self: Any) -> ActionResult:
        return ActionResult(
            self.sagemaker_backend.list_pipeline_executions(
                pipeline_name=self._get_param("PipelineName"),
                sort_by=self._get_param("SortBy"),
                sort_order=self._get_param("SortOrder"),
                next_token=self._get_param("NextToken"),
                max_results=self._get_param("MaxResults"),
            )
        )

    def list_pipeline_execution_steps(self: Any) -> ActionResult:
        steps, next_token = self.sagemaker_backend.list_pipeline_execution_steps(
            pipeline_execution_arn=self._get_param("PipelineExecutionArn"),
            next_token=self._get_param("NextToken"),
            max_results=self._get_param("MaxResults"),
            sort_order=self._get_param("SortOrder"),
        )
        return ActionResult({"PipelineExecutionSteps": steps, "NextToken": next_token})


# =================================================================================================================
# installation
# =================================================================================================================
_ORIGINALS: dict[str, Any] = {}
_MARK = "_sm_lifecycle_local_extension"


def _public_methods(cls: type) -> dict[str, Any]:
    return {k: v for k, v in vars(cls).items() if callable(v) and not k.startswith("__")}


def install() -> None:
    """Install the extensions into moto (idempotent: a second call changes nothing).

    Works for moto's server (:class:`local.aws.server.EmbeddedAWS` calls it) and for its in-process ``mock_aws``.
    State kept outside moto (faults, timings, the event log) is reset by ``EmbeddedAWS.start()`` or
    ``RUNTIME.reset()``.
    """
    with RUNTIME.lock:
        RUNTIME.start()  # the workers; also when used under moto's in-process ``mock_aws``
        if getattr(SageMakerModelBackend, _MARK, False):
            return
        for name in (
            "create_model",
            "create_endpoint_config",
            "create_model_package",
            "describe_pipeline_execution",
            "_get_resource_from_arn",
        ):
            _ORIGINALS[name] = getattr(SageMakerModelBackend, name)
        _ORIGINALS["ModelPackage.gen_response_object"] = ModelPackage.gen_response_object
        for extension in (EndpointExtension, ModelPackageExtension, TagExtension, PipelineExtension):
            for name, method in _public_methods(extension).items():
                setattr(SageMakerModelBackend, name, method)
        for name, method in _public_methods(ResponseExtension).items():
            setattr(SageMakerResponse, name, method)
        ModelPackage.gen_response_object = _package_response_object  # type: ignore[method-assign]
        FakeEndpointConfig.validate_instance_type = _validate_instance_type  # type: ignore[method-assign]
        ev.install()
        setattr(SageMakerModelBackend, _MARK, True)


def installed() -> bool:
    return bool(getattr(SageMakerModelBackend, _MARK, False))


def fault(kind: str, operation: str, reason: str | None = None, alarm_name: str | None = None) -> Fault:
    return Fault(kind=kind, operation=operation, reason=reason, alarm_name=alarm_name)
