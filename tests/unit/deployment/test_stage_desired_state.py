"""The deployer's desired state at a ModelLifeCycle stage: the newest approved version eligible for the stage, read
from the registry (``Search`` on the stage; by ARN, ``ListModelPackages`` of a group not discoverable here; the
cross-account search itself is in test_shared_desired_state.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sm_lifecycle.deployment import reconciler_for
from sm_lifecycle.deployment.model import Trigger
from sm_lifecycle.deployment.sagemaker import SageMakerGateway
from sm_lifecycle.kernel.stages import Stage
from tests.worlds.deployment import IMAGE


def register(env: Any, *, approved: bool = True, stage: str | None = None, status: str | None = None) -> int:
    """A version of the stack's group (approved or not, with a lifecycle or none); its version number."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": env.outputs["ModelPackageGroupName"],
        "ModelApprovalStatus": "Approved" if approved else "PendingManualApproval",
        "InferenceSpecification": {
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{env.outputs['ArtifactBucketName']}/m.tgz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    }
    if stage:
        request["ModelLifeCycle"] = {"Stage": stage, "StageStatus": status or "PendingApproval"}
    arn = env.sm.create_model_package(**request)["ModelPackageArn"]
    return int(arn.rsplit("/", 1)[-1])


@pytest.fixture
def staged(env: Any) -> dict[str, int]:
    """v1 live in production, v2 deployed in staging, v3 waiting for staging, v4 rejected at staging, v5 approved
    in development, v6 approved with no lifecycle, v7 not approved."""
    return {
        "prod": register(env, stage="Production", status="Deployed"),
        "staging": register(env, stage="Staging", status="Deployed"),
        "waiting": register(env, stage="Staging", status="PendingApproval"),
        "rejected": register(env, stage="Staging", status="Rejected"),
        "dev": register(env, stage="Development", status="Approved"),
        "plain": register(env),
        "unapproved": register(env, approved=False, stage="Production", status="Approved"),
    }


def newest(env: Any, stage: Stage, group: str | None = None) -> int | None:
    found = SageMakerGateway(env.sm).newest_eligible(group or env.outputs["ModelPackageGroupName"], stage)
    return found.version if found else None


def test_each_stage_gets_the_newest_approved_version_eligible_for_it(env: Any, staged: dict[str, int]) -> None:
    # Production: only v1 is at Production (v7 says so too, but is not approved)
    assert newest(env, Stage.PRODUCTION) == staged["prod"]
    # Staging: v2 deployed there; v3 waits (PendingApproval), v4 was rejected there: neither is eligible
    assert newest(env, Stage.STAGING) == staged["staging"]
    # Development: every approved version reached or passed it, and v6 has no lifecycle: the newest, v6
    assert newest(env, Stage.DEVELOPMENT) == staged["plain"]


def test_a_group_read_by_arn_when_not_discoverable_gives_the_same_answers(env: Any, staged: dict[str, int]) -> None:
    group_arn = env.sm.describe_model_package_group(ModelPackageGroupName=env.outputs["ModelPackageGroupName"])[
        "ModelPackageGroupArn"
    ]
    for stage in Stage:
        assert newest(env, stage, group_arn) == newest(env, stage)


def test_rejecting_the_live_version_at_a_stage_rolls_that_stage_back_and_keeps_the_later_ones(
    env: Any, staged: dict[str, int]
) -> None:
    summaries = env.sm.list_model_packages(ModelPackageGroupName=env.outputs["ModelPackageGroupName"])
    arn = next(
        p["ModelPackageArn"]
        for p in summaries["ModelPackageSummaryList"]
        if p["ModelPackageVersion"] == staged["staging"]
    )
    env.sm.update_model_package(ModelPackageArn=arn, ModelLifeCycle={"Stage": "Staging", "StageStatus": "Rejected"})
    # Staging falls back to the newest version still eligible for it: v1, at Production (a later stage)
    assert newest(env, Stage.STAGING) == staged["prod"]
    assert newest(env, Stage.PRODUCTION) == staged["prod"]


def test_the_reconciler_deploys_the_stage_s_version_not_the_newest_approved(env: Any, staged: dict[str, int]) -> None:
    settings = dataclasses.replace(env.settings, lifecycle_stage=Stage.STAGING)
    outcome = reconciler_for(settings).reconcile(Trigger(event_id="e-1", kind="endpoint"), request_id="r-1")
    assert (outcome.action, outcome.desired_version) == ("created", staged["staging"])


def test_a_stage_search_does_not_grow_with_versions_that_never_reached_the_stage(env: Any) -> None:
    for _ in range(120):
        register(env, stage="Development", status="Approved")
    live = register(env, stage="Production", status="Deployed")
    calls: list[str] = []
    env.sm.meta.events.register("before-call.sagemaker.*", lambda model, **_: calls.append(model.name))
    assert newest(env, Stage.STAGING) == live
    assert calls == ["Search"]


def test_a_version_the_guardrails_roll_back_at_a_stage_stops_there_and_the_stage_keeps_its_version(
    env: Any,
) -> None:
    settings = dataclasses.replace(env.settings, lifecycle_stage=Stage.STAGING)
    group = env.outputs["ModelPackageGroupName"]

    def reconcile(request_id: str) -> str:
        outcome = reconciler_for(settings).reconcile(
            Trigger(event_id=request_id, kind="endpoint"), request_id=request_id
        )
        env.aws.wait_idle()
        return outcome.action

    # GIVEN staging serving v1 (baked there, now waiting for production)
    v1 = register(env, stage="Production", status="PendingApproval")
    assert reconcile("r-1") == "created"
    # WHEN v2 is approved at staging and its canary trips the endpoint's guardrails
    env.aws.control.inject_guardrail_rollback(env.settings.endpoint_name)
    v2 = register(env, stage="Staging", status="Approved")
    assert reconcile("r-2") == "updated"
    assert reconcile("r-3") == "rolled-back"
    # THEN v2 is {Staging, Rejected} in the registry, saying why; staging's desired version is v1 again
    summaries = env.sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    lifecycle = {p["ModelPackageVersion"]: p.get("ModelLifeCycle", {}) for p in summaries}
    assert (lifecycle[v2]["Stage"], lifecycle[v2]["StageStatus"]) == ("Staging", "Rejected")
    assert "rolled back by the endpoint's guardrails" in lifecycle[v2]["StageDescription"]
    assert lifecycle[v1]["StageStatus"] == "PendingApproval"
    assert newest(env, Stage.STAGING) == v1
    assert reconcile("r-4") == "in-sync"


def test_a_stage_with_no_eligible_version_yet_says_so(env: Any) -> None:
    register(env, stage="Staging", status="PendingApproval")
    settings = dataclasses.replace(env.settings, lifecycle_stage=Stage.PRODUCTION)
    outcome = reconciler_for(settings).reconcile(Trigger(event_id="e-1", kind="endpoint"), request_id="r-1")
    assert outcome.action == "nothing-approved"
    assert outcome.detail == f"no approved version eligible for Production in {env.outputs['ModelPackageGroupName']}"
