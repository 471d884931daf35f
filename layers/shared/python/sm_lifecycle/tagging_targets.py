"""Adapters that write tags: S3 objects (read, merge, write only when different) and SageMaker resources (AddTags).

Per-object errors never stop a run: each is recorded in the ``TaggingReport`` as missing (the object or resource is
gone), retryable (throttling, 5xx, network: Lambda retries the event) or failed (anything else: access denied, invalid
tag set, limits), and the run goes on with the next object.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.clients import error_code, error_message, is_not_found
from sm_lifecycle.tagging import S3_MAX_TAGS, TaggingReport, merge_tags
from sm_lifecycle.tagging_discovery import Location

TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "OperationAborted",
    }
)
# The object is gone: deleted (a delete marker is current: 404 NoSuchKey, or 405 for a delete marker version).
GONE_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "MethodNotAllowed", "404", "405"})


def kind_of(exc: BaseException) -> str:
    """``missing`` | ``retryable`` | ``failed`` for an error raised while tagging one target."""
    if isinstance(exc, BotoCoreError):
        return "retryable"
    if not isinstance(exc, ClientError):
        return "failed"
    code = error_code(exc)
    if code in GONE_CODES or is_not_found(exc):
        return "missing"
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in TRANSIENT_CODES or status >= 500 or status == 429:
        return "retryable"
    return "failed"


def _describe(exc: BaseException) -> str:
    code = error_code(exc)
    return f"{code}: {error_message(exc)}" if code else str(exc)


class S3Tagger:
    """Tags S3 objects with our tags merged into their current set; thread-safe (one instance per run)."""

    def __init__(self, s3: Any, tags: Sequence[tuple[str, str]], report: TaggingReport) -> None:
        self._s3 = s3
        self._tags = tuple(tags)
        self._report = report
        self._lock = threading.Lock()

    def expand(self, bucket: str, locations: Iterable[Location]) -> list[str]:
        """Object keys of ``locations`` (prefixes listed with ListObjectsV2), each once, in discovery order."""
        keys: dict[str, None] = {}
        paginator = self._s3.get_paginator("list_objects_v2")
        for location in locations:
            if not location.is_prefix:
                keys.setdefault(location.key, None)
                continue
            try:
                for page in paginator.paginate(Bucket=location.bucket, Prefix=location.key):
                    for item in page.get("Contents", []):
                        keys.setdefault(item["Key"], None)
            except (ClientError, BotoCoreError) as exc:
                self._record(kind_of(exc), location.uri, f"listing: {_describe(exc)}")
        return list(keys)

    def tag(self, bucket: str, key: str) -> None:
        """Tag the current version of one object; records the outcome, never raises for AWS errors."""
        ref = f"s3://{bucket}/{key}"
        for attempt in range(2):
            try:
                current = self._s3.get_object_tagging(Bucket=bucket, Key=key)
            except (ClientError, BotoCoreError) as exc:
                kind = kind_of(exc)
                self._record(kind, ref, "deleted before it could be tagged" if kind == "missing" else _describe(exc))
                return
            existing = [(t["Key"], t["Value"]) for t in current.get("TagSet", [])]
            merge = merge_tags(existing, self._tags, limit=S3_MAX_TAGS)
            if merge.did_not_fit:
                with self._lock:
                    self._report.did_not_fit[ref] = list(merge.did_not_fit)
            if not merge.changed:
                with self._lock:
                    self._report.unchanged.append(ref)
                return
            request: dict[str, Any] = {
                "Bucket": bucket,
                "Key": key,
                "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in merge.tags]},
            }
            version = current.get("VersionId")
            if version:  # the version whose tags were read: a concurrent overwrite is not tagged blindly
                request["VersionId"] = version
            try:
                self._s3.put_object_tagging(**request)
            except (ClientError, BotoCoreError) as exc:
                kind = kind_of(exc)
                if kind == "missing" and attempt == 0:
                    continue  # overwritten or deleted between read and write: read the new current version
                self._record(kind, ref, "deleted before it could be tagged" if kind == "missing" else _describe(exc))
                return
            with self._lock:
                self._report.tagged.append(ref)
            return

    def postpone(self, bucket: str, key: str, why: str) -> None:
        """Leave one object for the retry (e.g. the invocation's deadline is near)."""
        self._record("retryable", f"s3://{bucket}/{key}", why)

    def _record(self, kind: str, ref: str, why: str) -> None:
        with self._lock:
            getattr(self._report, kind)[ref] = why


def tag_sagemaker_resource(sagemaker: Any, arn: str, tags: Sequence[tuple[str, str]], report: TaggingReport) -> None:
    """``AddTags`` adds or overwrites the given keys and leaves the resource's other tags alone (idempotent).

    It changes no resource field, so it emits no state change event (unlike ``UpdateModelPackage``).
    """
    try:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags])
    except (ClientError, BotoCoreError) as exc:
        kind = kind_of(exc)
        getattr(report, kind)[arn] = "not found (deleted?)" if kind == "missing" else _describe(exc)
        return
    report.tagged.append(arn)
