"""The deployment world on the embedded AWS: the stack of template.yaml, a model registry driven through the
SageMaker API as the console drives it, and what can be observed from outside (endpoint, events, alerts, DLQ).

Endpoint mutations are counted from the endpoint state change events SageMaker emits: every accepted
``CreateEndpoint`` emits one ``CREATING`` event and every accepted ``UpdateEndpoint`` one ``UPDATING`` event.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from dataclasses import dataclass, field
from typing import Any

from local.aws import EmbeddedAWS
from local.stack import LocalStack

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
DEPLOYMENT_STATE_CHANGE = "SageMaker Endpoint Deployment State Change"
# For tests not about bakes: a 30-day bake (43 min on the embedded AWS's scaled schedule clock) ends after every test,
# so no stage gate hand-over wakes the deployer in the middle of one.
NO_BAKE_ENDS = "43200"


def served_package(sagemaker: Any, endpoint: str) -> str | None:
    """The package ``endpoint`` serves once it is InService (the deployer's tag on its config), as its account's
    ``sagemaker`` client reads it; None before."""
    try:
        found = sagemaker.describe_endpoint(EndpointName=endpoint)
    except sagemaker.exceptions.ClientError:
        return None
    config = sagemaker.describe_endpoint_config(EndpointConfigName=found["EndpointConfigName"])
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]}
    return tags.get("model-package-arn") if found["EndpointStatus"] == "InService" else None


def model_tarball(booster: Any) -> bytes:
    """An XGBoost booster as SageMaker's XGBoost container loads it: ``xgboost-model`` in a ``model.tar.gz``."""
    raw = bytes(booster.save_raw(raw_format="json"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("xgboost-model")
        member.size = len(raw)
        archive.addfile(member, io.BytesIO(raw))
    return buffer.getvalue()


@dataclass
class World:
    aws: EmbeddedAWS
    stack: LocalStack
    outputs: dict[str, Any]
    inbox_url: str = ""
    alerts_seen: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def on(cls, aws: EmbeddedAWS, stack: LocalStack, outputs: dict[str, Any]) -> World:
        world = cls(aws, stack, outputs)
        sqs = aws.client("sqs")
        world.inbox_url = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=world.inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws.client("sns").subscribe(TopicArn=outputs["AlertTopicArn"], Protocol="sqs", Endpoint=arn)
        return world

    # ------------------------------------------------------------------ shortcuts
    @property
    def sm(self) -> Any:
        return self.aws.client("sagemaker")

    @property
    def group(self) -> str:
        return self.outputs["ModelPackageGroupName"]

    @property
    def endpoint(self) -> str:
        return self.outputs["EndpointName"]

    def idle(self) -> None:
        self.stack.wait_idle(timeout=60)

    # ------------------------------------------------------------------ registry, as a person or the pipeline acts
    def register(
        self,
        *,
        status: str = "PendingManualApproval",
        inference: bool = True,
        git_sha: str = "0a1b2c3",
        instance_types: list[str] | None = None,
    ) -> str:
        request: dict[str, Any] = {
            "ModelPackageGroupName": self.group,
            "ModelApprovalStatus": status,
            "CustomerMetadataProperties": {"GitSha": git_sha},
        }
        if inference:
            key = f"models/{uuid.uuid4().hex}/model.tar.gz"
            request["InferenceSpecification"] = {
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{self.outputs['ArtifactBucketName']}/{key}"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            }
            if instance_types is not None:
                request["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"] = instance_types
        return self.sm.create_model_package(**request)["ModelPackageArn"]

    def approve(self, arn: str, note: str = "approved in the console") -> None:
        self.sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription=note)

    def reject(self, arn: str, note: str = "rejected in the console") -> None:
        self.sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected", ApprovalDescription=note)

    # ------------------------------------------------------------------ observations
    def describe(self) -> dict[str, Any]:
        return self.sm.describe_endpoint(EndpointName=self.endpoint)

    def live_version(self) -> int:
        """The package version the endpoint serves, from its config's tags."""
        config = self.describe()["EndpointConfigName"]
        arn = self.sm.describe_endpoint_config(EndpointConfigName=config)["EndpointConfigArn"]
        tags = {t["Key"]: t["Value"] for t in self.sm.list_tags(ResourceArn=arn)["Tags"]}
        return int(tags["model-package-version"])

    def events(self, detail_type: str) -> list[dict[str, Any]]:
        return [e for e in self.aws.emitted_events if e["detail-type"] == detail_type]

    def mutations(self) -> list[tuple[str, str]]:
        """(status, endpoint config) of every accepted CreateEndpoint / UpdateEndpoint, in order."""
        return [
            (e["detail"]["EndpointStatus"], e["detail"].get("EndpointConfigName", ""))
            for e in self.events(ENDPOINT_STATE_CHANGE)
            if e["detail"]["EndpointStatus"] in {"CREATING", "UPDATING"}
        ]

    def mutation_targets(self) -> list[str]:
        """The endpoint config each accepted mutation moved to: ``CREATING`` events name it, and every
        ``UpdateEndpoint`` starts a deployment whose first phase (``Creating``) names it as pending."""
        targets: list[str] = []
        for event in self.aws.emitted_events:
            detail = event["detail"]
            if event["detail-type"] == ENDPOINT_STATE_CHANGE and detail["EndpointStatus"] == "CREATING":
                targets.append(detail["EndpointConfigName"])
            elif event["detail-type"] == DEPLOYMENT_STATE_CHANGE and detail.get("PendingDeploymentSummary"):
                pending = detail["PendingDeploymentSummary"]
                phases = [s["Status"] for v in pending["ProductionVariants"] for s in v.get("VariantStatus", [])]
                if phases and all(phase == "Creating" for phase in phases):
                    targets.append(pending["EndpointConfigName"])
        return targets

    def mutations_to(self, version: int) -> int:
        """How many accepted mutations (creation or update) moved the endpoint to version ``version``."""
        return sum(1 for target in self.mutation_targets() if f"-v{version}-" in target)

    def deploy_records(self) -> list[dict[str, Any]]:
        return [r for r in self.stack.invocations if r["function"] == "DeployFunction"]

    def deploy_statuses(self) -> list[str]:
        return [str((r.get("result") or {}).get("status")) for r in self.deploy_records()]

    def deploy_failures(self) -> list[dict[str, Any]]:
        return [r for r in self.deploy_records() if r["outcome"] != "ok"]

    def alerts(self, kind: str | None = "deployment") -> list[dict[str, Any]]:
        """Alerts published to the topic so far (SNS envelopes), optionally only those of one ``kind``."""
        sqs = self.aws.client("sqs")
        while True:
            messages = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                self.alerts_seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])
        if kind is None:
            return list(self.alerts_seen)
        return [a for a in self.alerts_seen if (a.get("MessageAttributes") or {}).get("kind", {}).get("Value") == kind]

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = self.aws.client("sqs")
        url = self.outputs["DeployDeadLetterQueueUrl"]
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    def package_event(self, arn: str, *, fields: list[str] | None) -> dict[str, Any]:
        """The newest package state change event SageMaker emitted for ``arn`` with these UpdatedModelPackageFields."""
        for event in reversed(self.events(PACKAGE_STATE_CHANGE)):
            detail = event["detail"]
            if detail["ModelPackageArn"] == arn and detail.get("UpdatedModelPackageFields") == fields:
                return event
        raise LookupError(f"no package event for {arn} with fields {fields}")
