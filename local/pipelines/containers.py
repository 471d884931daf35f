"""SageMaker container conventions on a local work folder, the job scripts run as subprocesses.

A job's ``/opt/ml`` lives in ``<work>/<job>/<attempt>/opt/ml``; the scripts see that prefix in ``SM_BASE_DIR`` and
the usual ``SM_*`` variables (training) pointing into it. Inputs come from S3 and outputs go back to S3 (the embedded
AWS's S3) following SageMaker's rules (``S3Prefix`` and ``ManifestFile`` inputs, ``EndOfJob`` outputs,
``model.tar.gz``, checkpoint sync).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OPT_ML = "/opt/ml"


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def local(root: Path, container_path: str) -> Path:
    """The local folder standing for ``container_path`` (an absolute /opt/ml path) of a job rooted at ``root``."""
    return Path(str(root) + container_path)


class S3Transfer:
    """Downloads and uploads with SageMaker's S3 layout rules."""

    def __init__(self, s3_client: Any) -> None:
        self.s3 = s3_client

    def read(self, uri: str) -> bytes:
        bucket, key = split_s3(uri)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def download_prefix(self, uri: str, target: Path) -> list[Path]:
        """Every object whose key starts with the URI's key, to ``target`` (relative to the prefix; an object
        whose key is the prefix itself keeps its base name)."""
        bucket, prefix = split_s3(uri)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
                if prefix and not prefix.endswith("/") and key != prefix and not key[len(prefix) :].startswith("/"):
                    continue  # "data/train" must not match "data/training/..."
                if key.endswith("/"):
                    continue
                path = target / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                self.s3.download_file(bucket, key, str(path))
                written.append(path)
        return written

    def download_manifest(self, uri: str, target: Path) -> list[Path]:
        """A ``ManifestFile`` input: the manifest at ``uri`` is a JSON array, ``{"prefix": "s3://bucket/prefix/"}``
        first, then keys relative to that prefix (the API reference's ``S3DataSource``); each object is downloaded to
        ``target`` under its relative key. ``ValueError`` for a manifest of another shape; an object that is
        missing fails the download (SageMaker fails the job)."""
        try:
            entries = json.loads(self.read(uri))
            prefix = str(entries[0]["prefix"])
            relative = [str(e) for e in entries[1:]]
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise ValueError(f"{uri} is not a manifest ([{{'prefix': 's3://...'}}, 'key', ...]): {exc}") from None
        if any(not isinstance(e, str) for e in entries[1:]):
            raise ValueError(f"{uri}: a manifest's entries after the prefix are keys (strings)")
        bucket, key_prefix = split_s3(prefix)
        written = []
        for key in relative:
            path = target / key
            path.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, key_prefix + key, str(path))
            written.append(path)
        return written

    def upload_tree(self, source: Path, uri: str) -> list[str]:
        bucket, prefix = split_s3(uri)
        prefix = prefix.rstrip("/")
        uploaded: list[str] = []
        if not source.exists():
            return uploaded
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            key = f"{prefix}/{path.relative_to(source).as_posix()}" if prefix else path.relative_to(source).as_posix()
            self.s3.upload_file(str(path), bucket, key)
            uploaded.append(f"s3://{bucket}/{key}")
        return uploaded

    def upload_file(self, path: Path, uri: str) -> None:
        bucket, key = split_s3(uri)
        self.s3.upload_file(str(path), bucket, key)


@dataclass
class ProcessResult:
    exit_code: int
    output: str
    interrupted: bool = False
    duration: float = 0.0


@dataclass
class Container:
    """One attempt of a job on one "instance": a work folder and a subprocess."""

    root: Path
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)

    def path(self, container_path: str) -> Path:
        return local(self.root, container_path)

    def command(self, argv: list[str]) -> list[str]:
        """The container command with the interpreter replaced by ours and /opt/ml paths mapped."""
        mapped = []
        for index, arg in enumerate(argv):
            if index == 0 and Path(arg).name in {"python", "python3"}:
                mapped.append(self.python)
            elif arg.startswith(OPT_ML + "/") or arg == OPT_ML:
                mapped.append(str(self.path(arg)))
            else:
                mapped.append(arg)
        return mapped

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        on_line: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        timeout: float | None = None,
    ) -> ProcessResult:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(self.root)),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "SM_BASE_DIR": str(self.root),
            # one thread per job: OpenMP spin-waits collapse when the machine is shared (CI, other jobs)
            "OMP_NUM_THREADS": os.environ.get("LOCAL_JOB_THREADS", "1"),
            **self.env,
        }
        started = time.monotonic()
        process = subprocess.Popen(
            self.command(argv),
            cwd=str(cwd or self.root),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        lines: list[str] = []
        stopped = threading.Event()

        def _watch() -> None:
            while process.poll() is None:
                if should_stop is not None and should_stop():
                    stopped.set()
                    process.kill()
                    return
                if timeout is not None and time.monotonic() - started > timeout:
                    process.kill()
                    return
                time.sleep(0.002)

        watcher = threading.Thread(target=_watch, name=f"watch-{self.root.name}", daemon=True)
        watcher.start()
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            if on_line is not None:
                on_line(line)
        code = process.wait()
        watcher.join()
        return ProcessResult(code, "\n".join(lines), stopped.is_set(), time.monotonic() - started)

    def message(self, name: str) -> str:
        """``/opt/ml/output/<name>`` (``message`` for processing, ``failure`` for training), first 1 KB."""
        path = self.path(f"{OPT_ML}/output/{name}")
        if not path.exists():
            return ""
        return path.read_bytes()[:1024].decode("utf-8", errors="replace").strip()

    def clean(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def pack_model(model_dir: Path, archive: Path) -> Path:
    """``model.tar.gz`` as SageMaker packs ``/opt/ml/model``: the folder's content at the archive's root."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    return archive


def script_mode_args(hyperparameters: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
    """The command-line arguments and decoded hyperparameters, as the SageMaker framework containers pass them
    (values are JSON-decoded; ``sagemaker_*`` ones are for the container itself)."""
    decoded: dict[str, Any] = {}
    for key, value in hyperparameters.items():
        try:
            decoded[key] = json.loads(value)
        except (TypeError, ValueError):
            decoded[key] = value
    args: list[str] = []
    for key, value in decoded.items():
        if key.startswith("sagemaker_"):
            continue
        args += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    return args, decoded


class CheckpointSync:
    """SageMaker's checkpoint sync: the local checkpoint folder is copied to ``CheckpointConfig.S3Uri`` while the
    job runs (new or changed files) and once more when it stops."""

    def __init__(self, transfer: S3Transfer, folder: Path, uri: str, interval: float = 0.05) -> None:
        self.transfer = transfer
        self.folder = folder
        self.uri = uri.rstrip("/")
        self.interval = interval
        self._seen: dict[str, tuple[float, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.uploaded: list[str] = []

    def restore(self) -> list[Path]:
        return self.transfer.download_prefix(self.uri + "/", self.folder)

    def sync(self) -> None:
        if not self.folder.exists():
            return
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            if path.name.endswith(".tmp.json") or ".tmp" in path.suffixes:
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            relative = path.relative_to(self.folder).as_posix()
            signature = (stat.st_mtime, stat.st_size)
            if self._seen.get(relative) == signature:
                continue
            self.transfer.upload_file(path, f"{self.uri}/{relative}")
            self._seen[relative] = signature
            self.uploaded.append(relative)

    def __enter__(self) -> CheckpointSync:
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in self.folder.rglob("*"):
            if path.is_file():
                stat = path.stat()
                self._seen[path.relative_to(self.folder).as_posix()] = (stat.st_mtime, stat.st_size)

        def _loop() -> None:
            while not self._stop.wait(self.interval):
                self.sync()

        self._thread = threading.Thread(target=_loop, name="checkpoint-sync", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sync()
