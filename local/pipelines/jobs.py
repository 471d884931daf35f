"""What the jobs of a local pipeline run share: their names, their CloudWatch logs, how their failures read."""

from __future__ import annotations

import contextlib
import random
import re
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from local.pipelines.containers import S3Transfer
from local.pipelines.execution import Execution, now
from local.pipelines.injections import Injections
from local.pipelines.reporting import Reporter

CAPACITY_FAILURE = (
    "CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type."
)
LOG_BATCH = 5000  # log events per PutLogEvents call


def job_name(execution: Execution, step_name: str) -> str:
    """``pipelines-<execution id>-<StepName>-<random>``, as SageMaker Pipelines names the jobs of its steps: the
    step's case kept, a random suffix of letters in both cases and digits (``...-TrainAbaloneModel-xw869y8C4a``);
    the job's ARN is lower-cased (:mod:`local.aws.sagemaker.jobs`)."""
    suffix = "".join(random.choices(string.ascii_letters + string.digits, k=10))
    base = re.sub(r"[^a-zA-Z0-9-]", "-", step_name)[: 63 - 12 - 10 - 13]
    return f"pipelines-{execution.execution_id}-{base}-{suffix}"


def tail_reason(output: str, exit_code: int) -> str:
    """A FailureReason from the last lines a job wrote, when it wrote no failure file."""
    tail = [line for line in output.splitlines() if line.strip()][-3:]
    detail = " | ".join(tail)[-900:]
    return f"AlgorithmError: exit code {exit_code}: {detail}" if detail else f"AlgorithmError: exit code {exit_code}"


def final_metrics(output: str, definitions: list[Mapping[str, str]]) -> list[dict[str, Any]]:
    """FinalMetricDataList as SageMaker computes it: the last value each MetricDefinitions regex finds in the log."""
    stamp = now()
    metrics = []
    for definition in definitions:
        matches = re.findall(definition["Regex"], output)
        if not matches:
            continue
        last = matches[-1][0] if isinstance(matches[-1], tuple) else matches[-1]
        with contextlib.suppress(ValueError):
            metrics.append({"MetricName": definition["Name"], "Value": float(last), "Timestamp": stamp})
    return metrics


class JobLogs:
    """Jobs' CloudWatch logs: one stream per instance start, named as SageMaker names them."""

    def __init__(self, logs_client: Any) -> None:
        self.client = logs_client
        self._lock = threading.Lock()
        self._streams: set[str] = set()

    def write(self, kind: str, name: str, lines: list[str], started: datetime) -> None:
        """The lines of one instance start of job ``name`` (``kind``: "TrainingJobs" | "ProcessingJobs")."""
        group = f"/aws/sagemaker/{kind}"
        stamp_s = int(started.timestamp())
        with self._lock:
            while f"{name}/algo-1-{stamp_s}" in self._streams:
                stamp_s += 1
            stream = f"{name}/algo-1-{stamp_s}"
            self._streams.add(stream)
        with contextlib.suppress(ClientError):
            self.client.create_log_group(logGroupName=group)
        with contextlib.suppress(ClientError):
            self.client.create_log_stream(logGroupName=group, logStreamName=stream)
        if not lines:
            return
        stamp = int(started.timestamp() * 1000)
        for start in range(0, len(lines), LOG_BATCH):
            batch = [{"timestamp": stamp, "message": line or " "} for line in lines[start : start + LOG_BATCH]]
            self.client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)

    def read(self, name: str, kind: str = "TrainingJobs") -> dict[str, list[str]]:
        """The job's log streams (one per instance start) and their messages."""
        group = f"/aws/sagemaker/{kind}"
        streams = self.client.describe_log_streams(logGroupName=group, logStreamNamePrefix=name + "/")
        result = {}
        for stream in sorted(streams.get("logStreams", []), key=lambda s: s["logStreamName"]):
            found = self.client.get_log_events(
                logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
            )
            result[stream["logStreamName"]] = [e["message"] for e in found["events"]]
        return result


@dataclass
class StepServices:
    """What the step kinds use to run their jobs on the embedded AWS."""

    sagemaker: Any
    s3: Any
    transfer: S3Transfer
    logs: JobLogs
    reporter: Reporter
    injections: Injections
    work_dir: Path
    python: str
    keep_work: bool
    account_id: str
    region: str
    # (role ARN, session name, source ARN) -> a client factory acting as a session of the role SageMaker assumes
    role_clients: Callable[[str, str, str], Callable[[str], Any]] | None = None
    # image repository name -> the interpreter standing for that image (its pinned environment)
    images: Mapping[str, str] = field(default_factory=dict)

    def interpreter(self, image_uri: str) -> str:
        """The interpreter a job of ``image_uri`` runs its script with: its image's environment, else ``python``."""
        repository = image_uri.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
        return self.images.get(repository, self.python)

    def acting_as(self, role_arn: str, session_name: str, source_arn: str, services: tuple[str, ...]) -> StepServices:
        """These services with the clients of ``services`` ("sagemaker", "s3", "logs") as a session of the role, as
        SageMaker acts for a pipeline (its role) or inside a job (the job's role)."""
        if self.role_clients is None or not role_arn:
            return self
        client = self.role_clients(role_arn, session_name, source_arn)
        changes: dict[str, Any] = {}
        if "sagemaker" in services:
            changes["sagemaker"] = client("sagemaker")
        if "s3" in services:
            changes["s3"] = client("s3")
            changes["transfer"] = S3Transfer(changes["s3"])
        if "logs" in services:
            changes["logs"] = JobLogs(client("logs"))
        return replace(self, **changes)

    def backend(self) -> SageMakerModelBackend:
        """moto's SageMaker backend, whose job objects the runner moves through their statuses."""
        return sagemaker_backends[self.account_id][self.region]
