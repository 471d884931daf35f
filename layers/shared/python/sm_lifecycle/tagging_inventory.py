"""Governance inventory of one execution's artifacts: every artifact with its tags, flagged when something is off.

Read-only (ListObjectsV2, GetObjectTagging, ListTags and the discovery reads). Flags:

- ``untagged``: one of the automation's keys is missing (``untagged:date,git-sha`` names them);
- ``other-execution``: the ``execution`` tag names another execution;
- ``unversioned``: the S3 object has no version (bucket not versioned, or written before versioning was enabled);
- ``missing``: the artifact is referenced but does not exist (deleted);
- ``not-tagged``: a location the tagger deliberately leaves alone (shared, or outside the artifact prefix), with why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.clients import classify, is_not_found
from sm_lifecycle.tagging import STABLE_KEYS, TAG_KEYS, Execution, TaggingConfig
from sm_lifecycle.tagging_discovery import discover
from sm_lifecycle.tagging_targets import GONE_CODES


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


def inventory(sagemaker: Any, s3: Any, execution: Execution, *, bucket: str = "", prefix: str = "") -> list[Row]:
    """Every artifact of ``execution`` with its tags and flags (S3 objects, jobs, model package and group)."""
    config = TaggingConfig(artifact_bucket=bucket, artifact_prefix=prefix)
    found = discover(sagemaker, execution, config)
    rows: list[Row] = []
    try:
        for arn in [*found.resources, *found.groups]:
            row = Row(kind=_kind(arn), ref=arn, source=found.sources.get(arn, "shared by the executions"))
            try:
                for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn):
                    row.tags.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
            except ClientError as exc:
                if not is_not_found(exc):
                    raise
                row.flags.append("missing")
            else:
                group = row.kind == "model-package-group"
                _check(row, execution, STABLE_KEYS if group else TAG_KEYS)
            rows.append(row)

        seen: set[tuple[str, str]] = set()
        for location in found.locations:
            if location.is_prefix:
                keys = [
                    item["Key"]
                    for page in s3.get_paginator("list_objects_v2").paginate(
                        Bucket=location.bucket, Prefix=location.key
                    )
                    for item in page.get("Contents", [])
                ]
            else:
                keys = [location.key]
            for key in keys:
                if (location.bucket, key) in seen:
                    continue
                seen.add((location.bucket, key))
                row = Row(kind="s3-object", ref=f"s3://{location.bucket}/{key}", source=location.source)
                try:
                    response = s3.get_object_tagging(Bucket=location.bucket, Key=key)
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code", "")
                    if code not in GONE_CODES and not is_not_found(exc):
                        raise
                    row.flags.append("missing")
                    rows.append(row)
                    continue
                row.version = response.get("VersionId")
                row.tags = {t["Key"]: t["Value"] for t in response.get("TagSet", [])}
                _check(row, execution, TAG_KEYS)
                if row.version in (None, "", "null"):
                    row.flags.append("unversioned")
                rows.append(row)
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc, what=f"reading the artifacts of {execution.arn}") from exc

    for ref, why in found.skipped.items():
        rows.append(
            Row(kind="s3-location" if ref.startswith("s3://") else "step", ref=ref, flags=[f"not-tagged: {why}"])
        )
    return rows
