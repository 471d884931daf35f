"""Governance report: every artifact of one pipeline execution with its tags; untagged or unversioned ones flagged.

    make artifacts EXECUTION=<execution id or ARN> [ENV=dev] [JSON=1]
    python -m tools.artifacts --env dev [--json] [--strict] [--bucket NAME] <execution id or ARN>

Runs against the stack ``make serve`` is serving (``tools.stackinfo``), else whatever standard AWS configuration
points at (AWS itself, or ``AWS_ENDPOINT_URL``). The pipeline comes from the environment's parameters
(``samconfig.toml`` over ``template.yaml`` defaults); the artifact bucket from ``--bucket``, else the stack's outputs
(served stack or CloudFormation); without either, every discovered location is listed.
Exit status: 0, or 1 with ``--strict`` when an artifact is flagged; 2 when the execution cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from local.stack.template import read_yaml, resolve_parameters
from sm_lifecycle.kernel.clients import RETRY_CONFIG
from sm_lifecycle.kernel.errors import LifecycleError
from sm_lifecycle.tagging.policy import TAG_KEYS, Execution
from tools.inventory import Row, inventory
from tools.samconfig import SamConfigError, parameter_overrides
from tools.stackinfo import cloudformation_outputs, served_stack

ROOT = Path(__file__).resolve().parents[1]


def template_parameters(env: str) -> dict[str, Any]:
    """The environment's template parameters (defaults, then samconfig.toml's overrides, as ``sam deploy`` does)."""
    declared = read_yaml(ROOT / "template.yaml").get("Parameters", {})
    return resolve_parameters(declared, parameter_overrides(env))


def deployed_outputs(env: str, session: Any) -> dict[str, str]:
    """The deployed stack's Outputs, or ``{}`` when there is none to read."""
    try:
        return cloudformation_outputs(env, session)
    except (ClientError, BotoCoreError, SamConfigError):
        return {}


def execution_arn(sagemaker: Any, pipeline: str, execution: str) -> str:
    if execution.startswith("arn:"):
        return execution
    for page in sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline):
        for summary in page.get("PipelineExecutionSummaries", []):
            if summary["PipelineExecutionArn"].rsplit("/", 1)[-1] == execution:
                return str(summary["PipelineExecutionArn"])
    raise LookupError(f"no execution {execution!r} of pipeline {pipeline!r}")


def table(rows: list[Row]) -> str:
    def tags(row: Row) -> str:
        ours = [f"{k}={row.tags[k]}" for k in TAG_KEYS if k in row.tags]
        others = [f"{k}={v}" for k, v in row.tags.items() if k not in TAG_KEYS]
        return " ".join(ours + others) or "-"

    lines = [("KIND", "ARTIFACT", "VERSION", "FLAGS", "TAGS")]
    for row in rows:
        version = "-" if row.kind != "s3-object" else (row.version or "none")
        version = version if len(version) <= 12 else version[:11] + "~"
        lines.append((row.kind, row.ref, version, ", ".join(row.flags) or "ok", tags(row)))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(line)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 4)
    flagged = sum(1 for row in rows if row.flags)
    out.append("")
    out.append(f"{len(rows)} artifacts, {flagged} flagged")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.artifacts", description=__doc__.split("\n\n")[0])
    parser.add_argument("execution", help="pipeline execution id or ARN")
    parser.add_argument("--env", default="dev", help="environment (samconfig.toml section); default dev")
    parser.add_argument("--bucket", default=None, help="artifact bucket (default: the stack's ArtifactBucketName)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any artifact is flagged")
    args = parser.parse_args(argv)

    served = served_stack(args.env)
    if served is not None:
        served.apply_to_environ()
    session = boto3.session.Session()
    outputs = served.outputs if served is not None else deployed_outputs(args.env, session)
    pipeline = outputs.get("PipelineName") or str(template_parameters(args.env)["PipelineName"])
    bucket = args.bucket if args.bucket is not None else outputs.get("ArtifactBucketName", "")
    sagemaker, s3 = session.client("sagemaker", config=RETRY_CONFIG), session.client("s3", config=RETRY_CONFIG)
    try:
        arn = execution_arn(sagemaker, pipeline, args.execution)
        rows = inventory(sagemaker, s3, Execution.from_arn(arn), bucket=bucket, prefix=f"{pipeline}/" if bucket else "")
    except (LookupError, LifecycleError, ClientError, BotoCoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"execution": arn, "artifacts": [row.to_dict() for row in rows]}, indent=2))
    else:
        print(f"Execution {arn}\n")
        print(table(rows))
    return 1 if args.strict and any(row.flags for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
