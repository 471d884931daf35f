"""Adapters: the drift loop's objects in the artifact bucket (a check's staged baselines and manifest, its summary),
and the endpoint's captured requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify
from sm_lifecycle.kernel.endpoints import VARIANT_NAME, capture_hour, capture_variant_prefix

if TYPE_CHECKING:
    from collections.abc import Sequence

    from types_boto3_s3.client import S3Client

    from sm_lifecycle.drift.model import Window
    from sm_lifecycle.drift.sagemaker import Baseline

BASELINE_FILES = ("constraints.json", "reference.csv")
SUMMARY_MAX_BYTES = 4 * 1024 * 1024  # a summary of hundreds of features is tens of KB


class DriftObjects:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def stage_manifest(self, prefix: str, keys_prefix: str, keys: Sequence[str]) -> str:
        """The manifest of ``keys`` (relative to the S3 URI ``keys_prefix``) at ``<prefix>/capture.manifest``, in
        SageMaker's ``ManifestFile`` format; its URI."""
        manifest = [{"prefix": keys_prefix}, *keys]
        key = f"{prefix}/capture.manifest"
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(manifest).encode())
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=f"write s3://{self.bucket}/{key}") from exc
        return f"s3://{self.bucket}/{key}"

    def stage(self, prefix: str, serving: Baseline, since: datetime | None, others: Sequence[Baseline] = ()) -> str:
        """Copy the serving version's baseline and ``others`` to ``<prefix>/baselines/v<N>/``, with ``served.json``:
        ``serving`` serves from ``since`` (the window's requests outside a version's capture folder are its from then
        on); their URI."""
        folder = f"{prefix}/baselines"
        baselines = [serving, *others]
        try:
            for baseline in baselines:
                for name in BASELINE_FILES:
                    self._s3.copy_object(
                        Bucket=self.bucket,
                        Key=f"{folder}/v{baseline.version}/{name}",
                        CopySource={"Bucket": baseline.bucket, "Key": f"{baseline.folder}/{name}"},
                    )
            start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if since is not None else None
            served = [{"version": serving.version, "from": start, "to": None}]
            self._s3.put_object(Bucket=self.bucket, Key=f"{folder}/served.json", Body=json.dumps(served).encode())
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=f"stage the baselines of {', '.join(b.package_arn for b in baselines)}") from exc
        return f"s3://{self.bucket}/{folder}"

    def summary(self, key: str) -> Any:
        """The JSON of ``summary.json`` at ``key``; ``ValueError`` when it is not JSON or too large."""
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{SUMMARY_MAX_BYTES}")["Body"]
            data = body.read()
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=f"read s3://{self.bucket}/{key}") from exc
        if len(data) > SUMMARY_MAX_BYTES:
            raise ValueError(f"summary s3://{self.bucket}/{key} is larger than {SUMMARY_MAX_BYTES} bytes")
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ValueError(f"summary s3://{self.bucket}/{key} is not JSON: {exc}") from None


class CapturedRequests:
    """An endpoint's captured requests, where its configs capture (``DATA_CAPTURE_S3_URI``): each version's under
    ``<endpoint>/v<N>/`` (``kernel.endpoints``), those captured before versions had folders under
    ``<endpoint>/AllTraffic/``."""

    def __init__(self, s3: S3Client, capture_uri: str) -> None:
        self._s3 = s3
        self.bucket, _, prefix = capture_uri.removeprefix("s3://").partition("/")
        self._prefix = prefix.strip("/")

    def root(self, endpoint: str) -> str:
        """The S3 URI the window's keys are relative to."""
        return f"s3://{self.bucket}/{self._prefix}/{endpoint}/"

    def in_window(self, endpoint: str, window: Window) -> dict[int | None, list[str]]:
        """The keys of the window's captured requests, relative to :meth:`root`, by the version whose folder holds
        them (None: captured before versions had folders). One listing of the folders, one probe of each version's
        from the window's first hour, then one listing per hour of each folder with requests."""
        root = f"{self._prefix}/{endpoint}/"
        found: dict[int | None, list[str]] = {}
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root, Delimiter="/")
            for folder in [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]:
                name = folder[len(root) :].rstrip("/")
                if name == VARIANT_NAME:
                    found[None] = self._hour_keys(folder, window)
                elif name[:1] == "v" and name[1:].isdigit():
                    variant = capture_variant_prefix(folder, endpoint)
                    found[int(name[1:])] = self._hour_keys(variant, window) if self._has_hours(variant, window) else []
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=f"list the captured requests of {endpoint}") from exc
        return {version: [k[len(root) :] for k in keys] for version, keys in found.items() if keys}

    def _has_hours(self, variant: str, window: Window) -> bool:
        """Whether the first request at or after the window's first hour is of its last hour or before (keys sort
        by hour)."""
        first, last = capture_hour(window.start), capture_hour(window.end)
        found = self._s3.list_objects_v2(Bucket=self.bucket, Prefix=variant, StartAfter=variant + first, MaxKeys=1)
        keys = [o["Key"] for o in found.get("Contents", [])]
        return bool(keys) and keys[0][len(variant) : len(variant) + len(last)] <= last

    def _hour_keys(self, variant: str, window: Window) -> list[str]:
        keys = []
        paginator = self._s3.get_paginator("list_objects_v2")
        at = window.start.replace(minute=0, second=0, microsecond=0)
        while at <= window.end:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{variant}{capture_hour(at)}/"):
                keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".jsonl")]
            at += timedelta(hours=1)
        return keys
