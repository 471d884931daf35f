"""What IAM enforcement costs a request on the embedded AWS: the same calls, evaluated (a deploy function's role
session, whose policies template.yaml gives) against unevaluated (the administrator), in one run.

    .venv/bin/python bench/iam_overhead.py [--calls 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from local.aws import EmbeddedAWS, Timings
from local.aws.sessions import ADMINISTRATOR, SessionCredentials
from local.stack import LocalStack


def _client(aws: EmbeddedAWS, service: str, credentials: SessionCredentials) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=aws.endpoint_url,
        region_name=aws.region,
        config=Config(retries={"max_attempts": 1}),
        **credentials.client_kwargs(),
    )


def _per_call_ms(call: Callable[[Any], Any], client: Any, calls: int) -> float:
    call(client)  # warm: connection, service model, the catalogue's service entry
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        call(client)
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with EmbeddedAWS(timings=Timings()) as aws:
        stack = LocalStack(aws, env="dev")
        outputs = stack.deploy()
        role = stack.functions["DeployFunction"].credentials
        group, table = outputs["ModelPackageGroupName"], outputs["DeploymentStateTableName"]
        calls: dict[str, Callable[[Any], Any]] = {
            "sagemaker ListModelPackages": lambda c: c.list_model_packages(ModelPackageGroupName=group),
            "dynamodb UpdateItem": lambda c: c.update_item(
                TableName=table,
                Key={"id": {"S": "bench"}},
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            ),
        }
        print(f"median per call over {args.calls} calls (evaluated ÷ unevaluated in the same run)")
        for name, call in calls.items():
            service = name.split()[0]
            admin, evaluated = _client(aws, service, ADMINISTRATOR), _client(aws, service, role)
            base = _per_call_ms(call, admin, args.calls)
            enforced = _per_call_ms(call, evaluated, args.calls)
            print(f"  {name:30} {enforced:6.2f} ms ÷ {base:6.2f} ms = {enforced / base:4.2f}")
        assert aws.iam is not None and not aws.iam.log.denials, aws.iam.log.denials if aws.iam else None


if __name__ == "__main__":
    main()
