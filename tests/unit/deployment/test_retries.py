"""Lambda retries and lost responses: the deploy reconcile in this process, on the embedded AWS with the stack's
resources, with a gateway whose UpdateEndpoint fails once (before or after SageMaker applied it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from sm_lifecycle.deployment import DEPLOY_EVENTS, DeploySettings, reconciler_for
from sm_lifecycle.deployment import trigger_from_event as trigger_of
from sm_lifecycle.deployment.reconciler import Reconciler
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.errors import TransientError
from sm_lifecycle.kernel.events import parse_one_of
from tests.worlds.deployment import IMAGE


def trigger_from_event(event: Any, settings: DeploySettings) -> Any:
    """The deploy function's parsing (the handler factory's) then its trigger."""
    return trigger_of(parse_one_of(event, DEPLOY_EVENTS), settings)


pytestmark = pytest.mark.slow


class Env:
    def __init__(self, aws: EmbeddedAWS, outputs: dict[str, Any], settings: DeploySettings) -> None:
        self.aws, self.outputs, self.settings = aws, outputs, settings
        self.sm = aws.client("sagemaker")

    def approved(self) -> dict[str, Any]:
        """Register and approve a version; the approval event SageMaker emitted."""
        arn = self.sm.create_model_package(
            ModelPackageGroupName=self.outputs["ModelPackageGroupName"],
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{self.outputs['ArtifactBucketName']}/m.tgz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        self.sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        self.aws.wait_idle()
        return next(
            e
            for e in reversed(self.aws.emitted_events)
            if arn in e["resources"] and e["detail"].get("UpdatedModelPackageFields")
        )

    def updates(self) -> int:
        return sum(
            1
            for e in self.aws.emitted_events
            if e["detail-type"] == "SageMaker Endpoint State Change" and e["detail"]["EndpointStatus"] == "UPDATING"
        )

    def run(self, reconciler: Reconciler, event: dict[str, Any], request_id: str) -> str:
        outcome = reconciler.reconcile(trigger_from_event(event, self.settings), request_id=request_id)
        self.aws.wait_idle()
        return outcome.action


class FailingUpdates:
    """Wraps the SageMaker client: the next UpdateEndpoint fails, before or after it reaches SageMaker."""

    def __init__(self, client: Any, *, applied: bool) -> None:
        self._client, self.applied, self.armed = client, applied, True

    def update_endpoint(self, **kwargs: Any) -> Any:
        if self.armed:
            self.armed = False
            if self.applied:
                self._client.update_endpoint(**kwargs)
            raise TransientError("UpdateEndpoint: connection reset")
        return self._client.update_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def env() -> Iterator[Env]:
    aws = EmbeddedAWS(timings=Timings()).start()
    saved = dict(os.environ)
    try:
        stack = LocalStack(aws, env="dev")
        outputs = stack.deploy()
        os.environ.update({**stack.function_env("DeployFunction"), **aws.env()})
        clients.reset()
        yield Env(aws, outputs, DeploySettings.from_env())
    finally:
        os.environ.clear()
        os.environ.update(saved)
        clients.reset()
        aws.stop()


def _with_failing_update(env: Env, *, applied: bool) -> Reconciler:
    reconciler = reconciler_for(env.settings)
    reconciler.gateway._mutations = FailingUpdates(reconciler.gateway._mutations, applied=applied)
    return reconciler


@pytest.mark.parametrize("applied", [False, True], ids=["lost-request", "lost-response"])
def test_lambda_retry_of_a_failed_update_converges_with_one_update(env: Env, applied: bool) -> None:
    # GIVEN version 1 live
    assert env.run(reconciler_for(env.settings), env.approved(), "request-1") == "created"
    reconciler = _with_failing_update(env, applied=applied)
    approval = env.approved()

    # WHEN UpdateEndpoint fails once: the invocation raises (Lambda will retry it)
    with pytest.raises(TransientError):
        env.run(reconciler, approval, "request-2")
    # AND a duplicate delivery of the same event (another request) arrives meanwhile
    duplicate = env.run(reconciler_for(env.settings), approval, "request-3")
    # AND Lambda retries the invocation (same request id)
    retried = env.run(reconciler, approval, "request-2")

    # THEN the endpoint serves version 2 after exactly one accepted UpdateEndpoint
    assert env.updates() == 1
    assert env.sm.describe_endpoint(EndpointName=env.settings.endpoint_name)["EndpointConfigName"].startswith(
        f"{env.settings.endpoint_name}-v2-"
    )
    if applied:  # the update had happened: both find the endpoint on version 2
        assert (duplicate, retried) == ("in-sync", "in-sync")
    else:  # it had not: the duplicate defers to the claim, the retry resumes it
        assert (duplicate, retried) == ("in-progress", "updated")
