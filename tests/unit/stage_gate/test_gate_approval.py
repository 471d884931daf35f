"""The stage gate approving a version waiting at its stage, when SageMaker delivers the change more than once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sm_lifecycle.kernel.idempotency import Recorded
from sm_lifecycle.kernel.registry import ModelApprovalStatus
from sm_lifecycle.kernel.stages import LifeCycle, Stage, StageStatus, is_current
from sm_lifecycle.stage_gate.config import GateSettings
from sm_lifecycle.stage_gate.model import Version
from sm_lifecycle.stage_gate.service import StageGate

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector-dev/3"
ENV = {
    "ENVIRONMENT": "staging",
    "TEAM": "ml-platform",
    "PIPELINE_NAME": "fraud-pipeline-dev",
    "MODEL_PACKAGE_GROUP_NAME": "fraud-detector-dev",
    "ENDPOINT_NAME": "fraud-detector-staging",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:222222222222:alerts",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "LIFECYCLE_STAGE": "Staging",
    "STAGE_POLICY": "auto",
    "SCHEDULE_GROUP_NAME": "bakes",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::222222222222:role/bakes",
}


class StaleRegistry:
    """Every read shows the version as the deliveries read it before either wrote: waiting at Staging (after the bake
    ``baked``); the moves re-read what was written, as ``kernel.stages.move_version`` does, unless ``blind`` (both
    moves read before either wrote)."""

    def __init__(self, *, blind: bool = False) -> None:
        self.written: LifeCycle | None = None
        self.writes = 0
        self.blind = blind
        self.baked = "baked at Development, 10:00..11:00"

    def version(self, arn: str) -> Version:
        waiting = LifeCycle(Stage.STAGING, StageStatus.PENDING_APPROVAL, self.baked)
        return Version(arn, 3, ModelApprovalStatus.APPROVED, waiting)

    def move(self, arn: str, lifecycle: LifeCycle) -> bool:
        if not self.blind and self.written is not None and is_current(self.written, lifecycle):
            return False
        self.written, self.writes = lifecycle, self.writes + 1
        return True


class Claims:
    """The kernel's idempotency as the gate sees it: a key's first run is kept, later runs get its result back."""

    def __init__(self) -> None:
        self.kept: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    def __call__(self, key: Mapping[str, str], produce: Callable[[], dict[str, Any]]) -> Recorded:
        frozen = tuple(sorted(key.items()))
        if frozen in self.kept:
            return Recorded(self.kept[frozen], duplicate=True)
        self.kept[frozen] = produce()
        return Recorded(self.kept[frozen], duplicate=False)


def gate(registry: Any, claims: Claims | None = None) -> StageGate:
    return StageGate(
        GateSettings.from_env(ENV),
        registry=registry,
        health=None,  # type: ignore[arg-type]  # no bake here
        scheduler=None,  # type: ignore[arg-type]
        alert=lambda subject, message: None,
        request_approval=lambda version: None,
        approve_once=claims or Claims(),
        function_arn="arn:aws:lambda:us-east-1:222222222222:function:gate",
    )


def test_two_deliveries_of_a_versions_arrival_approve_it_once() -> None:
    registry = StaleRegistry()
    # WHEN two deliveries of the change, both having read the version waiting, are handled one after the other
    first, second = gate(registry).on_package(ARN), gate(registry).on_package(ARN)
    # THEN the first approves it at Staging and the second finds it approved: one approval, one write
    assert first["status"] == "approved"
    assert second["status"] == "nothing" and "already" in second["reason"]
    assert registry.writes == 1 and registry.written is not None
    assert (registry.written.stage, registry.written.status) == (Stage.STAGING, StageStatus.APPROVED)


def test_two_deliveries_that_both_read_before_either_wrote_approve_it_once() -> None:
    # GIVEN two deliveries whose moves would both write (each read the version waiting before the other wrote)
    registry, claims = StaleRegistry(blind=True), Claims()
    # WHEN both are handled
    first, second = gate(registry, claims).on_package(ARN), gate(registry, claims).on_package(ARN)
    # THEN the wait's claim lets one approve: one write
    assert (first["status"], second["status"]) == ("approved", "nothing")
    assert registry.writes == 1
    (key,) = claims.kept
    assert dict(key)["package"] == ARN and dict(key)["stage"] == "Staging"


def test_a_later_wait_at_the_same_stage_is_approved_again() -> None:
    registry, claims = StaleRegistry(blind=True), Claims()
    assert gate(registry, claims).on_package(ARN)["status"] == "approved"
    # GIVEN the version waits at Staging again, after another bake (another description)
    registry.baked = "baked at Development, 12:00..13:00"
    # THEN it is a new wait: approved again
    assert gate(registry, claims).on_package(ARN)["status"] == "approved"
    assert registry.writes == 2 and len(claims.kept) == 2
