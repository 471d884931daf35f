"""Every AWS call each function makes, throttled and failing with a 5xx past the SDK's retries.

For each call a function makes on its way to doing its job (recorded from a run without faults), a fresh stack
meets that call throttled, then answering 500, on every attempt: the invocation fails as Lambda must see it (an
exception: Lambda retries it twice, then dead-letters it and its queue's alarm alerts: the stack fault tests follow
one call per function through that path), it leaves nothing half done that blocks the retry, and once AWS recovers
the retry does the job, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ROOT, SnsInbox
from tests.stack.faults.world import FunctionWorld, no_backoff
from tests.worlds.alerting import Failures
from tests.worlds.promotion import IMAGE, Scene, binary_report
from tests.worlds.tagging import World as TaggingWorld

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # dozens of fresh stacks per test
KINDS = ("throttle", "internal")


def approval_event(world: FunctionWorld) -> dict[str, Any]:
    """Register and approve v1; the approval event SageMaker emitted."""
    sm = world.aws.client("sagemaker")
    arn = sm.create_model_package(
        ModelPackageGroupName=world.outputs["ModelPackageGroupName"],
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{world.outputs['ArtifactBucketName']}/m.tgz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
            "SupportedRealtimeInferenceInstanceTypes": [world.outputs["EndpointInstanceType"]],
        },
    )["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    world.aws.wait_idle()
    return next(
        e
        for e in reversed(world.aws.emitted_events)
        if arn in e["resources"] and e["detail"].get("UpdatedModelPackageFields")
    )


def endpoint_creations(world: FunctionWorld) -> int:
    return sum(
        1
        for e in world.aws.emitted_events
        if e["detail-type"] == "SageMaker Endpoint State Change" and e["detail"]["EndpointStatus"] == "CREATING"
    )


def each_call_faulted(
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    scene: Callable[[FunctionWorld], dict[str, Any]],
    done: Callable[[FunctionWorld], None],
    best_effort: frozenset[str] = frozenset(),
) -> list[tuple[str, str, str]]:
    """Run the matrix for one function; the (service, operation, kind) cases it ran. A call in ``best_effort`` may
    fail without failing the invocation (what it adds to the job is optional): the job must be done all the same."""
    with monkeypatch.context() as patch, no_backoff(patch):
        world = FunctionWorld.deploy(function, patch)
        try:
            first = scene(world)
            calls = world.calls_of(lambda: world.invoke(first))
        finally:
            world.stop()
    assert calls, f"{function} made no AWS call"
    ran = []
    for service, operation in calls:
        for kind in KINDS:
            with monkeypatch.context() as patch, no_backoff(patch):
                world = FunctionWorld.deploy(function, patch)
                try:
                    _fail_then_recover(
                        world, scene(world), service=service, operation=operation, kind=kind, best_effort=best_effort
                    )
                    done(world)
                except AssertionError as error:
                    raise AssertionError(f"{function} with {service}:{operation} {kind}: {error}") from error
                finally:
                    world.stop()
            ran.append((service, operation, kind))
    return ran


def _fail_then_recover(
    world: FunctionWorld, event: dict[str, Any], *, service: str, operation: str, kind: str, best_effort: frozenset[str]
) -> None:
    world.aws.control.inject_service_fault(service, operation, kind=kind)
    try:
        world.invoke(event)
    except Exception:  # whatever it raises, Lambda retries the event
        assert world.aws.control.service_fault_log(), "failed without meeting the fault"
        world.aws.control.clear_service_faults()
        assert isinstance(world.invoke(event), dict)  # Lambda's retry of the same event
        return
    assert world.aws.control.service_fault_log(), "the call was not made"
    assert operation in best_effort, "the invocation succeeded although a call it needs failed"


def test_the_deployer_survives_a_fault_on_each_of_its_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    def deployed_once(world: FunctionWorld) -> None:
        world.aws.wait_idle()
        endpoint = world.aws.client("sagemaker").describe_endpoint(EndpointName=world.outputs["EndpointName"])
        assert "-v1-" in endpoint["EndpointConfigName"], endpoint
        assert endpoint_creations(world) == 1

    ran = each_call_faulted(monkeypatch, "DeployFunction", approval_event, deployed_once)
    operations = {operation for _, operation, _ in ran}
    assert {"Search", "UpdateItem", "CreateModel", "CreateEndpointConfig", "CreateEndpoint"} <= operations


def test_the_gate_survives_a_fault_on_each_of_its_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    def registration(world: FunctionWorld) -> dict[str, Any]:
        inbox = SnsInbox(world.aws, world.outputs["AlertTopicArn"], "gate-inbox")
        arn = Scene.on(world.aws, world.outputs, inbox).register(binary_report(auc=0.93, fpr=0.02))
        world.aws.wait_idle()
        world.extras["package"] = arn
        return next(e for e in reversed(world.aws.emitted_events) if arn in e["resources"])

    def judged_once(world: FunctionWorld) -> None:
        world.aws.wait_idle()
        arn = world.extras["package"]
        package = world.aws.client("sagemaker").describe_model_package(ModelPackageName=arn)
        assert package["ModelApprovalStatus"] == "Approved", package
        decisions = [
            e
            for e in world.aws.emitted_events
            if arn in e["resources"] and "ModelApprovalStatus" in (e["detail"].get("UpdatedModelPackageFields") or [])
        ]
        assert len(decisions) == 1, decisions

    ran = each_call_faulted(monkeypatch, "PromoteFunction", registration, judged_once)
    operations = {operation for _, operation, _ in ran}
    assert {"DescribeModelPackage", "GetObject", "UpdateModelPackage"} <= operations


def test_the_alert_function_survives_a_fault_on_each_of_its_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    sample = json.loads((ROOT / "events" / "pipeline-execution-failed.json").read_text())

    def failure(world: FunctionWorld) -> dict[str, Any]:
        world.extras["inbox"] = SnsInbox(world.aws, world.outputs["AlertTopicArn"], "alert-inbox")
        event = Failures(world.aws.client("sagemaker"), world.aws.control).failure_for(sample)
        world.extras["execution"] = event["detail"]["pipelineExecutionArn"]
        return event

    def alerted_once(world: FunctionWorld) -> None:
        messages = [m for m in world.extras["inbox"].messages(wait=5) if world.extras["execution"] in m.message]
        assert len(messages) == 1, [m.subject for m in messages]

    # the job's real name (its ARN lower-cases it) only adds a line to the alert
    ran = each_call_faulted(monkeypatch, "AlertFunction", failure, alerted_once, frozenset({"ListTrainingJobs"}))
    operations = {operation for _, operation, _ in ran}
    assert {"DescribePipelineExecution", "ListPipelineExecutionSteps", "Publish"} <= operations


def test_the_tagger_survives_a_fault_on_each_of_its_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    def succeeded(world: FunctionWorld) -> dict[str, Any]:
        outputs = world.outputs
        artifacts = TaggingWorld(
            world.aws.client("sagemaker"),
            world.aws.client("s3"),
            world.aws.sagemaker_store.record_step,
            bucket=outputs["ArtifactBucketName"],
            pipeline=outputs["PipelineName"],
            group=outputs["ModelPackageGroupName"],
        )
        run = artifacts.execution()
        world.aws.wait_idle()
        world.extras.update(artifacts=artifacts, run=run)
        return artifacts.event(run)

    def everything_tagged(world: FunctionWorld) -> None:
        artifacts, run = world.extras["artifacts"], world.extras["run"]
        for key in run.objects:
            assert artifacts.object_tags(key).get("execution") == run.execution_id, key
        for arn in run.jobs:
            assert artifacts.resource_tags(arn).get("execution") == run.execution_id, arn

    ran = each_call_faulted(monkeypatch, "TagArtifactsFunction", succeeded, everything_tagged)
    operations = {operation for _, operation, _ in ran}
    assert {"DescribePipelineExecution", "ListPipelineExecutionSteps", "PutObjectTagging", "AddTags"} <= operations
