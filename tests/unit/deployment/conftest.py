"""Fixtures of the deploy unit tests: the stack's resources on an embedded AWS in this process, the deploy function's
settings in the environment, and the reconcile run directly (no stack runtime)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from sm_lifecycle.deployment import DEPLOY_EVENTS, DeploySettings
from sm_lifecycle.deployment import trigger_from_event as trigger_of
from sm_lifecycle.deployment.reconciler import Reconciler
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.events import parse_one_of
from tests.worlds.deployment import IMAGE


def trigger_from_event(event: Any, settings: DeploySettings) -> Any:
    """The deploy function's parsing (the handler factory's) then its trigger."""
    return trigger_of(parse_one_of(event, DEPLOY_EVENTS), settings)


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
