"""Find what a pipeline execution produced, through the SageMaker API only.

``ListPipelineExecutionSteps`` names each step's job or package; ``Describe*`` gives their S3 outputs:

- training job: ``ModelArtifacts.S3ModelArtifacts``, ``OutputDataConfig.S3OutputPath``/<job name>/ (SageMaker always
  writes under the job's name), ``CheckpointConfig.S3Uri``, debugger/profiler/TensorBoard output paths;
- processing job: every ``ProcessingOutputConfig.Outputs[].S3Output.S3Uri`` (the evaluation report is one);
- transform job: ``TransformOutput.S3OutputPath``;
- RegisterModel: the versioned model package ARN; its ``ModelMetrics`` / ``DriftCheckBaselines`` reports and its
  containers' ``ModelDataUrl``; the package group (tagged only when configured, with the tags stable across runs).

Safety: an S3 location is tagged only when it lies in the artifact bucket under the artifact prefix (the function's IAM
scope) and names this execution (its id or the producing job's name, which for pipeline jobs contains the id). A shared
location (e.g. one checkpoint prefix for every run) is reported as skipped: tagging it would label other executions'
objects with this execution's id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.clients import classify, is_not_found
from sm_lifecycle.errors import InvalidEventError
from sm_lifecycle.tagging import Execution, TaggingConfig

HANDLED_STEP_KINDS = frozenset(
    {"TrainingJob", "ProcessingJob", "TransformJob", "Model", "RegisterModel", "Condition", "Fail"}
)


@dataclass(frozen=True)
class Location:
    """An S3 location to tag: one object, or every object under a prefix."""

    bucket: str
    key: str
    is_prefix: bool
    source: str  # what produced it, e.g. "Train (training-job model artifacts)"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class Discovery:
    resources: list[str] = field(default_factory=list)  # SageMaker ARNs (jobs, models, model packages)
    sources: dict[str, str] = field(default_factory=dict)  # ARN → the step that produced it
    groups: list[str] = field(default_factory=list)  # model package group ARNs
    locations: list[Location] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # location or step → why it is not tagged
    reused: dict[str, str] = field(default_factory=dict)  # cached step → the execution whose results it reused
    steps: list[dict[str, Any]] = field(default_factory=list)  # raw step summaries (for the governance report)


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(uri)
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _group_arn(package_arn: str, group_name: str) -> str:
    return f"{package_arn.split(':model-package/', 1)[0]}:model-package-group/{group_name}"


def steps_of(sagemaker: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    paginator = sagemaker.get_paginator("list_pipeline_execution_steps")
    for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
        yield from page.get("PipelineExecutionSteps", [])


def discover(sagemaker: Any, execution: Execution, config: TaggingConfig) -> Discovery:
    """Every artifact of ``execution`` (raises ``TransientError`` / ``InvalidEventError`` if the API cannot tell)."""
    found = Discovery()
    seen: set[tuple[str, str, bool]] = set()

    def add_location(uri: str | None, *, is_prefix: bool, source: str, owners: tuple[str, ...]) -> None:
        if not uri:
            return
        try:
            bucket, key = split_s3_uri(uri)
        except ValueError:
            found.skipped[uri] = f"{source}: not an S3 URI"
            return
        if is_prefix and key and not key.endswith("/"):
            key += "/"
        in_scope = bucket == config.artifact_bucket and key.startswith(config.artifact_prefix)
        if config.artifact_bucket and not in_scope:  # no bucket configured: every location (read-only report)
            found.skipped[uri] = (
                f"{source}: outside the artifact location s3://{config.artifact_bucket}/{config.artifact_prefix}"
            )
            return
        if not any(owner and owner in key for owner in owners):
            found.skipped[uri] = f"{source}: shared location (names neither the execution nor the job)"
            return
        if (bucket, key, is_prefix) in seen:
            return
        seen.add((bucket, key, is_prefix))
        found.locations.append(Location(bucket, key, is_prefix, source))

    def add_resource(arn: str, step_name: str) -> None:
        if arn and arn not in found.resources:
            found.resources.append(arn)
            found.sources[arn] = f"step {step_name}"

    try:
        for step in steps_of(sagemaker, execution.arn):
            found.steps.append(step)
            source = (step.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn")
            if source and source != execution.arn:
                # a cache hit: the step's job and outputs are the source execution's, tagged when it succeeded;
                # writing this execution's tags on them would misstate their provenance
                found.reused[step["StepName"]] = source
                continue
            _discover_step(
                sagemaker,
                execution=execution,
                step=step,
                found=found,
                add_location=add_location,
                add_resource=add_resource,
            )
    except (ClientError, BotoCoreError) as exc:
        if isinstance(exc, ClientError) and is_not_found(exc):
            raise InvalidEventError(
                f"pipeline execution {execution.arn} not found: {exc}", field="detail.pipelineExecutionArn"
            ) from exc
        raise classify(exc, what=f"discovering the artifacts of {execution.arn}") from exc
    return found


def _discover_step(
    sagemaker: Any,
    *,
    execution: Execution,
    step: Mapping[str, Any],
    found: Discovery,
    add_location: Any,
    add_resource: Any,
) -> None:
    step_name = step.get("StepName", "?")
    metadata = step.get("Metadata") or {}
    exec_id = execution.execution_id

    if arn := (metadata.get("TrainingJob") or {}).get("Arn"):
        add_resource(arn, step_name)
        job = _describe(sagemaker.describe_training_job, found, arn, TrainingJobName=_name(arn))
        if job:
            name = job.get("TrainingJobName", _name(arn))
            owners = (exec_id, name)
            src = f"{step_name} (training job {name})"
            model = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
            add_location(model, is_prefix=False, source=f"{src} model artifacts", owners=owners)
            output = (job.get("OutputDataConfig") or {}).get("S3OutputPath")
            if output:
                add_location(f"{output.rstrip('/')}/{name}/", is_prefix=True, source=f"{src} output", owners=owners)
            for conf, key, what in (
                ("CheckpointConfig", "S3Uri", "checkpoints"),
                ("DebugHookConfig", "S3OutputPath", "debugger output"),
                ("ProfilerConfig", "S3OutputPath", "profiler output"),
                ("TensorBoardOutputConfig", "S3OutputPath", "TensorBoard output"),
            ):
                add_location((job.get(conf) or {}).get(key), is_prefix=True, source=f"{src} {what}", owners=owners)

    if arn := (metadata.get("ProcessingJob") or {}).get("Arn"):
        add_resource(arn, step_name)
        job = _describe(sagemaker.describe_processing_job, found, arn, ProcessingJobName=_name(arn))
        if job:
            name = job.get("ProcessingJobName", _name(arn))
            for output in (job.get("ProcessingOutputConfig") or {}).get("Outputs", []):
                uri = (output.get("S3Output") or {}).get("S3Uri")
                source = f"{step_name} (processing job {name}) output {output.get('OutputName', '')}".rstrip()
                add_location(uri, is_prefix=True, source=source, owners=(exec_id, name))

    if arn := (metadata.get("TransformJob") or {}).get("Arn"):
        add_resource(arn, step_name)
        job = _describe(sagemaker.describe_transform_job, found, arn, TransformJobName=_name(arn))
        if job:
            name = job.get("TransformJobName", _name(arn))
            uri = (job.get("TransformOutput") or {}).get("S3OutputPath")
            add_location(
                uri, is_prefix=True, source=f"{step_name} (transform job {name}) output", owners=(exec_id, name)
            )

    if arn := (metadata.get("Model") or {}).get("Arn"):
        add_resource(arn, step_name)

    if arn := (metadata.get("RegisterModel") or {}).get("Arn"):
        add_resource(arn, step_name)
        package = _describe(sagemaker.describe_model_package, found, arn, ModelPackageName=arn)
        if package:
            group = package.get("ModelPackageGroupName")
            if group:
                group_arn = _group_arn(arn, group)
                if group_arn not in found.groups:
                    found.groups.append(group_arn)
            src = f"{step_name} (model package {_name(arn)})"
            for container in (package.get("InferenceSpecification") or {}).get("Containers", []):
                data = container.get("ModelDataUrl") or (
                    ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
                )
                add_location(data, is_prefix=False, source=f"{src} model data", owners=(exec_id,))
            for report_uri, what in _report_uris(package):
                add_location(report_uri, is_prefix=False, source=f"{src} {what}", owners=(exec_id,))

    kinds = {k for k, v in metadata.items() if v}
    unsupported = kinds - {
        "TrainingJob",
        "ProcessingJob",
        "TransformJob",
        "Model",
        "RegisterModel",
        "Condition",
        "Fail",
    }
    if unsupported:
        found.skipped[f"step {step_name}"] = f"artifacts of {', '.join(sorted(unsupported))} steps are not tagged"


def _report_uris(package: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``ModelMetrics`` and ``DriftCheckBaselines``: ``{section: {report: {"S3Uri": ...}}}``."""
    for top in ("ModelMetrics", "DriftCheckBaselines"):
        for section, reports in (package.get(top) or {}).items():
            if not isinstance(reports, Mapping):
                continue
            for report, value in reports.items():
                if isinstance(value, Mapping) and value.get("S3Uri"):
                    yield value["S3Uri"], f"{top} {section} {report}"


def _describe(operation: Any, found: Discovery, arn: str, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return operation(**kwargs)
    except ClientError as exc:
        if is_not_found(exc):
            found.skipped[arn] = "not found (deleted?): its outputs cannot be discovered"
            return None
        raise


def load_execution(
    sagemaker: Any,
    arn: str,
    *,
    start_time: Any = None,
    description: str | None = None,
    display_name: str | None = None,
) -> tuple[Execution, list[dict[str, Any]]]:
    """The execution as the API describes it (event fields fill what the API lacks) and its parameters."""
    from sm_lifecycle.tagging import to_datetime  # noqa: PLC0415

    what = f"reading pipeline execution {arn}"
    try:
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        parameters: list[dict[str, Any]] = []
        paginator = sagemaker.get_paginator("list_pipeline_parameters_for_execution")
        for page in paginator.paginate(PipelineExecutionArn=arn):
            parameters += page.get("PipelineParameters", [])
    except (ClientError, BotoCoreError) as exc:
        if isinstance(exc, ClientError) and is_not_found(exc):
            raise InvalidEventError(f"{what}: not found", field="detail.pipelineExecutionArn") from exc
        raise classify(exc, what=what) from exc
    status = described.get("PipelineExecutionStatus")
    if status != "Succeeded":
        raise InvalidEventError(f"{what}: status is {status}, not Succeeded", field="detail.pipelineExecutionArn")
    execution = Execution.from_arn(
        arn,
        start_time=to_datetime(start_time) or to_datetime(described.get("CreationTime")),
        description=description or described.get("PipelineExecutionDescription"),
        display_name=display_name or described.get("PipelineExecutionDisplayName"),
    )
    return execution, parameters
