"""Contract tests: how a processing job's S3 inputs reach its container (``S3Prefix`` and ``ManifestFile``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.pipelines.containers import S3Transfer


@pytest.fixture
def s3(embedded_aws: Any) -> Any:
    client = embedded_aws.client("s3")
    client.create_bucket(Bucket="data")
    for key in ("capture/v1/a.jsonl", "capture/v2/b.jsonl", "capture/v2/c.jsonl", "capture/v3/d.jsonl"):
        client.put_object(Bucket="data", Key=key, Body=key.encode())
    return client


def manifest(s3: Any, entries: list[Any]) -> str:
    s3.put_object(Bucket="data", Key="check/capture.manifest", Body=json.dumps(entries).encode())
    return "s3://data/check/capture.manifest"


def test_a_manifest_downloads_only_its_keys_under_their_paths_relative_to_its_prefix(s3: Any, tmp_path: Path) -> None:
    uri = manifest(s3, [{"prefix": "s3://data/capture/"}, "v1/a.jsonl", "v2/c.jsonl"])
    written = S3Transfer(s3).download_manifest(uri, tmp_path / "in")
    files = sorted(p.relative_to(tmp_path / "in").as_posix() for p in (tmp_path / "in").rglob("*") if p.is_file())
    assert files == ["v1/a.jsonl", "v2/c.jsonl"] and len(written) == 2
    assert (tmp_path / "in" / "v2" / "c.jsonl").read_text() == "capture/v2/c.jsonl"


def test_a_prefix_downloads_every_object_under_it(s3: Any, tmp_path: Path) -> None:
    S3Transfer(s3).download_prefix("s3://data/capture/", tmp_path / "in")
    assert len([p for p in (tmp_path / "in").rglob("*") if p.is_file()]) == 4


@pytest.mark.parametrize(
    "entries",
    [[], ["v1/a.jsonl"], [{"prefix": "s3://data/capture/"}, {"key": "v1/a.jsonl"}], {"prefix": "s3://data/"}],
)
def test_a_manifest_of_another_shape_is_refused(s3: Any, tmp_path: Path, entries: Any) -> None:
    with pytest.raises(ValueError, match="manifest"):
        S3Transfer(s3).download_manifest(manifest(s3, entries), tmp_path / "in")


def test_a_manifest_naming_a_missing_object_fails(s3: Any, tmp_path: Path) -> None:
    uri = manifest(s3, [{"prefix": "s3://data/capture/"}, "v9/gone.jsonl"])
    with pytest.raises(ClientError):
        S3Transfer(s3).download_manifest(uri, tmp_path / "in")
