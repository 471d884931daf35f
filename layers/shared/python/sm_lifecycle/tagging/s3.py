"""Adapter: S3 objects tagged with our tags merged into their current set (read, merge, write only when different).

Per-object errors never stop a run: each is recorded in the ``TaggingReport`` as missing (the object is gone),
retryable (throttling, 5xx, network: Lambda retries the event) or failed (anything else: access denied, invalid tag
set, limits), and the run goes on with the next object. AWS error codes stop here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import error_code, error_message, is_not_found, is_transient
from sm_lifecycle.tagging.discovery import Location
from sm_lifecycle.tagging.policy import S3_MAX_TAGS, merge_tags
from sm_lifecycle.tagging.report import Problem, TaggingReport

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

__all__ = ["GONE_CODES", "S3Tagger", "is_gone"]

# The object is gone: deleted (a delete marker is current: 404 NoSuchKey, or 405 for a delete marker version).
GONE_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "MethodNotAllowed", "404", "405"})
_DELETED = "deleted before it could be tagged"


def is_gone(exc: BaseException) -> bool:
    return error_code(exc) in GONE_CODES or is_not_found(exc)


def problem_of(exc: BaseException) -> Problem:
    """How the report files an error of one S3 object."""
    if isinstance(exc, ClientError) and is_gone(exc):
        return Problem.MISSING
    return Problem.RETRYABLE if is_transient(exc) else Problem.FAILED


def _describe(exc: BaseException) -> str:
    code = error_code(exc)
    return f"{code}: {error_message(exc)}" if code else str(exc)


class S3Tagger:
    """Tags S3 objects with our tags merged into their current set; stateless, so one may serve many threads."""

    def __init__(self, s3: S3Client) -> None:
        self._s3 = s3

    def expand(self, locations: Iterable[Location], report: TaggingReport) -> list[str]:
        """``s3://`` refs of ``locations`` (prefixes listed with ListObjectsV2), each once, in discovery order."""
        refs: dict[str, None] = {}
        paginator = self._s3.get_paginator("list_objects_v2")
        for location in locations:
            if not location.is_prefix:
                refs.setdefault(location.uri, None)
                continue
            try:
                for page in paginator.paginate(Bucket=location.bucket, Prefix=location.key):
                    for item in page.get("Contents", []):
                        refs.setdefault(f"s3://{location.bucket}/{item['Key']}", None)
            except (ClientError, BotoCoreError) as exc:
                report.record(problem_of(exc), location.uri, f"listing: {_describe(exc)}")
        return list(refs)

    def tag(self, ref: str, tags: Sequence[tuple[str, str]], report: TaggingReport) -> None:
        """Tag the current version of one object (``s3://bucket/key``); records the outcome, never raises AWS errors."""
        bucket, _, key = ref.removeprefix("s3://").partition("/")
        for attempt in range(2):
            try:
                current = self._s3.get_object_tagging(Bucket=bucket, Key=key)
            except (ClientError, BotoCoreError) as exc:
                _record_failure(report, ref, exc)
                return
            existing = [(t["Key"], t["Value"]) for t in current.get("TagSet", [])]
            merge = merge_tags(existing, tags, limit=S3_MAX_TAGS)
            if merge.did_not_fit:
                report.record_did_not_fit(ref, merge.did_not_fit)
            if not merge.changed:
                report.record_unchanged(ref)
                return
            request: dict[str, Any] = {
                "Bucket": bucket,
                "Key": key,
                "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in merge.tags]},
            }
            if version := current.get("VersionId"):  # the version whose tags were read: no blind concurrent write
                request["VersionId"] = version
            try:
                self._s3.put_object_tagging(**request)
            except (ClientError, BotoCoreError) as exc:
                if problem_of(exc) is Problem.MISSING and attempt == 0:
                    continue  # overwritten or deleted between read and write: read the new current version
                _record_failure(report, ref, exc)
                return
            report.record_tagged(ref)
            return


def _record_failure(report: TaggingReport, ref: str, exc: BaseException) -> None:
    problem = problem_of(exc)
    report.record(problem, ref, _DELETED if problem is Problem.MISSING else _describe(exc))
