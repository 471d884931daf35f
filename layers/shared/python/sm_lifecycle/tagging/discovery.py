"""Find what a pipeline execution produced, from what the SageMaker API says of it (through an :class:`ArtifactReader`).

``ListPipelineExecutionSteps`` names each step's job (by its ARN, which lower-cases the job's name: the reader finds
the real name) or package; ``Describe*`` gives their S3 outputs:

- training job: ``ModelArtifacts.S3ModelArtifacts``, ``OutputDataConfig.S3OutputPath``/<job name>/ (SageMaker always
  writes under the job's name), ``CheckpointConfig.S3Uri``, debugger/profiler/TensorBoard output paths;
- processing job: every ``ProcessingOutputConfig.Outputs[].S3Output.S3Uri`` (the evaluation report is one);
- transform job: ``TransformOutput.S3OutputPath``;
- RegisterModel: the versioned model package (which AWS refuses to tag: its ``CustomerMetadataProperties``, set at
  registration, are read instead); its ``ModelMetrics`` / ``DriftCheckBaselines`` reports and its containers'
  ``ModelDataUrl``; the package group (tagged only when configured, with the tags stable across runs).

Safety: an S3 location is tagged only when it lies in the artifact bucket under the artifact prefix (the function's IAM
scope) and names this execution (its id or the producing job's name, which for pipeline jobs contains the id). A shared
location (e.g. one checkpoint prefix for every run) is reported as skipped: tagging it would label other executions'
objects with this execution's id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sm_lifecycle.kernel.artifacts import split_s3_uri
from sm_lifecycle.tagging.policy import Execution, TaggingConfig

__all__ = ["HANDLED_STEP_KINDS", "ArtifactReader", "Discovery", "Location", "discover", "split_s3_uri"]

HANDLED_STEP_KINDS = frozenset(
    {"TrainingJob", "ProcessingJob", "TransformJob", "Model", "RegisterModel", "Condition", "Fail"}
)
Described = dict[str, Any]


class ArtifactReader(Protocol):
    """The SageMaker reads of discovery (``sm_lifecycle.tagging.sagemaker``); ``None`` = no such resource. Jobs are
    named by their ARN: the reader finds their real names (an ARN lower-cases the name)."""

    def steps(self, execution_arn: str) -> Iterator[dict[str, Any]]: ...

    def training_job(self, arn: str) -> Described | None: ...

    def processing_job(self, arn: str) -> Described | None: ...

    def transform_job(self, arn: str) -> Described | None: ...

    def model_package(self, arn: str) -> Described | None: ...


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
    resources: list[str] = field(default_factory=list)  # SageMaker ARNs to tag (jobs, models)
    sources: dict[str, str] = field(default_factory=dict)  # ARN → the step that produced it
    packages: dict[str, dict[str, str]] = field(default_factory=dict)  # version ARN → CustomerMetadataProperties
    groups: list[str] = field(default_factory=list)  # model package group ARNs
    locations: list[Location] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # location or step → why it is not tagged
    reused: dict[str, str] = field(default_factory=dict)  # cached step → the execution whose results it reused
    steps: list[dict[str, Any]] = field(default_factory=list)  # raw step summaries (for the governance report)


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class _Collector:
    """Gathers resources and in-scope locations, each once, into a :class:`Discovery`."""

    def __init__(self, execution: Execution, config: TaggingConfig) -> None:
        self.execution, self.config = execution, config
        self.found = Discovery()
        self._seen: set[tuple[str, str, bool]] = set()

    def resource(self, arn: str, step_name: str) -> None:
        if arn and arn not in self.found.resources:
            self.found.resources.append(arn)
            self.found.sources[arn] = f"step {step_name}"

    def described(self, arn: str, described: Described | None) -> Described | None:
        if described is None:
            self.found.skipped[arn] = "not found (deleted?): its outputs cannot be discovered"
        return described

    def location(self, uri: str | None, *, is_prefix: bool, source: str, owners: tuple[str, ...]) -> None:
        if not uri:
            return
        try:
            bucket, key = split_s3_uri(uri)
        except ValueError:
            self.found.skipped[uri] = f"{source}: not an S3 URI"
            return
        if is_prefix and key and not key.endswith("/"):
            key += "/"
        bucket_wanted, prefix = self.config.artifact_bucket, self.config.artifact_prefix
        in_scope = bucket == bucket_wanted and key.startswith(prefix)
        if bucket_wanted and not in_scope:  # no bucket configured: every location (read-only report)
            # keyed by what named it, not by the foreign URI: a report never quotes keys outside the pipeline's prefix
            self.found.skipped[f"{source} (a location outside the artifacts)"] = (
                f"{source}: outside the artifact location s3://{bucket_wanted}/{prefix}, not tagged"
            )
            return
        if not any(owner and owner in key for owner in owners):
            self.found.skipped[uri] = f"{source}: shared location (names neither the execution nor the job)"
            return
        if (bucket, key, is_prefix) not in self._seen:
            self._seen.add((bucket, key, is_prefix))
            self.found.locations.append(Location(bucket, key, is_prefix, source))


def discover(reader: ArtifactReader, execution: Execution, config: TaggingConfig) -> Discovery:
    """Every artifact of ``execution`` (the reader raises ``TransientError`` or ``InvalidEventError`` if it cannot
    tell)."""
    collector = _Collector(execution, config)
    for step in reader.steps(execution.arn):
        collector.found.steps.append(step)
        source = (step.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn")
        if source and source != execution.arn:
            # a cache hit: the step's job and outputs are the source execution's, tagged when it succeeded;
            # writing this execution's tags on them would misstate their provenance
            collector.found.reused[step["StepName"]] = source
            continue
        _discover_step(reader, collector, step)
    return collector.found


def _discover_step(reader: ArtifactReader, collector: _Collector, step: Mapping[str, Any]) -> None:
    step_name = str(step.get("StepName", "?"))
    metadata = step.get("Metadata") or {}
    for kind, outputs in _OUTPUTS.items():
        if arn := (metadata.get(kind) or {}).get("Arn"):
            if kind != "RegisterModel":  # a package version cannot be tagged: its facts are in its metadata
                collector.resource(arn, step_name)
            outputs(reader, collector, step_name, arn)
    unsupported = {k for k, v in metadata.items() if v} - HANDLED_STEP_KINDS
    if unsupported:
        collector.found.skipped[f"step {step_name}"] = (
            f"artifacts of {', '.join(sorted(unsupported))} steps are not tagged"
        )


def _training_outputs(reader: ArtifactReader, collector: _Collector, step_name: str, arn: str) -> None:
    job = collector.described(arn, reader.training_job(arn))
    if not job:
        return
    name = job.get("TrainingJobName", _name(arn))
    owners = (collector.execution.execution_id, name)
    src = f"{step_name} (training job {name})"
    model = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    collector.location(model, is_prefix=False, source=f"{src} model artifacts", owners=owners)
    if output := (job.get("OutputDataConfig") or {}).get("S3OutputPath"):
        collector.location(f"{output.rstrip('/')}/{name}/", is_prefix=True, source=f"{src} output", owners=owners)
    for conf, key, what in (
        ("CheckpointConfig", "S3Uri", "checkpoints"),
        ("DebugHookConfig", "S3OutputPath", "debugger output"),
        ("ProfilerConfig", "S3OutputPath", "profiler output"),
        ("TensorBoardOutputConfig", "S3OutputPath", "TensorBoard output"),
    ):
        collector.location((job.get(conf) or {}).get(key), is_prefix=True, source=f"{src} {what}", owners=owners)


def _processing_outputs(reader: ArtifactReader, collector: _Collector, step_name: str, arn: str) -> None:
    job = collector.described(arn, reader.processing_job(arn))
    if not job:
        return
    name = job.get("ProcessingJobName", _name(arn))
    for output in (job.get("ProcessingOutputConfig") or {}).get("Outputs", []):
        uri = (output.get("S3Output") or {}).get("S3Uri")
        source = f"{step_name} (processing job {name}) output {output.get('OutputName', '')}".rstrip()
        collector.location(uri, is_prefix=True, source=source, owners=(collector.execution.execution_id, name))


def _transform_outputs(reader: ArtifactReader, collector: _Collector, step_name: str, arn: str) -> None:
    job = collector.described(arn, reader.transform_job(arn))
    if not job:
        return
    name = job.get("TransformJobName", _name(arn))
    uri = (job.get("TransformOutput") or {}).get("S3OutputPath")
    source = f"{step_name} (transform job {name}) output"
    collector.location(uri, is_prefix=True, source=source, owners=(collector.execution.execution_id, name))


def _no_outputs(reader: ArtifactReader, collector: _Collector, step_name: str, arn: str) -> None:
    """A model step: the model is the artifact; its data is the training job's."""


def _package_outputs(reader: ArtifactReader, collector: _Collector, step_name: str, arn: str) -> None:
    package = collector.described(arn, reader.model_package(arn))
    if not package:
        return
    collector.found.packages[arn] = dict(package.get("CustomerMetadataProperties") or {})
    collector.found.sources[arn] = f"step {step_name}"
    if group := package.get("ModelPackageGroupName"):
        group_arn = f"{arn.split(':model-package/', 1)[0]}:model-package-group/{group}"
        if group_arn not in collector.found.groups:
            collector.found.groups.append(group_arn)
    src = f"{step_name} (model package {_name(arn)})"
    owners = (collector.execution.execution_id,)
    for container in (package.get("InferenceSpecification") or {}).get("Containers", []):
        data = container.get("ModelDataUrl") or (
            ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
        )
        collector.location(data, is_prefix=False, source=f"{src} model data", owners=owners)
    for report_uri, what in _report_uris(package):
        collector.location(report_uri, is_prefix=False, source=f"{src} {what}", owners=owners)


def _report_uris(package: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``ModelMetrics`` and ``DriftCheckBaselines``: ``{section: {report: {"S3Uri": ...}}}``."""
    for top in ("ModelMetrics", "DriftCheckBaselines"):
        for section, reports in (package.get(top) or {}).items():
            if not isinstance(reports, Mapping):
                continue
            for report, value in reports.items():
                if isinstance(value, Mapping) and value.get("S3Uri"):
                    yield value["S3Uri"], f"{top} {section} {report}"


StepOutputs = Callable[[ArtifactReader, _Collector, str, str], None]
_OUTPUTS: dict[str, StepOutputs] = {
    "TrainingJob": _training_outputs,
    "ProcessingJob": _processing_outputs,
    "TransformJob": _transform_outputs,
    "Model": _no_outputs,
    "RegisterModel": _package_outputs,
}
"""What each kind of step (its ``Metadata`` key) produced, in the order of the API's ``Metadata``."""
