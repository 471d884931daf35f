"""``make monitor``: what ops see of the stack, read through the AWS API."""

from __future__ import annotations

from tests.worlds.deployment import World
from tools.monitor import report
from tools.stackinfo import StackInfo


def _info(world: World) -> StackInfo:
    return StackInfo("dev", world.aws.region, world.outputs, world.aws.endpoint_url)


def test_before_any_approval_the_endpoint_is_reported_missing_and_queues_empty(world: World) -> None:
    # WHEN ops look at a fresh stack
    text = report(_info(world))

    # THEN nothing is served yet and no dead letter waits
    assert f"endpoint {world.endpoint}: not created yet" in text
    assert f"drift of {world.endpoint}: no check yet" in text
    assert "  Deploy         0 message(s)" in text
    assert "<-- look" not in text


def test_shows_the_served_version_the_decisions_and_dead_letters(live_v1: tuple[World, str]) -> None:
    # GIVEN v1 served, v2 rejected with a reason, and one event waiting in the alert function's dead-letter queue
    world, _ = live_v1
    v2 = world.register()
    world.reject(v2, note="bias found in the holdout slice")
    world.idle()
    world.aws.client("sqs").send_message(QueueUrl=world.outputs["AlertDeadLetterQueueUrl"], MessageBody="{}")

    # WHEN ops look
    text = report(_info(world))

    # THEN the endpoint, the packages with their decisions and the waiting dead letter are all there
    assert f"endpoint {world.endpoint}: InService" in text
    assert "serving v1 (git 0a1b2c3)" in text
    assert "capture  20 % to s3://" in text
    assert "v2    Rejected" in text and "bias found in the holdout slice" in text
    assert "v1    Approved" in text
    assert "  Alert          1 message(s)  <-- look" in text
    assert "-invocation-5xx" in text and "-model-latency" in text
