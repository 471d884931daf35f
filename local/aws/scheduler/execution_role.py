"""A schedule's execution role: what EventBridge Scheduler must be allowed before it invokes a target.

As the EventBridge Scheduler user guide describes it ("Set up the execution role"): Scheduler assumes the target's
``RoleArn`` as ``scheduler.amazonaws.com`` (the role's trust policy decides; its confused-deputy conditions can name
``aws:SourceAccount``, the schedule's account, and ``aws:SourceArn``, the ARN of the schedule's group), then calls
the target as that role, so the role's policies must allow the call: ``lambda:InvokeFunction`` on a function,
``sqs:SendMessage`` on a queue, ``events:PutEvents`` on a bus. Decided by the embedded AWS's IAM engine (every
decision in its log); without IAM enforcement everything is allowed.
"""

from __future__ import annotations

import secrets
from typing import Any

from local.iam.principals import role_session_from_arn

SCHEDULER_SERVICE = "scheduler.amazonaws.com"
TARGET_ACTIONS = {"lambda": "lambda:InvokeFunction", "sqs": "sqs:SendMessage", "events": "events:PutEvents"}


class ExecutionRoleRefused(Exception):
    """Scheduler may not invoke the target with the schedule's role (the message says why)."""


def _enforcer() -> Any:
    from local.aws.server import EmbeddedAWS  # noqa: PLC0415 - the server imports the extensions (a cycle)

    aws = EmbeddedAWS.current()
    return aws.iam if aws is not None else None


def group_arn(schedule_arn: str) -> str:
    """``arn:...:schedule/<group>/<name>`` -> ``arn:...:schedule-group/<group>`` (Scheduler's ``aws:SourceArn``)."""
    prefix, _, resource = schedule_arn.rpartition(":")
    group = resource.split("/")[1] if resource.count("/") >= 2 else "default"
    return f"{prefix}:schedule-group/{group}"


def authorize(schedule_arn: str, role_arn: str | None, target_arn: str) -> None:
    """Raise ``ExecutionRoleRefused`` unless Scheduler may assume ``role_arn`` and call the target with it."""
    iam = _enforcer()
    if iam is None:
        return
    _, _, _, region, account, _ = schedule_arn.split(":", 5)
    if not role_arn:
        raise ExecutionRoleRefused("the schedule's target has no RoleArn")
    where = {"source_arn": group_arn(schedule_arn), "source_account": account, "region": region}
    if not iam.authorize_service(SCHEDULER_SERVICE, "sts:AssumeRole", role_arn, **where).allowed:
        raise ExecutionRoleRefused(
            f"EventBridge Scheduler cannot assume {role_arn}: its trust policy does not allow it"
        )
    service = target_arn.split(":")[2] if target_arn.count(":") >= 5 else ""
    action = TARGET_ACTIONS.get(service)
    if action is None:
        return  # an unsupported target fails when it is sent
    session = role_session_from_arn(role_arn, f"scheduler-{secrets.token_hex(8)}")
    outcome = iam.authorize_action(session, action, target_arn.removesuffix(":$LATEST"), region=region)
    if not outcome.allowed:
        why = outcome.denial.reason if outcome.denial is not None else "denied"
        raise ExecutionRoleRefused(f"{role_arn} is not authorized to perform {action} on {target_arn}: {why}")
