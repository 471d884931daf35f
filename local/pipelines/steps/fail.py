"""Fail steps: the execution fails with the step's ``ErrorMessage``."""

from __future__ import annotations

from typing import Any

from local.pipelines.execution import StepFailed
from local.pipelines.steps.call import StepCall


def run(call: StepCall) -> dict[str, Any]:
    message = str(call.arguments.get("ErrorMessage", ""))
    call.record.metadata = {"Fail": {"ErrorMessage": message}}
    raise StepFailed(message)
