"""The deployed stack of template.yaml on the embedded AWS: EventBridge rule, function, alerts, no extra deploy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from tests.support import DRIFT_CHECKS_ON_DEMAND
from tests.worlds.tagging import World

pytestmark = pytest.mark.slow
FUNCTION = "TagArtifactsFunction"


@pytest.fixture
def stack() -> Iterator[tuple[LocalStack, EmbeddedAWS, dict[str, Any]]]:
    aws = EmbeddedAWS(timings=Timings()).start()
    stack = LocalStack(
        aws,
        env="dev",
        retry_delays=(0.0, 0.0),
        parameter_overrides={"ExtraTags": "cost-center=ml", **DRIFT_CHECKS_ON_DEMAND},
    )
    try:
        outputs = stack.deploy()
        stack.start()
        yield stack, aws, outputs
    finally:
        stack.stop()
        aws.stop()


def test_a_succeeded_execution_of_our_pipeline_is_tagged_and_no_other_is(stack):
    stack, aws, outputs = stack
    world = World(
        aws.client("sagemaker"),
        aws.client("s3"),
        aws.sagemaker_store.record_step,
        bucket=outputs["ArtifactBucketName"],
        pipeline=outputs["PipelineName"],
        group=outputs["ModelPackageGroupName"],
    )
    ours = world.execution()
    stranger = World(
        world.sm, world.s3, world.record_step, bucket=world.bucket, pipeline="someone-elses", group=world.group
    )
    theirs = stranger.execution()
    stack.wait_idle(timeout=60)  # the package registrations have been handled by whoever reacts to them
    events_before = len(aws.emitted_events)
    invocations_before = len(stack.invocations)

    # WHEN SageMaker reports both successes, and EventBridge delivers ours again once the first run is done
    stack.replay([world.event(ours), stranger.event(theirs)])
    stack.wait_idle(timeout=60)
    stack.replay([world.event(ours)])
    stack.wait_idle(timeout=60)

    # THEN the rule let only our pipeline's events through, and both runs succeeded with the same tags
    records = stack.invocations[invocations_before:]
    assert [(r["function"], r["outcome"]) for r in records] == [(FUNCTION, "ok")] * 2, records
    assert [r["result"]["status"] for r in records] == ["tagged", "tagged"]
    want = {"env": "dev", "team": "ml-platform", "pipeline": world.pipeline, "execution": ours.execution_id}
    for key in ours.objects:
        tags = world.object_tags(key)
        assert tags.items() >= want.items() and tags["cost-center"] == "ml" and tags["git-sha"] == "3f2c1e9aa"
    # (the package version cannot be tagged: each run reports what its metadata, from registration, records)
    assert world.resource_tags(ours.package_arn) == {}
    assert [list(r["result"]["recorded"]) for r in records] == [[ours.package_arn]] * 2
    assert all(world.object_tags(key) == {} for key in theirs.objects)
    # AND the re-delivery wrote nothing to S3
    assert records[1]["result"]["unchanged"] == len(ours.objects)
    # AND tagging emitted no model package event: nothing can make the deployer (or anyone else) act again
    stack.wait_idle(timeout=60)
    assert [r["function"] for r in stack.invocations[invocations_before:]] == [FUNCTION] * 2
    emitted = aws.emitted_events[events_before:]
    assert [e for e in emitted if e["detail-type"] == "SageMaker Model Package State Change"] == []


def test_a_real_local_pipeline_run_leaves_no_artifact_untagged(stack, monkeypatch):
    # GIVEN the dev pipeline upserted from its SDK definition, run for real by the local executor
    from local.pipelines import PipelineRunner  # noqa: PLC0415 - the SDK import takes seconds: only this test pays
    from pipeline import commands  # noqa: PLC0415
    from pipeline.config import Target  # noqa: PLC0415
    from sm_lifecycle.tagging.policy import Execution  # noqa: PLC0415
    from tools.inventory import inventory  # noqa: PLC0415

    stack, aws, outputs = stack
    for name, value in aws.env().items():
        monkeypatch.setenv(name, value)  # the SDK's own clients find the embedded AWS this way
    target = Target.from_outputs(outputs, aws.region)
    session = boto3.session.Session(region_name=aws.region)
    commands.upload_data(target, boto_session=session)
    commands.upsert(target, "dev", boto_session=session)
    with PipelineRunner(aws) as runner:
        # WHEN an execution runs to success (SageMaker's status events go through EventBridge to the stack)
        arn = commands.start(target, sha="abc1234", boto_session=session)
        assert runner.wait(arn, timeout=240)["PipelineExecutionStatus"] == "Succeeded"
        stack.wait_idle(timeout=120)

    # THEN the function tagged it, and the governance report finds every artifact tagged with this execution
    records = [r for r in stack.invocations if r["function"] == FUNCTION]
    assert [(r["outcome"], r["result"]["status"]) for r in records] == [("ok", "tagged")], records
    assert records[0]["result"]["skipped"] == {}  # every location the pipeline writes is specific to the execution
    rows = inventory(
        aws.client("sagemaker"),
        aws.client("s3"),
        Execution.from_arn(arn),
        bucket=target.bucket,
        prefix=f"{target.pipeline_name}/",
    )
    kinds = {row.kind for row in rows}
    assert {"s3-object", "training-job", "processing-job", "model-package"} <= kinds, kinds
    assert {row.ref: row.flags for row in rows if row.flags} == {}
    execution_id = arn.rsplit("/", 1)[-1]
    for row in rows:
        if row.kind != "model-package-group":
            assert row.tags["execution"] == execution_id and row.tags["git-sha"] == "abc1234", row
    assert any(row.ref.endswith("model.tar.gz") for row in rows)
    assert any("evaluation" in row.ref for row in rows if row.kind == "s3-object")
