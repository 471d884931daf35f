"""The deployer believes the registry and the endpoint, not the events that wake it: forged events change nothing."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from sm_lifecycle.deployment import reconciler_for
from sm_lifecycle.deployment.model import Trigger

if TYPE_CHECKING:
    from tests.unit.deployment.conftest import Env

pytestmark = pytest.mark.slow


def endpoint_wake_up(env: Env) -> dict[str, Any]:
    return next(e for e in reversed(env.aws.emitted_events) if e["detail-type"] == "SageMaker Endpoint State Change")


def rolled_back_v2(env: Env) -> dict[str, Any]:
    """GIVEN v1 live, then v2 approved and rolled back by the guardrails (recorded by the deployer); v2's approval."""
    assert env.run(reconciler_for(env.settings), env.approved(), "request-1") == "created"
    env.aws.control.inject_guardrail_rollback(env.settings.endpoint_name)
    approval = env.approved()
    assert env.run(reconciler_for(env.settings), approval, "request-2") == "updated"
    assert env.run(reconciler_for(env.settings), endpoint_wake_up(env), "request-3") == "rolled-back"
    return approval


def forged(approval: dict[str, Any], how: str) -> dict[str, Any]:
    event = copy.deepcopy(approval)
    event["id"] = str(uuid.uuid4())
    now = datetime.now(UTC)
    event["time"] = now.isoformat().replace("+00:00", "Z")
    if how == "no-times":
        for key in ("LastModifiedTime", "CreationTime"):
            event["detail"].pop(key, None)
    else:  # a LastModifiedTime in the future
        event["detail"]["LastModifiedTime"] = (now + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    return event


@pytest.mark.parametrize("how", ["no-times", "future-last-modified"])
def test_a_forged_approval_of_a_rolled_back_version_does_not_redeploy_it(env: Env, how: str) -> None:
    approval = rolled_back_v2(env)
    updates = env.updates()

    # WHEN an approval event of v2 arrives that no human approval in the registry backs
    action = env.run(reconciler_for(env.settings), forged(approval, how), "request-4")

    # THEN v2 is not deployed again: the registry shows no approval after the rollback
    assert action == "blocked"
    assert env.updates() == updates
    config = env.sm.describe_endpoint(EndpointName=env.settings.endpoint_name)["EndpointConfigName"]
    assert f"{env.settings.endpoint_name}-v1-" in config


def test_a_human_approval_after_the_rollback_redeploys_it(env: Env) -> None:
    rolled_back_v2(env)
    updates = env.updates()

    # WHEN a person approves v2 again in the registry
    arn = next(
        p["ModelPackageArn"]
        for p in env.sm.list_model_packages(ModelPackageGroupName=env.outputs["ModelPackageGroupName"])[
            "ModelPackageSummaryList"
        ]
        if p["ModelPackageArn"].endswith("/2")
    )
    env.sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="again")
    env.aws.wait_idle()
    approval = next(e for e in reversed(env.aws.emitted_events) if arn in e["resources"])

    # THEN its approval event deploys it once more
    assert env.run(reconciler_for(env.settings), approval, "request-5") == "updated"
    assert env.updates() == updates + 1


def test_an_approval_hint_names_the_registrys_package_whatever_the_case_of_the_group() -> None:
    registry_arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/2"
    typed = "arn:aws:sagemaker:us-east-1:123456789012:model-package/Fraud-Detector/2"
    hint = Trigger(event_id="e", kind="model-package", package_arn=typed, approval_status="Approved")
    assert hint.approves(registry_arn)
    assert not hint.approves(registry_arn.replace("/2", "/3"))
    assert not hint.approves(registry_arn.replace(":123456789012:", ":210987654321:"))
