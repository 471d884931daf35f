"""Adapter of the promotion's report store on S3: a model-quality report's bytes, bounded in size, read only from
where the pipeline writes (the artifact bucket, under the pipeline's prefix).

AWS error codes stop here: an object that cannot be read, or lies elsewhere, is a ``MetricsReportError`` (no decision
rests on it; its text never quotes a key outside the pipeline's prefix), anything else is classified for the handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.artifacts import ArtifactLocation
from sm_lifecycle.kernel.clients import classify, error_code, error_message
from sm_lifecycle.promotion.metrics import MAX_REPORT_BYTES, MetricsReportError

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

__all__ = ["S3ReportStore"]

_UNREADABLE = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied", "404", "403", "InvalidObjectState", "NotFound"})


class S3ReportStore:
    def __init__(self, s3: S3Client, location: ArtifactLocation, max_bytes: int = MAX_REPORT_BYTES) -> None:
        self.s3 = s3
        self.location = location
        self.max_bytes = max_bytes

    def read(self, uri: str) -> bytes:
        if not self.location.holds(uri):
            raise MetricsReportError(self.location.outside("the package's ModelMetrics report"))
        parsed = urlparse(uri)
        bucket, key = parsed.netloc, unquote(parsed.path.lstrip("/"))
        if parsed.scheme != "s3" or not bucket or not key or not self.location.holds(f"s3://{bucket}/{key}"):
            raise MetricsReportError(self.location.outside("the package's ModelMetrics report"))
        try:
            response = self.s3.get_object(Bucket=bucket, Key=key)
            size = int(response.get("ContentLength") or 0)
            if size > self.max_bytes:
                response["Body"].close()
                raise MetricsReportError(f"report {uri} is {size} bytes, more than the {self.max_bytes} allowed")
            return response["Body"].read(self.max_bytes + 1)  # never more, whatever the header said
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc)
            if code in _UNREADABLE:
                raise MetricsReportError(f"report {uri} cannot be read: {code}: {error_message(exc)}") from None
            raise classify(exc, what=f"GetObject {uri}") from exc
