"""One attempt of one step, as a step kind receives it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.pipelines.execution import Execution, StepRecord
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


StepKind = Callable[[StepCall], dict[str, Any]]  # runs a step; returns its properties (``Steps.X...``)
