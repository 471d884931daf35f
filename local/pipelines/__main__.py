"""``python -m local.pipelines [--env dev] [--interrupt N] [--param NAME=VALUE ...]``: one pipeline run, locally.

Starts an embedded AWS, deploys the stack of template.yaml into it (bucket, role, model package group...), uploads
the raw data set, upserts the pipeline with the SageMaker SDK, starts it tagged with the git SHA, runs it with
:class:`~local.pipelines.PipelineRunner` and prints a JSON summary (status, steps and their durations, registered
model package, metrics).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

import boto3

from local.aws import EmbeddedAWS
from local.pipelines import PipelineRunner
from local.stack import LocalStack
from pipeline import commands, quiet_sdk_logs
from pipeline.config import Target, git_sha


def run(env: str, parameters: dict[str, str], interrupt_after: int | None = None, timeout: float = 300.0) -> dict:
    aws = EmbeddedAWS().start()
    try:
        stack = LocalStack(aws, env=env)
        outputs = stack.deploy()
        target = Target.from_outputs(outputs, aws.region)
        session = _session(aws)
        with PipelineRunner(aws) as runner:
            commands.upload_data(target, boto_session=session)
            commands.upsert(target, env, boto_session=session)
            interruption = runner.interrupt_training(after_checkpoints=interrupt_after) if interrupt_after else None
            arn = commands.start(target, sha=git_sha(), parameters=parameters, boto_session=session)
            described = runner.wait(arn, timeout)
            return _summary(aws, runner, arn, described, interruption)
    finally:
        aws.stop()


def _session(aws: Any) -> Any:
    os.environ.update(aws.env())  # the SDK's clients find the embedded AWS through AWS_ENDPOINT_URL
    return boto3.session.Session(region_name=aws.region)


def _summary(aws: Any, runner: Any, arn: str, described: dict, interruption: Any) -> dict:
    execution = runner.executions[arn]
    steps = {
        s["StepName"]: {
            "status": s["StepStatus"],
            "seconds": round(execution.step_timings.get(s["StepName"], 0.0), 2),
            **({"failure_reason": s["FailureReason"]} if s.get("FailureReason") else {}),
            **({"metadata": s["Metadata"]} if s.get("Metadata") else {}),
        }
        for s in reversed(runner.list_steps(arn))
    }
    summary: dict[str, Any] = {
        "execution_arn": arn,
        "status": described["PipelineExecutionStatus"],
        "failure_reason": described.get("FailureReason"),
        "seconds": round(execution.step_timings.get("_total", 0.0), 2),
        "steps": steps,
    }
    register = next((s for s in steps.values() if "RegisterModel" in s.get("metadata", {})), None)
    if register:
        package = aws.client("sagemaker").describe_model_package(
            ModelPackageName=register["metadata"]["RegisterModel"]["Arn"]
        )
        report_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
        bucket, _, key = report_uri[5:].partition("/")
        report = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        metrics = report["binary_classification_metrics"]
        summary["model_package"] = {
            "arn": package["ModelPackageArn"],
            "approval_status": package["ModelApprovalStatus"],
            "report": report_uri,
            "metrics": {k: metrics[k]["value"] for k in ("auc", "f1", "precision", "recall", "accuracy")},
        }
    if interruption is not None:
        summary["interruption"] = {"fired": interruption.fired.is_set(), "job": interruption.job_name}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.pipelines", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", choices=["dev", "staging", "prod"])
    parser.add_argument("--param", action="append", default=[], help="pipeline parameter NAME=VALUE")
    parser.add_argument("--interrupt", type=int, metavar="N", help="Spot-interrupt training after N checkpoints")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_sdk_logs()
    parameters = dict(item.split("=", 1) for item in args.param)
    summary = run(args.env, parameters, args.interrupt, args.timeout)
    print(json.dumps(summary, indent=2, default=str))
    return 0 if summary["status"] == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
