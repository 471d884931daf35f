"""Typed models (pydantic) of the SageMaker events this stack reacts to.

Field names are python snake_case; each is aliased to the exact casing SageMaker sends (PascalCase for model package,
training job and endpoint events, camelCase for pipeline events). Unknown fields are kept (``model_extra``), never an
error: SageMaker adds fields over time. Every time field accepts what :mod:`sm_lifecycle.kernel.timestamps` does
(ISO 8601 strings, epoch seconds or milliseconds as strings or numbers) and becomes an aware UTC ``datetime``
(:data:`UtcDatetime`).

    event = parse_event(raw, ModelPackageStateChangeEvent)   # or parse_one_of(raw, models), on detail-type
    event.detail.model_approval_status                       # ModelApprovalStatus.APPROVED

They raise :class:`~sm_lifecycle.kernel.errors.InvalidEventError` whose ``field`` is the dotted path of the first
offending field as AWS spells it (``"detail.ModelPackageArn"``, ``"detail-type"``, ``"detail.ProductionVariants.0"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel, to_pascal

from sm_lifecycle.kernel.errors import InvalidEventError
from sm_lifecycle.kernel.registry import ModelApprovalStatus
from sm_lifecycle.kernel.timestamps import to_utc_datetime

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

__all__ = [
    "DETAIL_TYPES",
    "EndpointDeploymentStateChangeDetail",
    "EndpointDeploymentStateChangeEvent",
    "EndpointStateChangeDetail",
    "EndpointStateChangeEvent",
    "ModelPackageStateChangeDetail",
    "ModelPackageStateChangeEvent",
    "PascalDetail",
    "PipelineExecutionStatusChangeDetail",
    "PipelineExecutionStatusChangeEvent",
    "PipelineStepStatusChangeDetail",
    "PipelineStepStatusChangeEvent",
    "SageMakerEvent",
    "TrainingJobStateChangeDetail",
    "TrainingJobStateChangeEvent",
    "UtcDatetime",
    "parse_any",
    "parse_event",
    "parse_one_of",
]

# ------------------------------------------------------------------------------------------------ time

UtcDatetime = Annotated[datetime, PlainValidator(to_utc_datetime)]
"""A time field as SageMaker sends it (ISO string, epoch string or number) → aware UTC ``datetime``."""

# ------------------------------------------------------------------------------------------------ bases
# defer_build: a model's validator is built on its first use, so a function builds only the models of the events it
# receives (cold start), not all six at import.


class _PascalDetail(BaseModel):
    """Detail of model package, training job and endpoint events (``ModelPackageArn`` style)."""

    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="allow", frozen=True, defer_build=True
    )


PascalDetail = _PascalDetail
"""The base of a detail in SageMaker's PascalCase (for the stack's own events shaped like SageMaker's)."""


class _CamelDetail(BaseModel):
    """Detail of pipeline events (``pipelineExecutionArn`` style)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True, defer_build=True
    )


class SageMakerEvent(BaseModel):
    """Envelope of every SageMaker event; subclasses pin ``detail-type`` and type ``detail``.

    The fields are those of Powertools' ``EventBridgeModel`` (a unit test keeps them in step). It is declared here
    rather than inherited because importing ``aws_lambda_powertools.utilities.parser`` loads every envelope and model
    of that package, which doubles a handler's cold-start import time for one small class.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True, defer_build=True)

    DETAIL_TYPE: ClassVar[str] = ""
    version: str
    id: str
    source: Literal["aws.sagemaker"]
    account: str
    time: UtcDatetime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type")
    detail: Any
    replay_name: str | None = Field(default=None, alias="replay-name")


def _pipeline_name(pipeline_arn: str) -> str:
    """``arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME[/execution/ID]`` → ``NAME``."""
    _, _, rest = pipeline_arn.partition(":pipeline/")
    return rest.split("/", 1)[0]


def _execution_id(pipeline_execution_arn: str) -> str:
    _, _, execution_id = pipeline_execution_arn.rpartition("/execution/")
    return execution_id


# ------------------------------------------------------------------------------------------------ model package


class ModelPackageStateChangeDetail(_PascalDetail):
    model_package_group_name: str
    model_package_version: int
    model_package_arn: str
    model_approval_status: ModelApprovalStatus
    model_package_status: str | None = None
    inference_specification: dict[str, Any] | None = None
    model_metrics: dict[str, Any] | None = None
    customer_metadata_properties: dict[str, str] | None = None
    metadata_properties: dict[str, Any] | None = None
    updated_model_package_fields: list[str] = Field(default_factory=list)
    approval_description: str | None = None
    model_package_description: str | None = None
    creation_time: UtcDatetime | None = None
    last_modified_time: UtcDatetime | None = None

    @property
    def is_new(self) -> bool:
        """An event without ``UpdatedModelPackageFields`` (absent or ``[]``): the creation event's documented shape."""
        return not self.updated_model_package_fields

    @property
    def may_register(self) -> bool:
        """Whether the event may be a package's creation: AWS does not document whether the creation event carries
        ``UpdatedModelPackageFields``, so one without it and one naming ``ModelApprovalStatus`` (which a
        registration sets) both may be; an update of other fields only is not. A hint: the registry decides."""
        return self.is_new or "ModelApprovalStatus" in self.updated_model_package_fields


class ModelPackageStateChangeEvent(SageMakerEvent):
    DETAIL_TYPE: ClassVar[str] = "SageMaker Model Package State Change"
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    detail: ModelPackageStateChangeDetail


# ------------------------------------------------------------------------------------------------ pipelines

PipelineExecutionStatus = Literal["Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures"]
StepStatus = Literal["Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded"]


class _PipelineDetail(_CamelDetail):
    """What every pipeline event names: the pipeline and the execution."""

    pipeline_arn: str
    pipeline_execution_arn: str

    @property
    def pipeline_name(self) -> str:
        return _pipeline_name(self.pipeline_arn)

    @property
    def execution_id(self) -> str:
        return _execution_id(self.pipeline_execution_arn)


class PipelineExecutionStatusChangeDetail(_PipelineDetail):
    current_pipeline_execution_status: PipelineExecutionStatus
    previous_pipeline_execution_status: str | None = None
    pipeline_execution_display_name: str | None = None
    pipeline_execution_description: str | None = None
    failure_reason: str | None = None
    execution_start_time: UtcDatetime | None = None
    execution_end_time: UtcDatetime | None = None


class PipelineExecutionStatusChangeEvent(SageMakerEvent):
    DETAIL_TYPE: ClassVar[str] = "SageMaker Model Building Pipeline Execution Status Change"
    detail_type: Literal["SageMaker Model Building Pipeline Execution Status Change"] = Field(alias="detail-type")
    detail: PipelineExecutionStatusChangeDetail


class PipelineStepStatusChangeDetail(_PipelineDetail):
    step_name: str
    current_step_status: StepStatus
    previous_step_status: str | None = None
    step_type: str | None = None
    step_display_name: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] | None = None
    step_start_time: UtcDatetime | None = None
    step_end_time: UtcDatetime | None = None


class PipelineStepStatusChangeEvent(SageMakerEvent):
    DETAIL_TYPE: ClassVar[str] = "SageMaker Model Building Pipeline Execution Step Status Change"
    detail_type: Literal["SageMaker Model Building Pipeline Execution Step Status Change"] = Field(alias="detail-type")
    detail: PipelineStepStatusChangeDetail


# ------------------------------------------------------------------------------------------------ training

TrainingJobStatus = Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]


class TrainingJobStateChangeDetail(_PascalDetail):
    training_job_name: str
    training_job_status: TrainingJobStatus
    training_job_arn: str | None = None
    secondary_status: str | None = None
    failure_reason: str | None = None
    role_arn: str | None = None
    hyper_parameters: dict[str, Any] | None = None
    algorithm_specification: dict[str, Any] | None = None
    resource_config: dict[str, Any] | None = None
    stopping_condition: dict[str, Any] | None = None
    enable_managed_spot_training: bool | None = None
    model_artifacts: dict[str, Any] | None = None
    secondary_status_transitions: list[dict[str, Any]] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    creation_time: UtcDatetime | None = None
    training_start_time: UtcDatetime | None = None
    training_end_time: UtcDatetime | None = None
    last_modified_time: UtcDatetime | None = None


class TrainingJobStateChangeEvent(SageMakerEvent):
    DETAIL_TYPE: ClassVar[str] = "SageMaker Training Job State Change"
    detail_type: Literal["SageMaker Training Job State Change"] = Field(alias="detail-type")
    detail: TrainingJobStateChangeDetail


# ------------------------------------------------------------------------------------------------ endpoints

# Endpoint events spell statuses in upper snake case, unlike the API (``IN_SERVICE`` vs ``InService``).
EndpointEventStatus = Literal[
    "OUT_OF_SERVICE",
    "CREATING",
    "UPDATING",
    "SYSTEM_UPDATING",
    "ROLLING_BACK",
    "IN_SERVICE",
    "DELETING",
    "FAILED",
    "UPDATE_ROLLBACK_FAILED",
]
_API_STATUS = {
    "OUT_OF_SERVICE": "OutOfService",
    "CREATING": "Creating",
    "UPDATING": "Updating",
    "SYSTEM_UPDATING": "SystemUpdating",
    "ROLLING_BACK": "RollingBack",
    "IN_SERVICE": "InService",
    "DELETING": "Deleting",
    "FAILED": "Failed",
    "UPDATE_ROLLBACK_FAILED": "UpdateRollbackFailed",
}


class PendingDeploymentSummary(_PascalDetail):
    endpoint_config_name: str | None = None
    start_time: UtcDatetime | None = None
    production_variants: list[dict[str, Any]] = Field(default_factory=list)


class EndpointStateChangeDetail(_PascalDetail):
    endpoint_name: str
    endpoint_status: EndpointEventStatus
    endpoint_arn: str | None = None
    endpoint_config_name: str | None = None
    failure_reason: str | None = None
    production_variants: list[dict[str, Any]] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    creation_time: UtcDatetime | None = None
    last_modified_time: UtcDatetime | None = None

    @property
    def api_status(self) -> str:
        """The status as the SageMaker API spells it (``IN_SERVICE`` → ``InService``)."""
        return _API_STATUS[self.endpoint_status]


class EndpointStateChangeEvent(SageMakerEvent):
    DETAIL_TYPE: ClassVar[str] = "SageMaker Endpoint State Change"
    detail_type: Literal["SageMaker Endpoint State Change"] = Field(alias="detail-type")
    detail: EndpointStateChangeDetail


class EndpointDeploymentStateChangeDetail(EndpointStateChangeDetail):
    pending_deployment_summary: PendingDeploymentSummary | None = None


class EndpointDeploymentStateChangeEvent(SageMakerEvent):
    DETAIL_TYPE: ClassVar[str] = "SageMaker Endpoint Deployment State Change"
    detail_type: Literal["SageMaker Endpoint Deployment State Change"] = Field(alias="detail-type")
    detail: EndpointDeploymentStateChangeDetail


# ------------------------------------------------------------------------------------------------ parsing

DETAIL_TYPES: dict[str, type[SageMakerEvent]] = {
    model.DETAIL_TYPE: model
    for model in (
        ModelPackageStateChangeEvent,
        PipelineExecutionStatusChangeEvent,
        PipelineStepStatusChangeEvent,
        TrainingJobStateChangeEvent,
        EndpointStateChangeEvent,
        EndpointDeploymentStateChangeEvent,
    )
}
"""detail-type → model, for :func:`parse_any`."""


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(event)"


def _describe(error: ErrorDetails) -> str:
    value = repr(error.get("input"))
    value = value if len(value) <= 80 else value[:77] + "..."
    if error.get("type") == "missing":
        return f"{_dotted(error['loc'])}: field required"
    if error.get("type") == "value_error":
        return f"{_dotted(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
    return f"{_dotted(error['loc'])}: {error['msg']} (got {value})"


def parse_event[M: SageMakerEvent](event: object, model: type[M]) -> M:
    """Validate ``event`` (the raw Lambda event) as ``model``, or raise ``InvalidEventError(field=<dotted path>)``."""
    if isinstance(event, model):
        return event
    if not isinstance(event, dict):
        raise InvalidEventError(
            f"invalid {model.__name__}: expected a JSON object, got {type(event).__name__}", field="(event)"
        )
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A wrong detail-type explains every other error: name it alone.
        errors = [e for e in errors if e["loc"] == ("detail-type",)] or errors
        shown = "; ".join(_describe(error) for error in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise InvalidEventError(
            f"invalid {model.__name__} (event id {event.get('id', '?')}): {shown}{more}",
            field=_dotted(errors[0]["loc"]),
        ) from None


def parse_one_of[M: SageMakerEvent](event: object, models: Sequence[type[M]]) -> M:
    """Parse ``event`` with the model of its ``detail-type`` among ``models``; any other → InvalidEventError."""
    for candidate in models:
        if isinstance(event, candidate):
            return event
    by_type = {model.DETAIL_TYPE: model for model in models}
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    model = by_type.get(detail_type) if isinstance(detail_type, str) else None
    if model is None:
        raise InvalidEventError(
            f"unsupported detail-type {detail_type!r}; expected one of: {', '.join(sorted(by_type))}",
            field="detail-type",
        )
    return parse_event(event, model)


def parse_any(event: object) -> SageMakerEvent:
    """Parse ``event`` with the model of its ``detail-type``, among every model of this module."""
    return parse_one_of(event, tuple(DETAIL_TYPES.values()))
