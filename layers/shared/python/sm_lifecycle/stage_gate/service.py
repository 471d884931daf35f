"""The stage gate's decisions: a version deployed at the stage, its bake over, a version waiting at the stage.

Every decision is taken on what the gate reads now (the registry, the endpoint, CloudWatch); an event only says
what to look at. Every write is a move of the state machine (``kernel.stages``) checked against the version it just
read, so duplicates and out-of-order events write nothing and a stage is never skipped.

An approval (``auto``) is also claimed once per wait: SageMaker sends several events for one change, and two
deliveries that both read the version waiting would both write the approval (the history would show it twice). The
claim's key is the version, the stage and the wait's own description (a later wait at the same stage has another
bake's), kept by the kernel's idempotency (a conditional write): the second delivery writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from sm_lifecycle.kernel.arns import canonical_arn
from sm_lifecycle.kernel.endpoints import LiveEndpoint
from sm_lifecycle.kernel.idempotency import Recorded
from sm_lifecycle.kernel.registry import ModelApprovalStatus
from sm_lifecycle.kernel.stages import LifeCycle, Stage, StageStatus, next_stage
from sm_lifecycle.stage_gate.config import GateSettings
from sm_lifecycle.stage_gate.model import BakeEvidence, Version, bake_due
from sm_lifecycle.stage_gate.scheduler import schedule_name

logger = Logger(child=True)

Outcome = dict[str, Any]
Alert = Callable[[str, str], None]  # (subject, message)
RequestApproval = Callable[[Version], None]
Once = Callable[[Mapping[str, str], Callable[[], dict[str, Any]]], Recorded]  # the kernel's Idempotent.run


class Registry(Protocol):
    def version(self, arn: str) -> Version: ...
    def move(self, arn: str, lifecycle: LifeCycle) -> bool: ...
    def describe(self, arn: str, lifecycle: LifeCycle) -> None: ...
    def live(self, endpoint: str) -> LiveEndpoint | None: ...


class Health(Protocol):
    def over(self, start: datetime, end: datetime) -> BakeEvidence: ...


class Scheduler(Protocol):
    def schedule(
        self, name: str, at: datetime, *, target_arn: str, account: str, region: str, detail: dict[str, str]
    ) -> bool: ...


class StageGate:
    def __init__(
        self,
        settings: GateSettings,
        *,
        registry: Registry,
        health: Health,
        scheduler: Scheduler,
        alert: Alert,
        request_approval: RequestApproval,
        approve_once: Once,
        function_arn: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings, self.registry, self.health, self.scheduler = settings, registry, health, scheduler
        self.alert, self.request_approval, self.approve_once = alert, request_approval, approve_once
        self.function_arn, self.clock = function_arn, clock

    @property
    def stage(self) -> Stage:
        return self.settings.stage

    def _outcome(self, status: str, version: Version | None = None, **extra: Any) -> Outcome:
        known = {"version": version.number, "package_arn": version.arn} if version else {}
        return {"status": status, "stage": str(self.stage), **known, **extra}

    # ------------------------------------------------------------------ deployed at the stage
    def on_endpoint(self) -> Outcome:
        """The endpoint changed: when it is InService on a version approved for the stage, that version is
        ``{S, Deployed}`` and its bake is scheduled (both once)."""
        live = self.registry.live(self.settings.endpoint_name)
        if live is None or live.status != "InService" or not live.package_arn:
            return self._outcome("nothing", reason="the endpoint is not InService on a version of the registry")
        version = self.registry.version(live.package_arn)
        if version.approval_status != ModelApprovalStatus.APPROVED:
            return self._outcome("nothing", version, reason=f"the live version is {version.approval_status}")
        current = version.lifecycle
        if current is not None and (current.stage, current.status) == (self.stage, StageStatus.DEPLOYED):
            return self._schedule_bake(version, live, "deployed")  # a duplicate: make sure its bake is scheduled
        if not self._entering(current):
            return self._outcome("nothing", version, reason=f"the live version is {current}, not approved here")
        if current is None:  # Development: approved by its approval status (the metrics gate, or a person)
            approved = f"approved at {self.stage}: ModelApprovalStatus Approved (stage gate)"
            self.registry.move(version.arn, LifeCycle(self.stage, StageStatus.APPROVED, approved))
        due = bake_due(live.since, self.settings.bake)
        description = (
            f"deployed at {self.stage} on endpoint {live.name} (config {live.config_name}), InService since "
            f"{live.since:%Y-%m-%dT%H:%M:%SZ}; bake until {due:%Y-%m-%dT%H:%M:%SZ} "
            f"(stage gate, {self.settings.common.environment})"
        )
        self.registry.move(version.arn, LifeCycle(self.stage, StageStatus.DEPLOYED, description))
        return self._schedule_bake(version, live, "deployed")

    def _entering(self, current: LifeCycle | None) -> bool:
        if current is None:
            return self.stage is Stage.DEVELOPMENT
        return current.stage is self.stage and current.status is StageStatus.APPROVED

    def _schedule_bake(self, version: Version, live: LiveEndpoint, status: str) -> Outcome:
        due = max(bake_due(live.since, self.settings.bake), self.clock())
        arn = self.function_arn.split(":")
        created = self.scheduler.schedule(
            schedule_name(live.name, version.number),
            due,
            target_arn=self.function_arn,
            account=arn[4],
            region=arn[3],
            detail={"ModelPackageArn": version.arn, "Stage": str(self.stage), "EndpointName": live.name},
        )
        return self._outcome(status, version, bake_due=due.isoformat(), scheduled=created)

    # ------------------------------------------------------------------ a version waiting at the stage
    def on_package(self, arn: str) -> Outcome:
        """A version's lifecycle changed: when the registry shows it waiting at the stage, approve it (``auto``) or
        ask the approvers (``recommend``)."""
        version = self.registry.version(arn)
        current = version.lifecycle
        waiting = current is not None and (current.stage, current.status) == (self.stage, StageStatus.PENDING_APPROVAL)
        if not waiting or version.approval_status != ModelApprovalStatus.APPROVED:
            return self._outcome(
                "nothing", version, reason=f"the registry shows {current}, not waiting at {self.stage}"
            )
        if self.settings.policy == "recommend":
            self.request_approval(version)
            return self._outcome("approval-requested", version)
        earlier = current.description if current else ""
        description = (
            f"approved at {self.stage} by the stage gate (auto) of {self.settings.common.environment}: {earlier}"
        )
        approval = LifeCycle(self.stage, StageStatus.APPROVED, description)
        wait = hashlib.sha256(earlier.encode()).hexdigest()[:32]
        recorded = self.approve_once(
            {"package": version.arn, "stage": str(self.stage), "wait": wait},
            lambda: {"moved": self.registry.move(version.arn, approval)},
        )
        if recorded.duplicate or not recorded.result.get("moved"):
            # another delivery of the change approved it (SageMaker sends several)
            return self._outcome("nothing", version, reason=f"approved at {self.stage} already")
        return self._outcome("approved", version)

    # ------------------------------------------------------------------ the bake is over
    def on_bake(self, arn: str) -> Outcome:
        """The bake's schedule fired: if the version still serves at the stage and its bake is over, judge it."""
        version = self.registry.version(arn)
        live = self.registry.live(self.settings.endpoint_name)
        current = version.lifecycle
        if current is None or (current.stage, current.status) != (self.stage, StageStatus.DEPLOYED):
            return self._outcome("nothing", version, reason=f"the version is {current} now (superseded)")
        if version.approval_status != ModelApprovalStatus.APPROVED:
            return self._outcome("nothing", version, reason=f"the version is {version.approval_status} now")
        if live is None or live.status != "InService" or canonical_arn(live.package_arn or "") != canonical_arn(arn):
            return self._outcome("nothing", version, reason="the version no longer serves on the endpoint")
        # The window runs from the version's InService to now: only the gate's own schedule invokes it with this
        # input (the Scheduler role may invoke the gate alone; no rule matches the gate's source).
        return self._judge(version, self.health.over(live.since, self.clock()))

    def _judge(self, version: Version, evidence: BakeEvidence) -> Outcome:
        after = next_stage(self.stage)
        if evidence.healthy and after is not None:
            text = f"baked at {self.stage}, healthy; waiting at {after} (stage gate): {evidence.summary()}"
            self.registry.move(version.arn, LifeCycle(after, StageStatus.PENDING_APPROVAL, text))
            return self._outcome("promoted", version, to=str(after), evidence=evidence.summary())
        if evidence.healthy:
            text = f"deployed at {self.stage}; bake passed, healthy (stage gate): {evidence.summary()}"
            self.registry.describe(version.arn, LifeCycle(self.stage, StageStatus.DEPLOYED, text))
            return self._outcome("baked", version, evidence=evidence.summary())
        text = f"rejected at {self.stage} by the stage gate: the bake failed: {evidence.summary()}"
        self.registry.move(version.arn, LifeCycle(self.stage, StageStatus.REJECTED, text))
        self.alert(f"version {version.number} stopped at {self.stage}: its bake failed", text)
        return self._outcome("rejected", version, evidence=evidence.summary())
