"""Promotion through the stages on the embedded AWS: AWS calls and handler time per stage transition, and what one
desired-state lookup costs as the group grows.

(a) A prod-like stack (``LifecycleStage=Production``, ``StagePolicy=recommend``) with its handlers run in this
process (botocore's ``before-call`` hook counts every AWS call; ``time.sleep`` is counted): a version handed over to
Production (the gate asks the approvers), a person's approval (the deployer, up to ``UpdateEndpoint``), the endpoint
``InService`` (the gate: ``{Production, Deployed}`` and the bake's schedule), the bake's end (the gate's evidence).
Target: at most 6 calls from the prod approval to ``UpdateEndpoint``, no sleep.

(b) Desired-state lookup:

A group holds ``--versions`` approved versions (default 1,000), most of them never promoted past Development, a few
at Staging and one live at Production. For each stage the deployer's lookup (``SageMakerGateway.newest_eligible``)
runs as it does in the registry's account (``Search`` filtering on ``ModelLifeCycle.Stage``), from a deployment
account while the group is not discoverable there (a warning, then ``ListModelPackages`` of the approved versions by
the group's ARN) and from the same account once ``make share-registry`` shared it (one ``Search`` across accounts),
counting AWS calls and timing them (median of ``--runs``). The Search lookups' calls must not grow with the versions
that never reached the stage; the ratio printed is the cross-account Search's time against the by-ARN listing's,
measured in the same run.

    .venv/bin/python bench/promotion.py [--versions 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from sm_lifecycle.deployment.sagemaker import SageMakerGateway
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.stages import Stage
from tools import registry_share

ROOT = Path(__file__).resolve().parent.parent
PROD = {"LifecycleStage": "Production", "StagePolicy": "recommend", "BakeMinutes": "60"}
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}

GROUP = "bench-promotion"
DEPLOYMENT = "222222222222"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def populate(sm: Any, versions: int) -> str:
    """``versions`` approved versions: every 100th reached Staging, the 500th is live in Production."""
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    spec = {"Containers": [{"Image": IMAGE}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": []}
    for number in range(1, versions + 1):
        request: dict[str, Any] = {
            "ModelPackageGroupName": GROUP,
            "ModelApprovalStatus": "Approved",
            "InferenceSpecification": spec,
        }
        if number == versions // 2:
            request["ModelLifeCycle"] = {"Stage": "Production", "StageStatus": "Deployed"}
        elif number % 100 == 0:
            request["ModelLifeCycle"] = {"Stage": "Staging", "StageStatus": "Deployed"}
        else:
            request["ModelLifeCycle"] = {"Stage": "Development", "StageStatus": "Deployed"}
        sm.create_model_package(**request)
    return str(sm.describe_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"])


def admit(aws: EmbeddedAWS, group_arn: str, account: str) -> None:
    """The group's policy admits ``account``'s reads: it may list the group by ARN, not yet discover it."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": [
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
        ],
        "Resource": [group_arn, group_arn.replace(":model-package-group/", ":model-package/") + "/*"],
    }
    aws.client("sagemaker").put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def lookups(aws: EmbeddedAWS, versions: int, runs: int) -> None:
    """(b): the registry account's own Search; the deployment account's by-ARN listing while the group is not
    discoverable there; its cross-account Search once ``make share-registry`` shared it; all find the same version."""
    sm = aws.client("sagemaker")
    group_arn = populate(sm, versions)
    deployment = aws.client("sagemaker", account_id=DEPLOYMENT)
    print(f"(b) desired-state lookup, {versions} approved versions (1 at Production, a few at Staging)")
    stages = (Stage.PRODUCTION, Stage.STAGING)
    own = {stage: measure(sm, GROUP, stage, runs) for stage in stages}
    admit(aws, group_arn, DEPLOYMENT)
    logging.disable(logging.WARNING)  # the deployer warns on each by-ARN lookup that the group is not discoverable
    try:
        by_arn = {stage: measure(deployment, group_arn, stage, runs) for stage in stages}
    finally:
        logging.disable(logging.NOTSET)
    registry_share.promote(aws.client("ram"), group_arn)
    assert registry_share.accept(aws.client("ram", account_id=DEPLOYMENT), aws.account_id)
    shared = {stage: measure(deployment, group_arn, stage, runs) for stage in stages}
    for stage in stages:
        (own_calls, own_time, found), (list_calls, list_time, listed) = own[stage], by_arn[stage]
        shared_calls, shared_time, searched = shared[stage]
        assert found == listed == searched, (found, listed, searched)
        print(
            f"  {stage:<11} v{found}: Search (own account) {own_calls} call(s) {own_time * 1000:7.1f} ms | "
            f"Search across accounts {shared_calls} call(s) {shared_time * 1000:7.1f} ms | "
            f"by ARN, not discoverable {list_calls} call(s) {list_time * 1000:7.1f} ms | "
            f"ratio across accounts / by ARN {shared_time / list_time:.2f}"
        )


def measure(sm: Any, group: str, stage: Stage, runs: int) -> tuple[int, float, int | None]:
    """(AWS calls of one lookup, median seconds, the version found)."""
    calls: list[str] = []

    def count(**_: Any) -> None:
        calls.append("call")

    sm.meta.events.register("before-call.sagemaker.*", count)
    gateway = SageMakerGateway(sm)
    times, found = [], None
    try:
        for _ in range(runs):
            calls.clear()
            started = time.perf_counter()
            newest = gateway.newest_eligible(group, stage)
            times.append(time.perf_counter() - started)
            found = newest.version if newest else None
    finally:
        sm.meta.events.unregister("before-call.sagemaker.*", count)
    return len(calls), statistics.median(times), found


class Context:
    memory_limit_in_mb = 256

    def __init__(self, function_arn: str) -> None:
        self.function_name = function_arn.rsplit(":", 1)[-1]
        self.invoked_function_arn = function_arn
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


class Handlers:
    """The deploy and stage gate handlers of one stack, in this process, with their calls and sleeps counted."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.calls: list[str] = []
        self.sleeps = 0
        self.in_handler: int | None = None  # the thread running a handler now
        os.environ.update(QUIET)
        self.apps = {name: _load(name) for name in ("deploy", "stage_gate")}
        for service in ("sagemaker", "dynamodb", "sns", "sqs", "cloudwatch", "scheduler"):
            clients.client(service).meta.events.register("before-call.*.*", self._count)  # type: ignore[call-overload]
        clients.client("sagemaker", sdk_retries=False).meta.events.register("before-call.*.*", self._count)
        real_sleep = time.sleep

        def counting_sleep(seconds: float) -> None:
            self.sleeps += threading.get_ident() == self.in_handler
            real_sleep(seconds)

        time.sleep = counting_sleep

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def run(self, function: str, logical_id: str, event: dict[str, Any]) -> tuple[dict[str, Any], list[str], float]:
        """One invocation: (result, AWS calls, milliseconds)."""
        os.environ.update({**self.stack.function_env(logical_id), **QUIET})
        self.calls = []
        self.in_handler = threading.get_ident()
        started = time.perf_counter()
        result = self.apps[function].lambda_handler(event, Context(self.stack.functions[logical_id].arn))
        elapsed = (time.perf_counter() - started) * 1000
        self.in_handler = None
        return result, list(self.calls), elapsed


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"{name}_app", ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def package_event(aws: EmbeddedAWS, arn: str, field: str) -> dict[str, Any]:
    aws.wait_idle()
    return next(
        e
        for e in reversed(aws.emitted_events)
        if arn in e["resources"] and field in e["detail"].get("UpdatedModelPackageFields", [])
    )


def report(what: str, result: dict[str, Any], calls: list[str], ms: float) -> None:
    print(f"  {what:<48} {result.get('status')!s:<20} {len(calls)} calls {ms:7.1f} ms: {', '.join(calls)}")


def bake_event(aws: EmbeddedAWS, arn: str, endpoint: str) -> dict[str, Any]:
    """What the bake's schedule invokes the gate with."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Stage Bake Complete",
        "source": "sm-lifecycle.stage-gate",
        "account": aws.account_id,
        "time": "2026-12-01T00:00:00Z",
        "region": aws.region,
        "resources": [arn],
        "detail": {"ModelPackageArn": arn, "Stage": "Production", "EndpointName": endpoint},
    }


def transitions(aws: EmbeddedAWS) -> None:
    """(a): one version's way into Production, call by call."""
    stack = LocalStack(aws, env="dev", retry_delays=(0.0, 0.0), parameter_overrides=PROD)
    outputs = stack.deploy()
    os.environ.update(aws.env())
    clients.reset()
    handlers = Handlers(stack)
    sm = aws.client("sagemaker")
    arn = sm.create_model_package(
        ModelPackageGroupName=outputs["ModelPackageGroupName"],
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{outputs['ArtifactBucketName']}/m/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    handover = {"Stage": "Production", "StageStatus": "PendingApproval", "StageDescription": "baked at Staging"}
    sm.update_model_package(ModelPackageArn=arn, ModelLifeCycle=handover)
    print("(a) one version into Production, handlers in-process (warm after their first import)")
    handed_over = package_event(aws, arn, "ModelLifeCycle")
    report("handed over: the gate asks the approvers", *handlers.run("stage_gate", "StageGateFunction", handed_over))
    approved = {"Stage": "Production", "StageStatus": "Approved", "StageDescription": "approved by a person"}
    sm.update_model_package(ModelPackageArn=arn, ModelLifeCycle=approved)
    approval = package_event(aws, arn, "ModelLifeCycle")
    result, calls, ms = handlers.run("deploy", "DeployFunction", approval)
    report("prod approval: the deployer", result, calls, ms)
    to_mutation = next((i + 1 for i, name in enumerate(calls) if name in {"CreateEndpoint", "UpdateEndpoint"}), None)
    print(f"  prod approval → {calls[to_mutation - 1] if to_mutation else 'no mutation'}: {to_mutation} AWS calls")
    aws.wait_idle()
    in_service = next(e for e in reversed(aws.emitted_events) if e["detail-type"] == "SageMaker Endpoint State Change")
    report(
        "InService: the gate, deployed + bake scheduled", *handlers.run("stage_gate", "StageGateFunction", in_service)
    )
    bake = bake_event(aws, arn, outputs["EndpointName"])
    report("bake over: the gate, evidence + verdict", *handlers.run("stage_gate", "StageGateFunction", bake))
    print(f"  sleeps in the handlers: {handlers.sleeps}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    aws = EmbeddedAWS(timings=Timings()).start()
    try:
        transitions(aws)
    finally:
        aws.stop()
    aws = EmbeddedAWS(timings=Timings()).start()
    try:
        lookups(aws, args.versions, args.runs)
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
