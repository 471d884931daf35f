"""Deploy handler on the embedded AWS: AWS calls from one approval to the endpoint mutation, and wall time against
the bare calls a notebook would make.

The stack of template.yaml is deployed into an embedded AWS (resources only: no pollers, no worker processes); the
deploy handler runs in this process with the function's environment, so botocore's ``before-call`` hook sees every
AWS call it makes, and ``time.sleep`` is counted. Each round approves a fresh package version (the embedded AWS emits
the approval event), hands that event to the handler, then lets the endpoint update finish.

(a) AWS calls from the approval event to ``UpdateEndpoint`` (target: at most 5, no sleep);
(b) median handler wall time / median wall time of a reference handler that makes the bare notebook calls
    (``CreateModel``, ``CreateEndpointConfig``, ``UpdateEndpoint``) with plain boto3 (target: at most 2.0).

    .venv/bin/python bench/deploy.py [--runs 15]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from sm_lifecycle.kernel import clients

ROOT = Path(__file__).resolve().parent.parent

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SERVICES = ("sagemaker", "dynamodb", "sns", "sqs")
MUTATIONS = {"UpdateEndpoint", "CreateEndpoint"}


class Context:
    function_name = "DeployFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:DeployFunction"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


class Bench:
    def __init__(self, aws: EmbeddedAWS, outputs: dict[str, Any], environment: dict[str, str]) -> None:
        self.aws = aws
        self.outputs = outputs
        self.environment = environment
        self.sm = aws.client("sagemaker")
        self.calls: list[str] = []
        self.sleeps = 0
        self.in_handler = False
        spec = importlib.util.spec_from_file_location("deploy_app", ROOT / "functions" / "deploy" / "app.py")
        assert spec and spec.loader
        self.app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.app)
        mutations = clients.client("sagemaker", sdk_retries=False)  # CreateEndpoint / UpdateEndpoint
        for client in [*(clients.client(service) for service in SERVICES), mutations]:
            client.meta.events.register("before-call.*.*", self._count)
        real_sleep = time.sleep

        def counting_sleep(seconds: float) -> None:
            self.sleeps += self.in_handler
            real_sleep(seconds)

        time.sleep = counting_sleep

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def approved_version_event(self) -> dict[str, Any]:
        """Register a version, approve it as the console does; the approval event SageMaker emitted."""
        arn = self.sm.create_model_package(
            ModelPackageGroupName=self.outputs["ModelPackageGroupName"],
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {"Image": IMAGE, "ModelDataUrl": f"s3://{self.outputs['ArtifactBucketName']}/m/model.tar.gz"}
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            CustomerMetadataProperties={"GitSha": "0a1b2c3"},
        )["ModelPackageArn"]
        self.sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        self.aws.wait_idle()
        return next(
            e
            for e in reversed(self.aws.emitted_events)
            if arn in e["resources"] and "ModelApprovalStatus" in e["detail"].get("UpdatedModelPackageFields", [])
        )

    def deploy(self, event: dict[str, Any]) -> tuple[float, list[str], dict[str, Any]]:
        self.calls = []
        self.in_handler = True
        start = time.perf_counter()
        result = self.app.lambda_handler(event, Context())
        elapsed = (time.perf_counter() - start) * 1000
        self.in_handler = False
        self.aws.wait_idle()
        return elapsed, list(self.calls), result


def reference_handler(sm: Any, environment: dict[str, str], package_arn: str) -> None:
    """What a notebook does: model from the package, a config, update the endpoint. No checks, no tags, no capture."""
    name = f"ref-{uuid.uuid4().hex[:12]}"
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=environment["SAGEMAKER_EXECUTION_ROLE_ARN"],
        Containers=[{"ModelPackageName": package_arn}],
    )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": environment["ENDPOINT_INSTANCE_TYPE"],
            }
        ],
    )
    sm.update_endpoint(EndpointName=environment["ENDPOINT_NAME"], EndpointConfigName=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    aws = EmbeddedAWS(timings=Timings()).start()
    try:
        stack = LocalStack(aws, env="dev", retry_delays=(0.0, 0.0))
        outputs = stack.deploy()
        environment = {
            **stack.function_env("DeployFunction"),
            **aws.env(),
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        os.environ.update(environment)
        clients.reset()
        bench = Bench(aws, outputs, environment)

        # The first approval creates the endpoint (cold: imports done, clients made, connections opened).
        _, create_calls, created = bench.deploy(bench.approved_version_event())
        assert created["status"] == "created", created

        # Rounds alternate between the two handlers, so both meet the same registry size and server state.
        sm = clients.client("sagemaker")  # the process's boto3 client: same configuration and connection pool
        deploy_ms: list[float] = []
        reference_ms: list[float] = []
        to_mutation: list[int] = []
        total: list[int] = []
        sleeps_before = bench.sleeps
        for _ in range(args.runs):
            elapsed, calls, result = bench.deploy(bench.approved_version_event())
            assert result["status"] == "updated", result
            deploy_ms.append(elapsed)
            to_mutation.append(next(i for i, name in enumerate(calls) if name in MUTATIONS) + 1)
            total.append(len(calls))

            event = bench.approved_version_event()
            start = time.perf_counter()
            reference_handler(sm, environment, event["detail"]["ModelPackageArn"])
            reference_ms.append((time.perf_counter() - start) * 1000)
            aws.wait_idle()
        sleeps = bench.sleeps - sleeps_before

        calls_to_mutation = statistics.median(to_mutation)
        print(f"deploy handler on the embedded AWS, {args.runs} approvals (in-process, warm)")
        print(f"endpoint creation (first approval): {len(create_calls)} AWS calls: {', '.join(create_calls)}")
        print(f"update path, calls per approval: {', '.join(calls)}")
        print(
            f"(a) AWS calls from the approval event to UpdateEndpoint, inclusive: {calls_to_mutation:g} "
            f"({calls_to_mutation - 1:g} before it; {statistics.median(total):g} in all); "
            f"sleeps in the handler: {sleeps}"
        )
        deploy_median, reference_median = statistics.median(deploy_ms), statistics.median(reference_ms)
        print(
            f"(b) median wall time: deploy handler {deploy_median:.1f} ms, reference notebook calls "
            f"{reference_median:.1f} ms, ratio {deploy_median / reference_median:.2f}"
        )
    finally:
        aws.stop()


if __name__ == "__main__":
    main()
