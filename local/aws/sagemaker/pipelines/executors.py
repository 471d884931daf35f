"""Where a pipeline executor plugs into the embedded SageMaker.

moto records ``StartPipelineExecution`` but runs nothing. A runner of pipeline definitions (such as
:class:`local.pipelines.PipelineRunner`) attaches itself here; from then on each new execution is handed to it, and
the control API's pipeline actions (Spot interruptions, capacity shortages) reach it. The embedded AWS never imports
a runner: runners import the embedded AWS.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from moto.sagemaker.models import SageMakerModelBackend


class PipelineExecutor(Protocol):
    """What the embedded SageMaker asks of a pipeline executor."""

    def launch(self, backend: SageMakerModelBackend, pipeline_name: str, execution_arn: str) -> None:
        """Run the execution moto has just recorded (without blocking the request)."""

    def interrupt_training(self, *, after_checkpoints: int = 1, step_name: str | None = None) -> Any:
        """Arm a Spot interruption of the next training job."""

    def fail_capacity(self, step_name: str, times: int = 1) -> Any:
        """Make the next ``times`` jobs of ``step_name`` fail with a capacity error."""


_lock = threading.Lock()
_attached: list[PipelineExecutor] = []  # at most one


def attach(executor: PipelineExecutor) -> None:
    """Hand every execution started from now on to ``executor`` (replacing the one attached before)."""
    with _lock:
        _attached[:] = [executor]


def detach(executor: PipelineExecutor) -> None:
    """Stop handing executions to ``executor`` (nothing happens if another one is attached)."""
    with _lock:
        if _attached and _attached[0] is executor:
            _attached.clear()


def attached() -> PipelineExecutor | None:
    with _lock:
        return _attached[0] if _attached else None
