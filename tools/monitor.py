"""``make monitor [ENV=dev] [WATCH=5]``: what the lifecycle looks like now, for ops.

The endpoint (status, the package version it serves, data capture), the newest model package versions and their
approval decisions, the newest pipeline executions, the dead-letter queues and the alarms of the stack: read through
the AWS API from the served local stack or the deployed one (``tools.stackinfo``).
"""

from __future__ import annotations

import argparse
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


def report(info: StackInfo) -> str:
    where = f"local stack at {info.endpoint_url}" if info.is_local else f"AWS {info.region}"
    sections = [
        [f"{info.env}: {where}"],
        endpoint_section(info),
        packages_section(info),
        executions_section(info),
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
