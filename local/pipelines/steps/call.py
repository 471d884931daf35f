"""One attempt of one step, as a step kind receives it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.pipelines.execution import Execution, StepRecord, now
from local.pipelines.expressions import Context
from local.pipelines.jobs import StepServices, job_name


@dataclass
class StepCall:
    """A step to run now: its definition, its arguments resolved, its record, what the execution knows so far."""

    services: StepServices
    execution: Execution
    step: Mapping[str, Any]
    arguments: dict[str, Any]
    record: StepRecord
    ctx: Context

    @property
    def name(self) -> str:
        return str(self.step["Name"])

    def new_job_name(self) -> str:
        """A fresh job name for this attempt, remembered as a job of the step."""
        name = job_name(self.execution, self.name)
        self.execution.jobs.setdefault(self.name, []).append(name)
        return name


class StepJob:
    """The SageMaker job one attempt of a step runs: its name, and moto's object of it once created."""

    def __init__(self, call: StepCall) -> None:
        self.call = call
        self.arguments = call.arguments
        self.name = call.new_job_name()
        # the pipeline creates the job; inside it, SageMaker reads and writes S3 and logs as the job's role
        kind = "training-job" if "AlgorithmSpecification" in self.arguments else "processing-job"
        job_arn = f"arn:aws:sagemaker:{call.services.region}:{call.services.account_id}:{kind}/{self.name.lower()}"
        self.services = call.services.acting_as(
            str(self.arguments.get("RoleArn", "")), f"SageMaker-{self.name}"[:64], job_arn, ("s3", "logs")
        )
        self.arn = ""
        self.job: Any = None  # moto's job object, moved through its statuses by the runner
        self.started = now()


StepKind = Callable[[StepCall], dict[str, Any]]  # runs a step; returns its properties (``Steps.X...``)
