"""The events an endpoint's changes send: "SageMaker Endpoint State Change" and "... Deployment State Change"."""

from __future__ import annotations

from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend

from local.aws.sagemaker.endpoints.state import extras
from local.aws.sagemaker.events import models as ev
from local.aws.timestamps import epoch_ms, epoch_ms_str

_NOT_IN_EVENTS = ("DeployedImages", "InstanceType")  # variant summary fields the events leave out


def _event_variants(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in pv.items() if k not in _NOT_IN_EVENTS} for pv in variants]


def _detail(endpoint: FakeEndpoint, *, pending: dict[str, Any] | None = None) -> dict[str, Any]:
    return ev.endpoint_detail(
        endpoint_name=endpoint.endpoint_name,
        endpoint_arn=endpoint.arn,
        endpoint_config_name=endpoint.endpoint_config_name,
        endpoint_status=endpoint.endpoint_status,
        production_variants=_event_variants(endpoint.production_variants),
        creation_time=endpoint.creation_time,
        last_modified_time=endpoint.last_modified_time,
        tags=endpoint.tags,
        failure_reason=endpoint.failure_reason,
        pending_deployment_summary=pending,
    )


def _pending_for_event(pending: dict[str, Any]) -> dict[str, Any]:
    """A PendingDeploymentSummary as the deployment event carries it (weights as numbers, epoch-ms times)."""
    return {
        "EndpointConfigName": pending["EndpointConfigName"],
        "StartTime": epoch_ms(pending["StartTime"]),
        "ProductionVariants": [
            _event_variants([pv])[0]
            | {
                "CurrentWeight": float(pv.get("CurrentWeight", 0.0)),
                "DesiredWeight": float(pv.get("DesiredWeight", 1.0)),
                "VariantStatus": [
                    ev.drop_none({**s, "StartTime": epoch_ms(s.get("StartTime"))}) for s in pv["VariantStatus"]
                ],
            }
            for pv in pending["ProductionVariants"]
        ],
    }


def emit_endpoint_state(backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
    ev.emit(
        ev.ENDPOINT_STATE_CHANGE,
        _detail(endpoint),
        [endpoint.arn],
        account=backend.account_id,
        region=backend.region_name,
        time=epoch_ms_str(),
        wait=False,
    )


def emit_deployment_state(backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
    pending = extras(endpoint).pending
    detail = _detail(endpoint, pending=_pending_for_event(pending) if pending else None)
    ev.emit(
        ev.ENDPOINT_DEPLOYMENT_STATE_CHANGE,
        detail,
        [endpoint.arn],
        account=backend.account_id,
        region=backend.region_name,
        wait=False,
    )


def set_status(
    backend: SageMakerModelBackend, endpoint: FakeEndpoint, status: str, failure_reason: str | None = None
) -> None:
    """Move the endpoint to ``status`` now, and say so with an endpoint state change event."""
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure_reason  # type: ignore[assignment]  # moto declares it None
    endpoint.last_modified_time = utcnow()
    emit_endpoint_state(backend, endpoint)
