"""The deployer under an AWS bad day: SageMaker throttles it past its retries; the approval is dead-lettered and
alerted, nothing is deployed, and it deploys once SageMaker recovers and the event is re-driven."""

from __future__ import annotations

import pytest

from tests.conftest import SnsInbox
from tests.stack.dead_letters import assert_failed_past_its_retries
from tests.worlds.deployment import World

pytestmark = pytest.mark.slow


def test_a_throttled_registry_dead_letters_the_approval_and_alerts(world: World) -> None:
    # GIVEN a registered version, and SageMaker throttling ListModelPackages until further notice
    inbox = SnsInbox(world.aws, world.outputs["AlertTopicArn"], "deploy-fault-inbox")
    v1 = world.register()
    world.idle()
    world.aws.control.inject_service_fault("sagemaker", "ListModelPackages")
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
    assert {(h["operation"], h["code"], h["status"]) for h in log} == {
        ("ListModelPackages", "ThrottlingException", 400)
    }
    assert world.mutations() == []

    # WHEN SageMaker recovers and the dead letter is re-driven to the function
    world.aws.control.clear_service_faults()
    world.stack.invoke_async("DeployFunction", event)
    world.idle()

    # THEN the version is live
    assert world.live_version() == 1
