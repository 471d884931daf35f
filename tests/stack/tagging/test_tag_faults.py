"""The tagging function under an AWS bad day: SageMaker throttles its reads of the execution past its retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.stack import LocalStack
from tests.stack.dead_letters import assert_failed_past_its_retries
from tests.worlds.tagging import World

pytestmark = pytest.mark.slow


def test_a_throttled_execution_read_dead_letters_the_success_and_alerts(
    local_stack_factory: Callable[..., LocalStack], embedded_aws: Any, sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN a succeeded execution of the stack's pipeline, and SageMaker throttling DescribePipelineExecution
    stack = local_stack_factory()
    outputs = stack.outputs
    inbox = sns_inbox(outputs["AlertTopicArn"])
    world = World(
        embedded_aws.client("sagemaker"),
        embedded_aws.client("s3"),
        embedded_aws.sagemaker_store.record_step,
        bucket=outputs["ArtifactBucketName"],
        pipeline=outputs["PipelineName"],
        group=outputs["ModelPackageGroupName"],
    )
    run = world.execution()
    stack.wait_idle(timeout=60)
    before = len(stack.invocations)
    success = world.event(run)
    embedded_aws.control.inject_service_fault("sagemaker", "DescribePipelineExecution")

    # WHEN SageMaker reports its success
    stack.replay([success], timeout=180)

    # THEN the function failed past its retries, the event is in its dead-letter queue, the alarm alerted
    log = embedded_aws.control.service_fault_log()
    [event] = assert_failed_past_its_retries(
        stack,
        "TagArtifactsFunction",
        queue="TagArtifactsDeadLetterQueueUrl",
        alarm="TagArtifactsDeadLetterAlarm",
        inbox=inbox,
        fault_log=log,
        since=before,
    )
    assert event["detail"]["pipelineExecutionArn"] == success["detail"]["pipelineExecutionArn"]
    assert {(h["operation"], h["code"]) for h in log} == {("DescribePipelineExecution", "ThrottlingException")}
    # AND nothing was tagged
    assert all(world.object_tags(key) == {} for key in run.objects)
