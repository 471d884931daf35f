"""Adapter: the drift loop's objects in the artifact bucket (a check's staged baselines, its summary)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

    from sm_lifecycle.drift.sagemaker import Baseline

BASELINE_FILES = ("constraints.json", "reference.csv")
SUMMARY_MAX_BYTES = 4 * 1024 * 1024  # a summary of hundreds of features is tens of KB


class DriftObjects:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def stage(self, prefix: str, baseline: Baseline, since: datetime | None) -> str:
        """Copy the baseline to ``<prefix>/baselines/v<N>/`` with ``served.json`` (the version serves from
        ``since``: earlier requests of the window were another version's); the baselines' URI."""
        folder = f"{prefix}/baselines"
        try:
            for name in BASELINE_FILES:
                self._s3.copy_object(
                    Bucket=self.bucket,
                    Key=f"{folder}/v{baseline.version}/{name}",
                    CopySource={"Bucket": baseline.bucket, "Key": f"{baseline.folder}/{name}"},
                )
            start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if since is not None else None
            served = [{"version": baseline.version, "from": start, "to": None}]
            self._s3.put_object(Bucket=self.bucket, Key=f"{folder}/served.json", Body=json.dumps(served).encode())
        except (BotoCoreError, ClientError) as exc:
            raise classify(exc, what=f"stage the baseline of {baseline.package_arn}") from exc
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
