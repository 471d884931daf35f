"""Tag every artifact a pipeline execution produced: the orchestration of one run.

Idempotent and resumable: an object whose tags already match is not written again (a re-delivery costs one read per
object and no write); a run that meets throttling or its Lambda deadline tags everything it can, then raises
``TransientError`` so that Lambda retries, and the retry skips what is already tagged. What can never succeed (an
object deleted mid-run, access denied, a location outside the artifact prefix) is reported precisely and alerted.

S3 versions: the current version of every object under each output prefix is tagged (the version the run read the
tags of: ``PutObjectTagging`` names its ``VersionId``). Older versions under an execution's prefix are superseded
outputs (a retried step overwrote them) and are left alone; the governance report flags objects without a version.

Alerts go out once per run that ends, not on attempts handed back to Lambda: a run with something to retry raises
first, and if the retries run out the event lands in the dead-letter queue (whose alarm alerts) with the summary as
its error message. Idempotency records are not used on purpose: a re-delivery must re-check and repair the tags
(someone may have removed them), and the compare-before-write makes it cheap.

Only ``AddTags`` and ``PutObjectTagging`` are written: model package fields (e.g. ``CustomerMetadataProperties``) are
never updated, because ``UpdateModelPackage`` emits a model package state change event that wakes the deployer. A
package version cannot be tagged (AWS refuses it): what is specific to it (execution, date, git SHA) is written by
the pipeline at registration, in its ``CustomerMetadataProperties``, which a run checks and reports; its group gets
the stable tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from sm_lifecycle.kernel.errors import ForeignEventError, InvalidEventError, TransientError
from sm_lifecycle.kernel.notify import Severity, publish_alert
from sm_lifecycle.kernel.registry import git_sha_of
from sm_lifecycle.kernel.settings import Settings
from sm_lifecycle.kernel.text import clean_all
from sm_lifecycle.kernel.timestamps import optional_utc_datetime
from sm_lifecycle.tagging.discovery import ArtifactReader, Location, discover
from sm_lifecycle.tagging.policy import (
    Execution,
    TaggingConfig,
    execution_tags,
    stable_tags,
    version_facts,
    version_mismatches,
)
from sm_lifecycle.tagging.report import Problem, TaggingReport

__all__ = [
    "Deadline",
    "DescribedExecution",
    "ObjectTagger",
    "ResourceTagger",
    "SucceededExecution",
    "check_ours",
    "finish",
    "raise_for_retry",
    "tag_execution",
    "tag_succeeded_execution",
]

logger = Logger(child=True)

Deadline = Callable[[], float]  # seconds left before the invocation times out
DescribedExecution = tuple[dict[str, Any], dict[str, str]]  # DescribePipelineExecution, the parameter values


class ResourceTagger(ArtifactReader, Protocol):
    """The SageMaker side of a run (``sm_lifecycle.tagging.sagemaker``): reads, and ``AddTags`` into the report."""

    def execution(self, arn: str) -> DescribedExecution: ...

    def add_tags(self, arn: str, tags: Sequence[tuple[str, str]], report: TaggingReport) -> None: ...


class ObjectTagger(Protocol):
    """The S3 side of a run (``sm_lifecycle.tagging.s3``): objects of locations, and each object tagged."""

    def expand(self, locations: Iterable[Location], report: TaggingReport) -> list[str]: ...

    def tag(self, ref: str, tags: Sequence[tuple[str, str]], report: TaggingReport) -> None: ...


def _never() -> float:
    return float("inf")


@dataclass(frozen=True)
class SucceededExecution:
    """The fields of a "Pipeline Execution Status Change" event: the ARNs name the execution; the times and texts
    are only compared with the API (:func:`note_disagreements`), never used."""

    pipeline_arn: str
    execution_arn: str
    status: str
    start_time: object = None
    description: str | None = None
    display_name: str | None = None

    @classmethod
    def from_detail(cls, detail: object) -> SucceededExecution:
        """From the parsed event detail (``sm_lifecycle.kernel.events``) or a raw camelCase ``detail`` dict."""

        def read(snake: str, camel: str) -> Any:
            if isinstance(detail, Mapping):
                return detail.get(camel, detail.get(snake))
            return getattr(detail, snake, None)

        return cls(
            pipeline_arn=str(read("pipeline_arn", "pipelineArn") or ""),
            execution_arn=str(read("pipeline_execution_arn", "pipelineExecutionArn") or ""),
            status=str(read("current_pipeline_execution_status", "currentPipelineExecutionStatus") or ""),
            start_time=read("execution_start_time", "executionStartTime"),
            description=read("pipeline_execution_description", "pipelineExecutionDescription"),
            display_name=read("pipeline_execution_display_name", "pipelineExecutionDisplayName"),
        )


def check_ours(event: SucceededExecution, *, pipeline_name: str) -> None:
    """Refuse an event that is not a success (``InvalidEventError``) of this stack's pipeline (``ForeignEventError``:
    ignored); nothing is touched."""
    if event.status != "Succeeded":
        raise InvalidEventError(
            f"execution status {event.status!r} is not Succeeded", field="detail.currentPipelineExecutionStatus"
        )
    pipeline = event.pipeline_arn.rsplit(":pipeline/", 1)[-1] if ":pipeline/" in event.pipeline_arn else ""
    execution = Execution.from_arn(event.execution_arn)
    if pipeline.lower() != pipeline_name.lower() or execution.pipeline_name.lower() != pipeline_name.lower():
        raise ForeignEventError(
            f"pipeline {pipeline or event.pipeline_arn!r} is not this stack's pipeline {pipeline_name!r}",
            field="detail.pipelineArn",
        )


def tag_execution(
    *,
    execution: Execution,
    tags: Sequence[tuple[str, str]],
    config: TaggingConfig,
    sagemaker: ResourceTagger,
    s3: ObjectTagger,
    deadline: Deadline = _never,
) -> TaggingReport:
    """Discover the artifacts of ``execution`` through the API and tag each of them with ``tags``."""
    report = TaggingReport(execution_arn=execution.arn, tags=dict(tags))
    found = discover(sagemaker, execution, config)
    report.skipped.update(found.skipped)
    report.reused.update(found.reused)

    for arn in found.resources:
        sagemaker.add_tags(arn, tags, report)
    for arn, properties in found.packages.items():
        check_version_facts(arn, properties, tags, report)
    if config.tag_model_package_group:
        for arn in found.groups:
            sagemaker.add_tags(arn, stable_tags(tags), report)

    refs = s3.expand(found.locations, report)

    def work(ref: str) -> None:
        if deadline() < config.deadline_margin_seconds:  # leave the rest to Lambda's retry, which skips what is done
            report.record(Problem.RETRYABLE, ref, "not reached before the Lambda deadline")
        else:
            s3.tag(ref, tags, report)

    with ThreadPoolExecutor(max_workers=config.max_workers) as pool:
        for future in [pool.submit(work, ref) for ref in refs]:
            future.result()
    return report


def check_version_facts(
    arn: str, properties: Mapping[str, str], tags: Sequence[tuple[str, str]], report: TaggingReport
) -> None:
    """A package version cannot be tagged (AddTags refuses it): its ``CustomerMetadataProperties``, written at
    registration, must say what the tags would. Reported as recorded, or as skipped (and alerted) with what is off."""
    wrong = version_mismatches(properties, tags)
    if not wrong:
        report.recorded[arn] = ", ".join(f"{k}={v}" for k, v in version_facts(properties).items())
        return
    facts = version_facts(properties)
    said = ", ".join(f"{key}={facts.get(key, '(none)')}" for key in wrong)
    report.skipped[arn] = (
        f"model package versions cannot be tagged, and its CustomerMetadataProperties do not carry this execution's "
        f"{', '.join(wrong)} ({said})"
    )


def raise_for_retry(report: TaggingReport) -> None:
    """Raise ``TransientError`` when something can still succeed on a retry (Lambda re-delivers the event)."""
    if report.retryable:
        sample = ", ".join(list(report.retryable)[:5])
        raise TransientError(
            f"{len(report.retryable)} artifacts of {report.execution_arn} to retry "
            f"({len(report.tagged)} tagged, {len(report.unchanged)} already tagged): {sample}"
        )


def finish(report: TaggingReport, settings: Settings) -> dict[str, Any]:
    """The run's result; ``TransientError`` if a retry can do more, else one alert if something was not tagged."""
    result = report.to_dict()
    if report.retryable:
        logger.warning("artifacts left for Lambda's retry", extra={"result": result})
        raise_for_retry(report)  # what is tagged already is skipped then
    if report.needs_alert:
        execution_id = report.execution_arn.rsplit("/", 1)[-1]
        publish_alert(
            settings,
            subject=f"[{settings.environment}] artifacts of {execution_id} not fully tagged",
            message=report.summary(),
            severity=Severity.WARNING,
            attributes={"kind": "artifact-tagging", "execution": report.execution_arn},
        )
    return result


def note_disagreements(event: SucceededExecution, described: Mapping[str, Any]) -> None:
    """Log (only) where the event says something else than DescribePipelineExecution: the API is what is used."""
    try:
        event_start = optional_utc_datetime(event.start_time)
    except ValueError:
        event_start = None
    api_start = optional_utc_datetime(described.get("CreationTime"))
    said = {
        "executionStartTime": (event_start, api_start),
        "pipelineExecutionDescription": (event.description, described.get("PipelineExecutionDescription")),
        "pipelineExecutionDisplayName": (event.display_name, described.get("PipelineExecutionDisplayName")),
    }
    differ = {name: pair for name, pair in said.items() if pair[0] is not None and pair[0] != pair[1]}
    if differ:
        logger.warning(
            "the event disagrees with DescribePipelineExecution: the API's values are used",
            extra={"fields": clean_all({name: [str(a), str(b)] for name, (a, b) in differ.items()})},
        )


def tag_succeeded_execution(
    event: SucceededExecution,
    *,
    environment: str,
    team: str,
    pipeline_name: str,
    config: TaggingConfig,
    sagemaker: ResourceTagger,
    s3: ObjectTagger,
    deadline: Deadline = _never,
) -> TaggingReport:
    """Check the event is ours, resolve the execution (date, git SHA) and tag everything it produced.

    The event only names the execution: its start time, description and status are read from the API
    (``DescribePipelineExecution``, ``ListPipelineParametersForExecution``); where the event says otherwise, that is
    logged and changes nothing."""
    check_ours(event, pipeline_name=pipeline_name)
    described, parameters = sagemaker.execution(event.execution_arn)
    status = described.get("PipelineExecutionStatus")
    if status != "Succeeded":
        raise InvalidEventError(
            f"pipeline execution {event.execution_arn}: status is {status}, not Succeeded",
            field="detail.pipelineExecutionArn",
        )
    note_disagreements(event, described)
    execution = Execution.from_arn(
        event.execution_arn,
        start_time=optional_utc_datetime(described.get("CreationTime")),
        description=described.get("PipelineExecutionDescription"),
        display_name=described.get("PipelineExecutionDisplayName"),
    )
    tags = execution_tags(
        environment=environment,
        team=team,
        execution=execution,
        git_sha=git_sha_of(parameters),
        extra=config.extra_tags,
    )
    return tag_execution(execution=execution, tags=tags, config=config, sagemaker=sagemaker, s3=s3, deadline=deadline)
