"""``make monitor [ENV=dev] [WATCH=5]``: what the lifecycle looks like now, for ops.

The endpoint (status, the package version it serves, data capture), the newest model package versions and their
approval decisions, the newest pipeline executions, the newest drift check's result, the dead-letter queues and the
alarms of the stack: read through
the AWS API from the served local stack or the deployed one (``tools.stackinfo``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tools.stackinfo import StackInfo, resolve


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "-"


def endpoint_section(info: StackInfo) -> list[str]:
    sm = info.client("sagemaker")
    name = info.outputs["EndpointName"]
    try:
        endpoint = sm.describe_endpoint(EndpointName=name)
    except ClientError:
        return [f"endpoint {name}: not created yet (no package approved)"]
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=config["EndpointConfigArn"]).get("Tags", [])}
    capture = config.get("DataCaptureConfig") or {}
    lines = [
        f"endpoint {name}: {endpoint['EndpointStatus']} since {_when(endpoint.get('LastModifiedTime'))}",
        f"  config   {endpoint['EndpointConfigName']} serving v{tags.get('model-package-version', '?')}"
        f" (git {tags.get('git-sha', '?')})",
    ]
    if capture.get("EnableCapture"):
        lines.append(f"  capture  {capture.get('InitialSamplingPercentage')} % to {capture.get('DestinationS3Uri')}")
    if endpoint.get("FailureReason"):
        lines.append(f"  last failure: {endpoint['FailureReason']}")
    if pending := endpoint.get("PendingDeploymentSummary"):
        lines.append(f"  updating to {pending.get('EndpointConfigName')}")
    return lines


def packages_section(info: StackInfo, newest: int = 5) -> list[str]:
    sm = info.client("sagemaker")
    group = info.outputs["ModelPackageGroupName"]
    summaries = sm.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending", MaxResults=newest
    ).get("ModelPackageSummaryList", [])
    lines = [f"model packages of {group} (newest {newest}):"]
    for summary in summaries:
        package = sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        description = (package.get("ApprovalDescription") or "").replace("\n", " ")
        lines.append(
            f"  v{package.get('ModelPackageVersion', '?'):<4} {package['ModelApprovalStatus']:<22}"
            f" {_when(package.get('CreationTime'))}  {description[:90]}"
        )
    return lines if summaries else [*lines, "  none"]


def executions_section(info: StackInfo, newest: int = 3) -> list[str]:
    sm = info.client("sagemaker")
    pipeline = info.outputs["PipelineName"]
    try:
        summaries = sm.list_pipeline_executions(
            PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=newest
        ).get("PipelineExecutionSummaries", [])
    except ClientError:
        return [f"pipeline {pipeline}: not created yet (make run-pipeline)"]
    lines = [f"executions of {pipeline} (newest {newest}):"]
    for summary in summaries:
        execution_id = summary["PipelineExecutionArn"].rsplit("/", 1)[-1]
        reason = (
            f"  {summary['PipelineExecutionFailureReason']}" if summary.get("PipelineExecutionFailureReason") else ""
        )
        lines.append(
            f"  {execution_id:<14} {summary.get('PipelineExecutionStatus', '?'):<10}"
            f" {_when(summary.get('StartTime'))}{reason}"
        )
    return lines if summaries else [*lines, "  none"]


def queues_section(info: StackInfo) -> list[str]:
    sqs = info.client("sqs")
    lines = ["dead-letter queues:"]
    for output, url in sorted(info.outputs.items()):
        if output.endswith("DeadLetterQueueUrl"):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            depth = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
            lines.append(
                f"  {output.removesuffix('DeadLetterQueueUrl'):<14} {depth} message(s){'  <-- look' * bool(depth)}"
            )
    return lines


def alarms_section(info: StackInfo) -> list[str]:
    cloudwatch = info.client("cloudwatch")
    names = [n for n in info.outputs.get("EndpointRollbackAlarmNames", "").split(",") if n]
    alarms = cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", []) if names else []
    lines = ["endpoint rollback alarms:"]
    lines += [f"  {alarm['AlarmName']:<40} {alarm['StateValue']}" for alarm in alarms]
    return lines if alarms else [*lines, "  none"]


def _latest_check(s3: Any, bucket: str, endpoint: str) -> str | None:
    """The newest window folder under ``drift/<endpoint>/`` (window names sort by time)."""
    folders: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"drift/{endpoint}/", Delimiter="/"):
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return max(folders, default=None)


def drift_section(info: StackInfo) -> list[str]:
    """The newest drift check's result (registry stacks run the checks)."""
    if not info.outputs.get("DriftCheckPipelineName"):
        return ["drift: not checked in this environment (registry stacks check their endpoint)"]
    s3, bucket, endpoint = info.client("s3"), info.outputs["ArtifactBucketName"], info.outputs["EndpointName"]
    folder = _latest_check(s3, bucket, endpoint)
    if folder is None:
        return [f"drift of {endpoint}: no check yet (make drift-check, or the schedule)"]
    try:
        summary = json.loads(s3.get_object(Bucket=bucket, Key=f"{folder}result/summary.json")["Body"].read())
    except ClientError:
        return [f"drift of {endpoint}: check {folder.rsplit('/', 2)[-2]} has no result (running or failed)"]
    drifted = [(n, f) for n, f in summary.get("features", {}).items() if f.get("drifted")]
    lines = [
        f"drift of {endpoint}, window {folder.rsplit('/', 2)[-2]}: {summary.get('status')}, v{summary.get('version')}"
        f", {summary.get('records')} records, drift share {summary.get('drift_share', 0):.2f}"
        f"{'  <-- DRIFT' if summary.get('drift_detected') else ''}",
        *(
            f"  {name:<14} {f.get('method')} {f.get('score'):.4g} (threshold {f.get('threshold')})"
            for name, f in drifted
        ),
    ]
    if summary.get("report"):
        lines.append(f"  report   s3://{bucket}/{folder}result/report.html")
    return lines


def report(info: StackInfo) -> str:
    where = f"local stack at {info.endpoint_url}" if info.is_local else f"AWS {info.region}"
    sections = [
        [f"{info.env}: {where}"],
        endpoint_section(info),
        packages_section(info),
        executions_section(info),
        drift_section(info),
        queues_section(info),
        alarms_section(info),
    ]
    return "\n\n".join("\n".join(section) for section in sections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.monitor", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev")
    parser.add_argument("--watch", type=float, default=0.0, help="refresh every N seconds until Ctrl-C")
    args = parser.parse_args(argv)
    info = resolve(args.env)
    while True:
        text = report(info)
        if args.watch:
            sys.stdout.write("\033[2J\033[H")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        if not args.watch:
            return 0
        try:
            time.sleep(args.watch)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
