"""AWS calls and handler wall time per promotion decision, on the embedded AWS.

The stack of template.yaml is deployed into an embedded AWS (resources only: no pollers, no worker processes); the
promote handler runs in this process with the function's environment, so botocore's ``before-call`` event hook sees
every AWS call it makes. Each scenario registers fresh packages (the embedded AWS emits the creation events) and
hands each creation event to the handler.

    .venv/bin/python bench/promote.py [--runs 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from sm_lifecycle.kernel import clients
from sm_lifecycle.promotion.sagemaker import MODEL_PACKAGE_ARN_TAG

ROOT = Path(__file__).resolve().parent.parent

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
SERVICES = ("sagemaker", "s3", "sns", "dynamodb", "sqs")


class Context:
    function_name = "PromoteFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:PromoteFunction"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def report(auc: float, fpr: float) -> bytes:
    section = {
        k: {"value": v, "standard_deviation": "NaN"} for k, v in {"auc": auc, "false_positive_rate": fpr}.items()
    }
    return json.dumps({"binary_classification_metrics": section}).encode()


class Bench:
    def __init__(self, aws: EmbeddedAWS, outputs: dict[str, Any]) -> None:
        self.aws = aws
        self.sm, self.s3 = aws.client("sagemaker"), aws.client("s3")
        self.bucket, self.group = outputs["ArtifactBucketName"], outputs["ModelPackageGroupName"]
        self.endpoint = outputs["EndpointName"]
        self.calls: Counter[str] = Counter()
        spec = importlib.util.spec_from_file_location("promote_app", ROOT / "functions" / "promote" / "app.py")
        assert spec and spec.loader
        self.app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.app)
        for service in SERVICES:
            clients.client(service).meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def register(self, body: bytes, status: str = "PendingManualApproval") -> tuple[str, dict[str, Any]]:
        key = f"evaluation/{uuid.uuid4().hex}.json"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        arn = self.sm.create_model_package(
            ModelPackageGroupName=self.group,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{self.bucket}/m.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{self.bucket}/{key}"}
                }
            },
        )["ModelPackageArn"]
        self.aws.wait_idle()
        event = next(
            e
            for e in reversed(self.aws.emitted_events)
            if arn in e["resources"] and "UpdatedModelPackageFields" not in e["detail"]
        )
        return arn, event

    def serve(self, package_arn: str) -> None:
        """The endpoint runs ``package_arn`` (config tagged as the deployer tags it)."""
        name = f"{self.endpoint}-{uuid.uuid4().hex[:8]}"
        self.sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": package_arn})
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": name,
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
        }
        self.sm.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[variant],
            Tags=[{"Key": MODEL_PACKAGE_ARN_TAG, "Value": package_arn}],
        )
        self.sm.create_endpoint(EndpointName=self.endpoint, EndpointConfigName=name)
        self.aws.wait_idle()

    def decide(self, event: dict[str, Any]) -> tuple[float, Counter[str], dict[str, Any]]:
        self.calls = Counter()
        start = time.perf_counter()
        result = self.app.lambda_handler(event, Context())
        return (time.perf_counter() - start) * 1000, self.calls, result


def run(bench: Bench, name: str, runs: int, make_event: Any, rows: list[tuple[str, float, float, Counter[str], str]]):
    times, totals, status = [], Counter(), ""
    for _ in range(runs):
        event = make_event()
        elapsed, calls, result = bench.decide(event)
        times.append(elapsed)
        totals.update(calls)
        status = result.get("status", "?")
    per_call = Counter({k: v / runs for k, v in totals.items()})
    rows.append((name, statistics.median(times), max(times), per_call, status))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    aws = EmbeddedAWS(timings=Timings()).start()
    try:
        stack = LocalStack(aws, env="dev", retry_delays=(0.0, 0.0))
        outputs = stack.deploy()
        environment = {
            **stack.function_env("PromoteFunction"),
            **aws.env(),
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PROMOTION_MODE": "auto",
            "PROMOTION_THRESHOLDS": "auc>=0.80,false_positive_rate<=0.05",
            "PROMOTION_MARGIN": "0",
        }
        os.environ.update(environment)
        clients.reset()
        bench = Bench(aws, outputs)
        rows: list[tuple[str, float, float, Counter[str], str]] = []

        # Cold: the first decision of the process (imports done, clients created, connections opened).
        _, first = bench.register(report(0.90, 0.02))
        cold_ms, cold_calls, _ = bench.decide(first)

        def fresh(auc: float) -> Any:
            return lambda: bench.register(report(auc, 0.02))[1]

        run(bench, "approve, champion = newest approved", args.runs, fresh(0.95), rows)
        champion, _ = bench.register(report(0.96, 0.02), status="Approved")
        bench.serve(champion)
        run(bench, "reject, champion = live endpoint", args.runs, fresh(0.90), rows)
        duplicate = bench.register(report(0.99, 0.01))[1]
        bench.decide(duplicate)
        run(bench, "duplicate delivery (idempotent)", args.runs, lambda: duplicate, rows)
        run(bench, "malformed report (undecided)", args.runs, lambda: bench.register(b"{not json")[1], rows)
        os.environ["PROMOTION_MODE"] = "recommend"
        run(bench, "recommend (notify approvers)", args.runs, fresh(0.99), rows)

        print(f"promote handler on the embedded AWS, {args.runs} decisions per scenario (in-process, warm)")
        print(f"cold first decision: {cold_ms:.1f} ms, {sum(cold_calls.values())} AWS calls")
        print(f"{'scenario':40} {'median ms':>10} {'max ms':>8} {'AWS calls':>10}  status       calls per decision")
        baseline = rows[0][1]
        for name, median, worst, calls, status in rows:
            detail = ", ".join(f"{k.split(':')[1]} {v:g}" for k, v in sorted(calls.items()))
            print(f"{name:40} {median:10.1f} {worst:8.1f} {sum(calls.values()):10g}  {status:12} {detail}")
        ratios = ", ".join(f"{r[0].split(',')[0].split(' (')[0]} {r[1] / baseline:.2f}x" for r in rows)
        print(f"median wall time relative to the first scenario: {ratios}")
    finally:
        aws.stop()


if __name__ == "__main__":
    main()
