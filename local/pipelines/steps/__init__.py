"""The step kinds the local runner executes, one module each, by the definition's step ``Type``."""

from __future__ import annotations

from typing import Any

from local.pipelines.execution import StepFailed
from local.pipelines.steps import condition, fail, processing, register_model, training
from local.pipelines.steps.call import StepCall, StepKind

STEP_KINDS: dict[str, StepKind] = {
    "Processing": processing.run,
    "Training": training.run,
    "RegisterModel": register_model.run,
    "Condition": condition.run,
    "Fail": fail.run,
}


def step_kind(step_type: str) -> StepKind:
    """How to run a step of ``step_type``; a step of a type the runner does not know fails when it runs."""
    if step_type in STEP_KINDS:
        return STEP_KINDS[step_type]

    def unsupported(_: StepCall) -> dict[str, Any]:
        raise StepFailed(f"ClientError: step type {step_type} is not supported by the local pipeline runner")

    return unsupported
