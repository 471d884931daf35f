"""Adapter: the drift loop's objects in the artifact bucket (the endpoint's captured requests, a check's staged
baselines, its summary)."""

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
CAPTURE_PREFIX = "data-capture"  # the endpoints' captured requests: data-capture/<endpoint>/v<N>/ (kernel.endpoints)
SUMMARY_MAX_BYTES = 4 * 1024 * 1024  # a summary of hundreds of features is tens of KB


class DriftObjects:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def captured_keys(self, endpoint: str, window: Window) -> list[str]:
        """The keys of the window's captured requests, relative to ``data-capture/<endpoint>/``: those of its hours
        in each version's folder that has any (one listing of the folders, one probe of each from the window's
        first hour, then one listing per hour of each folder with requests), and in the folder of requests
        captured before versions had folders (``AllTraffic/``)."""
        root = f"{CAPTURE_PREFIX}/{endpoint}/"
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root, Delimiter="/")
            folders = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
            keys: list[str] = []
            for folder in folders:
                name = folder[len(root) :].rstrip("/")
                if name == VARIANT_NAME:
                    keys += self._hour_keys(folder, window)
                elif name[:1] == "v" and name[1:].isdigit():
                    variant = capture_variant_prefix(folder, endpoint)
                    keys += self._hour_keys(variant, window) if self._has_hours(variant, window) else []
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=f"list the captured requests of {endpoint}") from exc
        return [key[len(root) :] for key in keys]

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

    def stage_manifest(self, prefix: str, endpoint: str, keys: Sequence[str]) -> str:
        """The manifest of ``keys`` (relative to ``data-capture/<endpoint>/``) at ``<prefix>/capture.manifest``, in
        SageMaker's ``ManifestFile`` format; its URI."""
        manifest = [{"prefix": f"s3://{self.bucket}/{CAPTURE_PREFIX}/{endpoint}/"}, *keys]
        key = f"{prefix}/capture.manifest"
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(manifest).encode())
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=f"write s3://{self.bucket}/{key}") from exc
        return f"s3://{self.bucket}/{key}"

    def stage(self, prefix: str, baselines: Sequence[Baseline], serving: int, since: datetime | None) -> str:
        """Copy each baseline to ``<prefix>/baselines/v<N>/``, with ``served.json``: version ``serving`` serves from
        ``since`` (the window's requests outside a version's capture folder are its from then on); their URI."""
        folder = f"{prefix}/baselines"
        try:
            for baseline in baselines:
                for name in BASELINE_FILES:
                    self._s3.copy_object(
                        Bucket=self.bucket,
                        Key=f"{folder}/v{baseline.version}/{name}",
                        CopySource={"Bucket": baseline.bucket, "Key": f"{baseline.folder}/{name}"},
                    )
            start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if since is not None else None
            served = [{"version": serving, "from": start, "to": None}]
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
