"""The state of one pipeline execution while the local runner runs it, in the API's terms."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

EXECUTING, SUCCEEDED, FAILED, STOPPED = "Executing", "Succeeded", "Failed", "Stopped"
COMPLETED_WITH_FAILURES = "CompletedWithFailures"
STEP_STARTING, STEP_EXECUTING = "Starting", "Executing"
GENERIC_FAILURE = "Step failure: One or multiple steps failed."


def now() -> datetime:
    return datetime.now(UTC)


class StepFailed(Exception):
    """A step ended ``Failed``; ``reason`` is its FailureReason."""

    def __init__(self, reason: str, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.metadata = metadata or {}


@dataclass
class StepRecord:
    """One step of an execution, in the shape of ListPipelineExecutionSteps."""

    name: str
    step_type: str
    status: str = STEP_STARTING
    start_time: datetime = field(default_factory=now)
    end_time: datetime | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    attempt_count: int = 0
    cache_hit_source: str | None = None  # execution ARN whose results a cached step reused

    def summary(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "StepName": self.name,
            "StepDisplayName": self.name,
            "StartTime": self.start_time,
            "StepStatus": self.status,
            "AttemptCount": self.attempt_count,
            "Metadata": self.metadata,
        }
        if self.end_time:
            item["EndTime"] = self.end_time
        if self.failure_reason:
            item["FailureReason"] = self.failure_reason
        if self.cache_hit_source:
            item["CacheHitResult"] = {"SourcePipelineExecutionArn": self.cache_hit_source}
        return item


@dataclass
class Execution:
    """One pipeline execution: its definition and parameters, its steps so far, the jobs they started."""

    arn: str
    pipeline_arn: str
    pipeline_name: str
    execution_id: str
    definition: dict[str, Any]
    parameters: dict[str, Any]
    display_name: str | None
    description: str | None
    status: str = EXECUTING
    failure_reason: str | None = None
    start_time: datetime = field(default_factory=now)
    end_time: datetime | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    jobs: dict[str, list[str]] = field(default_factory=dict)  # step name -> job names (one per attempt)
    step_timings: dict[str, float] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def variables(self) -> dict[str, Any]:
        """The execution variables expressions can read (``Execution.PipelineExecutionId``...)."""
        return {
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": self.arn,
            "PipelineName": self.pipeline_name,
            "PipelineArn": self.pipeline_arn,
            "StartDateTime": self.start_time.isoformat(),
        }
