"""Condition steps: every condition holds -> the ``IfSteps`` branch runs, else the ``ElseSteps`` one."""

from __future__ import annotations

from typing import Any

from local.pipelines.expressions import condition
from local.pipelines.steps.call import StepCall


def run(call: StepCall) -> dict[str, Any]:
    outcome = all(condition(item, call.ctx) for item in call.step["Arguments"].get("Conditions", []))
    call.record.metadata = {"Condition": {"Outcome": "True" if outcome else "False"}}
    return {"Outcome": outcome}
