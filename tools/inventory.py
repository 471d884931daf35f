"""Governance inventory of one execution's artifacts: every artifact with its tags, flagged when something is off.

Used by the operator command ``tools.artifacts`` (not shipped in the Lambda layer). Read-only: the tagger's own
discovery (``sm_lifecycle.tagging.discovery``) through its SageMaker adapter, then ListObjectsV2, GetObjectTagging and
ListTags; a model package version, which AWS refuses to tag, is shown with what its ``CustomerMetadataProperties``
(written at registration) say of its execution, date and git SHA. Flags:

- ``untagged``: one of the automation's keys is missing (``untagged:date,git-sha`` names them; for a package
  version, missing from its metadata);
- ``other-execution``: the ``execution`` tag names another execution;
- ``unversioned``: the S3 object has no version (bucket not versioned, or written before versioning was enabled);
- ``missing``: the artifact is referenced but does not exist (deleted);
- ``not-tagged``: a location the tagger deliberately leaves alone (shared, or outside the artifact prefix), with why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify
from sm_lifecycle.tagging.discovery import Discovery, Location, discover
from sm_lifecycle.tagging.policy import STABLE_KEYS, TAG_KEYS, VERSION_KEYS, Execution, TaggingConfig, version_facts
from sm_lifecycle.tagging.s3 import is_gone
from sm_lifecycle.tagging.sagemaker import SageMakerArtifacts

__all__ = ["Row", "inventory"]


@dataclass
class Row:
    kind: str  # s3-object | training-job | processing-job | transform-job | model | model-package | ...
    ref: str  # ARN or s3://bucket/key
    source: str = ""
    version: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _kind(arn: str) -> str:
    return arn.split(":", 5)[-1].split("/", 1)[0]


def _check(row: Row, execution: Execution, required: tuple[str, ...]) -> None:
    absent = [key for key in required if key not in row.tags]
    if absent:
        row.flags.append("untagged:" + ",".join(absent) if len(absent) < len(required) else "untagged")
    if "execution" in required and row.tags.get("execution") not in (None, execution.execution_id):
        row.flags.append("other-execution")


def _package_rows(found: Discovery, execution: Execution) -> list[Row]:
    """Package versions, which cannot be tagged: what their CustomerMetadataProperties say, in the tags' terms."""
    rows = []
    for arn, properties in found.packages.items():
        source = f"{found.sources.get(arn, '')} (a version: CustomerMetadataProperties, not tags)".strip()
        row = Row(kind="model-package", ref=arn, source=source, tags=version_facts(properties))
        _check(row, execution, VERSION_KEYS)
        rows.append(row)
    return rows


def _resource_rows(reader: SageMakerArtifacts, found: Discovery, execution: Execution) -> list[Row]:
    rows = []
    for arn in [*found.resources, *found.groups]:
        row = Row(kind=_kind(arn), ref=arn, source=found.sources.get(arn, "shared by the executions"))
        tags = reader.list_tags(arn)
        if tags is None:
            row.flags.append("missing")
        else:
            row.tags = tags
            _check(row, execution, STABLE_KEYS if row.kind == "model-package-group" else TAG_KEYS)
        rows.append(row)
    return rows


def _keys(s3: Any, location: Location) -> list[str]:
    if not location.is_prefix:
        return [location.key]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.key)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _object_row(s3: Any, bucket: str, key: str, source: str, execution: Execution) -> Row:
    row = Row(kind="s3-object", ref=f"s3://{bucket}/{key}", source=source)
    try:
        response = s3.get_object_tagging(Bucket=bucket, Key=key)
    except ClientError as exc:
        if not is_gone(exc):
            raise
        row.flags.append("missing")
        return row
    row.version = response.get("VersionId")
    row.tags = {t["Key"]: t["Value"] for t in response.get("TagSet", [])}
    _check(row, execution, TAG_KEYS)
    if row.version in (None, "", "null"):
        row.flags.append("unversioned")
    return row


def _object_rows(s3: Any, found: Discovery, execution: Execution) -> list[Row]:
    rows, seen = [], set()
    for location in found.locations:
        for key in _keys(s3, location):
            if (location.bucket, key) not in seen:
                seen.add((location.bucket, key))
                rows.append(_object_row(s3, location.bucket, key, location.source, execution))
    return rows


def inventory(sagemaker: Any, s3: Any, execution: Execution, *, bucket: str = "", prefix: str = "") -> list[Row]:
    """Every artifact of ``execution`` with its tags and flags (S3 objects, jobs, model package and group)."""
    reader = SageMakerArtifacts(sagemaker)
    found = discover(reader, execution, TaggingConfig(artifact_bucket=bucket, artifact_prefix=prefix))
    try:
        rows = _resource_rows(reader, found, execution) + _package_rows(found, execution)
        rows += _object_rows(s3, found, execution)
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc, what=f"reading the artifacts of {execution.arn}") from exc
    for ref, why in found.skipped.items():
        kind = "s3-location" if ref.startswith("s3://") else _kind(ref) if ref.startswith("arn:") else "step"
        rows.append(Row(kind=kind, ref=ref, flags=[f"not-tagged: {why}"]))
    return rows
