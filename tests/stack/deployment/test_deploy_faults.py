"""The deployer under an AWS bad day: SageMaker throttles it past its retries (the registry, or UpdateEndpoint); the
approval is dead-lettered and alerted, nothing is deployed, and it deploys once SageMaker recovers and the event is
re-driven (a refused update leaves no claim to wait for)."""

from __future__ import annotations

import time

import pytest

from tests.conftest import SnsInbox
from tests.stack.dead_letters import alarm_subjects, assert_failed_past_its_retries
from tests.worlds.deployment import World

pytestmark = pytest.mark.slow


def test_a_throttled_registry_dead_letters_the_approval_and_alerts(world: World) -> None:
    # GIVEN a registered version, and SageMaker throttling Search (how the deployer reads its stage) for now
    inbox = SnsInbox(world.aws, world.outputs["AlertTopicArn"], "deploy-fault-inbox")
    v1 = world.register()
    world.idle()
    world.aws.control.inject_service_fault("sagemaker", "Search")
    before = len(world.stack.invocations)

    # WHEN it is approved
    world.approve(v1)
    world.stack.wait_idle(timeout=180)  # three attempts, each through the SDK's back-off

    # THEN the deployer failed past its SDK retries and Lambda's, the approval is in its dead-letter queue,
    # the queue's alarm alerted the topic, and no endpoint was created
    log = world.aws.control.service_fault_log()
    [event] = assert_failed_past_its_retries(
        world.stack,
        "DeployFunction",
        queue="DeployDeadLetterQueueUrl",
        alarm="DeployDeadLetterAlarm",
        inbox=inbox,
        fault_log=log,
        since=before,
    )
    assert event["detail"]["ModelPackageArn"] == v1
    assert {(h["operation"], h["code"], h["status"]) for h in log} == {("Search", "ThrottlingException", 400)}
    assert world.mutations() == []

    # WHEN SageMaker recovers and the dead letter is re-driven to the function
    world.aws.control.clear_service_faults()
    world.stack.invoke_async("DeployFunction", event)
    world.idle()

    # THEN the version is live
    assert world.live_version() == 1


def test_an_update_throttled_past_the_retries_deploys_when_the_approval_is_redriven(live_v1: tuple[World, str]) -> None:
    # GIVEN v1 live, v2 registered, and SageMaker throttling UpdateEndpoint until further notice
    world, _ = live_v1
    inbox = SnsInbox(world.aws, world.outputs["AlertTopicArn"], "deploy-update-fault-inbox")
    v2 = world.register()
    world.idle()
    world.aws.control.inject_service_fault("sagemaker", "UpdateEndpoint")
    before = len(world.stack.invocations)

    # WHEN v2 is approved: every attempt's UpdateEndpoint is refused
    world.approve(v2)
    world.stack.wait_idle(timeout=120)

    # THEN the approval is dead-lettered and alerted, and the endpoint still serves v1
    log = world.aws.control.service_fault_log()
    [event] = assert_failed_past_its_retries(
        world.stack,
        "DeployFunction",
        queue="DeployDeadLetterQueueUrl",
        alarm="DeployDeadLetterAlarm",
        inbox=inbox,
        fault_log=log,
        since=before,
    )
    assert event["detail"]["ModelPackageArn"] == v2
    assert [(h["operation"], h["code"]) for h in log] == [("UpdateEndpoint", "ThrottlingException")] * 3
    assert world.live_version() == 1
    # AND the function's error alarm, on the events Lambda gave up on (not on its failed attempts), alerted
    assert any(errors_alarm(world) in s for s in alarm_subjects(inbox)), alarm_subjects(inbox)

    # WHEN SageMaker recovers and the dead letter is re-driven at once (another invocation, another request id)
    world.aws.control.clear_service_faults()
    seen = len(world.deploy_records())
    world.stack.invoke_async("DeployFunction", event)
    world.idle()

    # THEN it deploys v2 (the refused attempts left no claim behind to wait for): one accepted update
    statuses = world.deploy_statuses()[seen:]
    assert "updated" in statuses and "in-progress" not in statuses, statuses
    assert world.live_version() == 2
    assert world.mutations_to(2) == 1


def errors_alarm(world: World) -> str:
    return world.stack.physical_id("DeployErrorsAlarm")


def test_an_update_throttled_once_is_fixed_by_lambdas_retry_and_alarms_nobody(live_v1: tuple[World, str]) -> None:
    # GIVEN v1 live, v2 registered, and SageMaker throttling the next UpdateEndpoint only
    world, _ = live_v1
    inbox = SnsInbox(world.aws, world.outputs["AlertTopicArn"], "deploy-one-fault-inbox")
    v2 = world.register()
    world.idle()
    world.aws.control.inject_service_fault("sagemaker", "UpdateEndpoint", times=1)
    seen = len(world.deploy_records())

    # WHEN v2 is approved: the first attempt is refused, Lambda's retry claims again and updates
    world.approve(v2)
    world.idle()
    time.sleep(1)  # a few evaluations of the stack's alarms

    # THEN v2 is live after one accepted update, the retried invocation ended well
    assert world.live_version() == 2
    assert world.mutations_to(2) == 1
    records = world.deploy_records()[seen:]
    assert [(r["outcome"], r["attempts"]) for r in records if r["attempts"] > 1] == [("ok", 2)], records
    # AND no alarm fired: the failed attempt was fixed by the retry, nothing was dropped or dead-lettered
    assert [s for s in alarm_subjects(inbox) if s.startswith("ALARM: ")] == []
    state = world.aws.client("cloudwatch").describe_alarms(AlarmNames=[errors_alarm(world)])["MetricAlarms"]
    assert [a["StateValue"] for a in state] != ["ALARM"]
