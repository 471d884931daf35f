"""Run a drift check of an environment's endpoint now, wait for it, and print its summary as one JSON line, last.

    make drift-check [ENV=dev] [HOURS=1]

The window is the last ``HOURS`` hours. The version the endpoint serves is read as the stage gate reads it (the
deployer's ``model-package-arn`` tag on the endpoint's config); its training baseline from the registry (the
version's ``DriftCheckBaselines``).
The baseline is staged beside the check (``s3://<bucket>/drift/<endpoint>/<window>/baselines/v<N>/`` and
``served.json``), the drift-check pipeline upserted and started on the endpoint's captured requests
(``data-capture/<endpoint>/``), and its ``summary.json`` read back from ``drift/<endpoint>/<window>/result/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.drift.model import CHECK_DISPLAY_PREFIX, Window
from sm_lifecycle.drift.s3 import CapturedRequests, DriftObjects
from sm_lifecycle.drift.sagemaker import DriftPipelines
from sm_lifecycle.drift.starter import CheckRequest, CheckStaging, client_token
from sm_lifecycle.kernel.endpoints import Endpoints, LiveEndpoint
from sm_lifecycle.kernel.errors import LifecycleError
from tools.stackinfo import StackInfo, resolve

TERMINAL = ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")


class DriftCheckError(Exception):
    """The check cannot run; the message says why."""


def served_package(sm: Any, endpoint: str) -> LiveEndpoint:
    """The endpoint and the model package version it serves (the deployer's tag on its current config)."""
    try:
        live = Endpoints(sm).live(endpoint)
    except LifecycleError as exc:
        raise DriftCheckError(f"endpoint {endpoint} cannot be read: {exc}") from exc
    if live is None:
        raise DriftCheckError(f"endpoint {endpoint} does not exist")
    if not live.package_arn:
        raise DriftCheckError(f"endpoint config {live.config_name} names no model package (tag model-package-arn)")
    return live


def run(stack: StackInfo, hours: float, min_records: int = 100, timeout: float = 600) -> dict[str, Any]:
    """Stage, start and wait for one check (as the drift-check function starts its scheduled ones); its summary."""
    from pipeline import quiet_sdk_logs  # noqa: PLC0415

    quiet_sdk_logs()  # before the SDK is imported: it would print its configuration
    from pipeline.drift.definition import DriftTarget, upsert  # noqa: PLC0415 - the SageMaker SDK: only here

    sm, s3 = stack.client("sagemaker"), stack.client("s3")
    account = stack.client("sts").get_caller_identity()["Account"]
    target = DriftTarget.from_outputs(stack.outputs, account, stack.region)
    request = CheckRequest(target.endpoint_name, target.bucket, Window.last(timedelta(hours=hours)), min_records, 0.5)
    pipelines = DriftPipelines(sm)
    live = served_package(sm, target.endpoint_name)
    baseline = pipelines.baseline(str(live.package_arn))
    if baseline is None:
        raise DriftCheckError(f"{live.package_arn} has no DriftCheckBaselines (registered before baselines were kept?)")
    captures = CapturedRequests(s3, stack.outputs["DataCaptureS3Uri"])
    staged = CheckStaging(pipelines, DriftObjects(s3, target.bucket), captures).stage(request, live, baseline)
    if staged is None:
        raise DriftCheckError(f"no captured requests of {target.endpoint_name} in the last {hours} hour(s)")
    upsert(target, _boto_session(stack))
    arn = pipelines.start(
        target.pipeline_name,
        request.parameters(staged),
        token=client_token(target.pipeline_name, uuid.uuid4().hex),
        display_name=f"{CHECK_DISPLAY_PREFIX}{request.window.name}",
        why=f"Drift check of {target.endpoint_name} (make drift-check)",
    )
    status = _wait(sm, arn, timeout)
    if status != "Succeeded":
        raise DriftCheckError(f"drift check {arn} ended {status}")
    folder = request.window.result_folder(target.endpoint_name)
    key = f"{folder}/summary.json"
    summary: dict[str, Any] = json.loads(s3.get_object(Bucket=target.bucket, Key=key)["Body"].read())
    summary["report_uri"] = f"s3://{target.bucket}/{folder}/report.html" if summary.get("report") else None
    summary["execution_arn"] = arn
    return summary


def _wait(sm: Any, arn: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = str(sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])
        if status in TERMINAL or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def _boto_session(stack: StackInfo) -> boto3.session.Session:
    stack.apply_to_environ()  # the SDK's clients reach the same endpoint (AWS_ENDPOINT_URL) when local
    if stack.is_local:
        key, secret = stack.credentials
        return boto3.session.Session(region_name=stack.region, aws_access_key_id=key, aws_secret_access_key=secret)
    return boto3.session.Session(region_name=stack.region)


def one_line(summary: dict[str, Any]) -> str:
    """What ``make drift-check`` prints last."""
    keys = ("status", "drift_detected", "drift_share", "records", "version", "report_uri")
    line = {k: summary.get(k) for k in keys}
    line["features"] = summary.get("features", {})
    return json.dumps(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.drift_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="dev")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--min-records", type=int, default=100)
    args = parser.parse_args(argv)
    try:
        summary = run(resolve(args.env), args.hours, args.min_records)
    except (DriftCheckError, LifecycleError, ClientError, BotoCoreError, KeyError) as exc:
        print(f"drift check: {exc}", file=sys.stderr)
        return 1
    print(one_line(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
