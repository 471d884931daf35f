"""Benchmark of a local pipeline run on the embedded AWS (prints figures; asserts nothing).

1. wall time of one pipeline run with the dev parameters, and each step's share of it;
2. training time with one Spot interruption divided by training time without, for the same parameters in the same
   benchmark run (the interruption strikes halfway, after half of the checkpoints; the restarted job resumes from
   the newest checkpoint). Target: <= 1.2.

``python bench/local_pipeline.py [--rounds 3000] [--depth 6] [--frequency 100]`` (not ``pipeline.py``: the script's own
folder comes first on ``sys.path``, and a ``pipeline`` module there would hide the ``pipeline`` package)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

import boto3

from local.aws import EmbeddedAWS, Timings
from local.pipelines import PipelineRunner
from pipeline import commands
from pipeline.config import Target
from tools.artifacts import template_parameters

ROLE_NAME = "bench-SageMakerExecutionRole"
ROLE = f"arn:aws:iam::123456789012:role/{ROLE_NAME}"


def _create_role(aws: EmbeddedAWS) -> None:
    """The role the pipeline's jobs run as: SageMaker may assume it (the embedded AWS enforces the trust policy).
    A benchmark's role, not the stack's: it may do anything, so the figures measure the pipeline, not a policy."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    anything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam = aws.client("iam")
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="bench", PolicyDocument=json.dumps(anything))


def _run(runner: PipelineRunner, target: Target, session: boto3.session.Session, **parameters) -> tuple[float, dict]:
    started = time.monotonic()
    arn = commands.start(target, sha="bench", parameters=parameters, boto_session=session)
    described = runner.wait(arn, timeout=600)
    wall = time.monotonic() - started
    if described["PipelineExecutionStatus"] != "Succeeded":
        raise SystemExit(f"run failed: {described.get('FailureReason')}")
    return wall, runner.executions[arn].step_timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000, help="boosting rounds of the interruption comparison")
    parser.add_argument("--depth", type=int, default=6, help="tree depth of the interruption comparison")
    parser.add_argument("--frequency", type=int, default=100, help="checkpoint every N rounds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    aws = EmbeddedAWS(timings=Timings(endpoint_create=0.0, endpoint_update=0.0, endpoint_delete=0.0)).start()
    try:
        os.environ.update(aws.env())
        session = boto3.session.Session(region_name=aws.region)
        instance_type = template_parameters("dev")["EndpointInstanceType"]
        target = Target("fraud-pipeline-dev", ROLE, "bench-artifacts", "fraud-detector-dev", aws.region, instance_type)
        _create_role(aws)
        aws.client("s3").create_bucket(Bucket=target.bucket)
        aws.client("sagemaker").create_model_package_group(ModelPackageGroupName=target.model_package_group_name)
        began = time.monotonic()
        commands.upload_data(target, boto_session=session)
        commands.upsert(target, "dev", boto_session=session)
        build = time.monotonic() - began
        with PipelineRunner(aws) as runner:
            wall, steps = _run(runner, target, session)
            print(f"definition build + upsert (SDK import included): {build:6.2f} s")
            print(f"pipeline run, dev parameters:                   {wall:6.2f} s wall")
            for name, seconds in steps.items():
                if name != "_total":
                    print(f"  {name:<24} {seconds:6.2f} s  {100 * seconds / steps['_total']:5.1f} %")

            # a training-bound job: the restart's fixed cost (new process, imports, data, checkpoint restore) is
            # compared with real boosting work, not with interpreter start-up
            comparison = {
                "NumRound": args.rounds,
                "MaxDepth": args.depth,
                "CheckpointFrequency": args.frequency,
                "AucThreshold": 0.5,
            }
            _, plain = _run(runner, target, session, **comparison)
            interruption = runner.interrupt_training(after_checkpoints=max(1, args.rounds // args.frequency // 2))
            _, interrupted = _run(runner, target, session, **comparison)
            if not interruption.fired.is_set():
                raise SystemExit("the interruption did not strike (training ended first)")
            ratio = interrupted["Train"] / plain["Train"]
            print(f"training, {args.rounds} rounds of depth {args.depth}, checkpoint every {args.frequency}:")
            print(f"  without interruption   {plain['Train']:6.2f} s")
            struck = len(interruption.checkpoints_at_interruption)
            print(f"  with one interruption  {interrupted['Train']:6.2f} s (struck after {struck} checkpoints)")
            print(f"  ratio                  {ratio:6.2f}   (target <= 1.2)")
            print(json.dumps({"pipeline_wall_s": round(wall, 2), "interruption_ratio": round(ratio, 3)}))
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
