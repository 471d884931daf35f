"""The stage state machine of a model package version, on SageMaker's ``ModelLifeCycle {Stage, StageStatus,
StageDescription}``. Pure: no I/O.

Stages run ``Development`` → ``Staging`` → ``Production``; statuses are ``PendingApproval``, ``Approved``,
``Rejected`` and ``Deployed``. A version is *eligible* for stage S (an environment at S may serve it) when its current
stage is later than S, whatever its status there, or is S with status ``Approved`` or ``Deployed``; a version without
a lifecycle (approved before stages existed, or just approved by the metrics gate) is eligible for ``Development``
only. The moves (:func:`check_transition`):

    (none | {S, PendingApproval}) → {S, Approved} | {S, Rejected}
    {S, Approved}                 → {S, Deployed} | {S, Rejected}
    {S, Deployed}                 → {next(S), PendingApproval} | {S, Rejected}

so a stage is never skipped; writing the state a version is already in is no move (:func:`is_current`).
:func:`move_version` is the one writer: it re-reads the version and writes only a move of the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sm_lifecycle.kernel.errors import LifecycleError
from sm_lifecycle.kernel.text import STAGE_DESCRIPTION, clean

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient
    from types_boto3_sagemaker.type_defs import ModelLifeCycleTypeDef

__all__ = [
    "STAGES",
    "LifeCycle",
    "Stage",
    "StageStatus",
    "StageTransitionError",
    "check_transition",
    "eligible_for",
    "is_current",
    "move_version",
    "next_stage",
    "stage_for_environment",
    "stages_from",
]


class Stage(StrEnum):
    DEVELOPMENT = "Development"
    STAGING = "Staging"
    PRODUCTION = "Production"


class StageStatus(StrEnum):
    PENDING_APPROVAL = "PendingApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    DEPLOYED = "Deployed"


STAGES: tuple[Stage, ...] = (Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION)
_ENVIRONMENT_STAGES = {"dev": Stage.DEVELOPMENT, "staging": Stage.STAGING, "prod": Stage.PRODUCTION}
_SERVED = (StageStatus.APPROVED, StageStatus.DEPLOYED)


class StageTransitionError(LifecycleError):
    """A move the state machine does not allow (a skipped stage, a status out of order): refused, nothing written."""


def next_stage(stage: Stage) -> Stage | None:
    """The stage after ``stage``; None after ``Production``."""
    index = STAGES.index(stage)
    return STAGES[index + 1] if index + 1 < len(STAGES) else None


def stages_from(stage: Stage) -> tuple[Stage, ...]:
    """``stage`` and the stages after it: where a version eligible for ``stage`` may be."""
    return STAGES[STAGES.index(stage) :]


def stage_for_environment(environment: str) -> Stage:
    """The stage an environment (``dev``, ``staging``, ``prod``) serves."""
    return _ENVIRONMENT_STAGES[environment]


@dataclass(frozen=True)
class LifeCycle:
    """A version's ``ModelLifeCycle``."""

    stage: Stage
    status: StageStatus
    description: str = ""

    @classmethod
    def from_api(cls, value: Mapping[str, Any] | None) -> LifeCycle | None:
        """``ModelLifeCycle`` as Describe/List/Search return it; None when absent or not one of our stages and
        statuses (such a version is eligible nowhere: SageMaker accepts any name)."""
        if not value:
            return None
        try:
            stage, status = Stage(str(value.get("Stage"))), StageStatus(str(value.get("StageStatus")))
        except ValueError:
            return None
        return cls(stage, status, str(value.get("StageDescription") or ""))

    def to_api(self) -> ModelLifeCycleTypeDef:
        """The ``ModelLifeCycle`` of ``UpdateModelPackage``: the description on one line, within SageMaker's
        1,024 characters."""
        return {
            "Stage": str(self.stage),
            "StageStatus": str(self.status),
            "StageDescription": clean(self.description, STAGE_DESCRIPTION),
        }

    def __str__(self) -> str:
        return f"{{{self.stage}, {self.status}}}"


def eligible_for(stage: Stage, lifecycle: LifeCycle | None) -> bool:
    """Whether a version with ``lifecycle`` may be served at ``stage`` (see the module docstring)."""
    if lifecycle is None:
        return stage is Stage.DEVELOPMENT
    if STAGES.index(lifecycle.stage) > STAGES.index(stage):
        return True
    return lifecycle.stage is stage and lifecycle.status in _SERVED


def is_current(current: LifeCycle | None, new: LifeCycle) -> bool:
    """``new`` is the stage and status the version is in already (a duplicate: nothing to write)."""
    return current is not None and (current.stage, current.status) == (new.stage, new.status)


def _allowed(current: LifeCycle) -> set[tuple[Stage, StageStatus]]:
    stage, status = current.stage, current.status
    if status is StageStatus.PENDING_APPROVAL:
        return {(stage, StageStatus.APPROVED), (stage, StageStatus.REJECTED)}
    if status is StageStatus.APPROVED:
        return {(stage, StageStatus.DEPLOYED), (stage, StageStatus.REJECTED)}
    if status is StageStatus.DEPLOYED:
        after = next_stage(stage)
        moves = {(stage, StageStatus.REJECTED)}
        return moves | ({(after, StageStatus.PENDING_APPROVAL)} if after else set())
    return set()  # Rejected: the end of the version's way


def check_transition(current: LifeCycle | None, new: LifeCycle) -> None:
    """``StageTransitionError`` unless ``current`` → ``new`` is a move of the state machine (no lifecycle counts as
    ``{Development, PendingApproval}``). Call :func:`is_current` first: a duplicate is not a move."""
    start = current or LifeCycle(Stage.DEVELOPMENT, StageStatus.PENDING_APPROVAL)
    if (new.stage, new.status) in _allowed(start):
        return
    ahead = STAGES.index(new.stage) - STAGES.index(start.stage)
    if ahead > 1:
        why = " (a stage cannot be skipped)"
    elif ahead == 1:
        why = f" (only a version deployed and baked at {start.stage} moves on)"
    else:
        why = ""
    raise StageTransitionError(f"{start} cannot move to {new}{why}")


def move_version(sagemaker: SageMakerClient, arn: str, lifecycle: LifeCycle) -> bool:
    """Write ``lifecycle`` on the version ``arn`` after re-reading it: False when it is there already;
    ``StageTransitionError`` (nothing written) when the state machine does not allow the move. AWS errors are
    classified as the kernel's (``sm_lifecycle.kernel.clients.classify``)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - botocore is loaded already

    from sm_lifecycle.kernel.clients import classify  # noqa: PLC0415 - keep this module pure to import

    try:
        current = LifeCycle.from_api(sagemaker.describe_model_package(ModelPackageName=arn).get("ModelLifeCycle"))
        if is_current(current, lifecycle):
            return False
        check_transition(current, lifecycle)
        sagemaker.update_model_package(ModelPackageArn=arn, ModelLifeCycle=lifecycle.to_api())
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc, what=f"UpdateModelPackage {arn} to {lifecycle}") from exc
    return True
