"""IAM enforcement bites: the same scenario that passes with template.yaml fails, as it would on AWS, when one
action is taken out of a function's policy — the call is denied with AWS's error, the event is dead-lettered and
alerted, and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from tests.conftest import ROOT, SnsInbox
from tests.stack.dead_letters import assert_failed_past_its_retries
from tests.support import DRIFT_CHECKS_ON_DEMAND
from tests.worlds.deployment import NO_BAKE_ENDS, World

pytestmark = [pytest.mark.slow, pytest.mark.expect_denials]


def template_without(tmp_path: Path, action: str) -> Path:
    """template.yaml with one action line removed, beside links to the code it deploys."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    line = f"                - {action}\n"
    assert text.count(line) == 1, f"{action} is not one line of one policy"
    path = tmp_path / "template.yaml"
    path.write_text(text.replace(line, ""), encoding="utf-8")
    for folder in ("functions", "layers"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    return path


@pytest.fixture
def world_without_update_endpoint(tmp_path: Path) -> Iterator[World]:
    aws = EmbeddedAWS(timings=Timings()).start()
    template = template_without(tmp_path, "sagemaker:UpdateEndpoint")
    stack = LocalStack(
        aws,
        env="dev",
        template_path=template,
        samconfig=ROOT / "samconfig.toml",
        retry_delays=(0, 0),
        parameter_overrides={"BakeMinutes": NO_BAKE_ENDS, **DRIFT_CHECKS_ON_DEMAND},
    )
    world = World.on(aws, stack, stack.deploy())
    stack.start()
    try:
        yield world
    finally:
        stack.stop()
        aws.stop()


def test_a_policy_without_update_endpoint_cannot_roll_out_the_next_version(
    world_without_update_endpoint: World,
) -> None:
    world = world_without_update_endpoint
    inbox = SnsInbox(world.aws, world.outputs["AlertTopicArn"], "bite-inbox")
    # GIVEN v1 live: creating the endpoint needs no UpdateEndpoint
    v1 = world.register()
    world.approve(v1)
    world.idle()
    assert world.live_version() == 1
    assert world.aws.iam is not None and world.aws.iam.log.denials == []
    before = len(world.stack.invocations)

    # WHEN v2 is approved
    v2 = world.register()
    world.approve(v2)
    world.stack.wait_idle(timeout=120)

    # THEN UpdateEndpoint was denied with AWS's message, for the deploy function's role session
    denials = {(d.action, d.resource): d.message for d in world.aws.iam.log.denials}
    endpoint_arn = f"arn:aws:sagemaker:{world.aws.region}:{world.aws.account_id}:endpoint/{world.endpoint}"
    message = denials[("sagemaker:UpdateEndpoint", endpoint_arn)]
    function = world.stack.functions["DeployFunction"].name
    assert message.startswith(f"User: arn:aws:sts::{world.aws.account_id}:assumed-role/")
    assert f"/{function} is not authorized to perform: sagemaker:UpdateEndpoint on resource: {endpoint_arn}" in message
    assert message.endswith("because no identity-based policy allows the sagemaker:UpdateEndpoint action")
    # AND the function failed past its retries with AccessDeniedException, the approval was dead-lettered and alerted
    [event] = assert_failed_past_its_retries(
        world.stack,
        "DeployFunction",
        queue="DeployDeadLetterQueueUrl",
        alarm="DeployDeadLetterAlarm",
        inbox=inbox,
        fault_log=[message],
        since=before,
    )
    assert event["detail"]["ModelPackageArn"] == v2
    [failure] = [r for r in world.stack.invocations[before:] if r["function"] == "DeployFunction"]
    assert "AccessDeniedException" in str(failure["error"]), failure
    # AND v1 still serves
    assert world.live_version() == 1
