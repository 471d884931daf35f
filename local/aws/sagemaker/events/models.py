"""Events that SageMaker sends to EventBridge: their documented shapes, and the log they are published to.

Shapes follow "Events that Amazon SageMaker AI sends to Amazon EventBridge" (samples in ``events/`` and the
shared aws-events directory). Casing and time formats differ per event type, as in AWS:

* model package state change: PascalCase detail, ``CreationTime``/``LastModifiedTime`` ISO-8601 strings;
* endpoint (deployment) state change: PascalCase, statuses in upper snake case (``IN_SERVICE``), times epoch-ms
  numbers, ``Tags`` as a map;
* pipeline execution / step status change: camelCase detail carrying ``pipelineArn``, ISO times;
* training job state change: PascalCase, times as epoch-ms strings.

:func:`publish` appends an event to the emitted-event log and queues it for delivery after every event queued before
it; :mod:`local.aws.sagemaker.events.delivery` delivers it through moto's EventBridge.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from local.aws.runtime import RUNTIME
from local.aws.timestamps import Moment, epoch_ms, epoch_ms_str, iso

SOURCE = "aws.sagemaker"

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
ENDPOINT_DEPLOYMENT_STATE_CHANGE = "SageMaker Endpoint Deployment State Change"
PIPELINE_EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
PIPELINE_STEP_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Step Status Change"
TRAINING_JOB_STATE_CHANGE = "SageMaker Training Job State Change"
PROCESSING_JOB_STATE_CHANGE = "SageMaker Processing Job State Change"


def upper_snake(status: str) -> str:
    """``InService`` -> ``IN_SERVICE`` (how endpoint events spell the API's statuses)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", status).upper()


def tag_map(tags: Iterable[Mapping[str, str]] | Mapping[str, str] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` (the API's tags) as ``{k: v}`` (the events' tags); a map is copied."""
    if isinstance(tags, Mapping):
        return dict(tags)
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# -- envelope -----------------------------------------------------------------------------------------------------
def envelope(
    detail_type: str,
    detail: Mapping[str, Any],
    resources: Iterable[str],
    *,
    account: str,
    region: str,
    time: str | None = None,
) -> dict[str, Any]:
    """An EventBridge event as SageMaker sends it (fresh ``id``; ``time`` defaults to now, ISO-8601)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": account,
        "time": time if time is not None else iso(),
        "region": region,
        "resources": list(resources),
        "detail": copy.deepcopy(dict(detail)),
    }


# -- detail builders ----------------------------------------------------------------------------------------------
MODEL_PACKAGE_DETAIL_FIELDS = (
    "ModelPackageGroupName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "ModelPackageName",
    "ModelPackageDescription",
    "CreationTime",
    "InferenceSpecification",
    "SourceAlgorithmSpecification",
    "ModelPackageStatus",
    "ModelPackageStatusDetails",
    "CertifyForMarketplace",
    "ModelApprovalStatus",
    "MetadataProperties",
    "ModelMetrics",
    "LastModifiedTime",
    "ApprovalDescription",
    "CustomerMetadataProperties",
    "DriftCheckBaselines",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "AdditionalInferenceSpecifications",
    "SourceUri",
    "ModelLifeCycle",
)


def model_package_detail(description: Mapping[str, Any], updated_fields: list[str] | None = None) -> dict[str, Any]:
    """Detail of "SageMaker Model Package State Change" from a DescribeModelPackage-like dict.

    ``updated_fields`` is given for updates (``UpdatedModelPackageFields``) and omitted for creation.
    """
    detail: dict[str, Any] = {}
    for key in MODEL_PACKAGE_DETAIL_FIELDS:
        value = description.get(key)
        if value is None:
            continue
        detail[key] = iso(value) if key in ("CreationTime", "LastModifiedTime") else copy.deepcopy(value)
    if "LastModifiedTime" not in detail and "CreationTime" in detail:
        detail["LastModifiedTime"] = detail["CreationTime"]
    if updated_fields is not None:
        detail["UpdatedModelPackageFields"] = list(updated_fields)
    return detail


def endpoint_detail(
    *,
    endpoint_name: str,
    endpoint_arn: str,
    endpoint_config_name: str,
    endpoint_status: str,
    production_variants: list[dict[str, Any]],
    creation_time: Moment,
    last_modified_time: Moment,
    tags: Iterable[Mapping[str, str]] | Mapping[str, str] | None = None,
    failure_reason: str | None = None,
    pending_deployment_summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Detail of "SageMaker Endpoint State Change" / "... Endpoint Deployment State Change".

    ``endpoint_status`` may be given as the API spells it (``InService``) or already upper snake.
    """
    status = endpoint_status if endpoint_status.isupper() else upper_snake(endpoint_status)
    detail: dict[str, Any] = {
        "EndpointName": endpoint_name,
        "EndpointArn": endpoint_arn,
        "EndpointConfigName": endpoint_config_name,
        "ProductionVariants": [_variant_for_event(v) for v in production_variants],
        "EndpointStatus": status,
        "CreationTime": epoch_ms(creation_time),
        "LastModifiedTime": epoch_ms(last_modified_time),
        "Tags": tag_map(tags),
    }
    if failure_reason:
        detail["FailureReason"] = failure_reason
    if pending_deployment_summary:
        detail["PendingDeploymentSummary"] = pending_deployment_summary
    return detail


def _variant_for_event(variant: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in variant.items():
        if key in ("CurrentWeight", "DesiredWeight", "DesiredInstanceCount") and value is not None:
            out[key] = float(value)
        elif key == "VariantStatus":
            out[key] = [drop_none({**s, "StartTime": epoch_ms(s.get("StartTime"))}) for s in value]
        else:
            out[key] = copy.deepcopy(value)
    return out


def pipeline_execution_detail(
    *,
    pipeline_arn: str,
    pipeline_execution_arn: str,
    current_status: str,
    previous_status: str | None = None,
    execution_start_time: Moment = None,
    execution_end_time: Moment = None,
    display_name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Detail of "SageMaker Model Building Pipeline Execution Status Change" (camelCase, no pipeline name)."""
    return drop_none(
        {
            "pipelineExecutionDisplayName": display_name,
            "currentPipelineExecutionStatus": current_status,
            "previousPipelineExecutionStatus": previous_status,
            "executionStartTime": iso(execution_start_time) if execution_start_time is not None else None,
            "executionEndTime": iso(execution_end_time) if execution_end_time is not None else None,
            "pipelineExecutionDescription": description,
            "pipelineArn": pipeline_arn,
            "pipelineExecutionArn": pipeline_execution_arn,
        }
    )


_STEP_METADATA_KEYS = {
    "TrainingJob": "trainingJob",
    "ProcessingJob": "processingJob",
    "TransformJob": "transformJob",
    "TuningJob": "tuningJob",
    "Model": "model",
    "RegisterModel": "registerModel",
    "Condition": "condition",
    "Fail": "fail",
    "Lambda": "lambda",
    "Callback": "callback",
}


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def _camel_tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_camel(str(k)): _camel_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_tree(v) for v in value]
    return value


def pipeline_step_detail(
    *,
    pipeline_arn: str,
    pipeline_execution_arn: str,
    step_name: str,
    current_status: str,
    previous_status: str | None = None,
    step_type: str | None = None,
    step_start_time: Moment = None,
    step_end_time: Moment = None,
    failure_reason: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Detail of "SageMaker Model Building Pipeline Execution Step Status Change".

    ``metadata`` may be given in the API's shape (``{"TrainingJob": {"Arn": ...}}``, as ListPipelineExecutionSteps
    returns it); it is sent camelCased (``{"trainingJob": {"arn": ...}}``) as the event does.
    """
    return drop_none(
        {
            "metadata": _camel_tree(metadata or {}),
            "stepStartTime": iso(step_start_time) if step_start_time is not None else None,
            "stepEndTime": iso(step_end_time) if step_end_time is not None else None,
            "stepName": step_name,
            "stepType": step_type,
            "previousStepStatus": previous_status,
            "currentStepStatus": current_status,
            "failureReason": failure_reason,
            "pipelineArn": pipeline_arn,
            "pipelineExecutionArn": pipeline_execution_arn,
        }
    )


def training_job_detail(description: Mapping[str, Any]) -> dict[str, Any]:
    """Detail of "SageMaker Training Job State Change" from a DescribeTrainingJob-like dict.

    Times become epoch-ms strings and ``Tags`` a map, as in the event.
    """
    time_keys = ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime")
    detail: dict[str, Any] = {}
    for key, value in description.items():
        if value is None or key == "ResponseMetadata":
            continue
        if key in time_keys:
            detail[key] = epoch_ms_str(value)
        elif key == "Tags":
            detail[key] = tag_map(value)
        elif key == "SecondaryStatusTransitions":
            detail[key] = [
                {k: (epoch_ms_str(v) if k in ("StartTime", "EndTime") else v) for k, v in t.items()} for t in value
            ]
        else:
            detail[key] = copy.deepcopy(value)
    detail.setdefault("Tags", {})
    return detail


# -- publishing ---------------------------------------------------------------------------------------------------
def publish(event: dict[str, Any], *, wait: bool = False) -> dict[str, Any]:
    """Log ``event`` and queue it for delivery after every event queued before it (``wait``: until delivered)."""
    dispatcher = RUNTIME.dispatcher
    if dispatcher is None:
        raise RuntimeError("events cannot be delivered: the embedded AWS's extensions are not installed")
    with RUNTIME.lock:
        RUNTIME.emitted_events.append(event)
    dispatcher.put(event, wait=wait)
    return event


def emit(
    detail_type: str,
    detail: Mapping[str, Any],
    resources: Iterable[str],
    *,
    account: str,
    region: str,
    time: str | None = None,
    wait: bool = True,
) -> dict[str, Any]:
    """Build an ``aws.sagemaker`` event and deliver it through EventBridge; returns the event."""
    return publish(envelope(detail_type, detail, resources, account=account, region=region, time=time), wait=wait)
