"""Train once, promote everywhere, across accounts: the registry (dev) and the staging and prod deployment stacks of
samconfig.toml, each in its account, on one embedded AWS with IAM enforced."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack.landscape import Landscape
from sm_lifecycle.kernel.stages import Stage
from tests.conftest import SnsInbox
from tests.stack.dead_letters import assert_failed_past_its_retries
from tests.support import DRIFT_CHECKS_ON_DEMAND
from tests.worlds.deployment import IMAGE, served_package
from tools import registry_share
from tools.promotion import history, promote
from tools.stackinfo import StackInfo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def landscape() -> Iterator[Landscape]:
    aws = EmbeddedAWS(timings=Timings(schedule_scale=0.0005)).start()
    on_demand = dict.fromkeys(("dev", "staging", "prod"), DRIFT_CHECKS_ON_DEMAND)
    world = Landscape(aws, overrides=on_demand, retry_delays=(0.0, 0.0))
    try:
        world.deploy()
        world.start()
        yield world
    finally:
        world.stop()
        aws.stop()


def registry(landscape: Landscape) -> Any:
    return landscape.aws.client("sagemaker")


def register_approved(landscape: Landscape) -> str:
    outputs = landscape["dev"].outputs
    sm = registry(landscape)
    arn = sm.create_model_package(
        ModelPackageGroupName=outputs["ModelPackageGroupName"],
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": IMAGE,
                    "ModelDataUrl": f"s3://{outputs['ArtifactBucketName']}/fraud-pipeline-dev/x/Train/m.tgz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large", "ml.m5.xlarge"],
        },
    )["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    return arn


def stage_of(landscape: Landscape, arn: str) -> tuple[str, str]:
    life = registry(landscape).describe_model_package(ModelPackageName=arn).get("ModelLifeCycle") or {}
    return life.get("Stage", ""), life.get("StageStatus", "")


def until(landscape: Landscape, predicate: Callable[[], bool], timeout: float = 120) -> None:
    """Idle, until ``predicate()`` holds once every environment is idle (what it caused has been handled)."""
    deadline = time.monotonic() + timeout
    while True:
        landscape.wait_idle(60)
        if predicate():
            # a timer (a bake) may fire between the idle and the predicate: what it started must be handled too
            handled = invocation_count(landscape)
            landscape.wait_idle(60)
            if invocation_count(landscape) == handled and predicate():
                return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def invocation_count(landscape: Landscape) -> int:
    return sum(len(stack.invocations) for stack in landscape.stacks.values())


def bakes_pending(landscape: Landscape) -> list[str]:
    """The bake schedules not yet fired, in every environment (a fired one deletes itself)."""
    pending = []
    for stack in landscape.stacks.values():
        scheduler = landscape.aws.client("scheduler", account_id=stack.account_id)
        group = stack.function_env("StageGateFunction")["SCHEDULE_GROUP_NAME"]
        pending += [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    return pending


def serving(landscape: Landscape, env: str, arn: str) -> bool:
    stack = landscape[env]
    sm = landscape.aws.client("sagemaker", account_id=stack.account_id)
    return served_package(sm, stack.outputs["EndpointName"]) == arn


def info(landscape: Landscape, env: str) -> StackInfo:
    """What the operator commands know of ``env`` (make serve ENV=all prints it): outputs, an administrator's keys."""
    stack = landscape[env]
    credentials = landscape.aws.account_credentials(stack.account_id)
    keys = (credentials.access_key_id, credentials.secret_access_key)
    return StackInfo(env, landscape.aws.region, stack.outputs, landscape.aws.endpoint_url, keys)


def prod_info(landscape: Landscape) -> StackInfo:
    return info(landscape, "prod")


def test_each_environment_lives_in_its_own_account(landscape: Landscape) -> None:
    accounts = {env: stack.account_id for env, stack in landscape.stacks.items()}
    assert accounts == {"dev": "123456789012", "staging": "222222222222", "prod": "333333333333"}
    assert "PromoteFunction" in landscape["dev"].functions
    assert set(landscape["prod"].functions) == {
        "DeployFunction",
        "StageGateFunction",
        "AlertFunction",
        "DriftCheckFunction",
        "DriftMonitorFunction",
    }


def test_one_version_moves_dev_to_staging_then_waits_for_a_person_at_prod(landscape: Landscape) -> None:
    # WHEN a version is approved in the registry
    arn = register_approved(landscape)
    # THEN dev serves it, bakes it; staging's gate approves it, staging serves it, bakes it; it waits at Production
    until(landscape, lambda: stage_of(landscape, arn) == ("Production", "PendingApproval"))
    assert serving(landscape, "dev", arn) and serving(landscape, "staging", arn)
    assert not serving(landscape, "prod", arn)
    requests = [
        r for r in landscape["prod"].invocations if (r.get("result") or {}).get("status") == "approval-requested"
    ]
    assert len(requests) == 1

    # WHEN a person approves it at Production, with prod's credentials
    promote(prod_info(landscape), int(arn.rsplit("/", 1)[-1]), Stage.PRODUCTION, "release approved")
    # THEN prod serves the very version dev trained, and the registry says so
    until(landscape, lambda: stage_of(landscape, arn) == ("Production", "Deployed"))
    assert serving(landscape, "prod", arn)
    # AND nothing was denied on the way (the group, bucket, key and bus policies admit exactly this)
    assert landscape.aws.iam.log.counts["denied"] == 0
    # AND make promotions tells its way from the registry and the three stage gates' logs, in order
    number = int(arn.rsplit("/", 1)[-1])
    [row] = history(info(landscape, "dev"), number, gates=[info(landscape, env) for env in ("dev", "staging", "prod")])
    assert (row["stage"], row["stage_status"]) == ("Production", "Deployed")
    steps = [(t["env"], t["status"]) for t in row["transitions"] if t["status"] != "baked"]
    assert steps == [
        ("dev", "deployed"),
        ("dev", "promoted"),
        ("staging", "approved"),
        ("staging", "deployed"),
        ("staging", "promoted"),
        ("prod", "approval-requested"),
        ("prod", "deployed"),
    ], row["transitions"]
    assert "Staging" in next(t["to"] for t in row["transitions"] if t["env"] == "dev" and t["status"] == "promoted")


@pytest.mark.expect_denials
def test_a_deployment_account_may_write_only_its_own_stage(landscape: Landscape) -> None:
    arn = register_approved(landscape)
    until(landscape, lambda: stage_of(landscape, arn) == ("Production", "PendingApproval"))
    staging_sm = landscape.aws.client("sagemaker", account_id=landscape["staging"].account_id)
    # staging's administrator may not approve at Production (the group's policy: Staging, or Production pending)
    with pytest.raises(staging_sm.exceptions.ClientError, match="AccessDenied"):
        staging_sm.update_model_package(
            ModelPackageArn=arn, ModelLifeCycle={"Stage": "Production", "StageStatus": "Approved"}
        )


def test_an_event_forwarded_from_an_account_that_is_not_the_registry_is_ignored(landscape: Landscape) -> None:
    prod = landscape["prod"]
    arn = "arn:aws:sagemaker:us-east-1:444444444444:model-package/fraud-detector-dev/1"
    event = {
        "source": "aws.sagemaker",
        "account": "444444444444",
        "detail-type": "SageMaker Model Package State Change",
        "resources": [arn],
        "detail": {
            "ModelPackageGroupName": "fraud-detector-dev",
            "ModelPackageVersion": 1,
            "ModelPackageArn": arn,
            "ModelApprovalStatus": "Approved",
            "CreationTime": "2026-12-01T00:00:00Z",
            "UpdatedModelPackageFields": ["ModelLifeCycle"],
            "ModelLifeCycle": {"Stage": "Production", "StageStatus": "Approved"},
        },
    }
    # the rules take the registry's account only: delivered by hand, the handlers call it foreign
    prod.invoke_async(
        "DeployFunction", {**event, "version": "0", "id": "x-1", "time": "2026-12-01T00:00:00Z", "region": "us-east-1"}
    )
    prod.wait_idle(30)
    [record] = prod.records_for("x-1")
    assert record["result"]["status"] == "foreign"


def test_the_registry_unreachable_from_prod_retries_then_dead_letters_with_an_alert(landscape: Landscape) -> None:
    prod = landscape["prod"]
    inbox = SnsInbox(landscape.aws, prod.outputs["AlertTopicArn"], "prod-fault-inbox", account_id=prod.account_id)
    arn = register_approved(landscape)
    until(landscape, lambda: stage_of(landscape, arn) == ("Production", "PendingApproval"))
    # AND no earlier test's bake ends (and writes its verdict) while the registry throttles
    until(landscape, lambda: not bakes_pending(landscape))
    before = len(prod.invocations)
    # GIVEN the registry throttles prod's reads of the group (its cross-account Search: only prod reads now)
    landscape.aws.control.inject_service_fault("sagemaker", "Search")
    try:
        # WHEN a person approves the version at Production
        promote(prod_info(landscape), int(arn.rsplit("/", 1)[-1]), Stage.PRODUCTION, "release approved")
        prod.wait_idle(180)
        # THEN prod's deployer failed past its retries, the approval is in its dead-letter queue, ops were alerted
        [event] = assert_failed_past_its_retries(
            prod,
            "DeployFunction",
            queue="DeployDeadLetterQueueUrl",
            alarm="DeployDeadLetterAlarm",
            inbox=inbox,
            fault_log=landscape.aws.control.service_fault_log(),
            since=before,
        )
        assert not serving(landscape, "prod", arn)
    finally:
        landscape.aws.control.clear_service_faults()
    # WHEN the registry answers again and the dead letter is redriven, prod catches up
    prod.invoke_async("DeployFunction", event)
    until(landscape, lambda: serving(landscape, "prod", arn))


def test_the_registry_is_shared_once_deployed_and_the_deployment_accounts_find_it_with_one_search(
    landscape: Landscape,
) -> None:
    arn = register_approved(landscape)
    denied = landscape.aws.iam.log.counts["denied"]
    group = landscape["dev"].outputs["ModelPackageGroupArn"]
    prod_sm = landscape.aws.client("sagemaker", account_id=landscape["prod"].account_id)

    def discovered() -> list[str]:
        found = prod_sm.search(Resource="ModelPackage", CrossAccountFilterOption="CrossAccount", MaxResults=100)
        return [r["ModelPackage"]["ModelPackageArn"] for r in found["Results"]]

    # GIVEN the landscape deployed as an operator does (the stacks, then make share-registry)
    # THEN prod's cross-account search finds the registry's versions, only the registry's
    until(landscape, lambda: arn in discovered())
    assert {a.split(":")[4] for a in discovered()} == {landscape["dev"].account_id}
    # AND make share-registry again changes nothing: the share is promoted, the invitations accepted
    assert registry_share.promote(info(landscape, "dev").client("ram"), group)["promoted"] is False
    for env in ("staging", "prod"):
        assert registry_share.accept(info(landscape, env).client("ram"), landscape["dev"].account_id) == []
        # AND the deployers read their stage with a cross-account Search, never falling back to listing by ARN
        logs = landscape[env].logs("DeployFunction")
        assert logs and not [line for line in logs if "not discoverable across accounts" in line]
    assert landscape.aws.iam.log.counts["denied"] == denied
