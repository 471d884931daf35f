"""A model package version's ``ModelLifeCycle {Stage, StageStatus, StageDescription}``: validation and IAM keys.

The API reference gives ``Stage`` and ``StageStatus`` the ``EntityName`` constraints (1-63 characters matching
``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``) and ``StageDescription`` at most 1,024 characters matching ``.{0,1024}``;
SageMaker's patterns are Java regular expressions, whose ``.`` matches no line terminator. A request that breaks
them is refused with AWS's "N validation error(s) detected" message, naming each member as the wire does
(``modelLifeCycle.stage``). :func:`current_stage_keys` gives the condition keys the Service Authorization Reference
lists for a package's current stage (``sagemaker:CurrentModelLifeCycleStage`` / ``...StageStatus``), for the IAM
engine's resource keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError

ENTITY_NAME = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
ENTITY_NAME_MAX = 63
DESCRIPTION_PATTERN = ".{0,1024}"
DESCRIPTION_MAX = 1024
_JAVA_ANY = "[^\n\r\u0085\u2028\u2029]"  # Java's ``.``: any character but a line terminator


def constraint_error(value: Any, member: str, constraint: str) -> str:
    return f"Value {_quoted(value)} at '{member}' failed to satisfy constraint: {constraint}"


def _quoted(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def raise_validation(errors: list[str]) -> None:
    """ValidationException with AWS's wording for ``errors`` (nothing when there are none)."""
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected"
        raise ValidationError(f"{count}: {'; '.join(errors)}")


def _name_errors(value: Any, member: str) -> list[str]:
    if value is None:
        return [constraint_error(None, member, "Member must not be null")]
    text = str(value)
    errors = []
    if not re.fullmatch(ENTITY_NAME, text):
        errors.append(constraint_error(text, member, f"Member must satisfy regular expression pattern: {ENTITY_NAME}"))
    if not 1 <= len(text) <= ENTITY_NAME_MAX:
        errors.append(
            constraint_error(text, member, f"Member must have length less than or equal to {ENTITY_NAME_MAX}")
        )
    return errors


def _description_errors(value: Any, member: str) -> list[str]:
    if value is None:
        return []
    text = str(value)
    errors = []
    if not re.fullmatch(f"{_JAVA_ANY}{{0,{DESCRIPTION_MAX}}}", text) and len(text) <= DESCRIPTION_MAX:
        errors.append(
            constraint_error(text, member, f"Member must satisfy regular expression pattern: {DESCRIPTION_PATTERN}")
        )
    if len(text) > DESCRIPTION_MAX:
        errors.append(
            constraint_error(text, member, f"Member must have length less than or equal to {DESCRIPTION_MAX}")
        )
    return errors


def life_cycle_errors(life_cycle: Mapping[str, Any] | None, member: str = "modelLifeCycle") -> list[str]:
    """What is wrong with a request's ``ModelLifeCycle`` (nothing when it is absent)."""
    if life_cycle is None:
        return []
    return [
        *_name_errors(life_cycle.get("Stage"), f"{member}.stage"),
        *_name_errors(life_cycle.get("StageStatus"), f"{member}.stageStatus"),
        *_description_errors(life_cycle.get("StageDescription"), f"{member}.stageDescription"),
    ]


def stored_life_cycle(life_cycle: Mapping[str, Any]) -> dict[str, str]:
    """The structure as DescribeModelPackage returns it: only its three members."""
    return {
        k: str(life_cycle[k]) for k in ("Stage", "StageStatus", "StageDescription") if life_cycle.get(k) is not None
    }


def current_stage_keys(arn: str) -> Mapping[str, str]:
    """``sagemaker:CurrentModelLifeCycleStage`` / ``...StageStatus`` of the model package version ``arn``."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("model-package/"):
        return {}
    region, account = parts[3], parts[4]
    if account not in sm_models.sagemaker_backends or region not in sm_models.sagemaker_backends[account]:
        return {}  # never create a backend to answer a lookup
    packages = sm_models.sagemaker_backends[account][region].model_packages
    package = packages.get(arn) or packages.get(arn.lower())
    life_cycle = package.__dict__.get("_local_ModelLifeCycle") if package is not None else None
    if not life_cycle:
        return {}
    return {
        "sagemaker:CurrentModelLifeCycleStage": life_cycle["Stage"],
        "sagemaker:CurrentModelLifeCycleStageStatus": life_cycle["StageStatus"],
    }
