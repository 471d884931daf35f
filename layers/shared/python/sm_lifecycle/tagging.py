"""Tag every artifact a pipeline execution produced: the tag policy and the orchestration.

Tag keys (plain, no prefix): ``env``, ``team``, ``pipeline``, ``execution``, ``date``, ``git-sha``, then the configured
extra tags (``EXTRA_TAGS="cost-center=ml,owner=x"``) in their configured order. Plain keys are the keys the stacks
themselves are tagged with (``samconfig.toml``: ``env=...``), so one activated cost-allocation key covers the stack and
its artifacts. Extra tags may not redefine these keys nor use the reserved ``aws:`` prefix.

The order above is the priority order: S3 allows at most 10 tags per object and ``PutObjectTagging`` replaces the
whole set, so the object's current set is read, a user's tags (keys that are not ours) are always kept, our tags fill
the free slots in priority order, and the ones that did not fit are reported (result and alert), never dropped
silently. Values of our keys that an object already carries are overwritten by this execution's values.

Idempotent and resumable: an object whose tags already match is not written again (a re-delivery costs one read per
object and no write); a run that meets throttling or its Lambda deadline tags everything it can, then raises
``TransientError`` so that Lambda retries, and the retry skips what is already tagged. What can never succeed (an
object deleted mid-run, access denied, a location outside the artifact prefix) is reported precisely and alerted.

S3 versions: the current version of every object under each output prefix is tagged (the version the run read the
tags of: ``PutObjectTagging`` names its ``VersionId``). Older versions under an execution's prefix are superseded
outputs (a retried step overwrote them) and are left alone; the governance report flags objects without a version.

Alerts (``sm_lifecycle.notify``) go out once per run that ends, not on attempts handed back to Lambda: a run with
something to retry raises first, and if the retries run out the event lands in the dead-letter queue (whose alarm
alerts) with the summary as its error message. Powertools' idempotency utility is not used on purpose: a re-delivery
must re-check and repair the tags (someone may have removed them), and the compare-before-write makes it cheap.

Only ``AddTags`` and ``PutObjectTagging`` are written: model package fields (e.g. ``CustomerMetadataProperties``) are
never updated, because ``UpdateModelPackage`` emits a model package state change event that wakes the deployer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sm_lifecycle import tags
from sm_lifecycle.errors import ConfigurationError, InvalidEventError, TransientError

TAG_KEYS = tags.ARTIFACT_KEYS
STABLE_KEYS = (tags.ENV, tags.TEAM, tags.PIPELINE)  # the tags a model package group (shared by executions) receives
S3_MAX_TAGS = 10
GIT_SHA_PARAMETER = "GitSha"
UNKNOWN = "unknown"

_GIT_IN_TEXT = re.compile(r"\bgit[ :=@-]*([0-9a-fA-F]{7,40})\b")
_INVALID_VALUE_CHARS = re.compile(r"[^\w\s+\-=.:/@]", re.UNICODE)
_VALID_KEY = re.compile(r"^[\w\s+\-=.:/@]{1,128}$", re.UNICODE)
_EXECUTION_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):sagemaker:(?P<region>[\w-]+):(?P<account>\d{12}):"
    r"pipeline/(?P<pipeline>[^/]+)/execution/(?P<execution>[^/]+)$"
)


# ---------------------------------------------------------------------------------------------------- configuration
def parse_extra_tags(text: str | None) -> tuple[tuple[str, str], ...]:
    """``"cost-center=ml, owner=x"`` → ``(("cost-center", "ml"), ("owner", "x"))`` (order kept)."""
    pairs: list[tuple[str, str]] = []
    for raw in (text or "").split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ConfigurationError(f"EXTRA_TAGS: {item!r} is not key=value")
        if key in TAG_KEYS:
            raise ConfigurationError(f"EXTRA_TAGS: {key!r} is one of the automation's own keys {TAG_KEYS}")
        if key.lower().startswith("aws:"):
            raise ConfigurationError(f"EXTRA_TAGS: {key!r} uses the reserved aws: prefix")
        if not _VALID_KEY.match(key) or len(value) > 256 or _INVALID_VALUE_CHARS.search(value):
            raise ConfigurationError(f"EXTRA_TAGS: {item!r} has characters or a length S3/SageMaker tags do not allow")
        if any(key == k for k, _ in pairs):
            raise ConfigurationError(f"EXTRA_TAGS: {key!r} given twice")
        pairs.append((key, value))
    return tuple(pairs)


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class TaggingConfig:
    """What the tagging function needs beyond ``Settings`` (environment variables declared in template.yaml)."""

    artifact_bucket: str
    artifact_prefix: str
    extra_tags: tuple[tuple[str, str], ...] = ()
    tag_model_package_group: bool = True
    max_workers: int = 8
    deadline_margin_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, pipeline_name: str) -> TaggingConfig:
        bucket = env.get("ARTIFACT_BUCKET", "").strip()
        if not bucket:
            raise ConfigurationError("environment variable ARTIFACT_BUCKET is not set (declared in template.yaml)")
        prefix = env.get("ARTIFACT_PREFIX", "").strip() or f"{pipeline_name}/"
        try:
            workers = int(env.get("TAGGING_MAX_WORKERS", "8") or 8)
        except ValueError as exc:
            raise ConfigurationError("TAGGING_MAX_WORKERS must be an integer") from exc
        return cls(
            artifact_bucket=bucket,
            artifact_prefix=prefix if prefix.endswith("/") else prefix + "/",
            extra_tags=parse_extra_tags(env.get("EXTRA_TAGS")),
            tag_model_package_group=_flag(env.get("TAG_MODEL_PACKAGE_GROUP"), default=True),
            max_workers=max(1, workers),
        )


# ---------------------------------------------------------------------------------------------------- the execution
@dataclass(frozen=True)
class Execution:
    """The pipeline execution whose artifacts are tagged."""

    arn: str
    pipeline_name: str
    execution_id: str
    region: str
    account: str
    start_time: datetime | None = None
    description: str | None = None
    display_name: str | None = None

    @classmethod
    def from_arn(cls, arn: str, **fields: Any) -> Execution:
        match = _EXECUTION_ARN.match(arn or "")
        if not match:
            raise InvalidEventError(f"not a pipeline execution ARN: {arn!r}", field="detail.pipelineExecutionArn")
        return cls(
            arn=arn,
            pipeline_name=match["pipeline"],
            execution_id=match["execution"],
            region=match["region"],
            account=match["account"],
            **fields,
        )


def to_datetime(value: Any) -> datetime | None:
    """Event and API times: datetime, ISO string, epoch seconds or epoch milliseconds (number or string)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip())):
        number = float(value)
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def git_sha_from(parameters: Sequence[Mapping[str, Any]], *texts: str | None) -> str:
    """The ``GitSha`` pipeline parameter, else "git <sha>" in the description or display name, else ``unknown``."""
    for parameter in parameters:
        if parameter.get("Name") == GIT_SHA_PARAMETER and str(parameter.get("Value", "")).strip():
            return str(parameter["Value"]).strip()
    for text in texts:
        match = _GIT_IN_TEXT.search(text or "")
        if match:
            return match[1].lower()
    return UNKNOWN


def tag_value(value: str) -> str:
    """A value S3 and SageMaker both accept (letters, digits, spaces and ``+ - = . _ : / @``; at most 256)."""
    cleaned = _INVALID_VALUE_CHARS.sub("-", value).strip()
    return (cleaned or UNKNOWN)[:256]


def execution_tags(
    *, environment: str, team: str, execution: Execution, git_sha: str, extra: Sequence[tuple[str, str]] = ()
) -> tuple[tuple[str, str], ...]:
    """Our tags for every artifact of ``execution``, in priority order."""
    date = execution.start_time.astimezone(UTC).date().isoformat() if execution.start_time else UNKNOWN
    ours = (
        ("env", environment),
        ("team", team),
        ("pipeline", execution.pipeline_name),
        ("execution", execution.execution_id),
        ("date", date),
        ("git-sha", git_sha),
    )
    return tuple((key, tag_value(value)) for key, value in ours) + tuple(extra)


def stable_tags(tags: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The subset of ``tags`` that does not change from one execution to the next (for shared resources)."""
    return tuple((k, v) for k, v in tags if k in STABLE_KEYS or k not in TAG_KEYS)


# ---------------------------------------------------------------------------------------------------- merge policy
@dataclass(frozen=True)
class Merge:
    tags: tuple[tuple[str, str], ...]
    changed: bool
    did_not_fit: tuple[str, ...]


def merge_tags(existing: Sequence[tuple[str, str]], ours: Sequence[tuple[str, str]], *, limit: int) -> Merge:
    """Our tags over an object's current set: a user's tags always stay; ours fill the free slots in priority order."""
    our_keys = {key for key, _ in ours}
    kept = [(k, v) for k, v in existing if k not in our_keys]
    free = max(0, limit - len(kept))
    fitted, did_not_fit = list(ours[:free]), tuple(key for key, _ in ours[free:])
    # Our keys that no longer fit (lower priority) are removed only when they are ours and stale: never a user's key.
    merged = tuple(kept + fitted)
    return Merge(tags=merged, changed=dict(merged) != dict(existing), did_not_fit=did_not_fit)


# ---------------------------------------------------------------------------------------------------- outcome
@dataclass
class TaggingReport:
    """What a run did, artifact by artifact (``ref`` = ARN or ``s3://bucket/key``)."""

    execution_arn: str
    tags: dict[str, str]
    tagged: list[str] = field(default_factory=list)  # written by this run
    unchanged: list[str] = field(default_factory=list)  # already carried the tags: not written
    did_not_fit: dict[str, list[str]] = field(default_factory=dict)  # ref → our keys that did not fit
    missing: dict[str, str] = field(default_factory=dict)  # ref → why (deleted mid-run, never existed)
    failed: dict[str, str] = field(default_factory=dict)  # ref → permanent error
    retryable: dict[str, str] = field(default_factory=dict)  # ref → transient error (Lambda retries the event)
    skipped: dict[str, str] = field(default_factory=dict)  # location → why it was not tagged (scope, shared)
    reused: dict[str, str] = field(default_factory=dict)  # cached step → execution that made (and tagged) its results
    calls: dict[str, int] = field(default_factory=dict)  # AWS operation → count

    @property
    def needs_alert(self) -> bool:
        return bool(self.did_not_fit or self.missing or self.failed or self.skipped)

    @property
    def status(self) -> str:
        if self.retryable:
            return "retry"
        return "partial" if (self.missing or self.failed or self.did_not_fit) else "tagged"

    def to_dict(self, limit: int = 100) -> dict[str, Any]:
        """The function's result (and log line): counts, and the first ``limit`` entries of each problem."""

        def head(items: dict[str, Any]) -> dict[str, Any]:
            return dict(list(items.items())[:limit])

        problems = {
            "did_not_fit": self.did_not_fit,
            "missing": self.missing,
            "failed": self.failed,
            "retryable": self.retryable,
            "skipped": self.skipped,
        }
        return {
            "status": self.status,
            "execution": self.execution_arn,
            "tags": self.tags,
            "tagged": len(self.tagged),
            "unchanged": len(self.unchanged),
            **{name: head(items) for name, items in problems.items()},
            "reused": head(self.reused),
            "counts": {name: len(items) for name, items in problems.items()},
            "calls": dict(sorted(self.calls.items())),
        }

    def summary(self, limit: int = 20) -> str:
        lines = [
            f"Execution {self.execution_arn}: {len(self.tagged)} tagged, {len(self.unchanged)} already tagged, "
            f"{len(self.did_not_fit)} with tags that did not fit, {len(self.missing)} missing, "
            f"{len(self.failed)} failed, {len(self.retryable)} to retry, {len(self.skipped)} locations skipped, "
            f"{len(self.reused)} cached steps reused from earlier executions."
        ]
        for title, items in (
            ("Tags that did not fit (S3 allows 10 per object; the object's own tags were kept)", self.did_not_fit),
            ("Missing (deleted before they could be tagged)", self.missing),
            ("Failed", self.failed),
            ("To retry", self.retryable),
            ("Locations not tagged", self.skipped),
        ):
            if items:
                lines.append(f"{title}:")
                shown = list(items.items())[:limit]
                lines += [f"  {ref}: {', '.join(v) if isinstance(v, list) else v}" for ref, v in shown]
                if len(items) > limit:
                    lines.append(f"  ... and {len(items) - limit} more")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- orchestration
Deadline = Callable[[], float]  # seconds left before the invocation times out


def _never() -> float:
    return float("inf")


def tag_execution(
    *,
    execution: Execution,
    tags: Sequence[tuple[str, str]],
    config: TaggingConfig,
    sagemaker: Any,
    s3: Any,
    deadline: Deadline = _never,
) -> TaggingReport:
    """Discover the artifacts of ``execution`` through the API and tag each of them with ``tags``."""
    from sm_lifecycle.tagging_discovery import discover  # noqa: PLC0415 (keeps the policy importable alone)
    from sm_lifecycle.tagging_targets import S3Tagger, tag_sagemaker_resource  # noqa: PLC0415

    calls = CallCounter()
    report = TaggingReport(execution_arn=execution.arn, tags=dict(tags))
    found = discover(calls.wrap(sagemaker), execution, config)
    report.skipped.update(found.skipped)
    report.reused.update(found.reused)

    for arn in found.resources:
        tag_sagemaker_resource(calls.wrap(sagemaker), arn, tags, report)
    if config.tag_model_package_group:
        for arn in found.groups:
            tag_sagemaker_resource(calls.wrap(sagemaker), arn, stable_tags(tags), report)

    tagger = S3Tagger(calls.wrap(s3), tags, report)
    keys = tagger.expand(config.artifact_bucket, found.locations)

    def work(key: str) -> None:
        if deadline() < config.deadline_margin_seconds:  # leave the rest to Lambda's retry, which skips what is done
            tagger.postpone(config.artifact_bucket, key, "not reached before the Lambda deadline")
        else:
            tagger.tag(config.artifact_bucket, key)

    with ThreadPoolExecutor(max_workers=config.max_workers) as pool:
        for future in [pool.submit(work, key) for key in keys]:
            future.result()
    report.calls = calls.snapshot()
    return report


def raise_for_retry(report: TaggingReport) -> None:
    """Raise ``TransientError`` when something can still succeed on a retry (Lambda re-delivers the event)."""
    if report.retryable:
        sample = ", ".join(list(report.retryable)[:5])
        raise TransientError(
            f"{len(report.retryable)} artifacts of {report.execution_arn} to retry "
            f"({len(report.tagged)} tagged, {len(report.unchanged)} already tagged): {sample}"
        )


class CallCounter:
    """Counts the AWS calls a run makes (operation name → count), for the result and the benchmark."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] = self._counts.get(operation, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def wrap(self, client: Any) -> Any:
        return _Counted(client, self)


class _Counted:
    def __init__(self, client: Any, counter: CallCounter) -> None:
        self._client, self._counter = client, counter

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in {"get_paginator", "meta", "exceptions", "can_paginate"} or not callable(attribute):
            if name == "get_paginator":
                return lambda op: _CountedPaginator(attribute(op), op, self._counter)
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._counter.add(name)
            return attribute(*args, **kwargs)

        return call


class _CountedPaginator:
    def __init__(self, paginator: Any, operation: str, counter: CallCounter) -> None:
        self._paginator, self._operation, self._counter = paginator, operation, counter

    def paginate(self, **kwargs: Any) -> Any:
        for page in self._paginator.paginate(**kwargs):
            self._counter.add(self._operation)
            yield page


# ---------------------------------------------------------------------------------------------------- entry point
@dataclass(frozen=True)
class SucceededExecution:
    """The fields of a "Pipeline Execution Status Change" event that tagging uses."""

    pipeline_arn: str
    execution_arn: str
    status: str
    start_time: Any = None
    description: str | None = None
    display_name: str | None = None

    @classmethod
    def from_detail(cls, detail: Any) -> SucceededExecution:
        """From the parsed event detail (``sm_lifecycle.events``) or a raw camelCase ``detail`` dict."""

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
    """Refuse (``InvalidEventError``) an event that is not a success of this stack's pipeline; nothing is touched."""
    if event.status != "Succeeded":
        raise InvalidEventError(
            f"execution status {event.status!r} is not Succeeded", field="detail.currentPipelineExecutionStatus"
        )
    pipeline = event.pipeline_arn.rsplit(":pipeline/", 1)[-1] if ":pipeline/" in event.pipeline_arn else ""
    execution = Execution.from_arn(event.execution_arn)
    if pipeline.lower() != pipeline_name.lower() or execution.pipeline_name.lower() != pipeline_name.lower():
        raise InvalidEventError(
            f"pipeline {pipeline or event.pipeline_arn!r} is not this stack's pipeline {pipeline_name!r}",
            field="detail.pipelineArn",
        )


def tag_succeeded_execution(
    event: SucceededExecution,
    *,
    environment: str,
    team: str,
    pipeline_name: str,
    config: TaggingConfig,
    sagemaker: Any,
    s3: Any,
    deadline: Deadline = _never,
) -> TaggingReport:
    """Check the event is ours, resolve the execution (date, git SHA) and tag everything it produced."""
    from sm_lifecycle.tagging_discovery import load_execution  # noqa: PLC0415

    check_ours(event, pipeline_name=pipeline_name)
    counter = CallCounter()
    execution, parameters = load_execution(
        counter.wrap(sagemaker),
        event.execution_arn,
        start_time=event.start_time,
        description=event.description,
        display_name=event.display_name,
    )
    git_sha = git_sha_from(parameters, execution.description, execution.display_name)
    tags = execution_tags(
        environment=environment, team=team, execution=execution, git_sha=git_sha, extra=config.extra_tags
    )
    report = tag_execution(execution=execution, tags=tags, config=config, sagemaker=sagemaker, s3=s3, deadline=deadline)
    for operation, count in counter.snapshot().items():
        report.calls[operation] = report.calls.get(operation, 0) + count
    return report
