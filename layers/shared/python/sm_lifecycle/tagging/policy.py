"""The tag policy (pure): which tags an execution's artifacts carry, and how they merge with an object's own tags.

Tag keys (plain, no prefix): ``env``, ``team``, ``pipeline``, ``execution``, ``date``, ``git-sha``, then the configured
extra tags (``EXTRA_TAGS="cost-center=ml,owner=x"``) in their configured order. Plain keys are the keys the stacks
themselves are tagged with (``samconfig.toml``: ``env=...``), so one activated cost-allocation key covers the stack and
its artifacts. Extra tags may not redefine these keys nor use the reserved ``aws:`` prefix.

The order above is the priority order: S3 allows at most 10 tags per object and ``PutObjectTagging`` replaces the
whole set, so the object's current set is read, a user's tags (keys that are not ours) are always kept, our tags fill
the free slots in priority order, and the ones that did not fit are reported (result and alert), never dropped
silently. Values of our keys that an object already carries are overwritten by this execution's values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sm_lifecycle.kernel import tags
from sm_lifecycle.kernel.artifacts import ArtifactLocation
from sm_lifecycle.kernel.errors import ConfigurationError, InvalidEventError
from sm_lifecycle.kernel.registry import EXECUTION_ID, EXECUTION_START, GIT_SHA
from sm_lifecycle.kernel.settings import boolean, integer
from sm_lifecycle.kernel.timestamps import optional_utc_datetime

__all__ = [
    "S3_MAX_TAGS",
    "STABLE_KEYS",
    "TAG_KEYS",
    "VERSION_KEYS",
    "Execution",
    "Merge",
    "TaggingConfig",
    "execution_tags",
    "merge_tags",
    "parse_extra_tags",
    "stable_tags",
    "version_facts",
    "version_mismatches",
]

TAG_KEYS = tags.ARTIFACT_KEYS
STABLE_KEYS = tags.STABLE_KEYS  # the tags a model package group (shared by executions) receives
VERSION_KEYS = (tags.EXECUTION, tags.DATE, tags.GIT_SHA)  # what a package version's metadata carries instead
S3_MAX_TAGS = 10

Tags = tuple[tuple[str, str], ...]

_VALID_KEY = re.compile(r"^[\w\s+\-=.:/@]{1,128}$", re.UNICODE)
_EXECUTION_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):sagemaker:(?P<region>[\w-]+):(?P<account>\d{12}):"
    r"pipeline/(?P<pipeline>[^/]+)/execution/(?P<execution>[^/]+)$"
)


# ---------------------------------------------------------------------------------------------------- configuration
def parse_extra_tags(text: str | None) -> Tags:
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
        invalid_value = len(value) > tags.MAX_VALUE_LENGTH or tags.has_invalid_value_characters(value)
        if not _VALID_KEY.match(key) or invalid_value:
            raise ConfigurationError(f"EXTRA_TAGS: {item!r} has characters or a length S3/SageMaker tags do not allow")
        if any(key == k for k, _ in pairs):
            raise ConfigurationError(f"EXTRA_TAGS: {key!r} given twice")
        pairs.append((key, value))
    return tuple(pairs)


@dataclass(frozen=True)
class TaggingConfig:
    """What the tagging function needs beyond ``Settings`` (environment variables declared in template.yaml)."""

    artifact_bucket: str
    artifact_prefix: str
    extra_tags: Tags = ()
    tag_model_package_group: bool = True
    max_workers: int = 8
    deadline_margin_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, pipeline_name: str) -> TaggingConfig:
        location = ArtifactLocation.from_env(env, pipeline_name=pipeline_name)
        return cls(
            artifact_bucket=location.bucket,
            artifact_prefix=location.prefix,
            extra_tags=parse_extra_tags(env.get("EXTRA_TAGS")),
            tag_model_package_group=boolean(env, "TAG_MODEL_PACKAGE_GROUP", True),
            max_workers=integer(env, "TAGGING_MAX_WORKERS", 8, 1, 64),
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
    def from_arn(
        cls,
        arn: str,
        *,
        start_time: datetime | None = None,
        description: str | None = None,
        display_name: str | None = None,
    ) -> Execution:
        match = _EXECUTION_ARN.match(arn or "")
        if not match:
            raise InvalidEventError(f"not a pipeline execution ARN: {arn!r}", field="detail.pipelineExecutionArn")
        return cls(
            arn=arn,
            pipeline_name=match["pipeline"],
            execution_id=match["execution"],
            region=match["region"],
            account=match["account"],
            start_time=start_time,
            description=description,
            display_name=display_name,
        )


def execution_tags(
    *, environment: str, team: str, execution: Execution, git_sha: str, extra: Sequence[tuple[str, str]] = ()
) -> Tags:
    """Our tags for every artifact of ``execution``, in priority order."""
    date = execution.start_time.astimezone(UTC).date().isoformat() if execution.start_time else tags.UNKNOWN
    ours = (
        (tags.ENV, environment),
        (tags.TEAM, team),
        (tags.PIPELINE, execution.pipeline_name),
        (tags.EXECUTION, execution.execution_id),
        (tags.DATE, date),
        (tags.GIT_SHA, git_sha),
    )
    return tuple((key, tags.tag_value(value)) for key, value in ours) + tuple(extra)


def stable_tags(pairs: Sequence[tuple[str, str]]) -> Tags:
    """The subset of ``pairs`` that does not change from one execution to the next (for shared resources)."""
    return tuple((k, v) for k, v in pairs if k in STABLE_KEYS or k not in TAG_KEYS)


def version_facts(properties: Mapping[str, str]) -> dict[str, str]:
    """What a model package version's ``CustomerMetadataProperties`` say of it, as tags would (``execution``,
    ``date``, ``git-sha``): a version cannot be tagged, the pipeline records these at registration."""
    started = optional_utc_datetime(properties.get(EXECUTION_START))
    facts = {
        tags.EXECUTION: properties.get(EXECUTION_ID),
        tags.DATE: started.date().isoformat() if started else None,
        tags.GIT_SHA: properties.get(GIT_SHA),
    }
    return {key: tags.tag_value(value) for key, value in facts.items() if value}


def version_mismatches(properties: Mapping[str, str], ours: Sequence[tuple[str, str]]) -> list[str]:
    """The keys of :data:`VERSION_KEYS` on which a version's metadata disagrees with (or lacks) our tags."""
    facts, expected = version_facts(properties), dict(ours)
    return [key for key in VERSION_KEYS if key in expected and facts.get(key) != expected[key]]


# ---------------------------------------------------------------------------------------------------- merge policy
@dataclass(frozen=True)
class Merge:
    tags: Tags
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
