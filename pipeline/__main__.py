"""``python -m pipeline upsert|start|run|definition|upload-data|upsert-drift-check [--env dev]``.

``upsert`` and ``run`` upsert the registry stack's training pipeline and its endpoint's drift-check pipeline;
``upsert-drift-check`` the drift-check pipeline alone, which is all a deployment stack (staging, prod) has.

The stack's outputs (pipeline name, role, bucket, model package group) come from ``--outputs`` (a JSON file or
string, e.g. the line ``python -m local serve`` prints), else the environment variables PIPELINE_NAME,
SAGEMAKER_PIPELINE_ROLE_ARN, SAGEMAKER_JOB_ROLE_ARN, ARTIFACT_BUCKET, MODEL_PACKAGE_GROUP_NAME, else the
CloudFormation stack that samconfig.toml names for the environment. boto3 finds AWS (or the embedded AWS) through
its usual configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from pipeline import commands, quiet_sdk_logs
from pipeline.config import ENVIRONMENTS, ConfigError, Target, git_sha, load_outputs, resolve_outputs
from tools.stackinfo import served_stack


def _parameters(items: list[str]) -> dict[str, str]:
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--param takes NAME=VALUE, got {item!r}")
        values[name] = value
    return values


def _use_local_endpoint(outputs: dict[str, str]) -> None:
    """The line ``python -m local serve`` prints names its endpoint: use it unless AWS_ENDPOINT_URL is set."""
    if outputs.get("endpoint_url") and not os.environ.get("AWS_ENDPOINT_URL"):
        os.environ["AWS_ENDPOINT_URL"] = outputs["endpoint_url"]
        os.environ.setdefault("AWS_DEFAULT_REGION", outputs.get("region", "us-east-1"))
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=["definition", "upsert", "start", "run", "upload-data", "upsert-drift-check"]
    )
    parser.add_argument("--env", default="dev", choices=ENVIRONMENTS)
    parser.add_argument("--outputs", help="stack outputs: JSON file or string")
    parser.add_argument("--aws", action="store_true", help="use the deployed stack even while `make serve` runs")
    parser.add_argument("--param", action="append", default=[], help="pipeline parameter NAME=VALUE (repeatable)")
    parser.add_argument("--sha", help="git SHA to tag the execution with (default: git rev-parse --short HEAD)")
    parser.add_argument("--wait", action="store_true", help="start: wait for the execution to end")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_sdk_logs()
    try:
        outputs = args.outputs
        if outputs:
            _use_local_endpoint(load_outputs(outputs))
        elif not args.aws and (served := served_stack(args.env)) is not None:  # `make serve` is running: use that stack
            served.apply_to_environ()
            outputs = json.dumps(served.outputs)
        stack_outputs, region = resolve_outputs(args.env, outputs=outputs)
        if args.command == "upsert-drift-check":
            print(json.dumps({"drift_check_pipeline_arn": commands.upsert_drift_check(stack_outputs, region)}))
            return 0
        target = Target.from_outputs(stack_outputs, region)
        if args.command == "definition":
            print(json.dumps(commands.definition(target, args.env), indent=2))
            return 0
        if args.command == "upload-data":
            print(json.dumps({"uploaded": commands.upload_data(target)}))
            return 0
        if args.command in ("upsert", "run"):
            print(json.dumps({"pipeline_arn": commands.upsert(target, args.env)}))
            if stack_outputs.get("DriftCheckPipelineName"):  # its endpoint's drift check's pipeline too
                print(json.dumps({"drift_check_pipeline_arn": commands.upsert_drift_check(stack_outputs, region)}))
            if args.command == "upsert":
                return 0
        # a new stack's bucket holds no data yet: `run` brings the default data set along
        needs_data = args.command == "run" and "InputDataUri" not in _parameters(args.param)
        if needs_data and (uploaded := commands.ensure_data(target)):
            print(json.dumps({"uploaded": uploaded}))
        sha = args.sha or git_sha()
        arn = commands.start(target, sha=sha, parameters=_parameters(args.param))
        print(json.dumps({"execution_arn": arn, "git_sha": sha}))
        if args.wait or args.command == "run":
            described = commands.wait(arn, timeout=args.timeout)
            print(json.dumps({k: described.get(k) for k in ("PipelineExecutionStatus", "FailureReason")}))
            return 0 if described["PipelineExecutionStatus"] == "Succeeded" else 1
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
