"""The stage gate: moves a version through its environment's ModelLifeCycle stage, event-driven, never sleeping.

    stage_gate(event, context)   # the stage gate function's entry point (functions/stage_gate/app.py)

- endpoint InService on a version approved for the stage → ``{S, Deployed}`` and a one-time schedule at the end of
  the bake;
- the schedule fires → the bake window's evidence (rollback alarms, 5xx rate, latency) → ``{next S,
  PendingApproval}``, or ``{S, Rejected}`` and an alert;
- a version waiting at the stage (``{S, PendingApproval}``) → approved (``auto``) or the approvers asked once
  (``recommend``).

Modules: ``config`` (settings), ``model`` (value objects, the schedule's event), ``service`` (the decisions), and the
adapters ``sagemaker`` (registry, endpoint), ``cloudwatch`` (bake evidence) and ``scheduler`` (the bake schedule).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.errors import ForeignEventError
from sm_lifecycle.kernel.events import EndpointStateChangeEvent, ModelPackageStateChangeEvent
from sm_lifecycle.kernel.idempotency import idempotent
from sm_lifecycle.kernel.notify import publish_alert
from sm_lifecycle.kernel.stages import StageTransitionError
from sm_lifecycle.stage_gate.cloudwatch import EndpointHealth
from sm_lifecycle.stage_gate.config import GateSettings
from sm_lifecycle.stage_gate.model import BakeCompleteEvent, Version
from sm_lifecycle.stage_gate.sagemaker import RegistryAndEndpoint
from sm_lifecycle.stage_gate.scheduler import BakeScheduler
from sm_lifecycle.stage_gate.service import StageGate

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["STAGE_GATE_EVENTS", "StageGate", "build_gate", "stage_gate"]

GateEvent = EndpointStateChangeEvent | ModelPackageStateChangeEvent | BakeCompleteEvent
STAGE_GATE_EVENTS: tuple[type[GateEvent], ...] = (
    EndpointStateChangeEvent,
    ModelPackageStateChangeEvent,
    BakeCompleteEvent,
)
"""The events the stage gate receives: its rules in template.yaml, and its bake schedules' input."""
KEY_PREFIX = "stage-gate"
logger = Logger(child=True)


def build_gate(settings: GateSettings, *, function_arn: str, context: LambdaContext | None) -> StageGate:
    """The gate on the shared clients; approval requests and bake failures go to the stack's alert topic."""
    common = settings.common
    once = idempotent(common.idempotency_table_name, key_prefix=f"{KEY_PREFIX}-approval")
    approvals = idempotent(common.idempotency_table_name, key_prefix=f"{KEY_PREFIX}-approve")

    def alert(subject: str, message: str) -> None:
        publish_alert(common, f"[{common.environment}] {subject}", message, "error", attributes={"kind": "stage-gate"})

    def request_approval(version: Version) -> None:
        def notify() -> dict[str, Any]:
            lifecycle = version.lifecycle
            message = (
                f"Version {version.number} of {common.model_package_group_name} waits for approval at "
                f"{settings.stage}.\nEvidence: {lifecycle.description if lifecycle else ''}\n"
                f"Approve: make promote VERSION={version.number} STAGE={settings.stage}\nPackage: {version.arn}"
            )
            subject = f"[{common.environment}] approve version {version.number} at {settings.stage}?"
            return {
                "message_id": publish_alert(common, subject, message, "info", attributes={"kind": "approval-request"})
            }

        once.run({"package": version.arn, "stage": str(settings.stage)}, notify, context=context)

    return StageGate(
        settings,
        registry=RegistryAndEndpoint(clients.client("sagemaker")),
        health=EndpointHealth(clients.client("cloudwatch"), settings),
        scheduler=BakeScheduler(
            clients.client("scheduler"), group=settings.schedule_group, role_arn=settings.scheduler_role_arn
        ),
        alert=alert,
        request_approval=request_approval,
        approve_once=functools.partial(approvals.run, context=context),
        function_arn=function_arn,
    )


def _check_ours(event: GateEvent, settings: GateSettings) -> None:
    """``ForeignEventError`` for another endpoint's, group's or stage's event."""
    if isinstance(event, ModelPackageStateChangeEvent):
        group = event.detail.model_package_group_name
        if group != settings.common.model_package_group_name:
            raise ForeignEventError(f"group {group!r} is not this stage's group", field="detail.ModelPackageGroupName")
        return
    if event.detail.endpoint_name != settings.endpoint_name:
        raise ForeignEventError(
            f"endpoint {event.detail.endpoint_name!r} is not this stage's", field="detail.EndpointName"
        )
    if isinstance(event, BakeCompleteEvent) and event.detail.stage is not settings.stage:
        raise ForeignEventError(f"stage {event.detail.stage} is not this gate's {settings.stage}", field="detail.Stage")


def stage_gate(event: GateEvent, context: LambdaContext) -> dict[str, Any]:
    """One decision of the gate, on what it reads now (see the module docstring)."""
    settings = GateSettings.from_env()
    _check_ours(event, settings)
    gate = build_gate(settings, function_arn=context.invoked_function_arn, context=context)
    try:
        return _decide(gate, event, settings, context)
    except StageTransitionError as exc:  # the registry changed between the read and the write: nothing written
        logger.warning("refused: not a move of the stage state machine", extra={"reason": str(exc)})
        return {"status": "refused", "stage": str(settings.stage), "reason": str(exc)}


def _decide(gate: StageGate, event: GateEvent, settings: GateSettings, context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, EndpointStateChangeEvent):
        return gate.on_endpoint()
    if isinstance(event, ModelPackageStateChangeEvent):
        return gate.on_package(event.detail.model_package_arn)
    arn = event.detail.model_package_arn
    once = idempotent(settings.common.idempotency_table_name, key_prefix=f"{KEY_PREFIX}-bake")
    recorded = once.run({"package": arn, "stage": str(settings.stage)}, lambda: gate.on_bake(arn), context=context)
    return {**recorded.result, "duplicate": recorded.duplicate} if recorded.duplicate else recorded.result
